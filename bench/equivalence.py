"""Do two runs hold the same students, digest for digest? ``python bench/equivalence.py RUN_A RUN_B``

A refactoring that should change nothing (issue 31) is checked this way: realise the same
selection (``solve SPEC --train-only`` on copies of one search's run folder, the teacher cache
shared) with the code before and after, then compare. For each student of either run it
prints the SHA-256 of its weights (``*.safetensors``) and of its tokenizer, and whether its
metrics agree: every figure of ``metrics.json`` except what the clock decides (latency, energy,
carbon, seconds). The teacher's test scores are compared too. Exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CLOCK = {"latency_ms", "latency_ms_p90", "energy_j", "carbon_g", "seconds", "energy_estimated"}  # measured: differs run to run


def _digest(folder: Path, pattern: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob(pattern)):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _without_clock(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_clock(item) for key, item in value.items() if key not in CLOCK}
    if isinstance(value, list):
        return [_without_clock(item) for item in value]
    return value


def compare(first: Path, second: Path) -> list[tuple[str, str, str, bool]]:
    """``(what, first's digest, second's digest, same)`` for the teacher's scores and each student."""
    rows = []
    students = [json.loads((run / "students.json").read_text()) for run in (first, second)]
    teachers = [_without_clock({"test": record["teacher"]["test"], "threshold": record["teacher"].get("threshold")}) for record in students]
    rows.append(("teacher test scores", _text_digest(teachers[0]), _text_digest(teachers[1]), teachers[0] == teachers[1]))
    keys = sorted({student["key"] for record in students for student in record["students"]})
    for key in keys:
        folders = [run / "students" / key for run in (first, second)]
        if not all((folder / "metrics.json").exists() for folder in folders):
            rows.append((f"student {key}", *("present" if (folder / "metrics.json").exists() else "missing" for folder in folders), False))
            continue
        weights = [_digest(folder, "*.safetensors") for folder in folders]
        tokenizers = [_digest(folder, "tokenizer*.json") for folder in folders]
        metrics = [_without_clock(json.loads((folder / "metrics.json").read_text())) for folder in folders]
        rows.append((f"student {key} weights", weights[0], weights[1], weights[0] == weights[1]))
        rows.append((f"student {key} tokenizer", tokenizers[0], tokenizers[1], tokenizers[0] == tokenizers[1]))
        rows.append((f"student {key} metrics", _text_digest(metrics[0]), _text_digest(metrics[1]), metrics[0] == metrics[1]))
    return rows


def _text_digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    arguments = parser.parse_args(argv)
    rows = compare(arguments.first, arguments.second)
    for what, left, right, same in rows:
        print(f"{'same' if same else 'DIFFERENT':9}  {what:48}  {left}  {right}")
    return 0 if all(same for *_, same in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
