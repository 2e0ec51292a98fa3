"""Teacher inference over a large split, chunked over the run's workers: each worker loads the
teacher from its folder (``InferenceTask``) and returns its chunk's logits, in order."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from ..distill import StudentsFailedError, local_threads, share_cpu

if TYPE_CHECKING:
    from ._kinds import ModelTeacher, TeacherReference

__all__ = ["InferenceTask", "logits_on_workers", "PARALLEL_INFERENCE_AT_LEAST"]

PARALLEL_INFERENCE_AT_LEAST = 256  # examples: below this, starting workers and loading the teacher costs more than it saves


@dataclass(frozen=True)
class InferenceTask:
    """The teacher's logits on a chunk of examples, in a worker that loads the teacher itself
    (``load_teacher``, as the run did: from the folder Avatar fine-tuned it into, or the
    classifier used as it is)."""

    teacher: TeacherReference
    examples: tuple
    device: str = "cpu"
    threads: int | None = None
    timeout: float | None = None

    def run(self) -> Mapping[str, Any]:
        share_cpu(self.threads)

        from ..students import predict_logits
        from ._kinds import load_teacher

        teacher = load_teacher(self.teacher, self.device)
        return {"logits": predict_logits(teacher.reader, teacher.encode(list(self.examples)), self.teacher.batch_size, self.device).tolist()}

    def picklable(self) -> InferenceTask:
        return self


def logits_on_workers(teacher: ModelTeacher, examples: Sequence, executor: Any, on_batch: Callable[[int], None] | None = None) -> torch.Tensor:
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
            InferenceTask(teacher.reference(), chunk, threads=local_threads(executor)),
        )
    results: dict[int, list] = {}
    for index, result in executor.results():
        if result.error is not None:
            raise StudentsFailedError(f"labelling examples with the teacher failed in a worker: {result.error}")
        results[index] = result.metrics["logits"]
        if on_batch is not None:
            on_batch(len(chunks[index]))
    return torch.tensor([row for index in range(len(chunks)) for row in results[index]], dtype=torch.float32)
