"""Files that mark finished work (a measurement, a realised student, a fine-tuned teacher, a
run's manifest) are written whole or not at all: a process killed mid-write must not leave
half a JSON document that the next run trips over. They get the mode any file the user creates
gets (``0666`` less the umask), not the private ``0600`` of a temporary file."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["write_json_atomically", "write_atomically", "file_mode"]


def file_mode() -> int:
    """The mode a new file gets in this process: ``0666`` less the umask (read from
    ``/proc`` where it can be, so no other thread ever sees the umask changed)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path: Path, write: Callable[[IO[Any]], object], *, binary: bool = False) -> None:
    """Call ``write`` on a temporary file of its own beside ``path`` (text in UTF-8, or
    ``binary``), then rename it to ``path``: readers see the whole file or none."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", encoding="utf-8") as file:
            write(file)
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json_atomically(path: Path, document: Any, **dump_options: Any) -> None:
    """Write ``document`` as JSON to ``path`` through a temporary file of its own and a rename."""
    write_atomically(path, lambda file: json.dump(document, file, **dump_options))
