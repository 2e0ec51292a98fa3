"""``FeasibleGrid``: the feasible points of a compiled space, counted, ranked and sampled.

Every feasible point has a rank: outer points in grid order (only those with a feasible inner
value are stored), then the inner values of each, then the free parameters in mixed radix.
An exact count stores the decomposition's feasible outer points, which gives exact marginals,
enumeration and uniform sampling by rank; a grid too large to enumerate is estimated, and
sampled uniformly by rejection (outer points accepted in proportion to their inner count).
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from avatar.specs import Parameter

from ._compiled import CompiledSpace
from ._decomposition import CHUNK, GridDecomposition
from ._evaluate import VectorEvaluator

__all__ = ["Count", "FeasibleGrid", "EXACT_LIMIT"]

EXACT_LIMIT = 30_000_000
REJECTION_BATCH = 1 << 16
REJECTION_DRAWS = 1 << 24  # then the space is too sparse to sample by chance (the Space asks Z3)


@dataclass(frozen=True)
class Count:
    """A feasible count; ``exact`` is false for a sampled estimate with a 95% interval."""

    value: int
    exact: bool
    low: int | None = None
    high: int | None = None
    samples: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"value": self.value, "exact": self.exact}
        if not self.exact:
            data.update({"low": self.low, "high": self.high, "confidence": 0.95, "samples": self.samples})
        return data


class FeasibleGrid:
    """The feasible grid points of a compiled space: count, rank, marginals and sampling.

    ``seed`` seeds the estimate of a count too large to be exact (so a count is reproducible).
    """

    def __init__(self, compiled: CompiledSpace, parameters: Sequence[Parameter], *, seed: int = 0) -> None:
        self.compiled = compiled
        self.parameters = tuple(parameters)
        self.seed = seed
        self.decomposition = GridDecomposition(compiled)
        self.free = [parameter for parameter in self.parameters if parameter.name in compiled.free]
        self.free_size = math.prod(parameter.size for parameter in self.free)
        self._stored: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # feasible outer flats, inner counts, first inner
        self._count: Count | None = None
        self._cumulative: np.ndarray | None = None

    @property
    def inner(self) -> str | None:
        """The parameter counted in closed form (``None`` when no parameter qualifies)."""
        return self.decomposition.inner

    @property
    def is_ranked(self) -> bool:
        """Whether every feasible point has a rank (the count was exact)."""
        return self.count().exact and self._stored is not None

    def count(self, *, exact_limit: int = EXACT_LIMIT, time_budget: float = 25.0, precision: float = 0.004) -> Count:
        """The number of feasible grid points (exact when the outer grid is small enough).

        An estimate stops when its 95% interval is within ``precision`` of the value on each
        side, or after ``time_budget`` seconds.
        """
        if self._count is not None:
            return self._count
        started = time.perf_counter()
        if self.decomposition.outer_size <= exact_limit:
            flats, counts, lows = [], [], []
            for start, chunk_counts, chunk_low in self.decomposition.scan():
                keep = np.flatnonzero(chunk_counts > 0)
                flats.append(keep + start)
                counts.append(chunk_counts[keep])
                lows.append(chunk_low[keep])
            self._stored = (np.concatenate(flats), np.concatenate(counts), np.concatenate(lows))
            total = int(self._stored[1].sum()) * self.free_size
            self._count = Count(total, True, seconds=time.perf_counter() - started)
        else:
            self._count = self._estimate(started, time_budget, precision, self.seed)
        return self._count

    def _estimate(self, started: float, time_budget: float, precision: float, seed: int) -> Count:
        generator = np.random.default_rng(seed)
        samples = np.zeros(0, dtype=np.float64)
        while True:
            counts, _ = self.decomposition.evaluate_indices(self.decomposition.random_outer(generator, CHUNK))
            samples = np.concatenate([samples, counts.astype(np.float64)])
            mean = samples.mean()
            half_width = 1.96 * samples.std(ddof=1) / math.sqrt(len(samples))
            precise = mean > 0 and half_width <= precision * mean
            if precise or time.perf_counter() - started > time_budget:
                break
        scale = self.decomposition.outer_size * self.free_size  # may exceed a float: scaled in exact arithmetic
        seconds = time.perf_counter() - started
        if mean == 0:
            inner_size = len(self.decomposition.arrays[self.inner]) if self.inner else 1
            return Count(0, False, 0, math.ceil(Fraction(3, len(samples)) * scale * inner_size), len(samples), seconds)
        return Count(
            round(Fraction(mean) * scale),
            False,
            math.floor(Fraction(max(0.0, mean - half_width)) * scale),
            math.ceil(Fraction(mean + half_width) * scale),
            len(samples),
            seconds,
        )

    # -- queries built on ranks ----------------------------------------------------------

    def _ranked(self, needs: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored counts, or a ValueError saying what ``needs`` them."""
        if not self.is_ranked or self._stored is None:
            raise ValueError(f"{needs} an exact count; this space was only estimated")
        return self._stored

    def marginals(self) -> dict[str, np.ndarray]:
        """For each parameter, the exact number of feasible points taking each of its values.

        Raises:
            ValueError: the grid was too large for an exact count.
        """
        flats, counts, lows = self._ranked("exact marginals need")
        decomposition, variables = self.decomposition, self.compiled.variables
        result: dict[str, np.ndarray] = {}
        indices = decomposition.decode(flats)
        for name in decomposition.outer:
            result[name] = np.bincount(indices[name], weights=counts, minlength=variables[name].parameter.size).astype(np.int64) * self.free_size
        if self.inner is not None:
            size = variables[self.inner].parameter.size
            changes = np.zeros(size + 1, dtype=np.int64)
            np.add.at(changes, lows, 1)
            np.add.at(changes, lows + counts, -1)
            result[self.inner] = np.cumsum(changes)[:size] * self.free_size
        total_constrained = int(counts.sum())
        for parameter in self.free:
            result[parameter.name] = np.full(parameter.size, total_constrained * self.free_size // parameter.size, dtype=np.int64)
        return {parameter.name: result[parameter.name] for parameter in self.parameters}

    def enumerate(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Feasible points one by one, in rank order (for small spaces and tests)."""
        produced = 0
        for start, counts, low in self.decomposition.scan():
            for position in np.flatnonzero(counts):
                base = self._outer_config(int(start + position))
                for inner in self._inner_values(int(low[position]), int(counts[position])):
                    for free_values in itertools.product(*(parameter.values for parameter in self.free)):
                        if limit is not None and produced >= limit:
                            return
                        produced += 1
                        yield self._ordered({**base, **inner, **dict(zip((parameter.name for parameter in self.free), free_values))})

    def config_of_rank(self, rank: int) -> dict[str, Any]:
        """The feasible point of rank ``rank`` (``0 <= rank < count().value``; needs an exact count)."""
        flats, counts, lows = self._ranked("ranks need")
        constrained_rank, free_rank = divmod(rank, self.free_size)
        if self._cumulative is None:
            self._cumulative = np.cumsum(counts)
        position = int(np.searchsorted(self._cumulative, constrained_rank, side="right"))
        offset = constrained_rank - (int(self._cumulative[position]) - int(counts[position]))
        config = self._outer_config(int(flats[position]))
        if self.inner is not None:
            config[self.inner] = self.compiled.variables[self.inner].parameter.values[int(lows[position]) + offset]
        return self._ordered({**config, **self._free_config(free_rank)})

    def sample(self, n: int, generator: np.random.Generator) -> list[dict[str, Any]]:
        """Up to ``n`` distinct feasible points drawn uniformly: all of them when there are no
        more than ``n``, by rank when the count is exact, else by rejection, which gives up after
        ``REJECTION_DRAWS`` draws and may then return fewer (a very sparse grid)."""
        count = self.count()
        if count.exact and count.value <= n:
            return list(self.enumerate())
        if self.is_ranked:
            return [self.config_of_rank(rank) for rank in _distinct_integers(generator, count.value, n)]
        return self._rejection_sample(n, generator)

    def complete(self, positions: Mapping[str, int], generator: np.random.Generator) -> dict[str, Any]:
        """The point with these value positions of the constrained parameters and random free values."""
        return self._ordered({**self._values(positions, inner=True), **self._free_config(self._random_free_rank(generator))})

    def value_array(self, name: str) -> np.ndarray:
        """The values of a constrained parameter as the evaluator binds them (positions for strings)."""
        return self.decomposition.arrays[name]

    def vector_evaluator(self, bindings: Mapping[str, Any]) -> VectorEvaluator:
        """An evaluator of the hard formulas for parameter values (scalars or arrays), by name."""
        variables = self.compiled.variables
        return self.decomposition.vector_evaluator({variables[name].symbol: value for name, value in bindings.items()})

    # -- helpers -------------------------------------------------------------------------

    def _ordered(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {parameter.name: values[parameter.name] for parameter in self.parameters}

    def _outer_config(self, flat: int) -> dict[str, Any]:
        indices = self.decomposition.decode(np.array([flat], dtype=np.int64))
        return {name: self.compiled.variables[name].parameter.values[int(index[0])] for name, index in indices.items()}

    def _inner_values(self, low: int, count: int) -> list[dict[str, Any]]:
        if self.inner is None:
            return [{}]
        values = self.compiled.variables[self.inner].parameter.values
        return [{self.inner: values[position]} for position in range(low, low + count)]

    def _free_config(self, rank: int) -> dict[str, Any]:
        config = {}
        for parameter in reversed(self.free):
            rank, position = divmod(rank, parameter.size)
            config[parameter.name] = parameter.values[position]
        return config

    def _random_free_rank(self, generator: np.random.Generator) -> int:
        if self.free_size < 2**63:
            return int(generator.integers(0, self.free_size))
        return random.Random(int(generator.integers(2**63))).randrange(self.free_size)

    def _values(self, indices: Mapping[str, int], inner: bool = False) -> dict[str, Any]:
        """Parameter values of outer (and, with ``inner``, inner) value indices."""
        return {name: self.compiled.variables[name].parameter.values[index] for name, index in indices.items() if inner or name != self.inner}

    def _rejection_sample(self, n: int, generator: np.random.Generator) -> list[dict[str, Any]]:
        """Uniform: outer points drawn uniformly, accepted in proportion to their inner count."""
        inner = self.inner
        inner_size = self.compiled.variables[inner].parameter.size if inner else 1
        seen: set[tuple] = set()
        result: list[dict[str, Any]] = []
        for _ in range(REJECTION_DRAWS // REJECTION_BATCH):
            indices = self.decomposition.random_outer(generator, REJECTION_BATCH)
            counts, low = self.decomposition.evaluate_indices(indices)
            accepted = np.flatnonzero(generator.random(REJECTION_BATCH) * inner_size < counts)
            for position in accepted:
                config = self._values({name: int(index[position]) for name, index in indices.items()})
                if inner is not None:
                    offset = int(generator.integers(0, counts[position]))
                    config[inner] = self.compiled.variables[inner].parameter.values[int(low[position]) + offset]
                config = self._ordered({**config, **self._free_config(self._random_free_rank(generator))})
                key = tuple(config.values())
                if key not in seen:
                    seen.add(key)
                    result.append(config)
                    if len(result) == n:
                        return result
        return result


def _distinct_integers(generator: np.random.Generator, high: int, n: int) -> list[int]:
    """``n`` distinct integers in ``[0, high)``, uniformly, in draw order."""
    chosen: dict[int, None] = {}
    if high >= 2**63:  # beyond int64 (free parameters multiply the count): exact Python integers
        python_random = random.Random(int(generator.integers(2**63)))
        while len(chosen) < n:
            chosen.setdefault(python_random.randrange(high), None)
        return list(chosen)
    while len(chosen) < n:
        for value in generator.integers(0, high, 2 * (n - len(chosen)), dtype=np.int64):
            chosen.setdefault(int(value), None)
            if len(chosen) == n:
                break
    return list(chosen)
