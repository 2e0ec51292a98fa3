"""What a search reports: per-generation figures, its result, and the hooks that watch it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ._pareto import Normalisation
from ._store import Evaluation

if TYPE_CHECKING:
    from ._search import Search

__all__ = ["GenerationStats", "SearchHooks", "SearchResult"]


@dataclass(frozen=True)
class GenerationStats:
    """One generation's figures, as stored in the run store and shown by progress."""

    generation: int
    evaluations: int
    front_size: int
    hypervolume: float
    elapsed: float


class SearchHooks:
    """Called at the run's milestones; persistence never depends on them (progress does)."""

    def start(self, search: Search) -> None: ...

    def evaluation(self, search: Search, evaluation: Evaluation) -> None: ...

    def generation(self, search: Search, stats: GenerationStats) -> None: ...

    def end(self, search: Search, result: SearchResult) -> None: ...


@dataclass
class SearchResult:
    """All evaluations, the feasible Pareto front, and how the run went."""

    objective_names: list[str]
    directions: list[str]
    evaluations: list[Evaluation]
    front: list[Evaluation]
    normalisation: Normalisation | None
    hypervolume: float
    generations: list[dict[str, Any]] = field(default_factory=list)
    stopped_because: str = ""

    def front_points(self) -> np.ndarray:
        """The front's objective values (as reported, not negated)."""
        return np.array([[evaluation.metrics[name] for name in self.objective_names] for evaluation in self.front], dtype=float).reshape(-1, len(self.objective_names))
