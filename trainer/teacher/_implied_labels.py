"""The implied pairs' teacher-like logits (``train.implied_pairs``): the training side's pairs
as edges, each with its label or the teacher's calibrated prediction, then the pairs they imply
(``avatar.trainer.data.implied_pairs``). The teacher is never run on the new pairs, so a teacher
given as its predictions gets them too."""

from __future__ import annotations

from pathlib import Path

import torch

from ..data import Calibration, TaskData, implied_logits, implied_pairs
from ._kinds import Teacher
from ._teacher import teacher_logits

__all__ = ["label_implied_pairs"]


def label_implied_pairs(teacher: Teacher, data: TaskData, count: int, seed: int, distillation_logits: torch.Tensor, cache_dir: Path, device: str) -> torch.Tensor:
    """Fill ``data.implied`` with up to ``count`` implied pairs and return their logits.

    ``distillation_logits`` are the teacher's on ``data.unlabeled + data.augmented +
    data.transfer``, in that order. The calibration is fitted on the labelled split where the
    teacher covers it (a predictions file may not); else the teacher's logits are read as they are.
    """
    calibration = Calibration()
    if data.labeled and teacher.covers(data.labeled):
        labeled = teacher_logits(teacher, data.labeled, "labeled", data.fingerprint, cache_dir, device)  # cached: hard_labels reads it too
        calibration = Calibration.fitted(labeled, [example.label for example in data.labeled])
    unlabeled = distillation_logits[: len(data.unlabeled)]
    transfer = distillation_logits[len(distillation_logits) - len(data.transfer) :] if data.transfer else distillation_logits[:0]
    predicted = calibration.probabilities(torch.cat([unlabeled, transfer]))
    edges = [(example, float(example.label)) for example in data.labeled]
    edges += list(zip(data.unlabeled + data.transfer, predicted))
    pairs = implied_pairs(edges, data.valid + data.test, count, seed)
    data.implied = [pair.example for pair in pairs]
    return implied_logits(pairs, calibration)
