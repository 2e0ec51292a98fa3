"""Teacher inference over a large split, chunked over the run's workers: each worker loads the
teacher from its folder (``InferenceTask``) and returns its chunk's logits, in order."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..distill import StudentsFailedError, local_threads, share_cpu

__all__ = ["InferenceTask", "logits_on_workers", "PARALLEL_INFERENCE_AT_LEAST"]

PARALLEL_INFERENCE_AT_LEAST = 256  # examples: below this, starting workers and loading the teacher costs more than it saves


@dataclass(frozen=True)
class InferenceTask:
    """The teacher's logits on a chunk of examples, in a worker that loads the teacher itself:
    from the folder Avatar fine-tuned it into, or the classifier used as it is."""

    path: str  # the teacher's path: "fine-tuned" or "as-is"
    folder: str
    kind: str
    num_labels: int
    max_length: int
    batch_size: int
    examples: tuple
    device: str = "cpu"
    threads: int | None = None
    timeout: float | None = None

    def run(self) -> Mapping[str, Any]:
        from avatar.specs import PAIR_KINDS, TeacherSettings

        share_cpu(self.threads)

        from ..students import predict_logits
        from ._models import load_teacher_model
        from ._teacher import Teacher

        if self.path == "as-is":
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            model, tokenizer = AutoModelForSequenceClassification.from_pretrained(self.folder), AutoTokenizer.from_pretrained(self.folder)
        else:
            model, tokenizer = load_teacher_model(self.folder, self.kind, self.num_labels)
        settings = TeacherSettings(model=self.folder, batch_size=self.batch_size)
        teacher = Teacher(model.to(self.device).eval(), tokenizer, Path(self.folder), settings, self.kind, "", {}, self.path, self.path == "as-is" and self.kind in PAIR_KINDS, self.max_length)
        return {"logits": predict_logits(teacher.model, teacher.encode(list(self.examples)), self.batch_size, self.device).tolist()}

    def picklable(self) -> InferenceTask:
        return self


def logits_on_workers(teacher: Any, examples: Sequence, executor: Any, on_batch: Callable[[int], None] | None = None) -> torch.Tensor:
    """The teacher's logits on ``examples``, one chunk per worker, in order.

    Raises:
        StudentsFailedError: a chunk failed (naming why); nothing is cached then.
    """
    workers = int(executor.workers)
    size = -(-len(examples) // workers)
    chunks = [tuple(examples[start : start + size]) for start in range(0, len(examples), size)]
    for index, chunk in enumerate(chunks):
        executor.submit(
            index,
            InferenceTask(teacher.path, str(teacher.folder), teacher.task_kind, _labels_of(teacher.model), teacher.max_length, teacher.settings.batch_size, chunk, threads=local_threads(executor)),
        )
    results: dict[int, list] = {}
    for index, result in executor.results():
        if result.error is not None:
            raise StudentsFailedError(f"labelling examples with the teacher failed in a worker: {result.error}")
        results[index] = result.metrics["logits"]
        if on_batch is not None:
            on_batch(len(chunks[index]))
    return torch.tensor([row for index in range(len(chunks)) for row in results[index]], dtype=torch.float32)


def _labels_of(model: torch.nn.Module) -> int:
    """The width of a classifier's output: its last linear layer's (the head registers last)."""
    return [module for module in model.modules() if isinstance(module, torch.nn.Linear)][-1].out_features
