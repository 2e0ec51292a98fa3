"""Search on closed-form problems, where the search's own time is the whole cost (issue 34):
``python bench/closed_form.py [--seeds 2]``.

On the 13-parameter Devign space (specs/examples/avatar-devign.yaml, its 3 MB limit compiled in)
with 2, 3 and 4 closed-form objectives, each algorithm runs from several seeds; printed per
problem: the median (and range) hypervolume, in one normalisation shared by every run of the
problem, and the median wall time with its ratio to IBEA at 1,000 evaluations measured in the
same run. ``nsga2@3000`` and ``surrogate@250`` compare the algorithms at about equal wall time;
``auto`` is what a spec gets by default.

Targets: ``auto`` within 2x IBEA's wall time at 1,000 evaluations, with hypervolume no lower
than the model-based search's (the default before ``auto`` weighed what metrics cost).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from avatar.solver import Normalisation, Space, hypervolume
from avatar.solver.search._pareto import as_minimisation
from avatar.solver.search._search import Search
from avatar.solver.search._store import RunStore
from avatar.specs import loads

EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "examples" / "avatar-devign.yaml"
PROBLEMS = {
    "params, gflops": {"params": "minimize", "gflops": "maximize"},
    "gflops, size, length": {"gflops": "maximize", "size_mb": "minimize", "max_sequence_length": "maximize"},
    "gflops, size, length, layers": {"gflops": "maximize", "size_mb": "minimize", "max_sequence_length": "maximize", "num_hidden_layers": "minimize"},
}
RUNS = (("ibea", 1000), ("nsga2", 1000), ("nsga2", 3000), ("surrogate", 250), ("surrogate", 1000), ("auto", 1000))


def problem_space(objectives: dict[str, str]) -> Space:
    document = yaml.safe_load(EXAMPLE.read_text())
    document["objectives"] = objectives
    document.pop("train", None)
    return Space.from_spec(loads(yaml.safe_dump(document)))


def run(space: Space, names: list[str], directions: list[str], algorithm: str, budget: int, seed: int) -> tuple[np.ndarray, float, str]:
    """The objective points of one search, its wall time, and the algorithm that ran."""
    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder) / "evaluations.sqlite")
        search = Search(space, store, algorithm=algorithm, evaluations=budget, seed=seed)
        started = time.perf_counter()
        search.run()
        wall = time.perf_counter() - started
        evaluations = [evaluation for evaluation in store.evaluations() if evaluation.ok]
        store.close()
    values = np.array([[evaluation.metrics.get(name, evaluation.config.get(name)) for name in names] for evaluation in evaluations], dtype=float)
    return as_minimisation(values, directions), wall, search.algorithm_name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    arguments = parser.parse_args(argv)
    console = Console()
    for title, objectives in PROBLEMS.items():
        space, names, directions = problem_space(objectives), list(objectives), list(objectives.values())
        results: dict[str, list[tuple[np.ndarray, float, str]]] = {}
        for algorithm, budget in RUNS:
            for seed in range(arguments.seeds):
                results.setdefault(f"{algorithm}@{budget}", []).append(run(space, names, directions, algorithm, budget, seed))
        normalisation = Normalisation.from_points(np.vstack([points for runs in results.values() for points, _, _ in runs]))
        base = float(np.median([wall for _, wall, _ in results["ibea@1000"]]))
        table = Table(title=escape(f"{title}: {len(objectives)} closed-form objectives, {arguments.seeds} seeds (median [min, max])"), title_justify="left")
        for column in ("search", "ran", "hypervolume", "wall s", "x IBEA@1000"):
            table.add_column(column, justify="right")
        for label, runs in results.items():
            volumes = [hypervolume(points, normalisation) for points, _, _ in runs]
            wall = float(np.median([wall for _, wall, _ in runs]))
            table.add_row(label, runs[0][2], f"{np.median(volumes):.4f} [{min(volumes):.4f}, {max(volumes):.4f}]", f"{wall:.1f}", f"{wall / base:.2f}")
        console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
