"""The parts of a realised model's record, each typed to its leaves: how a student's validation
went epoch by epoch, its restarts, its decision threshold, its exported variants, each learned
metric's prediction for it, the teacher's own validation and threshold, the energy a training
phase took, and the data's counts.

Each converts to and from the JSON the trainer writes (``to_dict``/``from_dict``, a lossless
round trip); ``from_dict`` names the first field it refuses. Optional parts that a file written
by an older version lacks read as ``None`` and are left out again when written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._record_fields import as_object, get_field, is_number, numbers_of, optional_flag, optional_int, optional_number, scores_of, without_none

__all__ = [
    "EnergyRecord",
    "EpochRecord",
    "ValidationRecord",
    "RestartRecord",
    "ThresholdRecord",
    "VariantRecord",
    "PredictionRecord",
    "TeacherValidation",
    "TeacherThreshold",
    "DataRecord",
]


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of a student's training: its number (from 1) and the figures measured then
    (``loss``, ``seconds``, ``valid_<metric>``, ...)."""

    epoch: int
    figures: Mapping[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, **self.figures}

    @classmethod
    def from_dict(cls, data: Any) -> EpochRecord:
        figures = numbers_of(data, "an epoch")
        epoch = get_field(data, "epoch", int)
        figures.pop("epoch")
        return cls(epoch, figures)


@dataclass(frozen=True)
class ValidationRecord:
    """A student's validation: the metric its checkpoint was chosen by, its best value and epoch
    (from 1), how many epochs ran, and every epoch's figures."""

    metric: str
    best: float
    best_epoch: int
    epochs_run: int
    history: tuple[EpochRecord, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "best": self.best, "best_epoch": self.best_epoch, "epochs_run": self.epochs_run, "history": [epoch.to_dict() for epoch in self.history]}

    @classmethod
    def from_dict(cls, data: Any) -> ValidationRecord:
        data = as_object(data, "'validation'")
        history = tuple(EpochRecord.from_dict(item) for item in get_field(data, "history", list, optional=True) or ())
        return cls(get_field(data, "metric", str), float(get_field(data, "best", (int, float))), get_field(data, "best_epoch", int), get_field(data, "epochs_run", int), history)

    def epoch(self, number: int) -> EpochRecord | None:
        """The record of epoch ``number`` (from 1), if it ran."""
        return next((epoch for epoch in self.history if epoch.epoch == number), None)


@dataclass(frozen=True)
class RestartRecord:
    """One of a student's distillations (``train.restarts``): its seed, best validation score
    and epoch (from 1), and the epochs it ran."""

    seed: int
    best: float
    best_epoch: int
    epochs_run: int

    def to_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "best": self.best, "best_epoch": self.best_epoch, "epochs_run": self.epochs_run}

    @classmethod
    def from_dict(cls, data: Any) -> RestartRecord:
        data = as_object(data, "a restart")
        return cls(get_field(data, "seed", int), float(get_field(data, "best", (int, float))), get_field(data, "best_epoch", int), get_field(data, "epochs_run", int))


