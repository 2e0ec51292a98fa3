"""``students.json`` and each student's ``metrics.json``: the typed records of realised models.

The data, the teacher, the lexical baseline and every student, each frozen and converted to and
from its JSON document (``to_dict``/``from_dict``, a lossless round trip). What a record only
carries (a student's training history, a teacher's threshold) stays in ``extra``, written back
as it was read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._record_fields import as_object, get_field, is_number, rest_of, scores_of, texts_of

__all__ = ["StudentRecord", "TeacherRecord", "BaselineRecord", "StudentsRecord", "VARIANTS"]

_MEASURED = ("size_mb", "latency_ms", "energy_j", "carbon_g")
VARIANTS = (("onnx", "ONNX Runtime"), ("int8", "int8"))


def _predictions(data: Any) -> dict[str, dict[str, Any]]:
    """``predicted``: per learned metric, a number ``value`` (and optional numbers ``std``,
    ``validation``, ``test`` and a ``score`` name)."""
    if not isinstance(data, dict):
        raise ValueError(f"'predicted' is {data!r}, not an object")
    checked: dict[str, dict[str, Any]] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or not is_number(entry.get("value")):
            raise ValueError(f"'predicted.{name}' is {entry!r}, not an object with a number 'value'")
        for key in ("std", "validation", "test"):
            if entry.get(key) is not None and not is_number(entry[key]):
                raise ValueError(f"'predicted.{name}.{key}' is {entry[key]!r}, not a number")
        checked[name] = dict(entry)
    return checked


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
        data = as_object(data, "a student")
        measured = {name: get_field(data, name, (int, float)) for name in _MEASURED}
        weak = texts_of(data, "weak")
        predicted = _predictions(data.get("predicted", {}))
        return cls(get_field(data, "key", str), get_field(data, "config", dict), scores_of(data, "test"), **measured, weak=weak, predicted=predicted, extra=rest_of(data, cls._FIELDS))

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
        data = as_object(data, "the teacher")
        measured = {name: get_field(data, name, (int, float), optional=True) for name in _MEASURED}
        warnings = tuple(str(item) for item in get_field(data, "warnings", list, optional=True) or ())
        return cls(str(get_field(data, "model", (str, int, float))), scores_of(data, "test"), **measured, warnings=warnings, extra=rest_of(data, cls._FIELDS))


@dataclass(frozen=True)
class BaselineRecord:
    """The lexical baseline (TF-IDF and a logistic regression, fitted on the labelled split):
    the reference point every model of the run is read against, scored on the validation and
    test splits like the teacher and the students."""

    name: str
    valid: Mapping[str, float | None]
    test: Mapping[str, float | None]
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "valid": dict(self.valid), "test": dict(self.test), "seconds": self.seconds}

    @classmethod
    def from_dict(cls, data: Any) -> BaselineRecord:
        data = as_object(data, "the baseline")
        return cls(get_field(data, "name", str), scores_of(data, "valid"), scores_of(data, "test"), get_field(data, "seconds", (int, float), optional=True) or 0.0)


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
    baseline: BaselineRecord | None = None  # None in a run written before it existed

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            "data": dict(self.data),
            "teacher": self.teacher.to_dict(),
            **({"baseline": self.baseline.to_dict()} if self.baseline is not None else {}),
            "students": [student.to_dict() for student in self.students],
            "device": self.device,
            "seconds": dict(self.seconds),
        }

    @classmethod
    def from_dict(cls, data: Any) -> StudentsRecord:
        data = as_object(data, "the document")
        students = []
        for index, student in enumerate(get_field(data, "students", list)):
            try:
                students.append(StudentRecord.from_dict(student))
            except ValueError as error:
                raise ValueError(f"student {index + 1}: {error}") from None
        try:
            teacher = TeacherRecord.from_dict(get_field(data, "teacher", dict))
        except ValueError as error:
            raise ValueError(f"teacher: {error}") from None
        device = get_field(data, "device", str, optional=True) or "cpu"
        primary = get_field(data, "primary", str, optional=True) or "accuracy"
        try:
            baseline = BaselineRecord.from_dict(data["baseline"]) if data.get("baseline") is not None else None
        except ValueError as error:
            raise ValueError(f"baseline: {error}") from None
        return cls(get_field(data, "data", dict), teacher, tuple(students), device, get_field(data, "seconds", dict, optional=True) or {}, primary, baseline)

    def student(self, key: str) -> StudentRecord | None:
        return next((student for student in self.students if student.key == key), None)
