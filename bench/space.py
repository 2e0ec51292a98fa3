"""Benchmark of the feasible space on the Avatar example space (issue 4's targets).

Prints, measured in one run:
  * exact count and tight bounds of the 13-parameter, 3 MB space, against the reference
    approach (enumerating models with blocking clauses, as the research did to find its
    bounding box): the time of its first 10,000 models and the extrapolated time for all;
  * the same space with every integer allowed (no steps): an exact count or an estimate
    with its 95% interval (target: interval within 1%, under 30 s);
  * sample(1000) time and the total variation distance of each parameter's sampled marginal
    from its exact feasible marginal;
  * repair time (median, p90, max) on uniformly random grid points.

Run: python bench/space.py [--models 10000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml
import z3
from rich.console import Console
from rich.table import Table

from avatar.solver import Space
from avatar.specs import load, loads

EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "examples" / "avatar-devign.yaml"


def blocking_clause_enumeration(space: Space, limit: int) -> tuple[int, float]:
    """The reference: models one at a time, each blocked before asking for the next."""
    solver = z3.Solver()
    solver.add(*space.smt.definitions, *space.smt.domains.values(), *space.smt.hard.values())
    symbols = [space.smt.symbols[name] for name in space.compiled.constrained]
    started = time.perf_counter()
    found = 0
    while found < limit and solver.check() == z3.sat:
        model = solver.model()
        solver.add(z3.Or([symbol != model.eval(symbol, model_completion=True) for symbol in symbols]))
        found += 1
    return found, time.perf_counter() - started


def every_integer(spec_path: Path):
    """The example spec with the steps removed from its integer ranges."""
    data = yaml.safe_load(spec_path.read_text())
    for declaration in data["space"].values():
        if "range" in declaration and all(isinstance(bound, int) for bound in declaration["range"]):
            declaration.pop("step", None)
    data["name"] += "-every-integer"
    return loads(yaml.safe_dump(data), filename=f"{spec_path.name} (every integer)")


def total_variation(sampled: np.ndarray, exact: np.ndarray) -> float:
    return 0.5 * float(np.abs(sampled / sampled.sum() - exact / exact.sum()).sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000, help="models of the blocking-clause reference")
    parser.add_argument("--repairs", type=int, default=200)
    arguments = parser.parse_args()
    console = Console()
    spec = load(EXAMPLE)

    started = time.perf_counter()
    space = Space.from_spec(spec)
    compile_seconds = time.perf_counter() - started
    feasibility = space.check()
    count = space.count()
    bounds = space.bounds()
    ours = compile_seconds + feasibility.seconds + count.seconds + space.bounds_seconds
    models, reference_seconds = blocking_clause_enumeration(space, arguments.models)
    constrained_total = count.value // space.grid.free_size
    extrapolated = reference_seconds / max(models, 1) * constrained_total

    table = Table(title=f"Avatar example space ({len(spec.parameters)} parameters, 3 MB): grid {spec.grid_size:,}")
    for column in ("method", "result", "seconds"):
        table.add_column(column)
    table.add_row("Avatar: compile", f"{len(space.hard_constraints)} hard constraints", f"{compile_seconds:.3f}")
    table.add_row("Avatar: check", "feasible" if feasibility.feasible else "infeasible", f"{feasibility.seconds:.3f}")
    table.add_row("Avatar: exact count", f"{count.value:,} ({count.value / spec.grid_size:.3%} of the grid)", f"{count.seconds:.3f}")
    table.add_row("Avatar: tight bounds", f"{sum(1 for bound in bounds.values() if bound.tight != bound.declared)} tightened", f"{space.bounds_seconds:.3f}")
    table.add_row("[bold]Avatar: total[/bold]", "target < 2 s", f"[bold]{ours:.3f}[/bold]")
    table.add_row(f"reference: first {models:,} models (blocking clauses)", f"{models / reference_seconds:,.0f} models/s", f"{reference_seconds:.3f}")
    table.add_row(
        "reference: all models (extrapolated)",
        f"{constrained_total:,} models over the {len(space.compiled.constrained)} constrained parameters",
        f"{extrapolated:,.0f} (~{extrapolated / 3600:,.1f} hours)",
    )
    everything = reference_seconds / max(models, 1) * count.value
    table.add_row(
        "reference: every feasible point (extrapolated)",
        f"{count.value:,} models over all {len(spec.parameters)} parameters",
        f"{everything:,.0f} (~{everything / 86400 / 365:,.1f} years)",
    )
    console.print(table)

    tight = Table(title="Bounds: declared -> tight")
    for column in ("parameter", "declared", "tight"):
        tight.add_column(column)
    for name, bound in bounds.items():
        if bound.tight != bound.declared:
            tight.add_row(name, f"[{bound.declared[0]}, {bound.declared[1]}]", f"[{bound.tight[0]}, {bound.tight[1]}]")
    console.print(tight)

    wide = every_integer(EXAMPLE)
    started = time.perf_counter()
    wide_space = Space.from_spec(wide)
    wide_count = wide_space.count()
    wide_seconds = time.perf_counter() - started
    if wide_count.exact:
        wide_result = f"exact {wide_count.value:,}"
    else:
        width = (wide_count.high - wide_count.low) / wide_count.value
        wide_result = f"estimate {wide_count.value:,}; 95% interval [{wide_count.low:,}, {wide_count.high:,}] = {width:.2%} wide ({wide_count.samples:,} samples)"
    console.print(f"Every integer allowed: grid {wide.grid_size:,}; {wide_result}; {wide_seconds:.1f} s (target: within 1%, < 30 s)")

    started = time.perf_counter()
    samples = space.sample(1000, seed=1)
    sample_seconds = time.perf_counter() - started
    exact = space.marginals()
    distances = Table(title=f"sample(1000): {sample_seconds:.3f} s (target < 2 s); total variation distance from the exact marginals")
    for column in ("parameter", "values", "Avatar's sample", "ideal uniform sample (mean of 50 draws)"):
        distances.add_column(column)
    generator = np.random.default_rng(0)
    for parameter in spec.parameters:
        truth = exact[parameter.name].astype(float)
        sampled = np.bincount([parameter.values.index(config[parameter.name]) for config in samples], minlength=parameter.size).astype(float)
        ideal = statistics.fmean(total_variation(generator.multinomial(len(samples), truth / truth.sum()).astype(float), truth) for _ in range(50))
        distances.add_row(parameter.name, str(parameter.size), f"{total_variation(sampled, truth):.3f}", f"{ideal:.3f}")
    console.print(distances)

    generator = random.Random(0)
    times = []
    for index in range(arguments.repairs):
        config = {parameter.name: generator.choice(parameter.values) for parameter in spec.parameters}
        started = time.perf_counter()
        repaired = space.repair(config, seed=index)
        times.append((time.perf_counter() - started) * 1000)
        assert space.contains(repaired)
    times.sort()
    console.print(
        f"repair of {len(times)} random grid points: median {statistics.median(times):.1f} ms, p90 {times[int(0.9 * (len(times) - 1))]:.1f} ms, max {times[-1]:.1f} ms (target: median < 20 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
