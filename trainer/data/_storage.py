"""Tensors and states written to disk whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from avatar.specs import file_mode, write_atomically

__all__ = ["save_atomically", "with_user_mode"]


def save_atomically(state: Any, path: Path) -> None:
    """``torch.save`` through a temporary file of its own and a rename, so a kill never leaves
    a half-written file and two processes writing the same file never mix their bytes."""
    write_atomically(path, lambda file: torch.save(state, file), binary=True)


def with_user_mode(folder: Path, pattern: str = "*.safetensors") -> None:
    """Give the files ``pattern`` matches in ``folder`` the mode a new file of the user's gets:
    safetensors writes its files private (0600), whatever the umask."""
    for path in folder.glob(pattern):
        path.chmod(file_mode())
