"""Feasibility-preserving multi-objective search over a ``Space``, with a durable run store.

* The first population is a uniform sample of the feasible space; every offspring is repaired
  onto it, so no infeasible configuration is ever evaluated.
* Evaluations are cached by configuration: a duplicate costs nothing, and the budget counts
  distinct configurations only.
* Every evaluation is committed to the run store as it finishes. Resuming replays the search
  from its seed: the stored evaluations answer every configuration already seen, so the run
  continues where it stopped and ends with the same front as an uninterrupted run.
* Platypus, which draws from the module ``random``, gets a private generator seeded here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from platypus import Solution

from avatar.specs import names_in

from .._errors import FailureStreak, RepeatedFailureError
from ..space import Space
from ._algorithms import ALGORITHMS, AUTO, BudgetReached, CachedEvaluator, build_algorithm, platypus_random
from ._checks import closed_form_disagreement, stored_problem
from ._choice import AlgorithmChoice, resolve_choice
from ._execution import Executor, SerialExecutor
from ._front import RunningFront, canonical_order
from ._model_based import ModelBasedProposer, modelled_metrics
from ._outcome import GenerationStats, SearchHooks, SearchResult
from ._pareto import objective_limits
from ._problem import AvatarProblem, GridVariator, fill_solution
from ._store import Evaluation, RunStore, StoreError, config_key
from ._tasks import EvaluationTask
from ._violation import violations_at
from ._volume import FrontVolume

__all__ = ["Search", "SearchResult", "SearchHooks", "GenerationStats", "ALGORITHMS", "objective_limits"]

STAGNANT_GENERATIONS = 5


class Search:
    """One run of a search over ``space``, stored in ``store``.

    The constructor only stores its settings; ``run()`` (or ``result()``) replays the store and
    builds the problem, so a ``Search`` costs nothing until it is used. The space brings the
    spec, the context and the estimators: the search evaluates with those very objects."""

    def __init__(
        self,
        space: Space,
        store: RunStore,
        *,
        executor: Executor | None = None,
        hooks: Sequence[SearchHooks] = (),
        algorithm: str | None = None,
        population: int | None = None,
        evaluations: int | None = None,
        time_limit: float | None = None,
        seed: int | None = None,
        generation_offset: int = 0,
        batch: int | None = None,
    ) -> None:
        settings = space.spec.search
        self.space = space
        self.spec = space.spec
        self.store = store
        self.executor = executor or SerialExecutor()  # a given executor is shut down by its owner
        self.hooks = list(hooks)
        self.requested_algorithm = algorithm or settings.algorithm
        self.algorithm_name = self.requested_algorithm  # ``auto`` is resolved when the run starts
        self.choice: AlgorithmChoice | None = None
        self.requested_batch = batch  # the model-based search's batch; by default one per worker
        self.population = population or settings.population
        self.budget = evaluations or settings.evaluations
        self.time_limit = time_limit if time_limit is not None else settings.time_limit
        self.timeout = settings.evaluation_timeout
        self.seed = settings.seed if seed is None else seed
        self.generation_offset = generation_offset
        self._replayed = False

    @property
    def estimators(self) -> dict[str, Any]:
        return self.space.estimators

    @property
    def context(self) -> Any:
        return self.space.context

    def _replay(self) -> None:
        """Build the problem and answer every stored evaluation from the store (once): a
        resumed run then makes the same choices as the run it continues."""
        if self._replayed:
            return
        self._replayed = True
        spec = self.spec
        self.objective_names = [objective.metric for objective in spec.objectives]
        self.directions: list[str] = [objective.direction for objective in spec.objectives]
        constraints = {constraint.name: constraint for constraint in spec.constraints}
        self.post = [constraints[item.name] for item in self.space.post_constraints]
        self.metrics = self._metrics_to_evaluate()
        self.rng = random.Random(self.seed)
        self.cache: dict[tuple, Evaluation] = {}
        self._batch_done = 0
        self.proposed: set[tuple] = set()
        self.generation = self.generation_offset  # later rounds of a run continue the numbering
        self.new_evaluations = 0
        self.stagnant = 0
        self.failures = FailureStreak(spec.search.max_identical_failures)
        self._choose_algorithm()
        # Platypus' IBEA cannot rank infeasible solutions (it normalises feasible ones only):
        # it gets post-evaluation violations as a penalty added to every objective, and failed
        # or unevaluated solutions as points beyond the worst value seen.
        self.penalised = self.algorithm_name == "ibea"
        self.problem = AvatarProblem(self.space, self.objective_names, self.directions, 0 if self.penalised else len(self.post), self.rng)
        self._front = RunningFront(self.objective_names, self.directions)
        self.volume = FrontVolume(self._front, self.store, objective_limits(spec, self.objective_names))
        for evaluation in sorted(self.store.evaluations(), key=canonical_order):
            problem = stored_problem(self.space, evaluation, self.objective_names, self.metrics)
            if problem is not None:
                raise StoreError(f"{self.store.path}: stored evaluation {evaluation.key} cannot be replayed: {problem}; the store is damaged or not this run's")
            self._remember(evaluation)
        self.started = time.monotonic()
        self.previous_elapsed = float(self.store.get_meta("elapsed", 0.0))

    def _choose_algorithm(self) -> None:
        """Resolve ``auto`` (and fix the model-based search's batch) once per run: a resumed run
        reads both from the store, so another ``--jobs`` cannot change its course."""
        facts = {
            "objectives": len(self.objective_names),
            "budget": self.budget,
            "workers": self.executor.workers,
            "post_constraints": len(self.post),
            "exactly_counted": self.space.count().exact,
            "costly": modelled_metrics(self.space, self.metrics),
        }
        self.choice = resolve_choice(self.requested_algorithm, self.store.get_meta("algorithm"), **facts)
        self.algorithm_name = self.choice.name
        self.batch = int(self.store.get_meta("batch", 0)) or self.requested_batch or max(1, self.executor.workers)

    def _store_choice(self) -> None:
        assert self.choice is not None, "resolved first (_resolve_algorithm)"
        self.store.set_meta("algorithm", self.choice.to_dict())
        if self.algorithm_name == "surrogate":
            self.store.set_meta("batch", self.batch)

    # -- what to evaluate ----------------------------------------------------------------------

    def _metrics_to_evaluate(self) -> tuple[str, ...]:
        own = set(self.spec.parameter_names) | set(self.spec.constant_values)
        wanted = list(self.objective_names)
        for constraint in self.post:
            for name in sorted(self.spec.names_used(names_in(constraint.expression)) - own):
                if name not in wanted:
                    wanted.append(name)
        return tuple(wanted)

    @property
    def n_evaluations(self) -> int:
        """Distinct configurations evaluated so far (including the finished part of a batch)."""
        return len(self.cache) + self._batch_done

    @property
    def elapsed(self) -> float:
        return self.previous_elapsed + time.monotonic() - self.started

    def stop_reason(self) -> str | None:
        count = self.space.count()
        if count.exact and self.n_evaluations >= count.value:
            return f"every feasible configuration evaluated ({int(count.value)})"
        if self.n_evaluations >= self.budget:
            return f"evaluation budget reached ({self.budget})"
        if self._past_deadline():
            return f"time limit reached ({self.time_limit:g} s)"
        if self.stagnant >= STAGNANT_GENERATIONS:
            return f"no new configuration in {STAGNANT_GENERATIONS} generations (the space looks exhausted)"
        return None

    def _fits_one_population(self) -> bool:
        """Whether the feasible set is known to be no larger than one population: it is then
        evaluated whole in one generation, whatever the algorithm (evolution needs a population
        of distinct feasible points to start from, and there is nothing left to search for)."""
        count = self.space.count()
        return count.exact and count.value <= self.population

    def _past_deadline(self) -> bool:
        return self.time_limit is not None and self.elapsed >= self.time_limit

    def is_known(self, positions: tuple) -> bool:
        """Known to the search at this point of the run: evaluated in an earlier generation
        (stored records from later generations are not yet known, so a resumed run makes the
        same choices as the original), or proposed in this one."""
        if positions in self.proposed:
            return True
        evaluation = self.cache.get(positions)
        return evaluation is not None and evaluation.generation < self.generation

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate_solutions(self, solutions: list[Solution]) -> None:
        """Evaluate (or look up) every solution of one generation and fill in its objectives."""
        keys = [tuple(solution.variables) for solution in solutions]
        pending: dict[tuple, dict[str, Any]] = {}
        for key in keys:
            if key in self.cache or key in pending:
                continue
            if self.n_evaluations + len(pending) >= self.budget:
                break
            config = self.problem.config(key)
            if not self.space.contains(config):
                raise RuntimeError(f"the search proposed an infeasible configuration: {config}")
            pending[key] = config
        replayed = {key for key in keys if key in self.cache and self.cache[key].generation == self.generation}
        self._run(pending)
        worst = self._worst_values() if self.penalised else None
        for key, solution in zip(keys, solutions):
            self._fill(solution, self.cache.get(key), worst)
        # A resumed run answers its stored generations from the store: what this generation
        # evaluated then is new in it, exactly as in the uninterrupted run.
        self.new_evaluations = len(pending) + len(replayed)
        self.stagnant = self.stagnant + 1 if not self.new_evaluations else 0
        self.proposed.clear()
        self.generation += 1

    def _run(self, pending: dict[tuple, dict[str, Any]]) -> None:
        order = list(pending)
        for index, key in enumerate(order):
            task = EvaluationTask(self.spec, pending[key], self.metrics, self.estimators, self.context, self.timeout)
            self.executor.submit(index, task)
        finished: list[Evaluation] = []
        for index, result in self.executor.results():
            config = pending[order[index]]
            error = result.error if result.error is not None else closed_form_disagreement(self.space, self.estimators, config, result.metrics)
            status = "ok" if error is None else "failed"
            evaluation = Evaluation(config_key(config), config, status, result.metrics, error, result.seconds, self.generation, time.time())
            self.store.add(evaluation)  # on disk before anything else happens
            self.store.set_meta("elapsed", self.elapsed)
            finished.append(evaluation)
            self._batch_done += 1
            for hook in self.hooks:
                hook.evaluation(self, evaluation)
            self._watch_failures(evaluation)
            if self._past_deadline():
                self.executor.drop_queued()  # search.time_limit is a deadline: nothing new starts after it
        # Results arrive in completion order; the search's memory takes them in a fixed order
        # so that parallel, serial and resumed runs agree exactly.
        self._batch_done = 0
        for evaluation in sorted(finished, key=canonical_order):
            self._remember(evaluation)

    def _watch_failures(self, evaluation: Evaluation) -> None:
        """Stop the run when evaluations keep failing with one error (see ``RepeatedFailureError``)."""
        streak = self.failures.add(evaluation.key, None if evaluation.ok else evaluation.error or "failed")
        if streak:
            self.executor.cancel()
            self.store.forget(streak)
            raise RepeatedFailureError(evaluation.error or "", len(streak))

    def _remember(self, evaluation: Evaluation) -> None:
        self.cache[tuple(self.problem.positions(evaluation.config))] = evaluation
        self._update_front(evaluation)

    def _worst_values(self) -> np.ndarray:
        """Beyond the worst objective values evaluated so far (minimisation form), by one spread
        of them: where a penalised algorithm puts failed solutions, dominated by every other."""
        reached = [evaluation for evaluation in self.cache.values() if evaluation.ok and evaluation.generation <= self.generation]
        if not reached:
            return np.ones(self.problem.nobjs)
        points = self._front.points(reached)
        high, low = points.max(axis=0), points.min(axis=0)
        return high + np.maximum(high - low, 1.0)

    def _fill(self, solution: Solution, evaluation: Evaluation | None, worst: np.ndarray | None = None) -> None:
        if evaluation is None or not evaluation.ok:
            fill_solution(solution, None, [], penalised=self.penalised, worst=worst)
        else:
            fill_solution(solution, self._front.points([evaluation])[0], self.violations(evaluation), penalised=self.penalised, worst=worst)

    def violations(self, evaluation: Evaluation) -> list[float]:
        return violations_at(self.post, self.context, evaluation.config, evaluation.metrics)

    # -- results -------------------------------------------------------------------------------

    def feasible_evaluations(self) -> list[Evaluation]:
        """Successful evaluations of the generations run so far that meet every post-evaluation
        constraint (a resumed run's later stored generations are not yet reached)."""
        return [evaluation for evaluation in self.cache.values() if evaluation.generation < self.generation and evaluation.ok and not any(self.violations(evaluation))]

    def _update_front(self, evaluation: Evaluation) -> None:
        if evaluation.ok and not any(self.violations(evaluation)):
            self._front.add(evaluation)

    def front(self) -> list[Evaluation]:
        """The feasible Pareto front, by generation, then key."""
        return self._front.evaluations()

    def _record_generation(self) -> None:
        front = self.front()
        self.volume.ensure_normalisation(self.feasible_evaluations)
        volume = self.volume.of_generation(front, self.n_evaluations)
        stats = GenerationStats(self.generation - 1, self.n_evaluations, len(front), volume, self.elapsed)
        self.store.record_generation(stats.generation, stats.evaluations, stats.front_size, stats.hypervolume, stats.elapsed)
        for hook in self.hooks:
            hook.generation(self, stats)

    def result(self, stopped_because: str = "") -> SearchResult:
        """All evaluations so far (the stored ones too) and the feasible front."""
        self._replay()
        self.volume.ensure_normalisation(self.feasible_evaluations)
        front = self.front()
        return SearchResult(
            self.objective_names,
            self.directions,
            sorted(self.cache.values(), key=canonical_order),
            front,
            self.volume.normalisation,
            self.volume.exact(front),
            self.store.generations(),
            stopped_because,
        )

    # -- running -------------------------------------------------------------------------------

    def run(self) -> SearchResult:
        """Run (or resume) the search until its budget is spent."""
        if self.requested_algorithm not in (*ALGORITHMS, AUTO):
            raise ValueError(f"unknown algorithm '{self.requested_algorithm}'; choose from {', '.join((*ALGORITHMS, AUTO))}")
        self.space.require_feasible()
        self._replay()
        self.store.set_meta("seed", self.seed)
        self._store_choice()
        for hook in self.hooks:
            hook.start(self)
        try:
            with platypus_random(random.Random(f"platypus:{self.seed}")):
                if self._fits_one_population():
                    self._run_exhaustive()
                elif self.algorithm_name == "random":
                    self._run_random()
                elif self.algorithm_name == "surrogate":
                    self._run_model_based()
                else:
                    variator = GridVariator(self.problem, self.rng, self.is_known, self.proposed.add)
                    algorithm = build_algorithm(self.algorithm_name, self.problem, self.population, variator, CachedEvaluator(self), self._initial_population)
                    algorithm.run(BudgetReached(self), callback=lambda _: self._record_generation())
        finally:
            self.store.set_meta("elapsed", self.elapsed)
        result = self.result(self.stop_reason() or "")
        for hook in self.hooks:
            hook.end(self, result)
        return result

    def _initial_population(self, size: int) -> list[Solution]:
        """``size`` feasible solutions: a space with fewer feasible points repeats them (a
        repeat costs nothing), where Platypus would fill the rest with random, infeasible ones."""
        configs = self.space.sample(size, seed=self.seed)
        return [self.problem.solution(configs[index % len(configs)]) for index in range(size)]

    def _run_exhaustive(self) -> None:
        """Every feasible configuration in one generation (as many as the budget allows)."""
        if self.stop_reason() is None:
            self._generation(self.space.sample(self.population, seed=self.seed))

    def _run_random(self) -> None:
        """Uniform sampling of the feasible space, one population-sized batch at a time."""
        generator = np.random.default_rng(self.seed)
        while self.stop_reason() is None:
            batch = self.space.sample(self.population, seed=int(generator.integers(2**31)))
            self._generation([config for config in batch if not self.is_known(tuple(self.problem.positions(config)))])

    def _run_model_based(self) -> None:
        """Batches chosen by models of the expensive metrics (``_model_based``), one point per
        worker; each batch sees only the batches before it, so a resumed run repeats them."""
        proposer = ModelBasedProposer(self.space, self.problem, self.metrics, self.objective_names, self.directions, self.post, self.seed)
        while self.stop_reason() is None:
            known = sorted((evaluation for evaluation in self.cache.values() if evaluation.generation < self.generation), key=canonical_order)
            self._generation(proposer.propose(known, self.is_known, self.batch))

    def _generation(self, configs: Sequence[dict[str, Any]]) -> None:
        """One generation chosen outside Platypus: proposed, evaluated and recorded."""
        solutions = [self.problem.solution(config) for config in configs]
        for solution in solutions:
            self.proposed.add(tuple(solution.variables))
        self.evaluate_solutions(solutions)
        self._record_generation()
