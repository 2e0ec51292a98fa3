"""``Space``: the exact feasible space of a spec, and every query the search needs.

The compiled PySMT formula *is* the space. Z3 answers satisfiability (with a minimal core of
the spec's own constraint names when there is none) and tight bounds; exact counting, uniform
sampling, enumeration and membership use the same formulas evaluated without the solver.
"""

from __future__ import annotations

import copy
import dataclasses
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from avatar import objectives
from avatar.specs import Location, Problem, Spec, SpecError

from .._errors import UndecidedSpaceError
from ._compile import compile_space
from ._compiled import CompiledSpace, ConstraintInfo
from ._evaluate import VectorEvaluator, evaluate_exact
from ._grid import Count, FeasibleGrid
from ._smt import DEFAULT_TIMEOUT_MS, RETRIES, SmtSpace

__all__ = ["Space", "Feasibility", "Bound", "InfeasibleSpecError"]

SPARSE_POOL = 256  # Z3 points kept for a space too sparse to sample by chance


class InfeasibleSpecError(SpecError):
    """No point of the grid meets the hard constraints: a spec problem (``solve`` exits 3 for it);
    ``core`` names the conflicting constraints, ``bounds`` the parameters whose ranges take part."""

    def __init__(self, source: str, core: list[ConstraintInfo], bounds: list[str]) -> None:
        self.source = source
        self.core = core
        self.bounds = bounds
        names = ", ".join(f"'{item.name}' (line {item.line})" for item in core) or "its constraints"
        line = core[0].line if core else None
        super().__init__([Problem(source, Location(line), ("constraints",), f"the spec is infeasible: no point of the grid satisfies all of {names}")])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.source, self.core, self.bounds))


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
        estimators: Mapping[str, objectives.Estimator],
        context: objectives.Context,
        seed: int = 0,
        smt_timeout: float = DEFAULT_TIMEOUT_MS / 1000,
    ) -> None:
        self.spec = spec
        self.compiled = compiled
        self.seed = seed
        self.estimators = dict(estimators)
        self.context = context
        self.parameters = spec.parameters
        self.grid = FeasibleGrid(compiled, spec.parameters, seed=seed)
        self.smt = SmtSpace(compiled, seed=seed, timeout_ms=max(1, round(smt_timeout * 1000)))
        self._bounds: dict[str, Bound] | None = None
        self._feasibility: Feasibility | None = None
        self._sparse_pool: list[dict[str, Any]] = []  # Z3 points of a space too sparse to sample by chance (see _sparse_sample)
        self._position = {parameter.name: {value: position for position, value in enumerate(parameter.values)} for parameter in spec.parameters}

    @classmethod
    def from_spec(
        cls,
        spec: Spec,
        *,
        context: objectives.Context | None = None,
        estimators: Mapping[str, objectives.Estimator] | None = None,
        seed: int | None = None,
        smt_timeout: float = DEFAULT_TIMEOUT_MS / 1000,
    ) -> Space:
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
            preliminary = cls(spec, compile_space(spec, context, estimators, exclude=calibrated), estimators=estimators, context=context, seed=seed)
            context = dataclasses.replace(context, sample_configurations=lambda n, sample_seed: preliminary.sample(n, sample_seed))
        return cls(spec, compile_space(spec, context, estimators), estimators=estimators, context=context, seed=seed, smt_timeout=smt_timeout)

    def with_estimators(self, estimators: Mapping[str, objectives.Estimator]) -> Space:
        """This space (same formula, grid and caches) evaluating with other estimator objects,
        an instrumented wrapper for one. The compiled closed forms stay those of the originals,
        so the replacements must compute the same metrics."""
        other = copy.copy(self)
        other.estimators = {**self.estimators, **estimators}
        return other

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
        return self.grid.count()

    def marginals(self) -> dict[str, np.ndarray]:
        """For each parameter, the exact number of feasible points taking each of its values.

        Raises:
            ValueError: the space was too large for an exact count.
        """
        return self.grid.marginals()

    def contains(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` is a feasible grid point (exact; no solver; agrees with Z3)."""
        bindings = self._bindings(config)
        if bindings is None:
            return False
        return all(evaluate_exact(formula, bindings, self.compiled.auxiliaries) for formula in self.compiled.hard.values())

    def broken_constraints(self, config: Mapping[str, Any]) -> list[str]:
        """The hard constraints a grid point ``config`` breaks, by name (none: it is feasible).

        Raises:
            KeyError: ``config`` lacks a parameter; ValueError: it is not a grid point.
        """
        bindings = self._bindings(config)
        if bindings is None:
            raise ValueError(f"not a point of the grid: {dict(config)}")
        return [name for name, formula in self.compiled.hard.items() if not evaluate_exact(formula, bindings, self.compiled.auxiliaries)]

    def closed_forms(self, config: Mapping[str, Any]) -> dict[str, Fraction]:
        """The value at ``config`` of each metric whose closed form a hard constraint uses, from
        that very closed form (exact): what the space assumed the metric is there.

        Raises:
            KeyError: ``config`` lacks a parameter; ValueError: it is not a grid point.
        """
        bindings = self._bindings(config)
        if bindings is None:
            raise ValueError(f"not a point of the grid: {dict(config)}")
        return {name: Fraction(evaluate_exact(term, bindings, self.compiled.auxiliaries)) for name, term in self.compiled.metric_terms.items()}

    def _bindings(self, config: Mapping[str, Any]) -> dict[Any, Any] | None:
        """The formulas' variables bound to ``config``'s values; ``None`` off the grid."""
        bindings = {}
        for parameter in self.parameters:
            if parameter.name not in config:
                raise KeyError(f"the configuration has no value for '{parameter.name}'")
            value = config[parameter.name]
            if value not in self._position[parameter.name] or (isinstance(value, bool)):
                return None
            variable = self.compiled.variables[parameter.name]
            bindings[variable.symbol] = self._position[parameter.name][value] if variable.is_index else value
        return bindings

    def enumerate(self, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Feasible points one by one, in grid order (for small spaces and tests)."""
        return self.grid.enumerate(limit)

    def sample(self, n: int, seed: int | None = None) -> list[dict[str, Any]]:
        """``n`` distinct feasible configurations drawn uniformly (fewer if fewer exist).

        Uniform and exact: the count's decomposition gives every feasible point a rank, and
        ranks are drawn uniformly without replacement. For spaces too large to enumerate,
        outer points are drawn uniformly and accepted in proportion to their inner count; a
        space too sparse for that gets the rest from Z3 (see ``_sparse_sample``).

        Raises:
            InfeasibleSpecError: the space is empty.
        """
        generator = np.random.default_rng(self.seed if seed is None else seed)
        count = self.count()
        if count.exact and count.value == 0:
            self.require_feasible()
            raise InfeasibleSpecError(self.spec.source, list(self.hard_constraints), [])
        found = self.grid.sample(n, generator)
        if len(found) < n and not count.exact:
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

    def _sparse_sample(self, n: int, generator: np.random.Generator, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rejection sampling found fewer than ``n`` points: the feasible share is too small to hit
        by chance. The rest come from Z3 models spread by random hints (distinct, feasible, not
        uniform); the pool is kept, so repairs that fall back to sampling do not search again."""
        pool = self._sparse_pool
        if len(pool) < max(n, SPARSE_POOL):
            known = {tuple(config.values()) for config in pool}
            for positions in self.smt.sample_positions(max(n, SPARSE_POOL) - len(pool), seed=self.seed, exclude=[self.positions(config) for config in pool]):
                config = self.grid.complete(positions, generator)
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
        return self.grid.vector_evaluator(bindings)


def undecided_message(source: str, timeout: float) -> str:
    """Why a space is neither feasible nor infeasible, and what to do about it."""
    return (
        f"{source}: feasibility could not be decided: Z3 gave up on the hard constraints within its time limit "
        f"({timeout:g} s per query, tried with {RETRIES} seeds) and sampling the grid found no feasible point. "
        "Raise the limit with --smt-timeout SECONDS, or narrow the parameter ranges or simplify the constraints"
    )
