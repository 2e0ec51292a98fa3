"""Pareto fronts, hypervolume and the choice of points to realise.

Everything here works on *minimisation* vectors: an objective to maximise is negated first
(``as_minimisation``), so one set of functions serves every spec.

>>> import numpy as np
>>> points = as_minimisation(np.array([[0.9, 3.0], [0.8, 1.0], [0.7, 2.0]]), ["maximize", "minimize"])
>>> nondominated(points).tolist()  # (0.7, 2.0) is worse than (0.8, 1.0) in both
[0, 1]
>>> round(hypervolume(points[[0, 1]], Normalisation((-1.0, 0.0), (0.0, 4.0))), 6)  # share of the box dominated
0.625
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avatar.specs import Compare, Name, Number, Spec

__all__ = ["as_minimisation", "nondominated", "hypervolume", "Normalisation", "objective_limits", "select_points", "knee_index"]


def as_minimisation(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Objective vectors with maximised objectives negated."""
    signs = np.array([-1.0 if direction == "maximize" else 1.0 for direction in directions])
    return np.asarray(values, dtype=float) * signs


def nondominated(points: np.ndarray) -> np.ndarray:
    """Indices of the points no other point dominates (of equal points, the first is kept)."""
    points = np.asarray(points, dtype=float)
    count = len(points)
    if count <= 1:
        return np.arange(count)
    dominated = np.zeros(count, dtype=bool)
    for start in range(0, count, 512):  # blocks keep the pairwise comparison's memory bounded
        block = points[start : start + 512]
        no_worse = np.all(points[:, None, :] <= block[None, :, :], axis=2)  # [j, i]: j no worse than i
        better = np.any(points[:, None, :] < block[None, :, :], axis=2)
        earlier = np.arange(count)[:, None] < np.arange(start, start + len(block))[None, :]
        dominated[start : start + len(block)] = np.any(no_worse & (better | earlier), axis=0)
    return np.flatnonzero(~dominated)


@dataclass(frozen=True)
class Normalisation:
    """Maps minimisation vectors so that ``ideal`` goes to 0 and ``reference`` to 1.

    The hypervolume is measured in these units against the reference point 1: it is 1 for a
    point at the ideal and can exceed 1 for points better than the ideal, which is fixed once
    (from the first evaluations) so that values stay comparable across generations, resumed
    runs and methods sharing one normalisation.
    """

    ideal: tuple[float, ...]
    reference: tuple[float, ...]

    def apply(self, points: np.ndarray) -> np.ndarray:
        ideal, reference = np.array(self.ideal), np.array(self.reference)
        span = np.where(reference > ideal, reference - ideal, 1.0)
        return (np.asarray(points, dtype=float) - ideal) / span

    @classmethod
    def from_points(cls, points: np.ndarray, limits: Sequence[float | None] = (), margin: float = 0.1) -> Normalisation:
        """Ideal: the best value seen; reference: a hard limit where given, else the nadir of
        the points plus ``margin`` of their range."""
        points = np.asarray(points, dtype=float)
        ideal = points.min(axis=0)
        nadir = points.max(axis=0)
        span = np.where(nadir > ideal, nadir - ideal, np.maximum(np.abs(nadir), 1.0))
        reference = nadir + margin * span
        limits = list(limits) + [None] * (points.shape[1] - len(limits))
        reference = np.array([limit if limit is not None and limit > low else default for limit, low, default in zip(limits, ideal, reference)])
        return cls(tuple(float(value) for value in ideal), tuple(float(value) for value in reference))


def hypervolume(points: np.ndarray, normalisation: Normalisation) -> float:
    """Hypervolume (minimisation) of ``points`` against the reference point, in normalised units."""
    if len(points) == 0:
        return 0.0
    unit = normalisation.apply(points)
    unit = unit[np.all(unit < 1.0, axis=1)]
    if len(unit) == 0:
        return 0.0
    unit = unit[nondominated(unit)]
    return float(_volume(unit, np.ones(unit.shape[1])))


