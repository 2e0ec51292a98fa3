"""Typed records of a run's files: what the solver writes and the trainer reads, and back
(the realised models' ``students.json`` is in ``_students_records``).

Each record is frozen and converts to and from the JSON document of its file
(``to_dict``/``from_dict``, a lossless round trip). A learned metric's fits, probes and front
are typed to their leaves (``_learning_parts``); the space report and the manifest type what
code reads and carry the rest in ``extra``, written back as it was read. ``from_dict`` raises ``ValueError`` naming the
first field that is missing or of the wrong type, so a damaged or hand-edited file is
refused with a reason (``RunDirectory`` adds the file's path).

>>> point = SelectedPoint("a1", {"hidden_size": 64}, {"size_mb": 1.5}, "knee of the front")
>>> Selection("knee", (point,)).to_dict()["points"][0]["reason"]
'knee of the front'
>>> Selection.from_dict(Selection("knee", (point,)).to_dict()) == Selection("knee", (point,))
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._learning_parts import FitRecord, FrontPointRecord, ProbeRecord
from ._record_fields import as_object, get_field, rest_of

__all__ = ["SelectedPoint", "Selection", "LearningRecord", "SpaceReport", "Manifest"]


@dataclass(frozen=True)
class SelectedPoint:
    """A front point chosen for training (``selected.json``), with why it was chosen."""

    key: str
    config: Mapping[str, Any]
    metrics: Mapping[str, Any]
    reason: str
    status: str = "ok"
    error: str | None = None
    seconds: float | None = None
    generation: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "config": dict(self.config),
            "status": self.status,
            "metrics": dict(self.metrics),
            "error": self.error,
            "seconds": self.seconds,
            "generation": self.generation,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SelectedPoint:
        data = as_object(data, "a point")
        return cls(
            key=get_field(data, "key", str),
            config=get_field(data, "config", dict),
            metrics=get_field(data, "metrics", dict, optional=True) or {},
            reason=get_field(data, "reason", str, optional=True) or "",
            status=get_field(data, "status", str, optional=True) or "ok",
            error=get_field(data, "error", str, optional=True),
            seconds=get_field(data, "seconds", (int, float), optional=True),
            generation=get_field(data, "generation", int, optional=True) or 0,
        )


@dataclass(frozen=True)
class Selection:
    """``selected.json``: how points were selected (``train.select``) and the points."""

    how: str | int
    points: tuple[SelectedPoint, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"select": self.how, "points": [point.to_dict() for point in self.points]}

    @classmethod
    def from_dict(cls, data: Any) -> Selection:
        data = as_object(data, "the document")
        points = get_field(data, "points", list)
        how = get_field(data, "select", (str, int), optional=True)
        parsed = []
        for index, point in enumerate(points):
            try:
                parsed.append(SelectedPoint.from_dict(point))
            except ValueError as error:
                raise ValueError(f"point {index + 1}: {error}") from None
        return cls("knee" if how is None else how, tuple(parsed))

    def check_parameters(self, names: Sequence[str]) -> None:
        """Every point must configure exactly these parameters (a point of another spec, or
        one edited by hand, would train something the search never chose)."""
        for index, point in enumerate(self.points):
            if set(point.config) != set(names):
                raise ValueError(f"point {index + 1} ({point.key}) does not configure this spec's parameters")


@dataclass(frozen=True)
class LearningRecord:
    """One learned metric of a run (an entry of ``learning.json``): how it is learned, the
    surrogate's fits, every probe, and the predicted front."""

    metric: str
    method: str
    fidelity: Mapping[str, Any]
    surrogate: str
    fits: tuple[FitRecord, ...] = ()
    probes: tuple[ProbeRecord, ...] = ()
    front: tuple[FrontPointRecord, ...] = ()
    promoted: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "method": self.method,
            "fidelity": dict(self.fidelity),
            "promoted": None if self.promoted is None else dict(self.promoted),
            "surrogate": self.surrogate,
            "fits": [item.to_dict() for item in self.fits],
            "probes": [item.to_dict() for item in self.probes],
            "front": [item.to_dict() for item in self.front],
        }

    @classmethod
    def from_dict(cls, data: Any) -> LearningRecord:
        data = as_object(data, "a learned metric")
        return cls(
            get_field(data, "metric", str),
            get_field(data, "method", str),
            get_field(data, "fidelity", dict),
            get_field(data, "surrogate", str, optional=True) or "",
            tuple(FitRecord.from_dict(item) for item in get_field(data, "fits", list, optional=True) or ()),
            tuple(ProbeRecord.from_dict(item) for item in get_field(data, "probes", list, optional=True) or ()),
            tuple(FrontPointRecord.from_dict(item) for item in get_field(data, "front", list, optional=True) or ()),
            get_field(data, "promoted", dict, optional=True),
        )

    @property
    def scored_by_auc(self) -> bool:
        """Whether its probes are scored by validation ROC AUC (else by the task's primary metric)."""
        return self.fidelity.get("score") == "auc"


