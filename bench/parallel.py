"""Benchmark of students realised in parallel (issue 17), measured in one run.

Four students (the same four configurations each time) distilled from one teacher on the
built-in python-clones set: one after another in this process (the baseline), on 2 local worker
processes (``--jobs 2``), and on a Dask ``LocalCluster`` of 2 worker processes. Prints the wall
time of each and the speed-up against the baseline, and checks that every way gives the same
students (test F1).

Run: python bench/parallel.py [--workers 2] (needs the `teacher` and `dask` extras; about 10
minutes on 2 CPU cores, the teacher's fine-tuning cached after the first run).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from avatar.solver.search._execution import DaskExecutor, PoolExecutor
from avatar.specs import loads
from avatar.trainer import prepare_distillation, train_selected

SPEC = """\
name: parallel-bench
task: {kind: clone, data: "builtin:python-clones", max_examples: 1200}
space:
  hidden_size: {choices: [32]}
objectives: {size_mb: minimize}
train:
  teacher: {model: sentence-transformers/all-MiniLM-L6-v2, epochs: 1, learning_rate: 1.0e-4, max_length: 128, accept_weak: true}
  epochs: 6
  patience: 6
"""
POINTS = [
    {"key": f"bench{index}", "reason": "benchmark", "config": {"tokenizer": "bpe", "vocab_size": 2000, "num_hidden_layers": layers, "hidden_size": hidden,
     "num_attention_heads": 4, "intermediate_size": 4 * hidden, "max_sequence_length": 128, "learning_rate": 5e-4, "batch_size": 16}}
    for index, (layers, hidden) in enumerate(((2, 64), (2, 128), (3, 64), (1, 128)))
]  # fmt: skip


def realise(spec, distillation, cache: Path, executor=None) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "selected.json").write_text(json.dumps({"select": "all", "points": POINTS}))
        started = time.perf_counter()
        summary = train_selected(spec, None, Path(folder), cache_dir=cache, device="cpu", distillation=distillation, executor=executor)
        return time.perf_counter() - started, {student.key: student.test["f1"] for student in summary.students}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    console = Console(width=160)
    spec = loads(SPEC)
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch)
        distillation = prepare_distillation(spec, cache_dir=cache, device="cpu")
        rows = []
        seconds, baseline = realise(spec, distillation, cache)
        rows.append(("one after another, in this process (baseline)", seconds, baseline))
        pool = PoolExecutor(arguments.workers)
        try:
            rows.append((f"{arguments.workers} local worker processes (--jobs {arguments.workers})", *realise(spec, distillation, cache, pool)))
        finally:
            pool.shutdown()
        import distributed

        with distributed.LocalCluster(n_workers=arguments.workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                rows.append((f"Dask LocalCluster, {arguments.workers} worker processes", *realise(spec, distillation, cache, DaskExecutor(client=client))))
    table = Table(
        title=f"4 students ({', '.join(str(point['config']['num_hidden_layers']) + 'x' + str(point['config']['hidden_size']) for point in POINTS)}; layers x hidden), {spec.train.epochs} epochs each"
    )
    for column in ("how", "wall time s", "speed-up", "same students (test F1)"):
        table.add_column(column, justify="right")
    for how, seconds, scores in rows:
        same = all(abs(scores[key] - baseline[key]) < 1e-6 for key in baseline)
        table.add_row(how, f"{seconds:.0f}", f"{rows[0][1] / seconds:.2f}x", "yes" if same else f"no: {scores}")
    console.print(table)


if __name__ == "__main__":
    main()
