"""Avatar's realised front against random feasible students of the same count and sizes (issue 32).

Runs ``solve`` on a spec (the quick start by default) with ``train.select: N``: N students spread
along its predicted front, fully distilled. Then, for each of them, draws a random feasible
configuration of about its size (within ``--window`` of it, from a uniform sample of the exact
feasible space; the nearest sizes where none is that close) and distils it by the same recipe
(the spec's teacher, transfer set, epochs and methods: ``train_selected``), ``--sets`` times.
Both are scored by the hypervolume of realised test ROC AUC against the closed-form size (AUC
above 0.5 maximised, size minimised; reference point: AUC 0.5 and 1.1 times the largest size),
printed side by side. The run and each random student are kept in ``--out``, so an interrupted
benchmark continues. Run: python bench/front.py [--select 5] [--sets 1] (about an hour for the
quick start on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from _realised import realised_student
from rich.console import Console
from rich.table import Table

from avatar import objectives
from avatar.solver import Space
from avatar.specs import loads
from avatar.trainer import prepare_distillation

EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "examples" / "quickstart.yaml"


def hypervolume(points: list[tuple[float, float]], reference_size: float) -> float:
    """The area that ``(size, auc)`` points dominate, from the reference point (``reference_size``,
    AUC 0.5): a union of rectangles, swept from the smallest size."""
    area, best = 0.0, 0.5
    for size, auc in sorted(points):
        if size < reference_size and auc > best:
            area += (reference_size - size) * (auc - best)
            best = auc
    return area


def avatar_students(spec_path: Path, select: int, run: Path, console: Console) -> list[dict]:
    """The run's realised students (``solve --set train.select=N``; resumed when it was stopped)."""
    if not (run / "students.json").exists():
        command = [sys.executable, "-m", "avatar.solver.cli", str(spec_path), "--out", str(run), "--set", f"train.select={select}"]
        if (run / "evaluations.sqlite").exists():
            command.append("--resume")
        console.print(f"running {' '.join(command[2:])}", highlight=False)
        subprocess.run(command, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return json.loads((run / "students.json").read_text())["students"]


def random_of_size(sizes: np.ndarray, target: float, window: float, draw: np.random.Generator) -> int:
    """A random index among the sampled configurations within ``window`` of ``target``'s size
    (the 5 nearest where none is)."""
    close = np.flatnonzero(np.abs(sizes - target) <= window * target)
    if len(close) == 0:
        close = np.argsort(np.abs(sizes - target))[:5]
    return int(draw.choice(close))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=EXAMPLE)
    parser.add_argument("--select", type=int, default=5, help="students along the front (train.select)")
    parser.add_argument("--sets", type=int, default=1, help="sets of random students of the same sizes")
    parser.add_argument("--window", type=float, default=0.1, help="a random student's size within this share of its Avatar student's")
    parser.add_argument("--sample", type=int, default=3000, help="feasible configurations sampled to draw random students from")
    parser.add_argument("--out", type=Path, default=Path("bench-out/front"))
    arguments = parser.parse_args(argv)
    console = Console()
    spec = loads(arguments.spec.read_text(), filename=str(arguments.spec))
    students = avatar_students(arguments.spec, arguments.select, arguments.out / "run", console)
    context = objectives.Context.from_spec(spec)
    size = objectives.get("size_mb")

    def size_of(config: dict) -> float:
        return float(size.evaluate(context.resolve(config), context))

    space = Space.from_spec(spec)
    sample = space.sample(arguments.sample, seed=spec.search.seed + 2000)
    sizes = np.array([size_of(config) for config in sample])
    distillation = prepare_distillation(spec, console=console)
    ours = [(size_of(student["config"]), float(student["test"]["auc"])) for student in students]
    sets = []
    for index in range(arguments.sets):
        draw = np.random.default_rng(index)
        chosen = [sample[random_of_size(sizes, target, arguments.window, draw)] for target, _ in ours]
        realised = []
        for number, config in enumerate(chosen):
            record = realised_student(spec, distillation, config, arguments.out / "random")
            console.print(f"  random set {index + 1}, student {number + 1}/{len(chosen)}: {size_of(config):.3f} MB, test AUC {record['test']['auc']:.4f}", highlight=False)
            realised.append((size_of(config), float(record["test"]["auc"])))
        sets.append(realised)
    reference = 1.1 * max(point[0] for points in [ours, *sets] for point in points)
    table = Table(title=f"Realised fronts: {len(ours)} Avatar students against random feasible students of their sizes (test ROC AUC, size_mb)")
    table.add_column("student")
    table.add_column("Avatar: size MB, test AUC", justify="right")
    for index in range(len(sets)):
        table.add_column(f"random set {index + 1}", justify="right")
    for number, (ours_size, ours_auc) in enumerate(ours):
        table.add_row(str(number + 1), f"{ours_size:.3f}, {ours_auc:.4f}", *(f"{points[number][0]:.3f}, {points[number][1]:.4f}" for points in sets))
    ours_volume = hypervolume(ours, reference)
    volumes = [hypervolume(points, reference) for points in sets]
    table.add_row("hypervolume", f"{ours_volume:.4f}", *(f"{volume:.4f} ({ours_volume / volume:.2f}x)" if volume else "0" for volume in volumes))
    console.print(table)
    wins = sum(ours_volume > volume for volume in volumes)
    console.print(f"Avatar's realised front dominates in hypervolume {wins} of {len(volumes)} random sets (reference point: AUC 0.5, {reference:.3f} MB)")
    (arguments.out / "front.json").write_text(json.dumps({"avatar": ours, "random": sets, "reference_size": reference, "hypervolume": {"avatar": ours_volume, "random": volumes}}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
