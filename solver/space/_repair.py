"""Repair: move an infeasible configuration to a nearby feasible one.

Distance on the grid: a parameter that changes costs 1 plus, for ordered parameters, the
fraction of its range moved; so fewer changes always win, then smaller moves. Candidates are
evaluated vectorised (one parameter over all its values, then pairs of parameters over their
joint grid, nearest values first); the chosen one is confirmed exactly with ``contains``.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._space import Space

__all__ = ["repair"]

MAX_PAIR_GRID = 40_000
FALLBACK_SAMPLES = 256


def _snap(space: Space, config: Mapping[str, Any], generator: random.Random) -> dict[str, Any]:
    """Every value on its parameter's grid: nearest value for numbers, a random choice else."""
    snapped = {}
    for parameter in space.parameters:
        value = config.get(parameter.name)
        if value in parameter.values and not isinstance(value, bool):
            snapped[parameter.name] = value
        elif parameter.kind == "categorical" or not isinstance(value, (int, float)) or isinstance(value, bool):
            snapped[parameter.name] = generator.choice(parameter.values)
        else:
            snapped[parameter.name] = min(parameter.numbers, key=lambda candidate: abs(candidate - value))
    return snapped


def _costs(space: Space, name: str, current: int) -> np.ndarray:
    parameter = space.spec.parameter(name)
    positions = np.arange(parameter.size)
    if parameter.kind == "categorical" or parameter.size == 1:
        move = np.zeros(parameter.size)
    else:
        move = np.abs(positions - current) / (parameter.size - 1)
    return np.where(positions == current, 0.0, 1.0 + move)


def _feasible_mask(space: Space, base: dict[str, Any], grids: dict[str, np.ndarray]) -> np.ndarray:
    """Which combinations of the ``grids`` positions are feasible (float evaluation)."""
    values: dict[str, Any] = {}
    for parameter in space.parameters:
        if parameter.name in space.compiled.free:
            continue
        variable = space.compiled.variables[parameter.name]
        if parameter.name in grids:
            positions = grids[parameter.name]
            values[parameter.name] = positions if variable.is_index else space.grid.value_array(parameter.name)[positions]
        else:
            position = space._position[parameter.name][base[parameter.name]]
            values[parameter.name] = position if variable.is_index else base[parameter.name]
    evaluate = space.vector_evaluator(values)
    size = len(next(iter(grids.values())))
    mask = np.ones(size, dtype=bool)
    for formula in space.compiled.hard.values():
        mask &= np.broadcast_to(np.asarray(evaluate(formula), dtype=bool), (size,))
    return mask


def _best(space: Space, base: dict[str, Any], grids: dict[str, np.ndarray], cost: np.ndarray, generator: random.Random) -> dict[str, Any] | None:
    mask = _feasible_mask(space, base, grids)
    candidates = np.flatnonzero(mask)
    if not len(candidates):
        return None
    order = sorted(candidates, key=lambda index: (cost[index], generator.random()))
    for index in order[:20]:
        config = dict(base)
        for name, positions in grids.items():
            config[name] = space.spec.parameter(name).values[int(positions[index])]
        if space.contains(config):  # exact confirmation of the float evaluation
            return config
    return None


def repair(space: Space, config: Mapping[str, Any], generator: random.Random) -> dict[str, Any]:
    """See ``Space.repair``."""
    base = _snap(space, config, generator)
    if space.contains(base):
        return base
    positions = space.positions(base)
    constrained = list(space.compiled.constrained)
    best: tuple[float, dict[str, Any]] | None = None
    for name in constrained:
        cost = _costs(space, name, positions[name])
        found = _best(space, base, {name: np.arange(len(cost))}, cost, generator)
        if found is not None:
            candidate_cost = float(cost[_position_of(space, found, name)])
            if best is None or candidate_cost < best[0]:
                best = (candidate_cost, found)
    if best is not None:
        return best[1]
    for first, second in itertools.combinations(constrained, 2):
        first_cost, second_cost = _costs(space, first, positions[first]), _costs(space, second, positions[second])
        first_positions, second_positions = _nearest(first_cost), _nearest(second_cost)
        grid_first, grid_second = np.meshgrid(first_positions, second_positions, indexing="ij")
        grids = {first: grid_first.ravel(), second: grid_second.ravel()}
        cost = first_cost[grids[first]] + second_cost[grids[second]]
        found = _best(space, base, grids, cost, generator)
        if found is not None:
            candidate_cost = float(first_cost[_position_of(space, found, first)] + second_cost[_position_of(space, found, second)])
            if best is None or candidate_cost < best[0]:
                best = (candidate_cost, found)
    if best is not None:
        return best[1]
    samples = space.sample(FALLBACK_SAMPLES, seed=generator.randrange(2**31))
    constrained_positions = {name: positions[name] for name in constrained}
    nearest = min(samples, key=lambda sample: (_distance(space, constrained_positions, sample), generator.random()))
    return {**base, **{name: nearest[name] for name in constrained}}  # free parameters never need to move


def _position_of(space: Space, config: Mapping[str, Any], name: str) -> int:
    return space._position[name][config[name]]


def _nearest(cost: np.ndarray) -> np.ndarray:
    """The positions of one parameter with the cheapest moves, enough for a bounded pair grid."""
    limit = int(MAX_PAIR_GRID**0.5)
    return np.argsort(cost, kind="stable")[:limit]


def _distance(space: Space, positions: Mapping[str, int], config: Mapping[str, Any]) -> float:
    target = space.positions(config)
    return sum(_cost(space, name, position, target[name]) for name, position in positions.items())


def _cost(space: Space, name: str, current: int, target: int) -> float:
    """One entry of ``_costs`` without building the array (parameters may have a million values)."""
    parameter = space.spec.parameter(name)
    if target == current:
        return 0.0
    if parameter.kind == "categorical" or parameter.size == 1:
        return 1.0
    return 1.0 + abs(target - current) / (parameter.size - 1)
