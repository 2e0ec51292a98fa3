"""Benchmark of the search on the Avatar example space (issue 5's targets).

Objectives (analytic, so the comparison is about search, not measurement noise): maximise
gflops (a capacity proxy), minimise size_mb and predicted latency_ms, under the 3 MB limit.
For every method, the median over seeds of: infeasible and duplicate evaluations, and the
hypervolume of the feasible front after 200, 500 and 1,000 evaluations (one normalisation
shared by all methods). Methods, all measured in this run:

  * Avatar: this project's search (NSGA-II over the exact feasible space);
  * reference GA: the genetic algorithm of soarsmu/Avatar MOO.py as described (population 20,
    50 generations, tournament of 10, crossover rate 0.6, per-gene mutation 0.1, the size
    limit as a soft objective), re-implemented here over the same grid;
  * Optuna: NSGAIISampler with constraints_func;
  * Platypus: plain NSGA-II over Integer variables with constraints;
  * random: uniform sampling of the exact feasible space.

Also prints Avatar's own overhead per evaluation (search time minus estimator time).

Run: python bench/search.py [--seeds 5] [--evaluations 1000]
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml
from rich.console import Console
from rich.table import Table

from avatar import objectives
from avatar.solver import Normalisation, RunStore, Search, Space, as_minimisation, hypervolume, nondominated, objective_limits
from avatar.specs import loads

EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "examples" / "avatar-devign.yaml"
CHECKPOINTS = (200, 500, 1000)
SIZE_LIMIT = 3.0


def benchmark_spec(evaluations: int):
    data = yaml.safe_load(EXAMPLE.read_text())
    data["objectives"] = {"gflops": "maximize", "size_mb": "minimize", "latency_ms": "minimize"}
    data["estimators"] = {"latency_ms": {"options": {"mode": "predicted"}}}
    data["search"] = {"algorithm": "nsga2", "population": 20, "evaluations": evaluations, "seed": 0}
    return loads(yaml.safe_dump(data), filename="bench/search.py")


class Evaluator:
    """Metrics of any grid point (feasible or not), counting what each method asks for."""

    def __init__(self, spec, space: Space, estimators, context) -> None:
        self.spec, self.space, self.estimators, self.context = spec, space, estimators, context
        self.names = [objective.metric for objective in spec.objectives]
        self.directions = [objective.direction for objective in spec.objectives]
        self.log: list[tuple[tuple, bool, np.ndarray]] = []
        self.seconds = 0.0

    def __call__(self, positions: tuple) -> np.ndarray:
        config = {parameter.name: parameter.values[position] for parameter, position in zip(self.spec.parameters, positions)}
        started = time.perf_counter()
        feasible = self.space.contains(config)
        view = self.context.resolve(config)
        values = np.array([float(self.estimators[name].evaluate(view, self.context)) for name in self.names])
        self.seconds += time.perf_counter() - started
        self.log.append((tuple(positions), feasible, values))
        return values

    def summary(self, normalisation: Normalisation) -> dict[str, Any]:
        seen: set[tuple] = set()
        duplicates = infeasible = 0
        volumes = {}
        feasible_points: list[np.ndarray] = []
        for index, (positions, feasible, values) in enumerate(self.log[: max(CHECKPOINTS)], start=1):
            duplicates += positions in seen
            infeasible += not feasible
            if feasible and positions not in seen:
                feasible_points.append(as_minimisation(values[None, :], self.directions)[0])
            seen.add(positions)
            if index in CHECKPOINTS:
                volumes[index] = hypervolume(np.array(feasible_points), normalisation) if feasible_points else 0.0
        return {"duplicates": duplicates, "infeasible": infeasible, "volumes": volumes}

    def feasible_points(self) -> np.ndarray:
        points = [as_minimisation(values[None, :], self.directions)[0] for _, feasible, values in self.log if feasible]
        return np.array(points)


def run_avatar(spec, space, estimators, context, evaluator: Evaluator, seed: int, evaluations: int, algorithm: str = "nsga2") -> float:
    """Returns the search's own seconds (total minus estimator time)."""
    wrapped = {name: _Counting(estimators[name], evaluator, name) for name in evaluator.names}
    with tempfile.TemporaryDirectory() as directory:
        store = RunStore(Path(directory) / "evaluations.sqlite")
        search = Search(space.with_estimators(wrapped), store, algorithm=algorithm, evaluations=evaluations, seed=seed)
        started = time.perf_counter()
        search.run()
        total = time.perf_counter() - started
        store.close()
    return total


