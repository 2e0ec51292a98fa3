"""The Platypus side of a search: algorithms by name, the budget as a termination condition,
batch evaluation through the search, and a private random generator for reproducible runs."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from math import comb
from typing import TYPE_CHECKING, Any

import platypus
import platypus.core
from platypus import HypervolumeFitnessEvaluator, InjectedPopulation, Problem, Solution, TerminationCondition, Variator

if TYPE_CHECKING:
    from ._search import Search

__all__ = ["ALGORITHMS", "AUTO", "build_algorithm", "platypus_random"]

# Platypus' algorithms, uniform sampling and the model-based search; ``auto`` chooses among
# them (``_choice``).
ALGORITHMS = ("nsga2", "nsga3", "spea2", "ibea", "moead", "epsmoea", "random", "surrogate")
AUTO = "auto"


class BudgetReached(TerminationCondition):
    """Platypus stops when the search says so (budget, time limit or stagnation)."""

    def __init__(self, search: Search) -> None:
        super().__init__()
        self.search = search

    def initialize(self, algorithm: Any) -> None:
        pass

    def shouldTerminate(self, algorithm: Any) -> bool:
        return self.search.stop_reason() is not None


class CachedEvaluator(platypus.Evaluator):
    """Platypus hands each generation to the search, which evaluates only what is new."""

    def __init__(self, search: Search) -> None:
        super().__init__()
        self.search = search

    def evaluate_all(self, jobs: list[Any]) -> list[Any]:
        self.search.evaluate_solutions([job.solution for job in jobs])
        return jobs


def build_algorithm(name: str, problem: Problem, population: int, variator: Variator, evaluator: platypus.Evaluator, initial: Callable[[int], list[Solution]]) -> Any:
    """The Platypus algorithm ``name``, seeded with ``initial(size)`` as its first population."""
    common = dict(variator=variator, evaluator=evaluator, log_frequency=None)
    if name == "nsga2":
        return platypus.NSGAII(problem, population_size=population, generator=InjectedPopulation(initial(population)), **common)
    if name == "spea2":
        return platypus.SPEA2(problem, population_size=population, generator=InjectedPopulation(initial(population)), **common)
    if name == "epsmoea":
        epsilons = [1e-9] * problem.nobjs
        return platypus.EpsMOEA(problem, epsilons, population_size=population, generator=InjectedPopulation(initial(population)), **common)
    if name == "ibea":
        return platypus.IBEA(problem, population_size=population, generator=InjectedPopulation(initial(population)), fitness_evaluator=RangeSafeFitness(), **common)
    if name == "moead":
        return platypus.MOEAD(problem, population_size=population, neighborhood_size=min(10, population), generator=InjectedPopulation(initial(population)), **common)
    algorithm = platypus.NSGAIII(problem, divisions_outer=_divisions_for(population, problem.nobjs), **common)
    algorithm.generator = InjectedPopulation(initial(algorithm.population_size))
    return algorithm


class RangeSafeFitness(HypervolumeFitnessEvaluator):
    """IBEA's hypervolume fitness for populations where an objective takes one value.

    Platypus normalises each objective by its range in the population and stops with
    "objective with empty range" when every solution has the same value there (a sequence
    length all of a population share, say). Such an objective separates no one: it gets a
    range of 1, and the others decide.
    """

    def evaluate(self, solutions: list[Solution]) -> None:
        original = platypus.core.normalize

        def widened(solutions: list[Solution], minimum: Any = None, maximum: Any = None) -> Any:
            feasible = [solution for solution in solutions if solution.constraint_violation == 0.0]
            if minimum is None and maximum is None and feasible:
                columns = list(zip(*(solution.objectives for solution in feasible)))
                minimum = [min(column) for column in columns]
                maximum = [high if high - low > 1e-9 else low + 1.0 for low, high in zip(minimum, (max(column) for column in columns))]
            return original(solutions, minimum, maximum)

        platypus.core.normalize = widened  # the search runs Platypus in one thread
        try:
            super().evaluate(solutions)
        finally:
            platypus.core.normalize = original


@contextmanager
def platypus_random(generator: random.Random) -> Iterator[None]:
    """Give Platypus a private generator for the run.

    Platypus draws from the module ``random``; a library in another thread of this process
    (a Dask client, for one) may draw from it too, which would make runs irreproducible.
    """
    modules = [module for name, module in sys.modules.items() if name.startswith("platypus") and getattr(module, "random", None) is random]
    for module in modules:
        setattr(module, "random", generator)  # noqa: B010 - a module attribute mypy cannot see
    try:
        yield
    finally:
        for module in modules:
            setattr(module, "random", random)  # noqa: B010


def _divisions_for(population: int, n_objectives: int) -> int:
    """NSGA-III reference-point divisions giving a population near the requested size."""
    divisions = 1
    while comb(n_objectives + divisions, divisions + 1) <= population:
        divisions += 1
    return divisions
