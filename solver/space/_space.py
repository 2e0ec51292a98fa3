"""``Space``: the exact feasible space of a spec, and every query the search needs.

The compiled PySMT formula *is* the space. Z3 answers satisfiability (with a minimal core of
the spec's own constraint names when there is none) and tight bounds; exact counting, uniform
sampling, enumeration and membership use the same formulas evaluated without the solver.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import numpy as np

from avatar import objectives
from avatar.specs import AvatarError, Spec

from ._compile import CompiledSpace, ConstraintInfo, compile_space
from ._count import Count, GridCounter
from ._evaluate import VectorEvaluator, evaluate_exact
from .._errors import UndecidedSpaceError
from ._smt import DEFAULT_TIMEOUT_MS, RETRIES, SmtSpace

__all__ = ["Space", "Feasibility", "Bound", "InfeasibleSpecError"]

REJECTION_BATCH = 1 << 16
REJECTION_DRAWS = 1 << 24  # then the space is too sparse to sample by chance: Z3 finds the rest
SPARSE_POOL = 256


class InfeasibleSpecError(AvatarError):
    """No point of the grid meets the hard constraints; ``core`` names the conflicting ones."""

    def __init__(self, source: str, core: list[ConstraintInfo], bounds: list[str]) -> None:
        self.source = source
        self.core = core
        self.bounds = bounds
        names = ", ".join(f"'{item.name}' (line {item.line})" for item in core) or "its constraints"
        super().__init__(f"{source}: the spec is infeasible: no point of the grid satisfies all of {names}")


@dataclass(frozen=True)
class Feasibility:
    """``feasible`` is ``None`` when Z3 could not decide in time."""

    feasible: bool | None
    core: tuple[ConstraintInfo, ...] = ()
    core_bounds: tuple[str, ...] = ()
    core_is_minimal: bool = True
    seconds: float = 0.0


@dataclass(frozen=True)
class Bound:
    """Declared and tight ``[low, high]`` of a parameter, in parameter values."""

    declared: tuple[Any, Any]
    tight: tuple[Any, Any] | None
    choices: tuple[Any, ...] | None = None  # feasible values of a string parameter


class Space:
    """The feasible space of a spec. Build it with ``Space.from_spec``."""

    def __init__(
        self,
        spec: Spec,
        compiled: CompiledSpace,
        *,
        seed: int = 0,
        estimators: Mapping[str, objectives.Estimator] | None = None,
        context: objectives.Context | None = None,
        smt_timeout: float = DEFAULT_TIMEOUT_MS / 1000,
    ) -> None:
        self.spec = spec
        self.compiled = compiled
        self.seed = seed
        self.estimators = dict(estimators) if estimators is not None else None
        self.context = context
        self.parameters = spec.parameters
        self.counter = GridCounter(compiled)
        self.smt = SmtSpace(compiled, seed=seed, timeout_ms=max(1, round(smt_timeout * 1000)))
        self._bounds: dict[str, Bound] | None = None
        self._feasibility: Feasibility | None = None
        self._sparse_pool: list[dict[str, Any]] = []  # Z3 points of a space too sparse to sample by chance (see _sparse_sample)
        self._position = {
            parameter.name: {value: position for position, value in enumerate(parameter.values)} for parameter in spec.parameters
        }

    @classmethod
    def from_spec(
        cls,
        spec: Spec,
        *,
        context: objectives.Context | None = None,
        estimators: Mapping[str, objectives.Estimator] | None = None,
        seed: int | None = None,
        smt_timeout: float = DEFAULT_TIMEOUT_MS / 1000,
    ) -> "Space":
        """Compile ``spec``: constraints whose metrics all have closed forms become hard.

        Estimators that calibrate themselves on the space (predicted latency) get a sampler of
        the space without their own limits, so they learn where the search will look. The
        space keeps its estimators and context (``space.estimators``, ``space.context``): the
        search evaluates with these very objects, calibrations included.
        """
        seed = spec.search.seed if seed is None else seed
        context = context or objectives.Context.from_spec(spec)
        estimators = dict(estimators) if estimators is not None else objectives.estimators_for(spec)
        calibrated = frozenset(name for name, estimator in estimators.items() if estimator.kind == "predicted")
        if calibrated and context.sample_configurations is None:
            preliminary = cls(spec, compile_space(spec, context, estimators, exclude=calibrated), seed=seed)
            context = dataclasses.replace(context, sample_configurations=lambda n, sample_seed: preliminary.sample(n, sample_seed))
        return cls(spec, compile_space(spec, context, estimators), seed=seed, estimators=estimators, context=context, smt_timeout=smt_timeout)

    # -- description ---------------------------------------------------------------------------

    @property
    def grid_size(self) -> int:
        return self.spec.grid_size

    @property
    def hard_constraints(self) -> list[ConstraintInfo]:
        return [item for item in self.compiled.constraints if item.hard]

    @property
    def post_constraints(self) -> list[ConstraintInfo]:
        """Constraints on measured or learned metrics, checked after each evaluation."""
        return [item for item in self.compiled.constraints if not item.hard]

    # -- queries -------------------------------------------------------------------------------

    def check(self) -> Feasibility:
        """Whether some grid point meets every hard constraint; if not, a minimal core."""
        if self._feasibility is None:
            result = self.smt.check()
            infos = {item.name: item for item in self.compiled.constraints}
            feasible = {"sat": True, "unsat": False}.get(result.status)
            if feasible is None:  # Z3 gave up: an exact count decides; a sampled feasible point proves it
                count = self.count()
                feasible = count.value > 0 if count.exact else (True if count.value > 0 else None)
            core = tuple(infos[name] for name in result.core)
            if feasible is False and not core:
                core = tuple(self.hard_constraints)
            self._feasibility = Feasibility(feasible, core, result.core_bounds, result.core_is_minimal and result.status == "unsat", result.seconds)
        return self._feasibility

    def require_feasible(self) -> None:
        """Raise ``InfeasibleSpecError`` when the space is empty, ``UndecidedSpaceError`` when
        that could not be decided (no search may start on a space nobody knows to be non-empty)."""
        feasibility = self.check()
        if feasibility.feasible is False:
            raise InfeasibleSpecError(self.spec.source, list(feasibility.core), list(feasibility.core_bounds))
        if feasibility.feasible is None:
            raise UndecidedSpaceError(undecided_message(self.spec.source, self.smt.timeout_ms / 1000))

    @property
    def smt_timeout(self) -> float:
        """Seconds Z3 may take per query (each query is tried under several seeds)."""
        return self.smt.timeout_ms / 1000

    def bounds(self) -> dict[str, Bound]:
        """Tight bounds of every parameter over the feasible set (Z3 bisection)."""
        if self._bounds is None:
            smt_bounds = self.smt.bounds()
            self.bounds_seconds = smt_bounds.seconds
            self._bounds = {}
            for parameter in self.parameters:
                values = parameter.values
                declared = (values[0], values[-1])
                if parameter.name in self.compiled.free:
                    self._bounds[parameter.name] = Bound(declared, declared, values if parameter.kind == "categorical" else None)
                    continue
                positions = smt_bounds.positions.get(parameter.name)
                tight = None if positions is None else (values[positions[0]], values[positions[1]])
                choices = tuple(values[index] for index in smt_bounds.choices[parameter.name]) if parameter.name in smt_bounds.choices else None
                self._bounds[parameter.name] = Bound(declared, tight, choices)
        return self._bounds

    def count(self) -> Count:
        """The number of feasible grid points: exact, or an estimate with a 95% interval."""
        return self.counter.count(seed=self.seed)

    def marginals(self) -> dict[str, np.ndarray]:
        """For each parameter, the exact number of feasible points taking each of its values.

        Raises:
            ValueError: the space was too large for an exact count.
        """
        count = self.count()
        if not count.exact or self.counter.stored is None:
            raise ValueError("exact marginals need an exact count; this space was only estimated")
        flats, counts, lows = self.counter.stored
        total_constrained = int(counts.sum())
        result: dict[str, np.ndarray] = {}
        indices = self.counter.decode(flats)
        for name in self.counter.outer:
            size = self.compiled.variables[name].parameter.size
            result[name] = np.bincount(indices[name], weights=counts, minlength=size).astype(np.int64) * self.counter.free_size
        if self.counter.inner is not None:
            size = self.compiled.variables[self.counter.inner].parameter.size
            changes = np.zeros(size + 1, dtype=np.int64)
            np.add.at(changes, lows, 1)
            np.add.at(changes, lows + counts, -1)
            result[self.counter.inner] = np.cumsum(changes)[:size] * self.counter.free_size
        for parameter in self.parameters:
            if parameter.name in self.compiled.free:
                share = total_constrained * self.counter.free_size // parameter.size
                result[parameter.name] = np.full(parameter.size, share, dtype=np.int64)
        return {parameter.name: result[parameter.name] for parameter in self.parameters}

    def contains(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` is a feasible grid point (exact; no solver; agrees with Z3)."""
        bindings = {}
        for parameter in self.parameters:
            if parameter.name not in config:
                raise KeyError(f"the configuration has no value for '{parameter.name}'")
            value = config[parameter.name]
            if value not in self._position[parameter.name] or (isinstance(value, bool)):
                return False
            variable = self.compiled.variables[parameter.name]
            bindings[variable.symbol] = self._position[parameter.name][value] if variable.is_index else value
        return all(evaluate_exact(formula, bindings, self.compiled.auxiliaries) for formula in self.compiled.hard.values())

    def enumerate(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Feasible points one by one, in grid order (for small spaces and tests)."""
        produced = 0
        free = [parameter for parameter in self.parameters if parameter.name in self.compiled.free]
        for start, counts, low in self.counter.scan():
            for position in np.flatnonzero(counts):
                base = self._outer_config(int(start + position))
                inner_values = self._inner_values(int(low[position]), int(counts[position]))
                for inner in inner_values:
                    for free_values in itertools.product(*(parameter.values for parameter in free)):
                        if limit is not None and produced >= limit:
                            return
                        produced += 1
                        yield self._ordered({**base, **inner, **dict(zip((parameter.name for parameter in free), free_values))})

    def sample(self, n: int, seed: int | None = None) -> list[dict[str, Any]]:
        """``n`` distinct feasible configurations drawn uniformly (fewer if fewer exist).

        Uniform and exact: the count's decomposition gives every feasible point a rank, and
        ranks are drawn uniformly without replacement. For spaces too large to enumerate,
        outer points are drawn uniformly and accepted in proportion to their inner count.

        Raises:
            InfeasibleSpecError: the space is empty.
        """
        generator = np.random.default_rng(self.seed if seed is None else seed)
        count = self.count()
        if count.exact and count.value == 0:
            self.require_feasible()
            raise InfeasibleSpecError(self.spec.source, list(self.hard_constraints), [])
        if count.exact and count.value <= n:
            return list(self.enumerate())
        if self.counter.stored is not None:
            ranks = _distinct_integers(generator, count.value, n)
            return [self._config_of_rank(int(rank)) for rank in ranks]
        found = self._rejection_sample(n, generator)
        if len(found) < n:
            return self._sparse_sample(n, generator, found)
        return found

    def repair(self, config: Mapping[str, Any], seed: int | None = None) -> dict[str, Any]:
        """A feasible configuration near ``config``, keeping as many of its values as it can.

        Tries changing one parameter, then two, choosing the smallest move on the grid; then
        falls back to the nearest of a uniform sample of feasible points.
        """
        from ._repair import repair

        return repair(self, config, random.Random(self.seed if seed is None else seed))

    # -- helpers -------------------------------------------------------------------------------

    def _ordered(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {parameter.name: values[parameter.name] for parameter in self.parameters}

    def _outer_config(self, flat: int) -> dict[str, Any]:
        indices = self.counter.decode(np.array([flat], dtype=np.int64))
        return {name: self.compiled.variables[name].parameter.values[int(index[0])] for name, index in indices.items()}

    def _inner_values(self, low: int, count: int) -> list[dict[str, Any]]:
        inner = self.counter.inner
        if inner is None:
            return [{}]
        values = self.compiled.variables[inner].parameter.values
        return [{inner: values[position]} for position in range(low, low + count)]

    def _free_config(self, rank: int) -> dict[str, Any]:
        config = {}
        for parameter in reversed([parameter for parameter in self.parameters if parameter.name in self.compiled.free]):
            rank, position = divmod(rank, parameter.size)
            config[parameter.name] = parameter.values[position]
        return config

    def _config_of_rank(self, rank: int) -> dict[str, Any]:
        constrained_rank, free_rank = divmod(rank, self.counter.free_size)
        flats, counts, lows = self.counter.stored
        cumulative = self._cumulative()
        position = int(np.searchsorted(cumulative, constrained_rank, side="right"))
        offset = constrained_rank - (int(cumulative[position]) - int(counts[position]))
        config = self._outer_config(int(flats[position]))
        if self.counter.inner is not None:
            values = self.compiled.variables[self.counter.inner].parameter.values
            config[self.counter.inner] = values[int(lows[position]) + offset]
        return self._ordered({**config, **self._free_config(free_rank)})

    def _cumulative(self) -> np.ndarray:
        if getattr(self, "_cumulative_counts", None) is None:
            self._cumulative_counts = np.cumsum(self.counter.stored[1])
        return self._cumulative_counts

    def _rejection_sample(self, n: int, generator: np.random.Generator) -> list[dict[str, Any]]:
        """Uniform: outer points drawn uniformly, accepted in proportion to their inner count.
        Gives up after ``REJECTION_DRAWS`` draws (a sparse space; see ``_sparse_sample``)."""
        inner = self.counter.inner
        inner_size = self.compiled.variables[inner].parameter.size if inner else 1
        seen: set[tuple] = set()
        result: list[dict[str, Any]] = []
        for _ in range(REJECTION_DRAWS // REJECTION_BATCH):
            indices = self.counter.random_outer(generator, REJECTION_BATCH)
            counts, low = self.counter.evaluate_indices(indices)
            accepted = np.flatnonzero(generator.random(REJECTION_BATCH) * inner_size < counts)
            for position in accepted:
                config = self._outer_values({name: int(index[position]) for name, index in indices.items()})
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

    def _sparse_sample(self, n: int, generator: np.random.Generator, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rejection sampling found fewer than ``n`` points: the feasible share is too small to hit
        by chance. The rest come from Z3 models spread by random hints (distinct, feasible, not
        uniform); the pool is kept, so repairs that fall back to sampling do not search again."""
        pool = self._sparse_pool
        if len(pool) < max(n, SPARSE_POOL):
            known = {tuple(config.values()) for config in pool}
            for positions in self.smt.sample_positions(max(n, SPARSE_POOL) - len(pool), seed=self.seed, exclude=[self.positions(config) for config in pool]):
                config = self._ordered({**self._outer_values(positions, inner=True), **self._free_config(self._random_free_rank(generator))})
                if tuple(config.values()) not in known:
                    known.add(tuple(config.values()))
                    pool.append(config)
        chosen = {tuple(config.values()): config for config in found}
        for index in generator.permutation(len(pool)):
            if len(chosen) >= n:
                break
            chosen.setdefault(tuple(pool[index].values()), pool[index])
        if not chosen:
            raise UndecidedSpaceError(
                f"{self.spec.source}: no feasible point could be found: sampling the grid found none and Z3 gave up "
                f"within its time limit ({self.smt_timeout:g} s per query); raise it with --smt-timeout SECONDS"
            )
        return list(chosen.values())

    def _random_free_rank(self, generator: np.random.Generator) -> int:
        return int(generator.integers(0, self.counter.free_size)) if self.counter.free_size < 2**63 else random.Random(int(generator.integers(2**63))).randrange(self.counter.free_size)

    def _outer_values(self, indices: Mapping[str, int], inner: bool = False) -> dict[str, Any]:
        """Parameter values of outer (and, with ``inner``, inner) value indices."""
        return {name: self.compiled.variables[name].parameter.values[index] for name, index in indices.items() if inner or name != self.counter.inner}

    def on_grid(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` gives every parameter, and only those, a value of its grid."""
        if set(config) != set(self._position):
            return False
        try:
            return all(value in self._position[name] and not isinstance(value, bool) for name, value in config.items())
        except TypeError:  # an unhashable value
            return False

    def positions(self, config: Mapping[str, Any]) -> dict[str, int]:
        """The position of each value in its parameter's value list."""
        return {name: self._position[name][value] for name, value in config.items() if name in self._position}

    def vector_evaluator(self, bindings: Mapping[str, Any]) -> VectorEvaluator:
        """An evaluator of the hard formulas for parameter values (scalars or arrays)."""
        symbols = {}
        for name, value in bindings.items():
            variable = self.compiled.variables[name]
            symbols[variable.symbol] = value
        return self.counter.vector_evaluator(symbols)


def undecided_message(source: str, timeout: float) -> str:
    """Why a space is neither feasible nor infeasible, and what to do about it."""
    return (
        f"{source}: feasibility could not be decided: Z3 gave up on the hard constraints within its time limit "
        f"({timeout:g} s per query, tried with {RETRIES} seeds) and sampling the grid found no feasible point. "
        "Raise the limit with --smt-timeout SECONDS, or narrow the parameter ranges or simplify the constraints"
    )


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
