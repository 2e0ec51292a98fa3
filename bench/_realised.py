"""One configuration fully distilled by the students' own recipe, as a benchmark keeps it: real
students to check estimators and fronts against (issue 32), stored as each finishes, so an
interrupted benchmark keeps them."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from avatar.specs import SelectedPoint, Spec
from avatar.trainer import Distillation, train_selected


def stored_path(config: dict[str, Any], folder: Path) -> Path:
    """Where the real student of ``config`` is kept in ``folder``."""
    key = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return folder / f"{key}.json"


def realised_student(spec: Spec, distillation: Distillation, config: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``config``'s student, distilled by ``train_selected`` (the spec's teacher, transfer set,
    epochs, patience and methods) and scored on the test split, or read back from ``folder``:
    its configuration, best-epoch validation scores, test scores, weakness, sizes and seconds."""
    stored = stored_path(config, folder)
    if stored.exists():
        return json.loads(stored.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as run_folder:
        summary = train_selected(spec, [SelectedPoint(f"s{stored.stem}", config, {}, "benchmark")], Path(run_folder), distillation=distillation).to_dict()
    student = summary["students"][0]
    validation = student["validation"]
    best = next(item for item in validation["history"] if item["epoch"] == validation["best_epoch"])
    record = {
        "config": config,
        "valid": {key.removeprefix("valid_"): value for key, value in best.items() if key.startswith("valid_")},
        "test": student["test"],
        "weak": student.get("weak"),
        "size_mb": student["size_mb"],
        "size_mb_estimated": student.get("size_mb_estimated"),
        "seconds": time.perf_counter() - started,
    }
    stored.write_text(json.dumps(record, default=str))
    return record
