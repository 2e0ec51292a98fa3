"""Distillation methods compared (issue 17): ``python bench/distill.py --methods``.

On BigCloneBench (the copy in ../shared/data), from the teacher ``bench/distill.py`` prepares
(all-MiniLM-L6-v2 fine-tuned on the labelled split; here at ``--max-length`` tokens), one
student configuration (``--config knee``: the size class of the search's knees, 1 layer, hidden
32; or ``3mb``: 4 layers, hidden 128, about 3 MB) is distilled with each method from several
seeds (one student per seed, no restarts, its threshold tuned on validation). For each method:
the median and range over seeds of test F1 and ROC AUC, F1 kept against the teacher at the
tuned and at the default cut, seconds per epoch, and the disk the teacher's features take.
``--hard`` runs it on ``builtin:python-clones-hard`` (longer functions, every view rewritten,
non-clones of nearly the same length, half of them a function beside its own mutant) with a
quarter of the training pairs labelled;
``--method M`` (repeatable) chooses the methods; ``--first-seed S`` starts the seeds at S
(default 42), so that more seeds can be added to a table in a later run (the teacher is the
same: it is always fine-tuned with seed 42).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import yaml
from distill import EXAMPLES, TEACHER, at_default_cut
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from avatar.specs import SelectedPoint, loads
from avatar.trainer import prepare_distillation, train_selected

# The last is the combination of the two that kept the most on the knee student (hard labels
# and the hidden-state alignment, whose AUC came second).
METHODS = ("logits", "dist", "logits+hard_labels", "logits+hidden", "logits+attention_relations", "logits+hard_labels+hidden")
CONFIGS = {
    "knee": {
        "tokenizer": "bpe",
        "vocab_size": 2000,
        "num_hidden_layers": 1,
        "hidden_size": 32,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "max_sequence_length": 256,
        "learning_rate": 1e-3,
        "batch_size": 16,
    },
    "3mb": {
        "tokenizer": "bpe",
        "vocab_size": 8000,
        "num_hidden_layers": 4,
        "hidden_size": 128,
        "num_attention_heads": 4,
        "intermediate_size": 256,
        "max_sequence_length": 256,
        "learning_rate": 5e-4,
        "batch_size": 16,
    },
}


HARD = "builtin:python-clones-hard"


def methods_spec(data: Path | str, method: str, seed: int, max_length: int):
    return loads(yaml.safe_dump(methods_document(data, method, seed, max_length), sort_keys=False), filename=str(EXAMPLES / "avatar-bigclonebench.yaml"))


def methods_document(data: Path | str, method: str | None, seed: int, max_length: int) -> dict:
    """The spec's document (``method``: ``None`` for the default methods)."""
    spec = yaml.safe_load((EXAMPLES / "avatar-bigclonebench.yaml").read_text())
    if data == HARD:  # the harder built-in set, with few labelled pairs
        spec["task"] = {"kind": "clone", "data": HARD, "split": {"valid": 0.1, "test": 0.2, "labeled": 0.25, "seed": 42}}
    else:
        spec["task"]["data"] = str(Path(data).resolve())
    spec["objectives"] = {"size_mb": "minimize", "gflops": "maximize"}
    spec["train"] = {"teacher": {"model": TEACHER, "epochs": 3, "max_length": max_length, "accept_weak": True}, "epochs": 10, "patience": 3, "seed": seed}
    if method is not None:
        spec["train"]["distill"] = method
    return spec


def compare_methods(
    data_root: Path, console: Console, *, config: str = "knee", seeds: int = 3, max_length: int = 128, methods: tuple[str, ...] = METHODS, hard: bool = False, first_seed: int = 42
) -> None:
    """The table of the module docstring, on BigCloneBench or (``hard``) on
    ``builtin:python-clones-hard`` with a quarter of the training pairs labelled."""
    data = HARD if hard else data_root / "bigclonebench-codexglue-test4000"
    rows = []
    for method in methods:
        results = []
        # One teacher for every seed: train.seed also seeds the teacher's fine-tuning, so the
        # distillation is prepared with the first seed and each student gets its own.
        distillation = prepare_distillation(methods_spec(data, method, 42, max_length), device="cpu")  # cached after the first method
        for seed in range(first_seed, first_seed + seeds):
            spec = methods_spec(data, method, seed, max_length)
            with tempfile.TemporaryDirectory() as run:
                started = time.perf_counter()
                summary = train_selected(spec, [SelectedPoint(f"{config}{seed}", CONFIGS[config], {}, "benchmark")], Path(run), device="cpu", distillation=distillation).to_dict()
                seconds = time.perf_counter() - started
            results.append((summary, seconds))
            student = summary["students"][0]
            # each student as it finishes: a run stopped halfway keeps what it measured
            console.print(
                f"  {method}, seed {seed}: test F1 {student['test']['f1']:.4f} (default cut {at_default_cut(student)['f1']:.4f}), AUC {student['test']['auc']:.4f}, {_seconds_per_epoch(student):.1f} s per epoch, {seconds:.0f} s",
                highlight=False,
            )
        rows.append((method, results))
    teacher = rows[0][1][0][0]["teacher"]
    table = Table(
        title=escape(
            f"{'python-clones-hard' if hard else 'BigCloneBench'}, {config} student, seeds {first_seed} to {first_seed + seeds - 1} (median [min, max]); teacher test F1 {teacher['test']['f1']:.4f}, AUC {teacher['test']['auc']:.4f}"
        )
    )
    for column in ("method", "test F1", "test AUC", "F1 kept (tuned cut)", "F1 kept (default cut)", "s per epoch", "features MB"):
        table.add_column(column, justify="right")
    for method, results in rows:
        students = [summary["students"][0] for summary, _ in results]
        f1 = [student["test"]["f1"] for student in students]
        auc = [student["test"]["auc"] for student in students]
        default = [at_default_cut(student)["f1"] for student in students]
        per_epoch = [_seconds_per_epoch(student) for student in students]
        base = teacher["test"]["f1"]
        table.add_row(
            method,
            _spread(f1),
            _spread(auc),
            _spread([value / base for value in f1], percent=True),
            _spread([value / base for value in default], percent=True),
            f"{statistics.median(per_epoch):.1f}",
            f"{results[0][0]['teacher'].get('features_mb', 0):.1f}",
        )
    console.print(table)


def _seconds_per_epoch(student: dict) -> float:
    history = student["validation"]["history"]
    return sum(record["seconds"] for record in history) / len(history)


def _spread(values: list[float], percent: bool = False) -> str:
    shown = (lambda value: f"{value:.1%}") if percent else (lambda value: f"{value:.4f}")
    return f"{shown(statistics.median(values))} [{shown(min(values))}, {shown(max(values))}]"