@dataclass(frozen=True)
class SpaceReport:
    """``space.json`` (and ``solve --check --json``): the spec's feasible space as checked.

    ``feasible`` is ``None`` when Z3 could not decide; ``count`` has ``value`` and ``exact``
    (and a 95% interval when estimated); ``bounds`` and ``declared`` give each parameter's
    feasible and declared ``[low, high]``, ``choices`` the feasible values of string ones."""

    name: str
    file: str
    feasible: bool | None
    grid_size: int
    count: Mapping[str, Any]
    fraction: float
    parameters: tuple[Mapping[str, Any], ...] = ()
    constraints: tuple[Mapping[str, Any], ...] = ()
    bounds: Mapping[str, Any] = field(default_factory=dict)
    declared: Mapping[str, Any] = field(default_factory=dict)
    choices: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    _FIELDS = ("name", "file", "feasible", "grid_size", "count", "fraction", "parameters", "constraints", "bounds", "declared", "choices")

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self._FIELDS}
        data.update(parameters=[dict(item) for item in self.parameters], constraints=[dict(item) for item in self.constraints])
        data.update(count=dict(self.count), bounds=dict(self.bounds), declared=dict(self.declared), choices={key: list(value) for key, value in self.choices.items()})
        return {**data, **self.extra}

    @classmethod
    def from_dict(cls, data: Any) -> SpaceReport:
        data = as_object(data, "the document")
        fraction = get_field(data, "fraction", (int, float))
        if not math.isfinite(fraction):
            raise ValueError("'fraction' is not finite")
        return cls(
            get_field(data, "name", str),
            str(get_field(data, "file", (str, int, float))),
            get_field(data, "feasible", bool, optional=True),
            get_field(data, "grid_size", int),
            get_field(data, "count", dict),
            fraction,
            tuple(get_field(data, "parameters", list, optional=True) or ()),
            tuple(get_field(data, "constraints", list, optional=True) or ()),
            get_field(data, "bounds", dict, optional=True) or {},
            get_field(data, "declared", dict, optional=True) or {},
            get_field(data, "choices", dict, optional=True) or {},
            rest_of(data, cls._FIELDS),
        )

    def bounds_cells(self, name: str) -> tuple[str, str]:
        """Declared and feasible values of one parameter, as the report shows them: the domain
        as declared (a choice set as a set, a range with its step), then the feasible ones: the
        feasible choices of a string parameter, the declared choices within the tight bounds of
        a numeric one, or the tight range."""
        parameter = next((item for item in self.parameters if item["name"] == name), {})
        low, high = self.declared.get(name, (None, None))
        declared = str(parameter.get("domain") or f"[{low}, {high}]")
        choices = self.choices.get(name)
        if choices is not None:
            return declared, "{" + ", ".join(map(str, choices)) + "}"
        tight = self.bounds.get(name)
        if tight is None:
            return declared, "unknown"
        offered = parameter.get("declaration", {}).get("choices") if isinstance(parameter.get("declaration"), dict) else None
        if isinstance(offered, list):
            return declared, "{" + ", ".join(str(value) for value in offered if tight[0] <= value <= tight[1]) + "}"
        return declared, f"[{tight[0]}, {tight[1]}]"


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``: what a run was made from (spec and its hashes, seeds, library
    versions, machine) and every session (command) that worked on it."""

    spec: Mapping[str, Any]
    seeds: Mapping[str, int]
    libraries: Mapping[str, str]
    machine: Mapping[str, Any] = field(default_factory=dict)
    sessions: tuple[Mapping[str, Any], ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    _FIELDS = ("spec", "seeds", "libraries", "machine", "sessions")

    def to_dict(self) -> dict[str, Any]:
        data = {"spec": dict(self.spec), "seeds": dict(self.seeds), "libraries": dict(self.libraries), "machine": dict(self.machine)}
        return {**data, "sessions": [dict(item) for item in self.sessions], **self.extra}

    @classmethod
    def from_dict(cls, data: Any) -> Manifest:
        data = as_object(data, "the document")
        spec = get_field(data, "spec", dict)
        get_field(spec, "hash", str)
        return cls(
            spec,
            get_field(data, "seeds", dict),
            get_field(data, "libraries", dict),
            get_field(data, "machine", dict, optional=True) or {},
            tuple(get_field(data, "sessions", list, optional=True) or ()),
            rest_of(data, cls._FIELDS),
        )
