"""The search problem for Platypus: grid positions as variables, and operators that suit them.

Each parameter is a position in its value list. Ordered parameters (ranges, numeric choices)
recombine by blending positions and mutate by small steps; string choices recombine by
swapping and mutate by a uniform reset. This avoids Platypus' Gray-coded ``Integer``, whose
bit-flip variation favours some values over others. Every offspring is repaired onto the
feasible space before anyone evaluates it, and re-drawn a few times when it is a
configuration the search already knows, so the budget goes to new points.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from platypus import Problem, Solution, Type, Variator

from ..space._space import Space

__all__ = ["GridPosition", "GridVariator", "AvatarProblem", "fill_solution"]

NOVELTY_ATTEMPTS = 6


class GridPosition(Type):
    """A position in a parameter's value list."""

    def __init__(self, size: int, ordered: bool, rng: random.Random) -> None:
        super().__init__()
        self.size = size
        self.ordered = ordered
        self.rng = rng

    def rand(self) -> int:
        return self.rng.randrange(self.size)


class AvatarProblem(Problem):
    """Minimise every objective (maximised ones negated); post constraints as violations."""

    def __init__(self, space: Space, objective_names: Sequence[str], directions: Sequence[str], n_constraints: int, rng: random.Random) -> None:
        super().__init__(len(space.parameters), len(objective_names), n_constraints)
        self.space = space
        self.objective_names = list(objective_names)
        self.objective_directions = list(directions)
        for index, parameter in enumerate(space.parameters):
            self.types[index] = GridPosition(parameter.size, parameter.is_ordered, rng)
        self.constraints[:] = "==0"

    def evaluate(self, solution: Solution) -> None:  # pragma: no cover - the evaluator fills solutions
        raise RuntimeError("AvatarProblem solutions are evaluated by the search's evaluator")

    def config(self, positions: Sequence[int]) -> dict[str, Any]:
        return {parameter.name: parameter.values[int(position)] for parameter, position in zip(self.space.parameters, positions)}

    def positions(self, config: dict[str, Any]) -> list[int]:
        located = self.space.positions(config)
        return [located[parameter.name] for parameter in self.space.parameters]

    def solution(self, config: dict[str, Any]) -> Solution:
        solution = Solution(self)
        solution.variables[:] = self.positions(config)
        return solution


class GridVariator(Variator):
    """Crossover, mutation, repair and novelty for grid positions (two parents, two children).

    ``is_known(key)`` says whether a configuration was already evaluated or proposed.
    """

    def __init__(
        self,
        problem: AvatarProblem,
        rng: random.Random,
        is_known: Callable[[tuple], bool],
        propose: Callable[[tuple], None],
        crossover_rate: float = 0.9,
        blend: float = 0.25,
    ) -> None:
        super().__init__(2)
        self.problem = problem
        self.rng = rng
        self.is_known = is_known
        self.propose = propose
        self.crossover_rate = crossover_rate
        self.blend = blend
        self.mutation_rate = 1.0 / max(1, problem.nvars)

    def evolve(self, parents: list[Solution]) -> list[Solution]:
        first, second = (list(parent.variables) for parent in parents)
        if self.rng.random() < self.crossover_rate:
            first, second = self._crossover(first, second)
        return [self._offspring(child) for child in (first, second)]

    def _crossover(self, first: list[int], second: list[int]) -> tuple[list[int], list[int]]:
        children = (list(first), list(second))
        for index, kind in enumerate(self.problem.types):
            if first[index] == second[index]:
                continue
            if not kind.ordered or self.rng.random() < 0.5:
                if self.rng.random() < 0.5:
                    children[0][index], children[1][index] = second[index], first[index]
                continue
            low, high = sorted((first[index], second[index]))
            reach = self.blend * (high - low)
            for child in children:
                child[index] = self._clip(round(self.rng.uniform(low - reach, high + reach)), kind.size)
        return children

    def _mutate(self, positions: list[int], rate: float) -> list[int]:
        mutated = list(positions)
        for index, kind in enumerate(self.problem.types):
            if kind.size < 2 or self.rng.random() >= rate:
                continue
            if kind.ordered:
                step = max(1, round(abs(self.rng.gauss(0.0, max(1.0, 0.1 * kind.size)))))
                mutated[index] = self._clip(mutated[index] + self.rng.choice((-step, step)), kind.size)
            else:
                mutated[index] = self.rng.choice([value for value in range(kind.size) if value != mutated[index]])
        return mutated

    def _offspring(self, positions: list[int]) -> Solution:
        candidate = self._repaired(self._mutate(positions, self.mutation_rate))
        for attempt in range(NOVELTY_ATTEMPTS):
            if not self.is_known(tuple(candidate)):
                break
            # a known point: mutate harder (more variables as attempts go on) and repair again
            candidate = self._repaired(self._mutate(candidate, min(1.0, (attempt + 1) * 2 * self.mutation_rate)))
        self.propose(tuple(candidate))
        solution = Solution(self.problem)
        solution.variables[:] = candidate
        return solution

    def _repaired(self, positions: list[int]) -> list[int]:
        config = self.problem.config(positions)
        repaired = self.problem.space.repair(config, seed=self.rng.randrange(2**31))
        return self.problem.positions(repaired)

    @staticmethod
    def _clip(position: int, size: int) -> int:
        return min(max(position, 0), size - 1)


_WORST = 1e300
_PENALTY = 1e6


def fill_solution(solution: Solution, values: np.ndarray | None, violations: Sequence[float], *, penalised: bool, worst: np.ndarray | None = None) -> None:
    """Hand Platypus a solution's objectives (minimisation form) and post-evaluation violations.

    ``values`` ``None``: the evaluation failed (or was not made): a penalised algorithm (IBEA)
    gets ``worst``, beyond every value seen; the others an infeasible solution at the far end. A
    penalised algorithm gets violations added to every objective, as it cannot rank constraints.
    """
    if values is None and worst is not None:
        solution.objectives[:] = list(worst)
        solution.constraint_violation = 0.0
    elif values is None:
        solution.objectives[:] = [_WORST] * solution.problem.nobjs
        solution.constraints[:] = [_WORST] * solution.problem.nconstrs
        solution.constraint_violation = _WORST
    elif penalised:
        solution.objectives[:] = list(values + _PENALTY * sum(violations))
        solution.constraint_violation = 0.0
    else:
        solution.objectives[:] = list(values)
        solution.constraints[:] = list(violations)
        solution.constraint_violation = float(sum(violations))
    solution.feasible = solution.constraint_violation == 0.0
    solution.evaluated = True