class _Counting(objectives.Estimator):
    """Logs each configuration the search evaluates: the first metric computes all of them
    through the shared evaluator (timed there), the others read its values."""

    def __init__(self, inner, evaluator: Evaluator, name: str) -> None:
        self.inner, self.evaluator, self.metric = inner, evaluator, name
        self.name, self.unit, self.direction, self.kind = inner.name, inner.unit, inner.direction, inner.kind

    def evaluate(self, config, context):
        column = self.evaluator.names.index(self.metric)
        if column == 0:
            positions = tuple(parameter.values.index(config[parameter.name]) for parameter in self.evaluator.spec.parameters)
            self.evaluator(positions)
        return float(self.evaluator.log[-1][2][column])


def run_reference_ga(evaluator: Evaluator, spec, seed: int, evaluations: int) -> None:
    """soarsmu/Avatar MOO.py as described: 20 x 50, tournament 10, crossover 0.6, mutation 0.1;
    the 3 MB limit is a soft objective (size excess over 3 MB, minimised)."""
    generator = random.Random(seed)
    sizes = [parameter.size for parameter in spec.parameters]
    population = [tuple(generator.randrange(size) for size in sizes) for _ in range(20)]

    def fitness(individual: tuple) -> np.ndarray:
        values = as_minimisation(evaluator(individual)[None, :], evaluator.directions)[0]
        size = values[evaluator.names.index("size_mb")]
        return np.append(values, max(0.0, size - SIZE_LIMIT))

    scores = [fitness(individual) for individual in population]
    while len(evaluator.log) < evaluations:
        ranks = _pareto_ranks(np.array(scores))
        offspring = []
        while len(offspring) < 20:
            parents = [min(generator.sample(range(20), 10), key=lambda index: (ranks[index], generator.random())) for _ in range(2)]
            first, second = population[parents[0]], population[parents[1]]
            if generator.random() < 0.6:
                cut = generator.randrange(1, len(sizes))
                first, second = first[:cut] + second[cut:], second[:cut] + first[cut:]
            for child in (first, second):
                offspring.append(tuple(generator.randrange(size) if generator.random() < 0.1 else gene for gene, size in zip(child, sizes)))
        population = offspring[:20]
        scores = [fitness(individual) for individual in population]


def _pareto_ranks(points: np.ndarray) -> list[int]:
    ranks = [0] * len(points)
    remaining = list(range(len(points)))
    rank = 0
    while remaining:
        front = [remaining[index] for index in nondominated(points[remaining])]
        for index in front:
            ranks[index] = rank
        remaining = [index for index in remaining if index not in front]
        rank += 1
    return ranks


def run_optuna(evaluator: Evaluator, spec, space: Space, seed: int, evaluations: int) -> None:
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", message=".*constraints_func.*", category=FutureWarning)
    size_index = evaluator.names.index("size_mb")

    def objective(trial):
        positions = tuple(trial.suggest_int(parameter.name, 0, parameter.size - 1) for parameter in spec.parameters)
        values = evaluator(positions)
        config = {parameter.name: parameter.values[position] for parameter, position in zip(spec.parameters, positions)}
        divides = config["hidden_size"] % config["num_attention_heads"] == 0
        trial.set_user_attr("constraints", [values[size_index] - SIZE_LIMIT, 0.0 if divides else 1.0])
        return tuple(values)

    sampler = optuna.samplers.NSGAIISampler(population_size=20, seed=seed, constraints_func=lambda trial: trial.user_attrs["constraints"])
    study = optuna.create_study(directions=evaluator.directions, sampler=sampler)
    study.optimize(objective, n_trials=evaluations)


