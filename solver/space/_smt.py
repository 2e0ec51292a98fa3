"""Z3 queries on the compiled space: satisfiability with minimal cores, and tight bounds.

The formulas are built with PySMT and converted to Z3 once; queries use Z3 directly for what
PySMT does not expose (assumption literals, timeouts, random seeds). Z3's running time on
nonlinear integer formulas is heavy-tailed, so every query has a timeout and is retried with
other random seeds before it is reported as unknown.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3
from pysmt.shortcuts import Solver

from ._compiled import CompiledSpace

__all__ = ["SmtSpace", "SmtCheck", "SmtBounds"]

DEFAULT_TIMEOUT_MS = 5_000
RETRIES = 3


@dataclass(frozen=True)
class SmtCheck:
    """``status`` is ``sat``, ``unsat`` or ``unknown``; an unsat result names a minimal core."""

    status: str
    core: tuple[str, ...] = ()
    core_bounds: tuple[str, ...] = ()
    model: dict[str, Any] | None = None
    seconds: float = 0.0
    core_is_minimal: bool = True


@dataclass
class SmtBounds:
    """Tight bounds as positions in each parameter's value list (``None`` when unknown)."""

    positions: dict[str, tuple[int, int] | None] = field(default_factory=dict)
    choices: dict[str, list[int]] = field(default_factory=dict)
    checks: int = 0
    seconds: float = 0.0


def _python_value(value: z3.ExprRef) -> Any:
    if z3.is_int_value(value):
        return value.as_long()
    if z3.is_rational_value(value):
        fraction = Fraction(value.numerator_as_long(), value.denominator_as_long())
        return fraction.numerator if fraction.denominator == 1 else fraction
    raise TypeError(f"unexpected model value {value}")


