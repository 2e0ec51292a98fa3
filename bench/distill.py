"""Benchmark of distillation on real data (issue 6's targets), measured in one run.

For BigCloneBench (clone detection, F1) and Devign (vulnerability prediction, accuracy), from
the copies in ../shared/data: search the 13-parameter Avatar space under 3 MB (analytic and
predicted objectives, so the search itself is quick), take the knee, fine-tune the offline
all-MiniLM-L6-v2 teacher on the labelled split, distil the knee student on the unlabelled
split, and print the teacher beside the student: test metric, size and CPU latency ratios, and
the wall time of each phase.

Targets (BigCloneBench): the student keeps >= 95% of the teacher's F1, and is >= 25x smaller
and >= 10x faster.

Run: python bench/distill.py [--data-root ../shared/data] [--only clone|defect]
(about 30 to 60 minutes on 2 CPU cores; needs the `teacher` extra).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from avatar.solver import Space
from avatar.solver._run import run_search
from avatar.solver._summary import check_report
from avatar.specs import loads
from avatar.trainer import primary_metric, train_selected

EXAMPLES = Path(__file__).resolve().parents[1] / "specs" / "examples"
TASKS = {
    "clone": ("avatar-bigclonebench.yaml", "bigclonebench-codexglue-test4000"),
    "defect": ("avatar-devign.yaml", "devign-codexglue-test"),
}
TEACHER = "sentence-transformers/all-MiniLM-L6-v2"


def benchmark_spec(kind: str, data_root: Path):
    example, folder = TASKS[kind]
    data = yaml.safe_load((EXAMPLES / example).read_text())
    data["task"]["data"] = str((data_root / folder).resolve())
    data["objectives"] = {"gflops": "maximize", "size_mb": "minimize", "latency_ms": "minimize"}
    data["estimators"] = {"latency_ms": {"options": {"mode": "predicted"}}}
    data["search"] = {"algorithm": "nsga2", "population": 20, "evaluations": 600, "seed": 42}
    data["train"] = {"teacher": {"model": TEACHER, "epochs": 3, "max_length": 256, "batch_size": 16}, "select": "knee", "epochs": 10, "patience": 3}
    return loads(yaml.safe_dump(data), filename=str(EXAMPLES / example))


def run(kind: str, data_root: Path, console: Console) -> dict:
    spec = benchmark_spec(kind, data_root)
    timings = {}
    started = time.perf_counter()
    space = Space.from_spec(spec)
    with tempfile.TemporaryDirectory() as directory:
        outcome = run_search(spec, space, check_report(spec, space), out=directory, console=console)
        timings["search"] = time.perf_counter() - started
        started = time.perf_counter()
        summary = train_selected(spec, Path(directory), console=console)
        timings["training (all phases)"] = time.perf_counter() - started
    timings.update({f"  {name}": seconds for name, seconds in summary["seconds"].items()})
    timings["  student"] = summary["students"][0].get("seconds", 0.0)
    return {"spec": spec, "outcome": outcome, "summary": summary, "timings": timings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--only", choices=sorted(TASKS))
    arguments = parser.parse_args()
    console = Console()
    for kind in [arguments.only] if arguments.only else ["clone", "defect"]:
        result = run(kind, arguments.data_root, console)
        summary, metric = result["summary"], primary_metric(kind)
        teacher, student = summary["teacher"], summary["students"][0]
        table = Table(title=f"{result['spec'].name}: teacher against the knee student ({summary['data']})")
        for column in ("model", "size MB", "params", "CPU latency ms", "accuracy", "precision", "recall", "F1"):
            table.add_column(column, justify="right")
        for name, item in (("teacher " + TEACHER, teacher), ("student " + student["key"][:10], student)):
            table.add_row(name, f"{item['size_mb']:.2f}", f"{item['params']:,}", f"{item['latency_ms']:.2f}", *(f"{item['test'][key]:.4f}" for key in ("accuracy", "precision", "recall", "f1")))
        console.print(table)
        kept = student["test"][metric] / teacher["test"][metric] if teacher["test"][metric] else float("nan")
        smaller, faster = teacher["size_mb"] / student["size_mb"], teacher["latency_ms"] / student["latency_ms"]
        console.print(f"{metric} kept: {kept:.1%} (target >= 95%); {smaller:.1f}x smaller (target >= 25x); {faster:.1f}x faster (target >= 10x)")
        console.print(f"student configuration: {student['config']}")
        console.print("wall time: " + ", ".join(f"{name.strip()} {seconds:.0f} s" for name, seconds in result["timings"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