def _area(points: np.ndarray, reference: np.ndarray) -> float:
    """Dominated area in two dimensions: a sweep along the first objective."""
    order = np.argsort(points[:, 0], kind="stable")
    xs, best_y = points[order, 0], np.minimum.accumulate(points[order, 1])
    widths = np.diff(np.append(xs, reference[0]))
    return float(np.sum(widths * (reference[1] - best_y)))


def _volume(points: np.ndarray, reference: np.ndarray) -> float:
    """Exact dominated volume: a sweep in 2-D, slabs of 2-D areas in 3-D, and slicing (HSO)
    beyond; fine for the front sizes of a search."""
    dimensions = points.shape[1]
    if dimensions == 1:
        return float(reference[0] - points[:, 0].min())
    if dimensions == 2:
        return _area(points, reference)
    order = np.argsort(points[:, -1], kind="stable")
    depths = np.diff(np.append(points[order, -1], reference[-1]))
    total = 0.0
    for position in range(len(order)):
        if depths[position] <= 0:
            continue
        slab = points[order[: position + 1], :-1]
        if dimensions > 3:
            slab = slab[nondominated(slab)]
        total += depths[position] * _volume(slab, reference[:-1])
    return total


def front_box(points: np.ndarray) -> Normalisation:
    """The front's own ideal and nadir: the box a decision among its points is made in."""
    points = np.asarray(points, dtype=float)
    return Normalisation(tuple(points.min(axis=0).tolist()), tuple(points.max(axis=0).tolist()))


def knee_index(points: np.ndarray) -> int:
    """The knee: the point closest to the ideal point, each objective scaled from the front's best
    (0) to its worst (1) value.

    The scale is the front's own, not the hypervolume's normalisation: that one is fixed by the
    first evaluations and by hard limits, so front points better than the early ideal would lie
    at negative coordinates (and a longer distance), and an objective far inside its limit
    would barely count.
    """
    unit = front_box(points).apply(points)
    return int(np.argmin(np.linalg.norm(unit, axis=1)))


def select_points(points: np.ndarray, how: str | int, objective_names: Sequence[str]) -> list[int]:
    """Indices of the front points to realise (``points`` in minimisation form).

    ``knee``: the point closest to the ideal, in the front's own best-to-worst scale; ``all``:
    every point; an integer N: N points spread along the front (the knee, then farthest-point
    sampling in that scale); ``best:METRIC``: the best point for that objective.
    """
    count = len(points)
    if count == 0:
        return []
    if how == "all":
        return list(range(count))
    if how == "knee":
        return [knee_index(points)]
    if isinstance(how, str) and how.startswith("best:"):
        column = list(objective_names).index(how.removeprefix("best:"))
        return [int(np.argmin(points[:, column]))]
    wanted = min(int(how), count)
    unit = front_box(points).apply(points)
    chosen = [knee_index(points)]
    distances = np.linalg.norm(unit - unit[chosen[0]], axis=1)
    while len(chosen) < wanted:
        farthest = int(np.argmax(distances))
        chosen.append(farthest)
        distances = np.minimum(distances, np.linalg.norm(unit - unit[farthest], axis=1))
    return chosen


def objective_limits(spec: Spec, objective_names: Sequence[str]) -> list[float | None]:
    """Each objective's hard limit in minimisation form (``size_mb <= 3`` gives 3), if any."""
    limits: list[float | None] = []
    for name, direction in zip(objective_names, (objective.direction for objective in spec.objectives)):
        found = None
        for constraint in spec.constraints:
            expression = constraint.expression
            if not (isinstance(expression, Compare) and len(expression.operators) == 1):
                continue
            left, right = expression.operands
            operator = expression.operators[0]
            if isinstance(right, Name) and isinstance(left, Number):
                left, right = right, left
                operator = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}.get(operator, operator)
            if isinstance(left, Name) and left.id == name and isinstance(right, Number):
                value = float(right.value)
                if direction == "minimize" and operator in ("<=", "<"):
                    found = value
                elif direction == "maximize" and operator in (">=", ">"):
                    found = -value
        limits.append(found)
    return limits