class SmtSpace:
    """The compiled space in Z3."""

    def __init__(self, compiled: CompiledSpace, *, timeout_ms: int = DEFAULT_TIMEOUT_MS, seed: int = 0) -> None:
        self.compiled = compiled
        self.timeout_ms = timeout_ms
        self.seed = seed
        converter = Solver(name="z3").converter
        self.symbols = {name: converter.convert(variable.symbol) for name, variable in compiled.variables.items()}
        self.domains = {name: converter.convert(compiled.domains[name]) for name in compiled.constrained}
        self.definitions = [converter.convert(definition) for definition in compiled.definitions]
        self.hard = {name: converter.convert(formula) for name, formula in compiled.hard.items()}
        self._convert = converter.convert
        self.checks = 0
        self._positions = {
            name: {(Fraction(repr(value)) if isinstance(value, float) else value): position for position, value in enumerate(variable.parameter.values)}
            for name, variable in compiled.variables.items()
            if not variable.is_index
        }

    def _solver(self, seed: int) -> z3.Solver:
        solver = z3.Solver()
        solver.set("random_seed", seed)
        solver.set("timeout", self.timeout_ms)
        solver.add(*self.definitions)
        return solver

    def _check(self, solver: z3.Solver, *assumptions: z3.ExprRef) -> z3.CheckSatResult:
        """``solver.check`` with retries under other seeds when Z3 answers unknown."""
        result = z3.unknown
        for attempt in range(RETRIES):
            if attempt:
                solver.set("random_seed", self.seed + 7919 * attempt)
            self.checks += 1
            result = solver.check(*assumptions)
            if result != z3.unknown:
                break
        solver.set("random_seed", self.seed)
        return result

    def model_positions(self, model: z3.ModelRef) -> dict[str, int]:
        """Positions in their value lists of the constrained parameters' model values."""
        positions = {}
        for name in self.compiled.constrained:
            value = _python_value(model.eval(self.symbols[name], model_completion=True))
            positions[name] = value if self.compiled.variables[name].is_index else self._positions[name][value]
        return positions

    def model_values(self, model: z3.ModelRef) -> dict[str, Any]:
        """Parameter values of a model (constrained parameters only)."""
        return {name: self.compiled.variables[name].parameter.values[position] for name, position in self.model_positions(model).items()}

    # -- satisfiability and cores ----------------------------------------------------------

    def check(self) -> SmtCheck:
        """Is any grid point feasible? If not, which constraints (and parameter bounds) conflict."""
        started = time.perf_counter()
        solver = self._solver(self.seed)
        literals: dict[z3.ExprRef, tuple[str, str]] = {}
        for name, formula in self.hard.items():
            literal = z3.Bool(f"constraint:{name}")
            solver.add(z3.Implies(literal, formula))
            literals[literal] = ("constraint", name)
        for name, formula in self.domains.items():
            literal = z3.Bool(f"bounds:{name}")
            solver.add(z3.Implies(literal, formula))
            literals[literal] = ("bounds", name)
        result = self._check(solver, *literals)
        if result == z3.sat:
            return SmtCheck("sat", model=self.model_values(solver.model()), seconds=time.perf_counter() - started)
        if result == z3.unknown:
            return SmtCheck("unknown", seconds=time.perf_counter() - started)
        constraint_literals = [literal for literal, (kind, _) in literals.items() if kind == "constraint"]
        bound_literals = [literal for literal, (kind, _) in literals.items() if kind == "bounds"]
        core_names = set(map(str, solver.unsat_core()))
        kept_constraints = [literal for literal in constraint_literals if str(literal) in core_names]
        constraints, minimal = self._minimise(solver, kept_constraints, fixed=bound_literals)
        bounds, bounds_minimal = self._minimise(solver, bound_literals, fixed=constraints)
        return SmtCheck(
            "unsat",
            tuple(literals[literal][1] for literal in constraints),
            tuple(literals[literal][1] for literal in bounds),
            seconds=time.perf_counter() - started,
            core_is_minimal=minimal and bounds_minimal,
        )

    def _minimise(self, solver: z3.Solver, candidates: list[z3.ExprRef], *, fixed: list[z3.ExprRef]) -> tuple[list[z3.ExprRef], bool]:
        """Deletion-based minimisation of ``candidates`` (in order) with ``fixed`` kept on.

        Constraints are minimised first with every declared range on, then the ranges with
        those constraints: the core says which of *the user's constraints* conflict, then
        which ranges take part. Each deletion is kept only if Z3 proves the rest unsat.
        """
        kept = list(candidates)
        minimal = True
        for literal in list(candidates):
            trial = [other for other in kept if other is not literal]
            result = self._check(solver, *fixed, *trial)
            if result == z3.unsat:
                kept = trial
            elif result == z3.unknown:
                minimal = False
        return kept, minimal

    # -- points ----------------------------------------------------------------------------

    def sample_positions(self, n: int, *, seed: int, exclude: Sequence[dict[str, int]] = ()) -> list[dict[str, int]]:
        """Up to ``n`` distinct feasible points (positions of the constrained parameters) from Z3
        models, each nudged by random half-space hints on two parameters so that they spread over
        the space. Not uniform: for spaces too sparse to sample by chance."""
        generator = random.Random(seed)
        solver = self._solver(seed)
        solver.add(*self.domains.values(), *self.hard.values())
        for positions in exclude:
            solver.add(self._blocking(positions))
        found: list[dict[str, int]] = []
        names = list(self.compiled.constrained)
        while len(found) < n:
            solver.push()
            for name in generator.sample(names, k=min(2, len(names))):
                variable = self.compiled.variables[name]
                limit = self._convert(variable.value_term(generator.randrange(variable.parameter.size)))
                solver.add(self.symbols[name] >= limit if generator.random() < 0.5 else self.symbols[name] <= limit)
            answer = self._check(solver)
            if answer != z3.sat:
                solver.pop()
                if self._check(solver) != z3.sat:
                    break  # every point found, or Z3 gives up
                positions = self.model_positions(solver.model())
            else:
                positions = self.model_positions(solver.model())
                solver.pop()
            found.append(positions)
            solver.add(self._blocking(positions))
        return found

    def _blocking(self, positions: dict[str, int]) -> z3.ExprRef:
        """A clause that excludes one point (its constrained parameters; free ones never matter here)."""
        constrained = set(self.compiled.constrained)
        return z3.Or([self.symbols[name] != self._convert(self.compiled.variables[name].value_term(position)) for name, position in positions.items() if name in constrained])

    # -- bounds --------------------------------------------------------------------------------

    def bounds(self) -> SmtBounds:
        """Tight per-parameter bounds by bisection on one incremental solver.

        Every model found also tightens the known extremes of all parameters, so later
        searches start from a smaller interval.
        """
        started = time.perf_counter()
        self.checks = 0
        solver = self._solver(self.seed)
        solver.add(*self.domains.values(), *self.hard.values())
        result = SmtBounds()
        if self._check(solver) != z3.sat:
            result.positions = {name: None for name in self.compiled.constrained}
            return result
        seen: dict[str, list[int]] = {}
        self._record(solver.model(), seen)
        for name in self.compiled.constrained:
            variable = self.compiled.variables[name]
            if variable.is_index:
                result.choices[name] = self._feasible_choices(solver, name, seen)
                feasible = result.choices[name]
                result.positions[name] = (min(feasible), max(feasible)) if feasible else None
            else:
                low = self._extreme(solver, name, seen, lowest=True)
                high = self._extreme(solver, name, seen, lowest=False)
                result.positions[name] = None if low is None or high is None else (low, high)
        result.checks = self.checks
        result.seconds = time.perf_counter() - started
        return result

    def _record(self, model: z3.ModelRef, seen: dict[str, list[int]]) -> None:
        for name, position in self.model_positions(model).items():
            low, high = seen.get(name, [position, position])
            seen[name] = [min(low, position), max(high, position)]

    def _extreme(self, solver: z3.Solver, name: str, seen: dict[str, list[int]], *, lowest: bool) -> int | None:
        """The lowest (or highest) feasible position of a numeric parameter, by bisection."""
        variable = self.compiled.variables[name]
        symbol = self.symbols[name]
        known = seen[name][0] if lowest else seen[name][1]
        low, high = (0, known) if lowest else (known, variable.parameter.size - 1)
        while low < high:
            middle = (low + high) // 2 if lowest else (low + high + 1) // 2
            limit = self._convert(variable.value_term(middle))
            solver.push()
            solver.add(symbol <= limit if lowest else symbol >= limit)
            answer = self._check(solver)
            if answer == z3.sat:
                self._record(solver.model(), seen)
            solver.pop()
            if answer == z3.unknown:
                return None
            if lowest:
                low, high = (low, seen[name][0]) if answer == z3.sat else (middle + 1, high)
            else:
                low, high = (seen[name][1], high) if answer == z3.sat else (low, middle - 1)
        return low

    def _feasible_choices(self, solver: z3.Solver, name: str, seen: dict[str, list[int]]) -> list[int]:
        feasible = []
        for position in range(self.compiled.variables[name].parameter.size):
            solver.push()
            solver.add(self.symbols[name] == position)
            answer = self._check(solver)
            if answer == z3.sat:
                self._record(solver.model(), seen)
                feasible.append(position)
            solver.pop()
        return feasible
