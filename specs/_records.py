"""Typed records of a run's files: what the solver writes and the trainer reads, and back.

Each record is frozen and converts to and from the JSON document of its file
(``to_dict``/``from_dict``, a lossless round trip). Fields that code reads are typed; what
a record only carries (a student's training history, a teacher's threshold) stays in
``extra``, written back as it was read. ``from_dict`` raises ``ValueError`` naming the
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

__all__ = ["SelectedPoint", "Selection", "StudentRecord", "TeacherRecord", "StudentsRecord", "LearningRecord", "SpaceReport", "Manifest"]


def _get(data: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], *, optional: bool = False) -> Any:
    """``data[key]`` checked against ``kinds`` (``None`` allowed when ``optional``); bools are
    not numbers."""
    if key not in data:
        if optional:
            return None
        raise ValueError(f"'{key}' is missing")
    value = data[key]
    if value is None and optional:
        return None
    numeric = kinds == (int, float)
    if isinstance(value, bool) and kinds is not bool and not (isinstance(kinds, tuple) and bool in kinds):
        raise ValueError(f"'{key}' is {value!r}, not a {_kind_name(kinds)}")
    if numeric and isinstance(value, int):
        return float(value)
    if not isinstance(value, kinds):
        raise ValueError(f"'{key}' is {type(value).__name__} {str(value)[:40]!r}, not a {_kind_name(kinds)}")
    return value


def _kind_name(kinds: type | tuple[type, ...]) -> str:
    names = {dict: "mapping", list: "list", str: "string", int: "whole number", float: "number", bool: "boolean"}
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(dict.fromkeys(names.get(kind, kind.__name__) for kind in kinds))


def _object(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{what} is a {type(data).__name__}, not a JSON object")
    return data


def _rest(data: Mapping[str, Any], known: Sequence[str]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in known}


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
        data = _object(data, "a point")
        return cls(
            key=_get(data, "key", str),
            config=_get(data, "config", dict),
            metrics=_get(data, "metrics", dict, optional=True) or {},
            reason=_get(data, "reason", str, optional=True) or "",
            status=_get(data, "status", str, optional=True) or "ok",
            error=_get(data, "error", str, optional=True),
            seconds=_get(data, "seconds", (int, float), optional=True),
            generation=_get(data, "generation", int, optional=True) or 0,
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
        data = _object(data, "the document")
        points = _get(data, "points", list)
        how = _get(data, "select", (str, int), optional=True)
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


_MEASURED = ("size_mb", "latency_ms", "energy_j", "carbon_g")
VARIANTS = (("onnx", "ONNX Runtime"), ("int8", "int8"))


def _texts(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """An optional list of strings (missing in records written before it existed: empty)."""
    values = data.get(key, [])
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"'{key}' is {values!r}, not a list of texts")
    return tuple(values)


def _predictions(data: Any) -> dict[str, dict[str, Any]]:
    """``predicted``: per learned metric, a number ``value`` (and optional numbers ``std``,
    ``validation``, ``test`` and a ``score`` name)."""
    if not isinstance(data, dict):
        raise ValueError(f"'predicted' is {data!r}, not an object")
    checked: dict[str, dict[str, Any]] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or not _is_number(entry.get("value")):
            raise ValueError(f"'predicted.{name}' is {entry!r}, not an object with a number 'value'")
        for key in ("std", "validation", "test"):
            if entry.get(key) is not None and not _is_number(entry[key]):
                raise ValueError(f"'predicted.{name}.{key}' is {entry[key]!r}, not a number")
        checked[name] = dict(entry)
    return checked


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _scores(data: Mapping[str, Any], key: str) -> dict[str, float | None]:
    scores = _get(data, key, dict)
    for name, value in scores.items():
        if value is not None and not _is_number(value):
            raise ValueError(f"'{key}.{name}' is {value!r}, not a number")
    return dict(scores)


@dataclass(frozen=True)
class StudentRecord:
    """One realised student (its ``metrics.json``, an entry of ``students.json``): test
    scores, measured size and costs, and everything else the trainer recorded in ``extra``."""

    key: str
    config: Mapping[str, Any]
    test: Mapping[str, float | None]
    size_mb: float
    latency_ms: float
    energy_j: float
    carbon_g: float
    weak: tuple[str, ...] = ()  # why it learned (almost) nothing, if it did not (``trainer.students.weakness``)
    # each learned metric's prediction for the point ({value, std, score}) beside the student's
    # realised validation and test scores on that score
    predicted: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    _FIELDS = ("key", "config", "test", *_MEASURED, "weak", "predicted")

    def to_dict(self) -> dict[str, Any]:
        measured = {name: getattr(self, name) for name in _MEASURED}
        predicted = {name: dict(entry) for name, entry in self.predicted.items()}
        return {"key": self.key, "config": dict(self.config), "test": dict(self.test), **measured, "weak": list(self.weak), "predicted": predicted, **self.extra}

    @classmethod
    def from_dict(cls, data: Any) -> StudentRecord:
        data = _object(data, "a student")
        measured = {name: _get(data, name, (int, float)) for name in _MEASURED}
        weak = _texts(data, "weak")
        predicted = _predictions(data.get("predicted", {}))
        return cls(_get(data, "key", str), _get(data, "config", dict), _scores(data, "test"), **measured, weak=weak, predicted=predicted, extra=_rest(data, cls._FIELDS))

    @property
    def is_weak(self) -> bool:
        return bool(self.weak)

    def variants(self) -> list[tuple[str, Mapping[str, Any]]]:
        """The exported variants that were made (ONNX, int8), each with its own test scores,
        size and costs: ``[(label, record), ...]``."""
        return [(label, self.extra[name]) for name, label in VARIANTS if isinstance(self.extra.get(name), dict)]


@dataclass(frozen=True)
class TeacherRecord:
    """The teacher as the students are compared with it: test scores, size and costs (``None``
    when unknown: a teacher given only as its predictions)."""

    model: str
    test: Mapping[str, float | None]
    size_mb: float | None
    latency_ms: float | None
    energy_j: float | None
    carbon_g: float | None
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    _FIELDS = ("model", "test", *_MEASURED, "warnings")

    def to_dict(self) -> dict[str, Any]:
        measured = {name: getattr(self, name) for name in _MEASURED}
        return {"model": self.model, "test": dict(self.test), **measured, "warnings": list(self.warnings), **self.extra}

    @classmethod
    def from_dict(cls, data: Any) -> TeacherRecord:
        data = _object(data, "the teacher")
        measured = {name: _get(data, name, (int, float), optional=True) for name in _MEASURED}
        warnings = tuple(str(item) for item in _get(data, "warnings", list, optional=True) or ())
        return cls(str(_get(data, "model", (str, int, float))), _scores(data, "test"), **measured, warnings=warnings, extra=_rest(data, cls._FIELDS))


@dataclass(frozen=True)
class StudentsRecord:
    """``students.json``: the data, the teacher and every realised student of a run, and the
    test metric they are compared by (``primary``: F1 for clones, accuracy for defects)."""

    data: Mapping[str, Any]
    teacher: TeacherRecord
    students: tuple[StudentRecord, ...]
    device: str = "cpu"
    seconds: Mapping[str, float] = field(default_factory=dict)
    primary: str = "accuracy"

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            "data": dict(self.data),
            "teacher": self.teacher.to_dict(),
            "students": [student.to_dict() for student in self.students],
            "device": self.device,
            "seconds": dict(self.seconds),
        }

    @classmethod
    def from_dict(cls, data: Any) -> StudentsRecord:
        data = _object(data, "the document")
        students = []
        for index, student in enumerate(_get(data, "students", list)):
            try:
                students.append(StudentRecord.from_dict(student))
            except ValueError as error:
                raise ValueError(f"student {index + 1}: {error}") from None
        try:
            teacher = TeacherRecord.from_dict(_get(data, "teacher", dict))
        except ValueError as error:
            raise ValueError(f"teacher: {error}") from None
        device = _get(data, "device", str, optional=True) or "cpu"
        primary = _get(data, "primary", str, optional=True) or "accuracy"
        return cls(_get(data, "data", dict), teacher, tuple(students), device, _get(data, "seconds", dict, optional=True) or {}, primary)

    def student(self, key: str) -> StudentRecord | None:
        return next((student for student in self.students if student.key == key), None)


@dataclass(frozen=True)
class LearningRecord:
    """One learned metric of a run (an entry of ``learning.json``): how it is learned, the
    surrogate's fits, every probe, and the predicted front."""

    metric: str
    method: str
    fidelity: Mapping[str, Any]
    surrogate: str
    fits: tuple[Mapping[str, Any], ...] = ()
    probes: tuple[Mapping[str, Any], ...] = ()
    front: tuple[Mapping[str, Any], ...] = ()
    promoted: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "method": self.method,
            "fidelity": dict(self.fidelity),
            "promoted": None if self.promoted is None else dict(self.promoted),
            "surrogate": self.surrogate,
            "fits": [dict(item) for item in self.fits],
            "probes": [dict(item) for item in self.probes],
            "front": [dict(item) for item in self.front],
        }

    @classmethod
    def from_dict(cls, data: Any) -> LearningRecord:
        data = _object(data, "a learned metric")
        return cls(
            _get(data, "metric", str),
            _get(data, "method", str),
            _get(data, "fidelity", dict),
            _get(data, "surrogate", str, optional=True) or "",
            tuple(_get(data, "fits", list, optional=True) or ()),
            tuple(_get(data, "probes", list, optional=True) or ()),
            tuple(_get(data, "front", list, optional=True) or ()),
            _get(data, "promoted", dict, optional=True),
        )


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
        data = _object(data, "the document")
        fraction = _get(data, "fraction", (int, float))
        if not math.isfinite(fraction):
            raise ValueError("'fraction' is not finite")
        return cls(
            _get(data, "name", str),
            str(_get(data, "file", (str, int, float))),
            _get(data, "feasible", bool, optional=True),
            _get(data, "grid_size", int),
            _get(data, "count", dict),
            fraction,
            tuple(_get(data, "parameters", list, optional=True) or ()),
            tuple(_get(data, "constraints", list, optional=True) or ()),
            _get(data, "bounds", dict, optional=True) or {},
            _get(data, "declared", dict, optional=True) or {},
            _get(data, "choices", dict, optional=True) or {},
            _rest(data, cls._FIELDS),
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
        data = _object(data, "the document")
        spec = _get(data, "spec", dict)
        _get(spec, "hash", str)
        return cls(
            spec,
            _get(data, "seeds", dict),
            _get(data, "libraries", dict),
            _get(data, "machine", dict, optional=True) or {},
            tuple(_get(data, "sessions", list, optional=True) or ()),
            _rest(data, cls._FIELDS),
        )
