"""The parts of a learned metric's record (``learning.json``), typed to their leaves: each fit
of its surrogate with the cross-validation it got, each probe, and each point of the front
the search predicted. Each converts to and from its JSON (``to_dict``/``from_dict``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._record_fields import as_object, get_field, numbers_of, optional_int, optional_number, without_none

__all__ = ["FitRecord", "ProbeRecord", "FrontPointRecord"]


@dataclass(frozen=True)
class FitRecord:
    """One fit of the surrogate, after a stage of probes: how many probes it learned from, how
    many failed or were weak, and its cross-validation (Spearman, MAE, folds, points; ``None``
    with fewer than four probes)."""

    stage: int
    probes: int
    failed: int = 0
    weak: int | None = None
    spearman: float | None = None
    mae: float | None = None
    folds: int | None = None
    n: int | None = None

    def to_dict(self) -> dict[str, Any]:
        counts = {"stage": self.stage, "probes": self.probes, "failed": self.failed}
        validation = {"spearman": self.spearman, "mae": self.mae, "folds": self.folds, "n": self.n} if self.folds is not None else {}
        return {**counts, **without_none({"weak": self.weak}), **validation}

    @classmethod
    def from_dict(cls, data: Any) -> FitRecord:
        data = as_object(data, "a fit")
        return cls(
            get_field(data, "stage", int),
            get_field(data, "probes", int),
            optional_int(data, "failed") or 0,
            optional_int(data, "weak"),
            optional_number(data, "spearman"),
            optional_number(data, "mae"),
            optional_int(data, "folds"),
            optional_int(data, "n"),
        )


@dataclass(frozen=True)
class ProbeRecord:
    """One probe: its configuration, stage and level (0, or 1 for a promoted one), whether it
    succeeded, what it measured (or why it failed), its surrogate's out-of-fold prediction, and
    how long it took."""

    key: str
    status: str
    measured: float | None = None
    stage: int = 0
    level: int = 0
    error: str | None = None
    seconds: float = 0.0
    out_of_fold: float | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.measured is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "stage": self.stage,
            "level": self.level,
            "status": self.status,
            "measured": self.measured,
            "error": self.error,
            "seconds": self.seconds,
            "out_of_fold": self.out_of_fold,
            "config": dict(self.config),
        }

    @classmethod
    def from_dict(cls, data: Any) -> ProbeRecord:
        data = as_object(data, "a probe")
        return cls(
            get_field(data, "key", str),
            get_field(data, "status", str),
            optional_number(data, "measured"),
            optional_int(data, "stage") or 0,
            optional_int(data, "level") or 0,
            get_field(data, "error", str, optional=True),
            optional_number(data, "seconds") or 0.0,
            optional_number(data, "out_of_fold"),
            get_field(data, "config", dict, optional=True) or {},
        )


@dataclass(frozen=True)
class FrontPointRecord:
    """A point of the front the search found: the learned metric's prediction (and its
    uncertainty) there, and every objective's value (``objectives``, by name)."""

    key: str
    predicted: float | None
    std: float | None = None
    objectives: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "predicted": self.predicted, "std": self.std, **self.objectives}

    @classmethod
    def from_dict(cls, data: Any) -> FrontPointRecord:
        data = as_object(data, "a front point")
        objectives = numbers_of({name: value for name, value in data.items() if name not in ("key", "predicted", "std")}, "a front point")
        return cls(get_field(data, "key", str), optional_number(data, "predicted"), optional_number(data, "std"), objectives)
