"""The time the hopeless-fine-tuning stop saves (issue 33): Devign's teacher with and without it.

On Devign (vulnerability prediction, from the copy in ../shared/data) the offline
all-MiniLM-L6-v2 teacher stays near chance. With the default fine-tuning (at most 10 epochs,
patience 3) at a 128-token window on the first 1,200 examples, the teacher is fine-tuned twice,
each in a fresh cache: with ``accept_weak: true`` (the rule off: it runs until patience ends it,
the baseline measured in the same run) and with the rule on (``HopelessFineTuning`` against the
lexical baseline's validation ROC AUC, as ``solve`` runs it). For each: the epochs run, their
validation ROC AUC, how it ended, and the wall time; then the time saved. ``--only`` measures
another set instead, where a teacher that learns must not be stopped.

Run: python bench/hopeless.py [--data-root ../shared/data] [--only defect|clone|hard]
[--max-length 128] [--max-examples 1200]
(needs the `teacher` extra; on 2 idle CPU cores about 20 minutes for Devign).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

from long_inputs import SETS, bench_spec
from rich.console import Console
from rich.table import Table

from avatar.trainer import load_task_data, prepare_teacher, primary_metric
from avatar.trainer.teacher import HopelessTeacherError, lexical_baseline


def fine_tune(settings, data, seed: int, baseline_auc: float | None) -> dict:
    """One fine-tuning in a fresh cache: how it ended, its epochs' validation AUC, its time."""
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        try:
            teacher = prepare_teacher(settings, data, Path(scratch), seed=seed, device="cpu", baseline_auc=baseline_auc)
            ended, history = "patience or the last epoch", _history(teacher.folder)
        except HopelessTeacherError:
            ended, history = "stopped as hopeless (exit 6)", _history(next(path for path in Path(scratch).glob("teachers/*") if path.is_dir()))
        return {"ended": ended, "history": history, "seconds": time.perf_counter() - started}


def _history(folder: Path) -> list[float]:
    path = folder / "checkpoint" / "history.json"
    return [record["valid_auc"] for record in json.loads(path.read_text())] if path.exists() else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--only", choices=SETS, default="defect")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--max-examples", type=int, default=1200)
    arguments = parser.parse_args()
    console = Console(width=200)
    spec = bench_spec(arguments.only, arguments.data_root, arguments.max_length, arguments.max_examples, epochs=10)
    settings = dataclasses.replace(spec.train.teacher, patience=3)
    data = load_task_data(spec)
    kind = "clone" if arguments.only == "hard" else arguments.only
    baseline = lexical_baseline(data, spec.train.seed, tune_cut=spec.train.tune_threshold, metric=primary_metric(kind, data.num_labels))
    console.print(f"lexical baseline: validation ROC AUC {baseline.valid['auc']:.4f}, test {baseline.test['auc']:.4f} ({baseline.seconds:.1f} s)", highlight=False)
    rows = {}
    for name, rule in (("rule off (accept_weak)", None), ("rule on (the default)", baseline.valid["auc"])):
        rows[name] = fine_tune(dataclasses.replace(settings, accept_weak=rule is None), data, spec.train.seed, rule)
        console.print(f"  {name}: {rows[name]}", highlight=False)
    table = Table(title=f"{arguments.only}: fine-tuning at most 10 epochs (patience 3), with and without the hopeless-fine-tuning stop")
    for column in ("fine-tuning", "epochs run", "validation ROC AUC by epoch", "how it ended", "seconds"):
        table.add_column(column, justify="right")
    for name, row in rows.items():
        table.add_row(name, str(len(row["history"])), ", ".join(f"{auc:.3f}" for auc in row["history"]), row["ended"], f"{row['seconds']:.0f}")
    console.print(table)
    off, on = rows["rule off (accept_weak)"]["seconds"], rows["rule on (the default)"]["seconds"]
    console.print(f"time saved by the stop: {off - on:.0f} s ({(off - on) / off:.0%} of the fine-tuning without it)", highlight=False)


if __name__ == "__main__":
    main()