@dataclass(frozen=True)
class ThresholdRecord:
    """A student's decision threshold, tuned on validation (``tuned``) as a logit ``margin``
    (and its ``probability``), and whether it was folded into the model; the primary metric on
    validation at the default cut and at the tuned one, and on test at the default cut when the
    tuned cut was folded in (``test_at_default``)."""

    tuned: bool
    margin: float
    probability: float
    folded: bool
    metric: str
    validation_at_default: float
    validation_tuned: float
    test_at_default: Mapping[str, float | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        values = {
            "tuned": self.tuned,
            "margin": self.margin,
            "probability": self.probability,
            "folded": self.folded,
            "metric": self.metric,
            "validation_at_default": self.validation_at_default,
            "validation_tuned": self.validation_tuned,
        }
        return {**values, **({"test_at_default": dict(self.test_at_default)} if self.test_at_default is not None else {})}

    @classmethod
    def from_dict(cls, data: Any) -> ThresholdRecord:
        data = as_object(data, "'threshold'")
        numbers = [float(get_field(data, key, (int, float))) for key in ("margin", "probability", "validation_at_default", "validation_tuned")]
        test = scores_of(data, "test_at_default") if data.get("test_at_default") is not None else None
        return cls(get_field(data, "tuned", bool), numbers[0], numbers[1], get_field(data, "folded", bool), get_field(data, "metric", str), numbers[2], numbers[3], test)


@dataclass(frozen=True)
class VariantRecord:
    """An exported variant of a student (the ONNX export, the int8 model), evaluated and
    measured on its own: its test scores, size and costs; the ONNX one also names its file and
    how far its logits are from the student's."""

    test: Mapping[str, float | None]
    size_mb: float
    latency_ms: float
    energy_j: float
    carbon_g: float
    latency_ms_p90: float | None = None
    energy_estimated: bool = True
    file: str | None = None
    max_logit_difference: float | None = None

    def to_dict(self) -> dict[str, Any]:
        measured = {
            "size_mb": self.size_mb,
            "latency_ms": self.latency_ms,
            "latency_ms_p90": self.latency_ms_p90,
            "energy_j": self.energy_j,
            "energy_estimated": float(self.energy_estimated),
            "carbon_g": self.carbon_g,
        }
        return without_none({"file": self.file, "test": dict(self.test), "max_logit_difference": self.max_logit_difference, **measured})

    @classmethod
    def from_dict(cls, data: Any, what: str = "a variant") -> VariantRecord:
        data = as_object(data, what)
        measured = {name: float(get_field(data, name, (int, float))) for name in ("size_mb", "latency_ms", "energy_j", "carbon_g")}
        return cls(
            scores_of(data, "test"),
            **measured,
            latency_ms_p90=optional_number(data, "latency_ms_p90"),
            energy_estimated=optional_flag(data, "energy_estimated") or False,
            file=get_field(data, "file", str, optional=True),
            max_logit_difference=optional_number(data, "max_logit_difference"),
        )


@dataclass(frozen=True)
class PredictionRecord:
    """A learned metric's prediction for a selected point (its ``value`` and uncertainty
    ``std``, as the search stored them) beside what the student realised on the same ``score``:
    its validation score at its best epoch and its test score at the default cut."""

    value: float
    std: float | None = None
    score: str | None = None
    validation: float | None = None
    test: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "std": self.std, "score": self.score, "validation": self.validation, "test": self.test}

    @classmethod
    def from_dict(cls, data: Any, name: str) -> PredictionRecord:
        if not isinstance(data, dict) or not is_number(data.get("value")):
            raise ValueError(f"'predicted.{name}' is {data!r}, not an object with a number 'value'")
        for key in ("std", "validation", "test"):
            if data.get(key) is not None and not is_number(data[key]):
                raise ValueError(f"'predicted.{name}.{key}' is {data[key]!r}, not a number")
        score = data.get("score")
        return cls(float(data["value"]), optional_number(data, "std"), None if score is None else str(score), optional_number(data, "validation"), optional_number(data, "test"))


@dataclass(frozen=True)
class EnergyRecord:
    """The energy a training phase took (the teacher's fine-tuning, a student's distillation):
    joules, whether they were measured (RAPL counters, a GPU's NVML) or estimated, by what
    (``source``), over how many seconds, and the emissions they stand for (grams CO2e at the
    spec's grid intensity)."""

    joules: float
    measured: bool
    source: str
    seconds: float | None = None
    carbon_g: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return without_none({"joules": self.joules, "measured": self.measured, "source": self.source, "seconds": self.seconds, "carbon_g": self.carbon_g})

    @classmethod
    def from_dict(cls, data: Any) -> EnergyRecord:
        data = as_object(data, "'training_energy'")
        joules, measured = float(get_field(data, "joules", (int, float))), get_field(data, "measured", bool)
        return cls(joules, measured, get_field(data, "source", str), optional_number(data, "seconds"), optional_number(data, "carbon_g"))


