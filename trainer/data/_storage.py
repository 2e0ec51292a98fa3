"""Tensors and states written to disk whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from avatar.specs import write_atomically

__all__ = ["save_atomically"]


def save_atomically(state: Any, path: Path) -> None:
    """``torch.save`` through a temporary file of its own and a rename, so a kill never leaves
    a half-written file and two processes writing the same file never mix their bytes."""
    write_atomically(path, lambda file: torch.save(state, file), binary=True)
