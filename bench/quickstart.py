"""The quick start's figures, as the README quotes them (issue 35): ``python bench/quickstart.py``.

Runs the README's example (``solve specs/examples/quickstart.yaml``) into a fresh folder, as a
user does (the teacher cache is kept, as a second run of a user's would; ``--fresh-cache``
measures a first run, which fine-tunes the teacher too), and prints what the
README states: the wall time, the probes, the knee student's size, how many times smaller and
faster than the teacher it is, the F1 and the ROC AUC above chance it keeps, its predicted
accuracy against the realised one, and the lexical baseline; with the date, the machine and
the library versions. The teacher measured in the same run is the baseline of every ratio.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "examples" / "quickstart.yaml"


def figures(run: Path, seconds: float, fresh: bool = False) -> list[tuple[str, str]]:
    """What the README quotes, from the run's records."""
    students = json.loads((run / "students.json").read_text())
    learning = json.loads((run / "learning.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    teacher, (student, *_) = students["teacher"], students["students"]
    primary = students["primary"]
    kept = (student["test"]["auc"] - 0.5) / (teacher["test"]["auc"] - 0.5)
    predicted = student.get("predicted", {}).get("accuracy", {})
    baseline = students.get("baseline") or {}
    libraries = manifest.get("libraries", {})
    return [
        ("date", datetime.date.today().isoformat()),
        ("machine", f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, torch {libraries.get('torch', '?')}, transformers {libraries.get('transformers', '?')}"),
        ("wall time", f"{seconds / 60:.1f} min" + (" (empty cache: the teacher fine-tuned in the run)" if fresh else " (the teacher cache as found)")),
        ("probes", str(sum(len(item["probes"]) for item in learning))),
        ("knee student", f"{student['key']}, {student['size_mb']:.3f} MB"),
        ("smaller than the teacher", f"{teacher['size_mb'] / student['size_mb']:.0f}x"),
        ("faster than the teacher (latency, batch 1)", f"{teacher['latency_ms'] / student['latency_ms']:.0f}x"),
        (f"{primary} kept", f"{student['test'][primary] / teacher['test'][primary]:.1%} ({student['test'][primary]:.3f} against {teacher['test'][primary]:.3f})"),
        ("ROC AUC kept above chance", f"{kept:.1%}"),
        ("predicted accuracy against realised (validation)", f"{predicted.get('value', float('nan')):.3f} ± {predicted.get('std') or 0:.3f} against {predicted.get('validation', float('nan')):.3f}"),
        ("lexical baseline (test)", ", ".join(f"{name} {value:.3f}" for name, value in (baseline.get("test") or {}).items() if name in (primary, "auc"))),
        ("weak", "yes: " + "; ".join(student["weak"]) if student.get("weak") else "no"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="run into this folder and keep it (default: a temporary one)")
    parser.add_argument("--fresh-cache", action="store_true", help="an empty cache (AVATAR_CACHE), as a user's first run has: the teacher is fine-tuned, every latency measured")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        run = arguments.keep or Path(folder) / "quickstart"
        environment = {**os.environ, "HF_HUB_OFFLINE": "1", **({"AVATAR_CACHE": str(Path(folder) / "cache")} if arguments.fresh_cache else {})}
        started = time.perf_counter()
        completed = subprocess.run([sys.executable, "-m", "avatar.solver.cli", str(EXAMPLE), "--out", str(run), "-q"], env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if completed.returncode != 0:
            print(completed.stdout[-2000:], completed.stderr[-4000:], sep="\n")
            return completed.returncode
        rows = figures(run, seconds, arguments.fresh_cache)
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
