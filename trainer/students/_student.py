"""Loading a saved student the documented way."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from avatar.specs import PAIR_KINDS

__all__ = ["load_student"]


def load_student(folder: str | Path, task_kind: str) -> nn.Module:
    """Load a saved student the documented way."""
    if task_kind in PAIR_KINDS:
        from avatar.objectives import RobertaForCloneDetection

        return RobertaForCloneDetection.from_pretrained(folder)
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(folder)
