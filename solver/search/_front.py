"""Pareto fronts kept current as points arrive, instead of recomputed over every point after
each batch (which made the search's own time grow with the square of its length, issue 34).

Two keepers, for two questions: ``RunningFront`` is the run's feasible front of evaluations,
where equal points are broken by canonical order (so serial, parallel and resumed runs agree);
``GrowingFront`` is the model-based search's front over rows of its measurement list, where
equal points are broken by position, as ``nondominated`` breaks them, vectorised over arrays."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._pareto import as_minimisation, nondominated
from ._store import Evaluation

__all__ = ["RunningFront", "GrowingFront", "canonical_order"]


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


class GrowingFront:
    """The rows of the non-dominated points among a list that only grows (the search's
    measurements), as ``nondominated`` gives them over the whole list (of equal points, the
    first), kept current by comparing each call's new rows with the front alone: the front of
    all is the front of (the earlier front and the new rows). Without it, the front was
    recomputed over every measurement for every batch, which made the search's own time grow
    with the square of its length (issue 34)."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.seen = 0
        self.last_key: str | None = None

    def __call__(self, keys: Sequence[str], points: np.ndarray, usable: Callable[[int], bool] | None = None) -> np.ndarray:
        """Front rows of ``points`` (one per key; ``usable`` picks which rows may be in it)."""
        if self.seen > len(keys) or (self.seen and keys[self.seen - 1] != self.last_key):  # not the list seen before: start again
            self.rows, self.seen = [], 0
        new = np.array([index for index in range(self.seen, len(keys)) if usable is None or usable(index)], dtype=int)
        self.seen, self.last_key = len(keys), (keys[-1] if keys else None)
        if len(new):
            survivors = new[nondominated(points[new])]  # among themselves: of equal points, the first
            front = np.array(self.rows, dtype=int)
            if len(front):
                # Every front row comes before every new one: a new point that a front point
                # equals or dominates is out; a front point that a surviving new point dominates is out.
                covered = np.any(np.all(points[front][:, None, :] <= points[survivors][None, :, :], axis=2), axis=0)
                survivors = survivors[~covered]
                mine, theirs = points[survivors][:, None, :], points[front][None, :, :]
                beaten = np.any(np.all(mine <= theirs, axis=2) & np.any(mine < theirs, axis=2), axis=0)
                front = front[~beaten]
            self.rows = sorted(front.tolist() + survivors.tolist())
        return np.array(self.rows, dtype=int)
