"""The three kinds of teacher behind one interface, and loading one the same way everywhere.

- ``FineTunedTeacher``: a model Avatar fine-tuned for the task (cached in its folder).
- ``AsIsTeacher``: a sequence classifier that already has the task's labels, used as it is
  with its own tokenizer and length (for pairs, a cross-encoder reading a text pair).
- ``PredictionsTeacher``: the teacher's outputs, given in a file; a model, when also given,
  is there only to be measured.

The pipeline, the report and the workers ask a teacher (its logits, what it covers, how a
worker loads it, what the report says of it) instead of testing which kind it is. A model
teacher's logits are cached per teacher, data and split; large splits are labelled on the run's
workers, each loading the teacher with ``load_teacher``, the function the run itself uses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from avatar.specs import PAIR_KINDS, Cache, TeacherSettings

from ..data import EncodedSet, encode, encode_text_pairs, save_atomically
from ..students import predict_logits
from ._models import load_teacher_model
from ._predictions import Predictions
from ._windows import reading_model

__all__ = ["Teacher", "ModelTeacher", "FineTunedTeacher", "AsIsTeacher", "PredictionsTeacher", "TeacherReference", "load_teacher"]


@dataclass(kw_only=True)
class Teacher(ABC):
    """A teacher ready to label data. ``kind`` names it in records and reports."""

    kind: ClassVar[str]
    cached: ClassVar[bool] = False  # a rerun reads it back instead of preparing it again
    model: nn.Module | None
    tokenizer: Any
    folder: Path
    settings: TeacherSettings
    task_kind: str
    fingerprint: str
    validation: dict[str, Any] = field(default_factory=dict)
    pair_as_text: bool = False  # a cross-encoder: a pair is one text pair, not two sequences
    own_max_length: int | None = None  # an as-is teacher reads as much as it was trained to

    @property
    def path(self) -> str:
        """The kind, under the name ``students.json`` records it by (``teacher.path``)."""
        return self.kind

    @property
    def max_length(self) -> int:
        return self.own_max_length or self.settings.max_length

    def encode(self, examples: Sequence[Any], long_inputs: str | None = None) -> EncodedSet:
        """Examples as this teacher's model reads them (``long_inputs``: as the settings say)."""
        reading = long_inputs or self.settings.long_inputs
        if self.pair_as_text:
            return encode_text_pairs(examples, self.tokenizer, self.max_length, reading)
        return encode(examples, self.tokenizer, self.max_length, reading)

    @property
    def reader(self) -> nn.Module:
        """The model as it reads ``encode``'s batches (with ``chunks``, pooling windows)."""
        assert self.model is not None
        return reading_model(self.model, self.settings.long_inputs)

    def size_bytes(self) -> int | None:
        """The teacher's weights on disk; ``None`` without a model."""
        if self.model is None:
            return None
        if not self.folder.is_dir():  # a hub id: the weights it holds
            return sum(parameter.numel() * parameter.element_size() for parameter in self.model.parameters())
        return sum(path.stat().st_size for path in self.folder.iterdir() if path.suffix in (".safetensors", ".bin", ".pt"))

    def covers(self, examples: Sequence[Any]) -> bool:
        """Whether the teacher has outputs for ``examples`` (a model labels anything)."""
        return True

    def record(self) -> dict[str, Any]:
        """What ``students.json`` says of the teacher beyond its scores and costs."""
        return {"path": self.kind}

    @abstractmethod
    def logits(
        self,
        examples: Sequence[Any],
        name: str,
        data_fingerprint: str,
        cache_dir: Path,
        device: str,
        on_batch: Callable[[int], None] | None = None,
        executor: Any = None,
    ) -> torch.Tensor:
        """The teacher's logits on ``examples`` (named ``name`` in caches)."""


