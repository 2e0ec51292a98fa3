"""The feasible Pareto front, kept current as evaluations arrive (cheaper than recomputing it
over every evaluation after each generation), in the objectives' minimisation form."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._pareto import as_minimisation
from ._store import Evaluation

__all__ = ["RunningFront", "canonical_order"]


def canonical_order(evaluation: Evaluation) -> tuple[int, str]:
    """By generation, then key: the order in which parallel, serial and resumed runs agree."""
    return (evaluation.generation, evaluation.key)


class RunningFront:
    """Non-dominated evaluations among those added; of equal points, the earliest in canonical
    order stays, whatever the order they arrived in (a resumed run adds its stored ones first)."""

    def __init__(self, objective_names: Sequence[str], directions: Sequence[str]) -> None:
        self.objective_names = list(objective_names)
        self.directions = list(directions)
        self._items: dict[str, tuple[Evaluation, np.ndarray]] = {}
        self.version = 0  # counts the changes: equal versions, equal fronts

    def __len__(self) -> int:
        return len(self._items)

    def points(self, evaluations: Sequence[Evaluation]) -> np.ndarray:
        """The evaluations' objective values, minimisation form, one row each."""
        values = np.array([[evaluation.metrics[name] for name in self.objective_names] for evaluation in evaluations], dtype=float)
        return as_minimisation(values.reshape(-1, len(self.objective_names)), self.directions)

    def add(self, evaluation: Evaluation) -> None:
        """Take a feasible, successful evaluation in (or leave it out when dominated)."""
        point = self.points([evaluation])[0]
        for other, other_point in self._items.values():
            if np.all(other_point <= point):  # dominated by, or equal to, a front point
                if not (np.array_equal(other_point, point) and canonical_order(evaluation) < canonical_order(other)):
                    return
        self._items = {key: item for key, item in self._items.items() if not np.all(point <= item[1])}
        self._items[evaluation.key] = (evaluation, point)
        self.version += 1

    def evaluations(self) -> list[Evaluation]:
        """The front, by generation, then key."""
        return [evaluation for evaluation, _ in sorted(self._items.values(), key=lambda item: canonical_order(item[0]))]
