"""Benchmark of the search: the best front for the fewest evaluations (issue 18).

Four problems over the Avatar example space (13 parameters, 3 MB limit; ``search_problems.py``):
2 objectives with a front far from the limits, 3 objectives, 4 objectives, and 2 objectives
with a post-evaluation limit. Every method is charged for every evaluation it asks for,
infeasible or repeated; the hypervolume counts the distinct points that meet every limit, in
one normalisation per problem shared by all methods and seeds. Methods, all run here:

  * Avatar: ``surrogate`` (model-based), ``nsga2``, ``ibea``, ``random`` (uniform sampling of
    the exact feasible space), and the default ``auto``, read at each budget from the
    algorithm it chooses for that budget (all of them are anytime: a run's first N
    evaluations do not depend on its budget);
  * Optuna: ``NSGAIISampler`` and ``TPESampler`` (with constraints); AutoSampler is fetched
    from the network by ``optunahub`` at run time, which this benchmark cannot reach;
  * pymoo: ``NSGA2`` on integer positions (rounded SBX and polynomial mutation).

Printed per problem: median [min, max] hypervolume at 100, 250, 500 and 1,000 evaluations;
the share of infeasible and repeated evaluations; Avatar's own overhead per evaluation
(search time minus the estimators'). Then the targets.

The model-based search and TPE, whose cost per evaluation grows with the run, stop at
``--costly-budget`` (1,000 by default, about 40 to 55 s per run of either on 2 cores; a smaller
figure shortens the benchmark, and leaves their later columns unmeasured).

Run: python bench/search.py [--seeds 5] [--evaluations 1000] [--costly-budget 1000] [--only N]
(``bench`` extra; about 30 minutes on 2 idle cores)
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_problems import PROBLEMS, Problem, problem_estimators, problem_spec  # noqa: E402

from avatar import objectives  # noqa: E402
from avatar.solver import Normalisation, RunStore, Search, Space, as_minimisation, hypervolume, objective_limits  # noqa: E402
from avatar.solver.search._choice import choose_algorithm  # noqa: E402
from avatar.solver.search._violation import violations_at  # noqa: E402
from avatar.specs import names_in  # noqa: E402

CHECKPOINTS = (100, 250, 500, 1000)


@dataclass
class Trace:
    """What one run asked for, in order: grid positions, whether they meet the hard limits,
    whether they meet every limit, and the objective values (minimisation form)."""

    steps: list[tuple[tuple, bool, bool, np.ndarray]] = field(default_factory=list)
    overhead_ms: float | None = None

    def volumes(self, normalisation: Normalisation) -> dict[int, float]:
        seen: set[tuple] = set()
        points: list[np.ndarray] = []
        volumes = {}
        for index, (positions, _, valid, values) in enumerate(self.steps, start=1):
            if valid and positions not in seen:
                points.append(values)
            seen.add(positions)
            if index in CHECKPOINTS:
                volumes[index] = hypervolume(np.array(points), normalisation) if points else 0.0
        return volumes

    def wasted(self) -> tuple[float, float]:
        """Shares of infeasible and of repeated evaluations."""
        seen: set[tuple] = set()
        infeasible = repeated = 0
        for positions, feasible, _, _ in self.steps:
            infeasible += not feasible
            repeated += positions in seen
            seen.add(positions)
        return infeasible / max(1, len(self.steps)), repeated / max(1, len(self.steps))

    def valid_points(self) -> list[np.ndarray]:
        return [values for _, _, valid, values in self.steps if valid]


class Oracle:
    """The metrics of any grid point (feasible or not), as a peer would get them."""

    def __init__(self, space: Space) -> None:
        self.space, self.spec = space, space.spec
        self.names = [objective.metric for objective in self.spec.objectives]
        self.directions = [objective.direction for objective in self.spec.objectives]
        self.post = [item for item in self.spec.constraints if item.name in {info.name for info in space.post_constraints}]
        own = set(self.spec.parameter_names) | set(self.spec.constant_values) | {item.name for item in self.spec.derived}
        self.metrics = list(dict.fromkeys(self.names + sorted({name for item in self.post for name in names_in(item.expression)} - own)))
        self.sizes = [parameter.size for parameter in self.spec.parameters]

    def config(self, positions: tuple) -> dict[str, Any]:
        return {parameter.name: parameter.values[int(position)] for parameter, position in zip(self.spec.parameters, positions)}

    def ask(self, positions: tuple) -> tuple[bool, list[float], np.ndarray]:
        """Feasible by the hard limits, post-evaluation violations, objectives (minimised)."""
        config = self.config(positions)
        values = objectives.evaluate(self.spec, config, self.metrics, context=self.space.context, estimators=self.space.estimators)
        violations = violations_at(self.post, self.space.context, config, values)
        return self.space.contains(config), violations, as_minimisation(np.array([values[name] for name in self.names]), self.directions)

    def record(self, trace: Trace, positions: tuple) -> tuple[bool, list[float], np.ndarray]:
        feasible, violations, values = self.ask(positions)
        trace.steps.append((positions, feasible, feasible and not any(violations), values))
        return feasible, violations, values


def run_avatar(oracle: Oracle, algorithm: str, seed: int, budget: int) -> Trace:
    """Avatar's search; its evaluations read back from the store in the order they finished."""
    trace = Trace()
    with tempfile.TemporaryDirectory() as directory:
        store = RunStore(Path(directory) / "evaluations.sqlite")
        started = time.perf_counter()
        Search(oracle.space, store, algorithm=algorithm, evaluations=budget, seed=seed).run()
        total = time.perf_counter() - started
        evaluations = store.evaluations()
        store.close()
    for evaluation in evaluations:
        oracle.record(trace, tuple(oracle.space.positions(evaluation.config)[parameter.name] for parameter in oracle.spec.parameters))
    trace.overhead_ms = (total - sum(evaluation.seconds for evaluation in evaluations)) / max(1, len(evaluations)) * 1000
    return trace


