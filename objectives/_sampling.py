"""Uniform sampling of a spec's grid, for estimators that calibrate without the solver."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from avatar.specs import Parameter

__all__ = ["sample_grid"]


def sample_grid(
    parameters: Sequence[Parameter],
    n: int,
    seed: int,
    *,
    accept: Callable[[dict[str, Any]], bool] = lambda config: True,
    max_tries: int = 100,
) -> list[dict[str, Any]]:
    """``n`` distinct grid points drawn uniformly, keeping those ``accept`` approves.

    Raises:
        ValueError: fewer than ``n`` acceptable points were found in ``max_tries * n`` draws.
    """
    generator = random.Random(seed)
    seen: set[tuple] = set()
    configs: list[dict[str, Any]] = []
    for _ in range(max_tries * n):
        config = {parameter.name: generator.choice(parameter.values) for parameter in parameters}
        key = tuple(config.values())
        if key in seen or not accept(config):
            continue
        seen.add(key)
        configs.append(config)
        if len(configs) == n:
            return configs
    raise ValueError(f"found only {len(configs)} of {n} acceptable configurations in the grid")