@dataclass(kw_only=True)
class ModelTeacher(Teacher):
    """A teacher with a model that labels examples; its logits are cached."""

    def logits(
        self,
        examples: Sequence[Any],
        name: str,
        data_fingerprint: str,
        cache_dir: Path,
        device: str,
        on_batch: Callable[[int], None] | None = None,
        executor: Any = None,
    ) -> torch.Tensor:
        """Cached by teacher, data and split name; with an ``executor`` of several workers,
        large splits are labelled in chunks there (``_workers``)."""
        path = Cache(cache_dir).logits(f"{self.fingerprint}-{data_fingerprint}-{name}")
        if path.exists():
            return torch.load(path, weights_only=True)
        from ._workers import PARALLEL_INFERENCE_AT_LEAST, logits_on_workers

        if executor is not None and getattr(executor, "workers", 1) > 1 and len(examples) >= PARALLEL_INFERENCE_AT_LEAST:
            logits = logits_on_workers(self, examples, executor, on_batch)
        else:
            logits = predict_logits(self.reader, self.encode(examples), self.settings.batch_size, device, on_batch)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_atomically(logits, path)
        return logits

    def reference(self) -> TeacherReference:
        """How a worker loads this teacher (picklable)."""
        return TeacherReference(self.kind, str(self.folder), self.task_kind, _labels_of(self.model), self.max_length, self.settings.batch_size, self.settings.long_inputs)

    @classmethod
    @abstractmethod
    def load(cls, reference: TeacherReference, device: str) -> ModelTeacher:
        """The teacher ``reference`` names, loaded from its folder."""


@dataclass(kw_only=True)
class FineTunedTeacher(ModelTeacher):
    """A model Avatar fine-tuned for the task, cached in its folder."""

    kind: ClassVar[str] = "fine-tuned"
    cached: ClassVar[bool] = True

    @classmethod
    def load(cls, reference: TeacherReference, device: str) -> FineTunedTeacher:
        model, tokenizer = load_teacher_model(reference.folder, reference.task_kind, reference.num_labels)
        settings = TeacherSettings(model=reference.folder, batch_size=reference.batch_size, max_length=reference.max_length, long_inputs=reference.long_inputs)
        return cls(model=model.to(device).eval(), tokenizer=tokenizer, folder=Path(reference.folder), settings=settings, task_kind=reference.task_kind, fingerprint="")


@dataclass(kw_only=True)
class AsIsTeacher(ModelTeacher):
    """A classifier that already has the task's labels, used as it is."""

    kind: ClassVar[str] = "as-is"

    @classmethod
    def load(cls, reference: TeacherReference, device: str) -> AsIsTeacher:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model, tokenizer = AutoModelForSequenceClassification.from_pretrained(reference.folder), AutoTokenizer.from_pretrained(reference.folder)
        settings = TeacherSettings(model=reference.folder, batch_size=reference.batch_size, long_inputs=reference.long_inputs)
        return cls(
            model=model.to(device).eval(),
            tokenizer=tokenizer,
            folder=Path(reference.folder),
            settings=settings,
            task_kind=reference.task_kind,
            fingerprint="",
            pair_as_text=reference.task_kind in PAIR_KINDS,
            own_max_length=reference.max_length,
        )


@dataclass(kw_only=True)
class PredictionsTeacher(Teacher):
    """A teacher given as its outputs; its model, when given too, is only measured."""

    kind: ClassVar[str] = "predictions"
    predictions: Predictions

    def logits(
        self,
        examples: Sequence[Any],
        name: str,
        data_fingerprint: str,
        cache_dir: Path,
        device: str,
        on_batch: Callable[[int], None] | None = None,
        executor: Any = None,
    ) -> torch.Tensor:
        """Read from the predictions file."""
        return self.predictions.for_examples(examples)

    def covers(self, examples: Sequence[Any]) -> bool:
        return self.predictions.covers(examples)

    def record(self) -> dict[str, Any]:
        return {"path": self.kind, "predictions": str(self.predictions.path), "outputs": self.settings.outputs}


@dataclass(frozen=True)
class TeacherReference:
    """Which model teacher a worker loads, and how it reads examples (picklable)."""

    kind: str
    folder: str
    task_kind: str
    num_labels: int
    max_length: int
    batch_size: int
    long_inputs: str = "truncate"


_MODEL_TEACHERS: dict[str, type[ModelTeacher]] = {kind.kind: kind for kind in (FineTunedTeacher, AsIsTeacher)}


def load_teacher(reference: TeacherReference, device: str = "cpu") -> ModelTeacher:
    """The model teacher ``reference`` names, loaded as the run loaded it."""
    return _MODEL_TEACHERS[reference.kind].load(reference, device)


def _labels_of(model: nn.Module | None) -> int:
    """The width of a classifier's output: its last linear layer's (the head registers last)."""
    assert model is not None
    return [module for module in model.modules() if isinstance(module, nn.Linear)][-1].out_features