def run_optuna(oracle: Oracle, sampler_name: str, seed: int, budget: int) -> Trace:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message=".*constraints_func.*")
    trace = Trace()

    def objective(trial: Any) -> tuple[float, ...]:
        positions = tuple(trial.suggest_int(parameter.name, 0, parameter.size - 1) for parameter in oracle.spec.parameters)
        feasible, violations, values = oracle.record(trace, positions)
        trial.set_user_attr("constraints", [0.0 if feasible else 1.0, *violations])
        return tuple(values)

    def constraints(trial: Any) -> list[float]:
        return trial.user_attrs["constraints"]

    if sampler_name == "tpe":
        sampler = optuna.samplers.TPESampler(seed=seed, constraints_func=constraints)
    else:
        sampler = optuna.samplers.NSGAIISampler(population_size=20, seed=seed, constraints_func=constraints)
    study = optuna.create_study(directions=["minimize"] * len(oracle.names), sampler=sampler)
    study.optimize(objective, n_trials=budget)
    return trace


def run_pymoo(oracle: Oracle, seed: int, budget: int) -> Trace:
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import ElementwiseProblem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.optimize import minimize

    trace = Trace()

    class GridProblem(ElementwiseProblem):
        def __init__(self) -> None:
            super().__init__(n_var=len(oracle.sizes), n_obj=len(oracle.names), n_ieq_constr=1 + len(oracle.post), xl=0, xu=np.array(oracle.sizes) - 1, vtype=int)

        def _evaluate(self, x: np.ndarray, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            feasible, violations, values = oracle.record(trace, tuple(int(value) for value in x))
            out["F"] = values
            out["G"] = [0.0 if feasible else 1.0, *violations]

    algorithm = NSGA2(
        pop_size=20,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    minimize(GridProblem(), algorithm, ("n_eval", budget), seed=seed, verbose=False)
    return trace


def methods(budget: int, costly_budget: int) -> dict[str, Callable[[Oracle, int], Trace]]:
    """Every method; the two whose cost per evaluation grows with the evaluations so far (the
    model-based search and TPE) stop at ``costly_budget``."""
    costly = min(budget, costly_budget)
    return {
        "Avatar surrogate": lambda oracle, seed: run_avatar(oracle, "surrogate", seed, costly),
        "Avatar nsga2": lambda oracle, seed: run_avatar(oracle, "nsga2", seed, budget),
        "Avatar ibea": lambda oracle, seed: run_avatar(oracle, "ibea", seed, budget),
        "Avatar uniform (random)": lambda oracle, seed: run_avatar(oracle, "random", seed, budget),
        "Optuna NSGAIISampler": lambda oracle, seed: run_optuna(oracle, "nsga2", seed, budget),
        "Optuna TPESampler": lambda oracle, seed: run_optuna(oracle, "tpe", seed, costly),
        "pymoo NSGA2": lambda oracle, seed: run_pymoo(oracle, seed, budget),
    }


PEERS = ("Optuna NSGAIISampler", "Optuna TPESampler", "pymoo NSGA2")


def _spread(values: list[float]) -> str:
    values = [value for value in values if value == value]
    return f"{statistics.median(values):.4f} [{min(values):.4f}, {max(values):.4f}]" if values else "-"


def calibrated_latency(budget: int) -> Space:
    """A space whose predicted latency is calibrated within the 3 MB limit (as a search does),
    once for every problem."""
    latency_only = Problem("calibration", "", {"latency_ms": "minimize", "size_mb": "minimize"})
    space = Space.from_spec(problem_spec(latency_only, "auto", budget, 0))
    space.estimators["latency_ms"].calibrate(space.context)
    return space


def bench_problem(problem: Problem, seeds: int, budget: int, costly_budget: int, calibrated: Space, console: Console, only: set[str] | None = None) -> dict[str, Any]:
    latency, context = calibrated.estimators["latency_ms"], calibrated.context
    samples = [float(latency.evaluate(context.resolve(config), context)) for config in calibrated.sample(400, seed=0)]
    spec = problem_spec(problem, "auto", budget, 0, latency_limit=float(np.percentile(samples, 25)))
    started = time.perf_counter()
    space = Space.from_spec(spec, estimators=problem_estimators(problem, spec, calibrated.estimators["latency_ms"]), context=calibrated.context)
    oracle = Oracle(space)
    console.print(f"[bold]{problem.name}[/bold] ({problem.description}): space ready in {time.perf_counter() - started:.1f} s; post-evaluation limits: {[item.text for item in oracle.post] or 'none'}")
    runs: dict[str, list[Trace]] = {}
    for name, method in methods(budget, costly_budget).items():
        if only and name not in only:
            continue
        runs[name] = []
        for seed in range(seeds):
            began = time.perf_counter()
            runs[name].append(method(oracle, seed))
            console.print(f"  {name}, seed {seed}: {len(runs[name][-1].steps)} evaluations in {time.perf_counter() - began:.1f} s", highlight=False)
    every = np.array([point for traces in runs.values() for trace in traces for point in trace.valid_points()])
    normalisation = Normalisation.from_points(every, objective_limits(spec, oracle.names))
    volumes = {name: [trace.volumes(normalisation) for trace in traces] for name, traces in runs.items()}
    table = Table(title=f"{problem.name}: hypervolume, median [min, max] of {seeds} seeds")
    for column in ("method", *(f"HV @ {checkpoint}" for checkpoint in CHECKPOINTS if checkpoint <= budget), "infeasible", "repeated", "overhead ms/eval"):
        table.add_column(column, justify="right")
    medians: dict[str, dict[int, float]] = {}
    for name, traces in runs.items():
        medians[name] = {checkpoint: statistics.median(volume.get(checkpoint, float("nan")) for volume in volumes[name]) for checkpoint in CHECKPOINTS}
        wasted = [trace.wasted() for trace in traces]
        overhead = [trace.overhead_ms for trace in traces if trace.overhead_ms is not None]
        table.add_row(
            name,
            *(_spread([volume.get(checkpoint, float("nan")) for volume in volumes[name]]) for checkpoint in CHECKPOINTS if checkpoint <= budget),
            f"{statistics.median(item[0] for item in wasted):.0%}",
            f"{statistics.median(item[1] for item in wasted):.0%}",
            f"{statistics.median(overhead):.1f}" if overhead else "-",
        )
    default = {}
    for checkpoint in CHECKPOINTS:
        chosen = choose_algorithm(objectives=len(oracle.names), budget=checkpoint, workers=1, post_constraints=len(oracle.post)).name
        label = {"random": "Avatar uniform (random)"}.get(chosen, f"Avatar {chosen}")
        if label in volumes:
            default[checkpoint] = (chosen, [volume.get(checkpoint, float("nan")) for volume in volumes[label]])
    if default:
        table.add_row("Avatar default (auto)", *(f"{_spread(default[c][1])} ({default[c][0]})" if c in default else "-" for c in CHECKPOINTS if c <= budget), "", "", "")
    console.print(table)
    outcome: dict[str, Any] = {"problem": problem.name}
    # a peer stopped before 1,000 (TPE at --costly-budget) is compared at its last checkpoint
    peers = {name: next(medians[name][c] for c in reversed(CHECKPOINTS) if medians[name][c] == medians[name][c]) for name in PEERS if name in medians}
    if peers and 250 in default:
        ours = statistics.median(default[250][1])
        best = max(peers, key=peers.get)
        met = ours >= peers[best]
        outcome["target 250"] = met
        shown = ", ".join(f"{name} {value:.4f}" for name, value in peers.items())
        console.print(f"  target: default at 250 ({ours:.4f}) >= best peer at 1,000 ({shown}; TPE at its last checkpoint if it stopped early): {'met' if met else 'NOT met'}", highlight=False)
    uniform = medians.get("Avatar uniform (random)", {}).get(100)
    if uniform is not None and 100 in default and "Avatar nsga2" in medians:
        lead, nsga2_lead = statistics.median(default[100][1]) - uniform, medians["Avatar nsga2"][100] - uniform
        outcome["target 100"] = lead >= 2 * nsga2_lead
        console.print(
            f"  target: lead over uniform at 100: default {lead:+.4f}, nsga2 {nsga2_lead:+.4f} (ratio {lead / nsga2_lead if nsga2_lead else float('inf'):.1f}x, at least 2x): {'met' if lead >= 2 * nsga2_lead else 'NOT met'}",
            highlight=False,
        )
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=1000)
    parser.add_argument("--costly-budget", type=int, default=1000, help="evaluations of the model-based search and of TPE (their cost per evaluation grows with the run)")
    parser.add_argument("--only", type=int, action="append", help="problem number (1 to 4), repeatable")
    parser.add_argument("--method", action="append", help="only these methods (repeatable)")
    arguments = parser.parse_args()
    logging.getLogger("Platypus").setLevel(logging.WARNING)
    console = Console(width=200)
    console.print("Optuna AutoSampler: not run (optunahub downloads it from GitHub at run time; this benchmark runs offline)")
    started = time.perf_counter()
    calibrated = calibrated_latency(arguments.evaluations)
    console.print(f"predicted latency calibrated in {time.perf_counter() - started:.0f} s: {calibrated.estimators['latency_ms'].method(calibrated.context)}")
    for number, problem in enumerate(PROBLEMS, start=1):
        if arguments.only and number not in arguments.only:
            continue
        bench_problem(problem, arguments.seeds, arguments.evaluations, arguments.costly_budget, calibrated, console, set(arguments.method) if arguments.method else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