@dataclass(frozen=True)
class TeacherValidation:
    """The teacher's validation score (``metric``, ``value``) and, for a teacher fine-tuned in
    the run, the epochs it ran, its best epoch (from 1) and the most it could run; with
    ``learning_rate: auto``, the rate the trial chose and each rate's validation ROC AUC."""

    metric: str | None = None
    value: float | None = None
    epochs: int | None = None
    best_epoch: int | None = None
    max_epochs: int | None = None
    learning_rate: float | None = None
    learning_rate_trial: Mapping[str, float | None] | None = None
    training_energy: EnergyRecord | None = None  # what its fine-tuning took, when it was fine-tuned here

    def to_dict(self) -> dict[str, Any]:
        trial = dict(self.learning_rate_trial) if self.learning_rate_trial is not None else None
        return without_none(
            {
                "metric": self.metric,
                "value": self.value,
                "epochs": self.epochs,
                "best_epoch": self.best_epoch,
                "max_epochs": self.max_epochs,
                "learning_rate": self.learning_rate,
                "learning_rate_trial": trial,
                "training_energy": self.training_energy.to_dict() if self.training_energy is not None else None,
            }
        )

    @classmethod
    def from_dict(cls, data: Any) -> TeacherValidation:
        data = as_object(data, "the teacher's 'validation'")
        counts = {key: optional_int(data, key) for key in ("epochs", "best_epoch", "max_epochs")}
        trial = scores_of(data, "learning_rate_trial") if data.get("learning_rate_trial") is not None else None
        energy = EnergyRecord.from_dict(data["training_energy"]) if data.get("training_energy") is not None else None
        return cls(
            get_field(data, "metric", str, optional=True),
            optional_number(data, "value"),
            **counts,
            learning_rate=optional_number(data, "learning_rate"),
            learning_rate_trial=trial,
            training_energy=energy,
        )


@dataclass(frozen=True)
class TeacherThreshold:
    """The cut a teacher would ship with, tuned on validation as the students' is (it is not
    folded into the teacher): its margin and the test scores at it."""

    metric: str
    validation_tuned_margin: float
    test_at_validation_tuned: Mapping[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "validation_tuned_margin": self.validation_tuned_margin, "test_at_validation_tuned": dict(self.test_at_validation_tuned)}

    @classmethod
    def from_dict(cls, data: Any) -> TeacherThreshold:
        data = as_object(data, "the teacher's 'threshold'")
        return cls(get_field(data, "metric", str), float(get_field(data, "validation_tuned_margin", (int, float))), scores_of(data, "test_at_validation_tuned"))


@dataclass(frozen=True)
class DataRecord:
    """The data a run's models were trained and tested on: where it came from, each split's
    size, the pairs a split by function dropped, the rewrites and transfer examples added to the
    distillation split, and the labels."""

    source: str
    labeled: int
    unlabeled: int
    valid: int
    test: int
    dropped: int = 0
    num_labels: int = 2
    labels: tuple[str | int, ...] | None = None
    augmented: int | None = None
    transfer: int | None = None

    def to_dict(self) -> dict[str, Any]:
        sizes = {"labeled": self.labeled, "unlabeled": self.unlabeled, "valid": self.valid, "test": self.test, "dropped": self.dropped}
        added = without_none({"augmented": self.augmented, "transfer": self.transfer})
        return {"source": self.source, **sizes, **added, "num_labels": self.num_labels, **({"labels": list(self.labels)} if self.labels is not None else {})}

    @classmethod
    def from_dict(cls, data: Any) -> DataRecord:
        data = as_object(data, "'data'")
        sizes = {key: get_field(data, key, int) for key in ("labeled", "unlabeled", "valid", "test")}
        labels = get_field(data, "labels", list, optional=True)
        if labels is not None and not all(isinstance(label, (str, int)) and not isinstance(label, bool) for label in labels):
            raise ValueError(f"'labels' is {labels!r}, not a list of names or numbers")
        return cls(
            str(get_field(data, "source", (str, int, float))),
            **sizes,
            dropped=optional_int(data, "dropped") or 0,
            num_labels=optional_int(data, "num_labels") or 2,
            labels=tuple(labels) if labels is not None else None,
            augmented=optional_int(data, "augmented"),
            transfer=optional_int(data, "transfer"),
        )