def run_platypus(evaluator: Evaluator, spec, seed: int, evaluations: int) -> None:
    import platypus

    size_index = evaluator.names.index("size_mb")
    signs = np.array([-1.0 if direction == "maximize" else 1.0 for direction in evaluator.directions])

    def function(variables):
        positions = tuple(int(value) for value in variables)
        values = evaluator(positions)
        config = {parameter.name: parameter.values[position] for parameter, position in zip(spec.parameters, positions)}
        divides = config["hidden_size"] % config["num_attention_heads"] == 0
        return list(values * signs), [values[size_index] - SIZE_LIMIT, 0.0 if divides else 1.0]

    problem = platypus.Problem(len(spec.parameters), len(evaluator.names), 2)
    problem.types[:] = [platypus.Integer(0, parameter.size - 1) for parameter in spec.parameters]
    problem.constraints[:] = ["<=0", "==0"]
    problem.function = function
    random.seed(seed)
    algorithm = platypus.NSGAII(problem, population_size=20, log_frequency=None)
    while len(evaluator.log) < evaluations:  # Platypus counts unchanged copies of parents too
        algorithm.step()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--evaluations", type=int, default=1000)
    arguments = parser.parse_args()
    logging.getLogger("Platypus").setLevel(logging.WARNING)
    console = Console()
    spec = benchmark_spec(arguments.evaluations)
    started = time.perf_counter()
    space = Space.from_spec(spec)  # calibrates predicted latency on this machine (cached)
    console.print(f"space compiled in {time.perf_counter() - started:.1f} s; {space.count().value:,} feasible of {spec.grid_size:,}")
    context, estimators = space.context, space.estimators  # latency calibrated on this space by Space.from_spec
    console.print(f"predicted latency: {estimators['latency_ms'].method(context)}")

    methods: dict[str, Callable[[Evaluator, int], Any]] = {
        "Avatar (nsga2)": lambda evaluator, seed: run_avatar(spec, space, estimators, context, evaluator, seed, arguments.evaluations),
        "reference GA (MOO.py)": lambda evaluator, seed: run_reference_ga(evaluator, spec, seed, arguments.evaluations),
        "Optuna NSGAIISampler": lambda evaluator, seed: run_optuna(evaluator, spec, space, seed, arguments.evaluations),
        "Platypus NSGAII": lambda evaluator, seed: run_platypus(evaluator, spec, seed, arguments.evaluations),
        "random feasible": lambda evaluator, seed: run_avatar(spec, space, estimators, context, evaluator, seed, arguments.evaluations, "random"),
    }
    runs: dict[str, list[Evaluator]] = {name: [] for name in methods}
    overhead = []
    for name, method in methods.items():
        for seed in range(arguments.seeds):
            evaluator = Evaluator(spec, space, estimators, context)
            began = time.perf_counter()
            outcome = method(evaluator, seed)
            if name.startswith("Avatar"):
                overhead.append((outcome - evaluator.seconds) / max(1, len(evaluator.log)) * 1000)
            runs[name].append(evaluator)
            console.print(f"{name}, seed {seed}: {len(evaluator.log)} evaluations in {time.perf_counter() - began:.1f} s")

    every_point = np.vstack([evaluator.feasible_points() for evaluators in runs.values() for evaluator in evaluators if len(evaluator.feasible_points())])
    normalisation = Normalisation.from_points(every_point, objective_limits(spec, [objective.metric for objective in spec.objectives]))
    table = Table(title=f"Search on the Avatar space: median of {arguments.seeds} seeds")
    for column in ("method", "infeasible evals", "duplicate evals", *(f"HV @ {checkpoint}" for checkpoint in CHECKPOINTS)):
        table.add_column(column, justify="right")
    medians = {}
    for name, evaluators in runs.items():
        summaries = [evaluator.summary(normalisation) for evaluator in evaluators]
        row = [statistics.median(summary["infeasible"] for summary in summaries), statistics.median(summary["duplicates"] for summary in summaries)]
        volumes = [statistics.median(summary["volumes"].get(checkpoint, float("nan")) for summary in summaries) for checkpoint in CHECKPOINTS]
        medians[name] = volumes
        table.add_row(name, *(f"{value:g}" for value in row), *(f"{volume:.4f}" for volume in volumes))
    console.print(table)
    ours, optuna_final = medians["Avatar (nsga2)"][1], medians["Optuna NSGAIISampler"][2]
    console.print(f"Target: Avatar's HV at 500 ({ours:.4f}) >= Optuna's at 1,000 ({optuna_final:.4f}): {'met' if ours >= optuna_final else 'NOT met'}")
    console.print(f"Avatar's own overhead per evaluation: median {statistics.median(overhead):.2f} ms (target < 5 ms)")
    console.print(f"Normalisation: ideal {normalisation.ideal}, reference {normalisation.reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
