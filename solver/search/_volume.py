"""The hypervolume of the run's feasible front: normalised once, recorded per generation.

The normalisation is fixed from the first feasible evaluations and stored, so a resumed run's
values stay comparable. A generation's figure is recomputed only when it is due (see
``FrontVolume.of_generation``); the result's is always exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ._front import RunningFront
from ._pareto import Normalisation, hypervolume
from ._store import Evaluation, RunStore

__all__ = ["FrontVolume"]


class FrontVolume:
    """The front's hypervolume, in the normalisation the run stored (``normalisation``)."""

    def __init__(self, front: RunningFront, store: RunStore, limits: Sequence[float | None]) -> None:
        self.front, self.store, self.limits = front, store, list(limits)
        self.normalisation: Normalisation | None = None
        self._last: tuple[int, int, float] = (0, -1, 0.0)  # (evaluations, front version, hypervolume) when last computed

    def ensure_normalisation(self, feasible: Callable[[], list[Evaluation]]) -> None:
        """Fix the normalisation once, from the ``feasible`` evaluations (a resumed run reads
        the stored one)."""
        if self.normalisation is not None or not len(self.front):
            return
        stored = self.store.get_meta("normalisation")
        if stored is not None:
            self.normalisation = Normalisation(tuple(stored["ideal"]), tuple(stored["reference"]))
            return
        self.normalisation = Normalisation.from_points(self.front.points(feasible()), self.limits)
        self.store.set_meta("normalisation", {"ideal": self.normalisation.ideal, "reference": self.normalisation.reference})

    def exact(self, front: list[Evaluation]) -> float:
        """The hypervolume of ``front`` (0 before any feasible evaluation)."""
        return hypervolume(self.front.points(front), self.normalisation) if front and self.normalisation else 0.0

    def of_generation(self, front: list[Evaluation], evaluations: int) -> float:
        """The front's hypervolume for a generation's record. An exact hypervolume grows with the
        front (steeply past three objectives), and the model-based search's generations are one
        point each: it is computed again only when the front changed and at least a hundredth
        of the ``evaluations`` so far came since the last time (about 100 times per tenfold
        growth of the run), else the last value stands."""
        due = evaluations - self._last[0] >= max(1, evaluations // 100)
        if self._last[1] != self.front.version and (due or self._last[2] == 0.0):
            self._last = (evaluations, self.front.version, self.exact(front))
        return self._last[2]
