"""Files that mark finished work (a measurement, a realised student, a fine-tuned teacher, a
run's manifest) are written whole or not at all: a process killed mid-write must not leave
half a JSON document that the next run trips over."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["write_json_atomically"]


def write_json_atomically(path: Path, document: Any, **dump_options: Any) -> None:
    """Write ``document`` as JSON to ``path`` through a temporary file of its own and a rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(document, file, **dump_options)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
