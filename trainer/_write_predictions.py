"""Writing a teacher's predictions: the other half of ``train.teacher.predictions``.

Where the teacher runs (a GPU box), ``solve SPEC --write-predictions FILE`` fine-tunes it if it
needs it (or uses it as it is), labels every example of the data (and the transfer pairs, when
the spec asks for them), and writes one JSON line per example, ``{"id": ..., "logits": [...]}``; anywhere else, a spec with ``train.teacher.predictions:
FILE`` distils from the file with no teacher model.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import IO

from rich.console import Console

from avatar.specs import Spec, write_atomically

from ._distillation import default_device, teacher_settings
from .data import load_task_data, sample_transfer, transfer_name
from .teacher import TeacherError, prepare_teacher, teacher_logits

__all__ = ["write_teacher_predictions"]


def write_teacher_predictions(
    spec: Spec, path: Path, *, data: str | None = None, teacher: str | None = None, console: Console | None = None, cache_dir: Path | None = None, device: str | None = None
) -> int:
    """Label every example (every split) with the spec's teacher and write the predictions file
    at ``path`` (atomically); returns the number of examples.

    Raises:
        DataError, TeacherError: the data (its ids not unique, too) or the teacher cannot be used.
    """
    from avatar import objectives

    console = console or Console(quiet=True)
    settings = teacher_settings(spec, teacher)
    if settings is None or not settings.model:
        raise TeacherError("--write-predictions needs a teacher model to label the data with (train.teacher.model or --teacher)")
    settings = dataclasses.replace(settings, predictions=None, prediction_ids=None)
    cache_dir = Path(cache_dir) if cache_dir is not None else objectives.default_cache_dir()
    device = device or default_device()
    task_data = load_task_data(spec, data)
    parts = {"labeled": task_data.labeled, "unlabeled": task_data.unlabeled, "valid": task_data.valid, "test": task_data.test}
    transfer = sample_transfer(task_data, spec.train.transfer_count(pair_task=spec.task.is_pair, teacher_labels_them=True), spec.train.seed)  # a predictions teacher distils on them too
    if transfer:
        parts[transfer_name(transfer)] = transfer
    task_data.check_unique_ids()
    count = sum(len(part) for part in parts.values())
    console.print(f"teacher {settings.name}: labelling {count} examples", highlight=False, markup=False)
    prepared = prepare_teacher(settings, task_data, cache_dir, seed=spec.train.seed, device=device)
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(file: IO[str]) -> None:
        for name, part in parts.items():
            logits = teacher_logits(prepared, part, name, task_data.fingerprint, cache_dir, device)
            for example, values in zip(part, logits.tolist()):
                file.write(json.dumps({"id": example.id, "logits": values}) + "\n")

    write_atomically(path, write)
    return count
