"""A teaching assistant: a model that labels the transfer pairs a teacher given as its
predictions cannot (``train.teacher.assistant``).

Students learn far more from a few thousand teacher-labelled pairs than from a few hundred
labelled ones (bench/README, *transfer.py*: 77.5% to 99.3% of the teacher's AUC above chance
on pairs that share meaning more than text). A teacher given as its predictions has outputs for
the data's pairs only. The assistant, a pretrained encoder (``sentence-transformers/
all-MiniLM-L6-v2`` installs offline), is fine-tuned as a model teacher is, on the training side
of the data labelled by the teacher: the labelled split with its own labels, the unlabelled
split with the teacher's predicted classes; then it labels the transfer pairs (Mirzadeh et
al., 2020, put a teacher assistant between a large teacher and a small student).

An assistant whose validation ROC AUC is more than ``ASSISTANT_MARGIN`` below the teacher's
labels nothing: the students would learn its mistakes. The run says which happened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import torch

from avatar.objectives import Metered
from avatar.specs import TeacherSettings

from ..data import TaskData, with_teacher_labels
from ._kinds import Teacher
from ._teacher import prepare_teacher

__all__ = ["ASSISTANT_MARGIN", "assistant_settings", "prepare_assistant", "assistant_verdict"]

ASSISTANT_MARGIN = 0.05  # of validation ROC AUC below the teacher's, past which it labels nothing


def assistant_settings(settings: TeacherSettings) -> TeacherSettings:
    """How the assistant is fine-tuned: as the teacher's settings say a teacher is (epochs,
    rate, batch size, length, reading), always fine-tuned (its labels must be the teacher's)."""
    return dataclasses.replace(settings, model=settings.assistant, predictions=None, prediction_ids=None, assistant=None, finetune="always", accept_weak=False)


def prepare_assistant(
    settings: TeacherSettings,
    teacher: Teacher,
    data: TaskData,
    teacher_logits: torch.Tensor,
    cache_dir: Path,
    *,
    seed: int,
    device: str,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    on_rate: Callable[[float, float | None], None] | None = None,
    energy: AbstractContextManager[Metered] | None = None,
) -> Teacher:
    """``settings.assistant`` fine-tuned on ``data``'s labelled split and its unlabelled split
    labelled by ``teacher`` (``teacher_logits``, on ``data.unlabeled``); cached as a teacher is,
    under the teacher's predictions too."""
    taught = dataclasses.replace(
        data,
        labeled=[*data.labeled, *with_teacher_labels(data.unlabeled, teacher_logits.argmax(dim=1).tolist())],
        fingerprint=f"{data.fingerprint}-assisting-{teacher.fingerprint}",
    )
    return prepare_teacher(assistant_settings(settings), taught, cache_dir, seed=seed, device=device, on_start=on_start, on_step=on_step, on_rate=on_rate, energy=energy)


def assistant_verdict(assistant: Teacher, teacher: Teacher) -> tuple[bool, str]:
    """Whether the assistant may label the transfer pairs (its validation ROC AUC within
    ``ASSISTANT_MARGIN`` of the teacher's), and the line that says so."""
    mine, theirs = float(assistant.validation.get("value", float("nan"))), float(teacher.validation.get("value", float("nan")))
    name = assistant.settings.name
    if mine >= theirs - ASSISTANT_MARGIN:
        return True, f"teaching assistant {name}: validation ROC AUC {mine:.4f} against the teacher's {theirs:.4f}; it labels the transfer pairs"
    return False, (
        f"teaching assistant {name}: validation ROC AUC {mine:.4f}, more than {ASSISTANT_MARGIN} below the teacher's {theirs:.4f}; "
        "it labels nothing, and students distil on the data's pairs alone (solve SPEC --write-predictions FILE has the teacher label them)"
    )
