"""``students.json`` and each student's ``metrics.json``: the typed records of realised models.

The data, the teacher, the lexical baseline and every student, each frozen, typed to its
leaves (their parts: ``_student_parts``) and converted to and from its JSON document
(``to_dict``/``from_dict``, a lossless round trip for what Avatar writes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._record_fields import as_object, get_field, numbers_of, optional_flag, optional_int, optional_number, scores_of, texts_of, without_none
from ._student_parts import (
    DataRecord,
    EnergyRecord,
    PredictionRecord,
    RestartRecord,
    TeacherThreshold,
    TeacherValidation,
    ThresholdRecord,
    ValidationRecord,
    VariantRecord,
)

__all__ = ["StudentRecord", "TeacherRecord", "BaselineRecord", "StudentsRecord", "VARIANTS"]

_MEASURED = ("size_mb", "latency_ms", "energy_j", "carbon_g")
VARIANTS = (("onnx", "ONNX Runtime"), ("int8", "int8"))
_Part = TypeVar("_Part")


@dataclass(frozen=True)
class StudentRecord:
    """One realised student (its ``metrics.json``, an entry of ``students.json``): what it is
    (key, configuration, task), how it was trained (validation history, restarts, methods,
    seed, the settings it was realised under, notes), its decision threshold, its test scores,
    measured size and costs, its exported variants, whether it is weak, and each learned
    metric's prediction for it. Parts a file of an older version lacks read as ``None`` (or
    empty) and are left out again when written."""

    key: str
    config: Mapping[str, Any]
    test: Mapping[str, float | None]
    size_mb: float
    latency_ms: float
    energy_j: float
    carbon_g: float
    weak: tuple[str, ...] = ()  # why it learned (almost) nothing, if it did not (``trainer.students.weakness``)
    predicted: Mapping[str, PredictionRecord] = field(default_factory=dict)
    task: str | None = None
    test_examples: int | None = None
    test_predictions: tuple[int, ...] | None = None  # the class predicted for each test example, in order
    validation: ValidationRecord | None = None
    threshold: ThresholdRecord | None = None
    distill: Mapping[str, float] | None = None  # the methods and their weights
    seed: int | None = None
    restarts: tuple[RestartRecord, ...] | None = None
    params: int | None = None
    size_mb_estimated: float | None = None  # the size_mb estimator's figure for its configuration
    notes: tuple[str, ...] | None = None
    train: Mapping[str, Any] | None = None  # the train settings it was realised under (``STUDENT_SETTINGS``)
    latency_ms_p90: float | None = None
    energy_estimated: bool | None = None  # CPU time x power, not RAPL
    onnx: VariantRecord | None = None
    int8: VariantRecord | None = None
    seconds: float | None = None
    training_energy: EnergyRecord | None = None  # what its distillation took

    def to_dict(self) -> dict[str, Any]:
        measured = {name: getattr(self, name) for name in _MEASURED}
        optional = {
            "task": self.task,
            "test_examples": self.test_examples,
            "test_predictions": list(self.test_predictions) if self.test_predictions is not None else None,
            "validation": self.validation.to_dict() if self.validation is not None else None,
            "threshold": self.threshold.to_dict() if self.threshold is not None else None,
            "distill": dict(self.distill) if self.distill is not None else None,
            "seed": self.seed,
            "restarts": [restart.to_dict() for restart in self.restarts] if self.restarts is not None else None,
            "params": self.params,
            "size_mb_estimated": self.size_mb_estimated,
            "notes": list(self.notes) if self.notes is not None else None,
            "train": dict(self.train) if self.train is not None else None,
            "latency_ms_p90": self.latency_ms_p90,
            "energy_estimated": float(self.energy_estimated) if self.energy_estimated is not None else None,
            "onnx": self.onnx.to_dict() if self.onnx is not None else None,
            "int8": self.int8.to_dict() if self.int8 is not None else None,
            "seconds": self.seconds,
            "training_energy": self.training_energy.to_dict() if self.training_energy is not None else None,
        }
        predicted = {name: entry.to_dict() for name, entry in self.predicted.items()}
        core = {"key": self.key, "config": dict(self.config), "test": dict(self.test), **measured, "weak": list(self.weak), "predicted": predicted}
        return {**core, **without_none(optional)}

    @classmethod
    def from_dict(cls, data: Any) -> StudentRecord:
        data = as_object(data, "a student")
        measured = {name: get_field(data, name, (int, float)) for name in _MEASURED}
        predicted = get_field(data, "predicted", dict, optional=True) or {}
        predictions = get_field(data, "test_predictions", list, optional=True)
        if predictions is not None and not all(isinstance(item, int) and not isinstance(item, bool) for item in predictions):
            raise ValueError("'test_predictions' is not a list of class numbers")
        restarts = get_field(data, "restarts", list, optional=True)
        return cls(
            get_field(data, "key", str),
            get_field(data, "config", dict),
            scores_of(data, "test"),
            **measured,
            weak=texts_of(data, "weak"),
            predicted={str(name): PredictionRecord.from_dict(entry, str(name)) for name, entry in predicted.items()},
            task=get_field(data, "task", str, optional=True),
            test_examples=optional_int(data, "test_examples"),
            test_predictions=tuple(predictions) if predictions is not None else None,
            validation=_part(data, "validation", ValidationRecord.from_dict),
            threshold=_part(data, "threshold", ThresholdRecord.from_dict),
            distill=_weights(data.get("distill")),
            seed=optional_int(data, "seed"),
            restarts=tuple(RestartRecord.from_dict(item) for item in restarts) if restarts is not None else None,
            params=optional_int(data, "params"),
            size_mb_estimated=optional_number(data, "size_mb_estimated"),
            notes=texts_of(data, "notes") if "notes" in data else None,
            train=get_field(data, "train", dict, optional=True),
            latency_ms_p90=optional_number(data, "latency_ms_p90"),
            energy_estimated=optional_flag(data, "energy_estimated"),
            onnx=_part(data, "onnx", lambda item: VariantRecord.from_dict(item, "'onnx'")),
            int8=_part(data, "int8", lambda item: VariantRecord.from_dict(item, "'int8'")),
            seconds=optional_number(data, "seconds"),
            training_energy=_part(data, "training_energy", EnergyRecord.from_dict),
        )

    @property
    def is_weak(self) -> bool:
        return bool(self.weak)

    @property
    def test_at_default_cut(self) -> Mapping[str, float | None]:
        """Its test scores at the default cut, where its validation history and the probes score
        (``test`` is at the cut tuned on validation, when one was folded in)."""
        threshold = self.threshold
        return threshold.test_at_default if threshold is not None and threshold.test_at_default is not None else self.test

    def variants(self) -> list[tuple[str, VariantRecord]]:
        """The exported variants that were made (ONNX, int8), each with its own test scores,
        size and costs: ``[(label, record), ...]``."""
        made = {"onnx": self.onnx, "int8": self.int8}
        return [(label, variant) for name, label in VARIANTS if (variant := made[name]) is not None]


def _part(data: Mapping[str, Any], key: str, read: Callable[[Any], _Part]) -> _Part | None:
    """An optional part of a record, read by ``read`` (absent or ``None``: ``None``)."""
    return None if data.get(key) is None else read(data[key])


def _weights(data: Any) -> dict[str, float] | None:
    """``distill``: the methods and their weights."""
    if data is None:
        return None
    weights = numbers_of(data, "distill")
    if any(value is None for value in weights.values()):
        raise ValueError(f"'distill' is {data!r}, not a weight for each method")
    return {name: float(value) for name, value in weights.items() if value is not None}


@dataclass(frozen=True)
class TeacherRecord:
    """The teacher as the students are compared with it: test scores, size and costs (``None``
    when unknown: a teacher given only as its predictions), and what kind of teacher it is
    (``path``: fine-tuned, as-is or predictions), its validation, its tuned cut and where it
    is. Parts a file of an older version lacks read as ``None``."""

    model: str
    test: Mapping[str, float | None]
    size_mb: float | None
    latency_ms: float | None
    energy_j: float | None
    carbon_g: float | None
    warnings: tuple[str, ...] = ()
    path: str | None = None  # how it became the teacher: "fine-tuned", "as-is" or "predictions"
    predictions: str | None = None  # the predictions file of a teacher given as one
    outputs: str | None = None  # what that file holds: "logits" or "probabilities"
    max_length: int | None = None
    folder: str | None = None
    threshold: TeacherThreshold | None = None
    validation: TeacherValidation | None = None
    latency_ms_p90: float | None = None
    energy_estimated: bool | None = None
    params: int | None = None
    features_mb: float | None = None  # the disk its cached features take, when a method used them

    def to_dict(self) -> dict[str, Any]:
        measured = {name: getattr(self, name) for name in _MEASURED}
        optional = {
            "path": self.path,
            "predictions": self.predictions,
            "outputs": self.outputs,
            "max_length": self.max_length,
            "folder": self.folder,
            "threshold": self.threshold.to_dict() if self.threshold is not None else None,
            "validation": self.validation.to_dict() if self.validation is not None else None,
            "latency_ms_p90": self.latency_ms_p90,
            "energy_estimated": float(self.energy_estimated) if self.energy_estimated is not None else None,
            "params": self.params,
            "features_mb": self.features_mb,
        }
        return {"model": self.model, "test": dict(self.test), **measured, "warnings": list(self.warnings), **without_none(optional)}

    @classmethod
    def from_dict(cls, data: Any) -> TeacherRecord:
        data = as_object(data, "the teacher")
        measured = {name: get_field(data, name, (int, float), optional=True) for name in _MEASURED}
        warnings = tuple(str(item) for item in get_field(data, "warnings", list, optional=True) or ())
        return cls(
            str(get_field(data, "model", (str, int, float))),
            scores_of(data, "test"),
            **measured,
            warnings=warnings,
            path=get_field(data, "path", str, optional=True),
            predictions=get_field(data, "predictions", str, optional=True),
            outputs=get_field(data, "outputs", str, optional=True),
            max_length=optional_int(data, "max_length"),
            folder=get_field(data, "folder", str, optional=True),
            threshold=_part(data, "threshold", TeacherThreshold.from_dict),
            validation=_part(data, "validation", TeacherValidation.from_dict),
            latency_ms_p90=optional_number(data, "latency_ms_p90"),
            energy_estimated=optional_flag(data, "energy_estimated"),
            params=optional_int(data, "params"),
            features_mb=optional_number(data, "features_mb"),
        )


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

    data: DataRecord
    teacher: TeacherRecord
    students: tuple[StudentRecord, ...]
    device: str = "cpu"
    seconds: Mapping[str, float] = field(default_factory=dict)
    primary: str = "accuracy"
    baseline: BaselineRecord | None = None  # None in a run written before it existed

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            "data": self.data.to_dict(),
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
        try:
            counts = DataRecord.from_dict(get_field(data, "data", dict))
        except ValueError as error:
            raise ValueError(f"data: {error}") from None
        return cls(counts, teacher, tuple(students), device, get_field(data, "seconds", dict, optional=True) or {}, primary, baseline)

    def student(self, key: str) -> StudentRecord | None:
        return next((student for student in self.students if student.key == key), None)
