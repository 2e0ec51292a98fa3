"""Files that mark finished work (a measurement, a realised student, a fine-tuned teacher, a
run's manifest) are written whole or not at all: a process killed mid-write must not leave
half a JSON document that the next run trips over."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable

__all__ = ["write_json_atomically", "write_atomically"]


def write_atomically(path: Path, write: Callable[[IO[Any]], None], *, binary: bool = False) -> None:
    """Call ``write`` on a temporary file of its own beside ``path`` (text in UTF-8, or
    ``binary``), then rename it to ``path``: readers see the whole file or none."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json_atomically(path: Path, document: Any, **dump_options: Any) -> None:
    """Write ``document`` as JSON to ``path`` through a temporary file of its own and a rename."""
    write_atomically(path, lambda file: json.dump(document, file, **dump_options))
