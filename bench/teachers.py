"""Benchmark of the ways a teacher comes in (issue 16), measured in one run.

For BigCloneBench (clone detection, F1) and Devign (vulnerability prediction, accuracy), from
the copies in ../shared/data, with the offline all-MiniLM-L6-v2 teacher:

1. Fine-tuning: a fixed 3 epochs (what Avatar did before) against fine-tuning to convergence
   (at most 10 epochs, stopping after 3 without a better validation ROC AUC; warm-up and decay
   over the maximum): the teacher's validation and test ROC AUC, the epochs it ran, its wall
   time, and what one fixed student (the size class of the search's knees: 1 layer, hidden 32)
   distilled from each keeps of the teacher's primary metric.
2. The converged teacher given as its predictions file (written with ``--write-predictions``'s
   code) and, for Devign, used as it is (its folder without Avatar's marker: a sequence
   classifier with the task's two labels): the same student figures, and the wall time of
   getting the teacher's outputs on each path against fine-tuning it.

The baseline of each comparison is measured in the same run. Run: python bench/teachers.py
[--data-root ../shared/data] [--only clone|defect] [--max-length 128]
(needs the `teacher` extra; on 2 CPU cores about an hour: the four fine-tunings dominate).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from avatar.specs import SelectedPoint, Spec, loads
from avatar.trainer import prepare_distillation, train_selected, write_teacher_predictions
from avatar.trainer.teacher._teacher import MARKER

EXAMPLES = Path(__file__).resolve().parents[1] / "specs" / "examples"
TASKS = {
    "clone": ("avatar-bigclonebench.yaml", "bigclonebench-codexglue-test4000"),
    "defect": ("avatar-devign.yaml", "devign-codexglue-test"),
}
TEACHER = "sentence-transformers/all-MiniLM-L6-v2"
STUDENT = {
    "tokenizer": "bpe", "vocab_size": 2000, "num_hidden_layers": 1, "hidden_size": 32, "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1, "intermediate_size": 64, "num_attention_heads": 2, "attention_probs_dropout_prob": 0.1,
    "max_sequence_length": 256, "position_embedding_type": "absolute", "learning_rate": 1e-3, "batch_size": 16,
}  # fmt: skip
FINE_TUNINGS = {"fixed 3 epochs (before)": {"epochs": 3, "patience": 3}, "to convergence (at most 10, patience 3)": {"epochs": 10, "patience": 3}}


def task_spec(kind: str, data_root: Path, teacher: dict, max_length: int, max_examples: int | None = None) -> Spec:
    example, folder = TASKS[kind]
    data = yaml.safe_load((EXAMPLES / example).read_text())
    data["task"]["data"] = str((data_root / folder).resolve())
    if max_examples:
        data["task"]["max_examples"] = max_examples
    data["objectives"] = {"size_mb": "minimize", "gflops": "maximize"}
    # the teacher may be weak (Devign): measured anyway, not stopped
    data["train"] = {"teacher": {"max_length": max_length, "batch_size": 16, "accept_weak": True, **teacher}, "epochs": 10, "patience": 3, "seed": 42}
    return loads(yaml.safe_dump(data, sort_keys=False), filename=str(EXAMPLES / example))


def distil(spec: Spec, cache: Path, console: Console) -> dict:
    """Prepare the teacher (timed) and distil the fixed student from it."""
    started = time.perf_counter()
    distillation = prepare_distillation(spec, console=console, cache_dir=cache, device="cpu")
    teacher_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as run:
        point = SelectedPoint(key="fixedknee", config=STUDENT, metrics={}, reason="the benchmark's fixed student")
        summary = train_selected(spec, [point], Path(run), console=console, cache_dir=cache, device="cpu", distillation=distillation).to_dict()
    return {"teacher_seconds": teacher_seconds, "distillation": distillation, "summary": summary}


def run(kind: str, data_root: Path, max_length: int, console: Console, max_examples: int | None = None) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) / "cache"
        for label, settings in FINE_TUNINGS.items():
            rows.append({"path": f"fine-tuned, {label}", **distil(task_spec(kind, data_root, {"model": TEACHER, **settings}, max_length, max_examples), cache, console)})
        converged = rows[-1]["distillation"].teacher
        spec = task_spec(kind, data_root, {"model": TEACHER, **FINE_TUNINGS["to convergence (at most 10, patience 3)"]}, max_length, max_examples)
        predictions = Path(scratch) / "teacher.jsonl"
        started = time.perf_counter()
        write_teacher_predictions(spec, predictions, cache_dir=cache, device="cpu")  # the converged teacher is cached: its logits only
        written = time.perf_counter() - started
        rows.append(
            {
                "path": "predictions file of the converged teacher",
                **distil(task_spec(kind, data_root, {"predictions": str(predictions)}, max_length, max_examples), cache, console),
                "note": f"file written in {written:.0f} s",
            }
        )
        if kind == "defect":  # a sequence classifier with the task's labels: the converged teacher without Avatar's marker
            folder = Path(scratch) / "classifier"
            shutil.copytree(converged.folder, folder, ignore=shutil.ignore_patterns(MARKER, "checkpoint"))
            _set_tokenizer_length(folder, max_length)  # the length it was fine-tuned at, as a user's classifier's tokenizer says
            rows.append({"path": "the converged teacher used as it is", **distil(task_spec(kind, data_root, {"model": str(folder)}, max_length, max_examples), Path(scratch) / "cache-as-is", console)})
    return rows


def _set_tokenizer_length(folder: Path, length: int) -> None:
    path = folder / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config["model_max_length"] = length
    path.write_text(json.dumps(config, indent=2))


def report(kind: str, rows: list[dict], console: Console) -> None:
    primary = rows[0]["summary"]["primary"]
    table = Table(title=f"{kind}: teachers by path, and one fixed student distilled from each")
    for column in (
        "teacher path",
        "epochs run (best)",
        "teacher valid AUC",
        "teacher test AUC",
        f"teacher test {primary}",
        f"student test {primary}",
        f"{primary} kept",
        "student test AUC",
        "teacher outputs ready in s",
        "note",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        summary = row["summary"]
        teacher, student = summary["teacher"], summary["students"][0]
        validation = teacher["validation"]
        epochs = f"{validation['epochs']} ({validation['best_epoch']})" if "epochs" in validation else "-"
        kept = student["test"][primary] / teacher["test"][primary] if teacher["test"][primary] else float("nan")
        table.add_row(
            row["path"],
            epochs,
            f"{validation['value']:.4f}",
            f"{teacher['test']['auc']:.4f}",
            f"{teacher['test'][primary]:.4f}",
            f"{student['test'][primary]:.4f}",
            f"{kept:.1%}",
            f"{student['test']['auc']:.4f}",
            f"{row['teacher_seconds']:.0f}",
            row.get("note", ""),
        )
    console.print(table)
    console.print(f"data: {rows[0]['summary']['data']}; student {STUDENT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--only", choices=sorted(TASKS))
    parser.add_argument("--max-length", type=int, default=128, help="teacher input length in tokens (128: the four fine-tunings fit in an hour on 2 cores)")
    parser.add_argument("--max-examples", type=int, help="use at most this many examples (a quick check of the benchmark itself)")
    arguments = parser.parse_args()
    console, progress = Console(width=220), Console(quiet=True)  # tables only: progress bars would fill a log
    for kind in [arguments.only] if arguments.only else sorted(TASKS):
        if not (arguments.data_root / TASKS[kind][1]).exists():
            console.print(f"skipping {kind}: {arguments.data_root / TASKS[kind][1]} is not here")
            continue
        started = time.perf_counter()
        report(kind, run(kind, arguments.data_root, arguments.max_length, progress, arguments.max_examples), console)
        console.print(f"{kind}: benchmark wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
