"""Learned metrics in a run: probe, fit, search, probe the predicted front, refit, search again.

A learned estimator (``kind == "learned"``, such as ``accuracy``) predicts from a surrogate
fitted on *probes*, real measurements of a few configurations. A run with one goes in steps:

    probe stage 0 (initial design: a uniform sample of the feasible space)
    search round 0 (the surrogate predicts)
    probe stage 1 (the not yet probed points of the predicted front, highest upper bound first)
    search round 1 (refitted surrogate; every stored prediction is rescored first) ...

Probes run through the run's executor (in parallel locally or on Dask) and are stored in the run
store as each finishes, failed ones included (recorded with their error, then skipped). The
steps finished are recorded too, so ``--resume`` skips them: finished rounds are not replayed
with a later surrogate, and stored probes are never measured twice.

The trainer provides the probes (``Prober``); this module never imports it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from avatar import objectives

from .._errors import FailureStreak, RepeatedFailureError, RunError
from ..space._space import Space
from ._execution import Executor
from ._search import SearchResult
from ._store import Evaluation, Probe, RunStore, config_key
from ._tasks import Task

__all__ = ["Prober", "probe_source", "LearnedMetric", "learned_estimators", "ProbeHooks", "steps_done", "mark_step"]

_INITIAL_SEED_OFFSET = 7919  # the initial design is not the search's first population


class Prober(Protocol):
    """Makes the task that measures one configuration for a learned metric.

    A prober may also have a ``source`` (a string): what its probes' values depend on beyond
    the estimator's fidelity (the trainer's: teacher, data and distillation settings). It is
    stored with every probe; probes of another source are not reused. It may also have
    ``prepare(metric, estimator, space, executor)``, called before each stage's probes are asked
    for (the trainer's distils a super-student there once, on the executor's workers when they
    are remote).
    """

    def task(self, metric: str, estimator: objectives.Estimator, config: dict[str, Any], fidelity: Mapping[str, Any] | None = None) -> Task:
        """The task for ``config``. With multi-fidelity (the estimator's ``promote``), promoted
        probes are asked for with ``fidelity``, one of ``estimator.fidelities``; a prober for
        estimators without ``promote`` is never given one."""
        ...


def probe_source(prober: Prober | None) -> str | None:
    """The prober's ``source``, when it declares one."""
    source = getattr(prober, "source", None)
    return None if source is None else str(source)


class ProbeHooks(Protocol):
    """Called as probes of a learned metric start, finish and are fitted (progress listens)."""

    def probes_started(self, metric: str, stage: int, total: int, done: int, promoted: bool = False) -> None: ...

    def probe_finished(self, metric: str, probe: Probe) -> None: ...

    def fitted(self, metric: str, stage: int, validation: dict[str, Any] | None) -> None: ...


def learned_estimators(space: Space) -> dict[str, objectives.Estimator]:
    """The space's estimators that learn from probes, for metrics the search reads: one named
    only under ``estimators:`` would spend minutes of probes on a value no evaluation holds."""
    searched = objectives.searched_metrics(space.spec)
    return {name: estimator for name, estimator in space.estimators.items() if estimator.kind == "learned" and name in searched}


@dataclass
class LearnedMetric:
    """Probes, fits and rescoring of one learned metric in one run."""

    name: str
    estimator: Any  # AccuracyEstimator-like: fidelity, initial, per_round, rounds, fit(), evaluate()
    space: Space
    store: RunStore
    prober: Prober
    hooks: Sequence[ProbeHooks] = ()
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seed(self) -> int:
        return self.space.spec.search.seed

    @property
    def fidelities(self) -> list[dict[str, Any]]:
        """As stored with the probes: the estimator's fidelities (short first, then promoted, when
        it promotes), each with the prober's source when it has one."""
        source = probe_source(self.prober)
        fidelities = getattr(self.estimator, "fidelities", None) or [self.estimator.fidelity]
        return [dict(fidelity) if source is None else {**fidelity, "source": source} for fidelity in fidelities]

    def level(self, probe: Probe) -> int:
        """0 for a short probe, 1 for a promoted one."""
        return self.fidelities.index(probe.fidelity)

    def probes(self, up_to_stage: int | None = None) -> list[Probe]:
        """Stored probes of this metric's fidelities (in the order they finished)."""
        fidelities = self.fidelities
        return [probe for probe in self.store.probes() if probe.fidelity in fidelities and (up_to_stage is None or probe.stage <= up_to_stage)]

    def initial_design(self) -> list[dict[str, Any]]:
        return self.space.sample(self.estimator.initial, seed=self.seed + _INITIAL_SEED_OFFSET)

    def probe(self, configs: Sequence[dict[str, Any]], stage: int, executor: Executor) -> None:
        """Measure the configurations not yet probed, storing each probe as it ends; with
        multi-fidelity, then probe a share of them again at the second level (promotion: the best
        ones, or those the estimator's ``to_promote`` chooses). A prober
        with ``prepare`` (the trainer's, for a super-student) is asked to get ready first."""
        prepare = getattr(self.prober, "prepare", None)
        if prepare is not None:
            prepare(self.name, self.estimator, self.space, executor)
        self._probe_level(configs, stage, executor, 0)
        promote = float(getattr(self.estimator, "promote", 0.0))
        if promote > 0:
            keys = {config_key(config) for config in configs}
            short = sorted((probe for probe in self.probes() if probe.ok and probe.key in keys and self.level(probe) == 0), key=lambda probe: (-(probe.value or 0.0), probe.key))
            count = math.ceil(promote * len(keys))
            choose = getattr(self.estimator, "to_promote", None)  # which ones: the best by default
            chosen = choose([probe.value for probe in short], count) if choose is not None else range(min(count, len(short)))
            self._probe_level([short[index].config for index in chosen], stage, executor, 1)

    def _probe_level(self, configs: Sequence[dict[str, Any]], stage: int, executor: Executor, level: int) -> None:
        fidelity = self.fidelities[level]
        known = {probe.key for probe in self.probes() if probe.fidelity == fidelity}
        pending: list[dict[str, Any]] = []
        for config in configs:
            key = config_key(config)
            if key not in known:
                known.add(key)
                pending.append(dict(config))
        for hook in self.hooks:
            hook.probes_started(self.name, stage, len(configs), len(configs) - len(pending), promoted=level > 0)
        for index, config in enumerate(pending):
            if level == 0:
                task = self.prober.task(self.name, self.estimator, config)
            else:  # the estimator's fidelity, without the prober's source
                task = self.prober.task(self.name, self.estimator, config, fidelity=self.estimator.fidelities[level])
            executor.submit(index, task)
        failures = FailureStreak(self.space.spec.search.max_identical_failures)
        for index, result in executor.results():
            config = pending[index]
            value, error = self._probe_value(result)
            weak = tuple(str(reason) for reason in result.metrics.get("weak", ())) if error is None else ()
            probe = Probe(config_key(config), config, fidelity, "ok" if error is None else "failed", value, error, result.seconds, stage, weak)
            self.store.add_probe(probe)  # on disk before the next one is awaited
            for hook in self.hooks:
                hook.probe_finished(self.name, probe)
            streak = failures.add(probe.key, error)
            if streak:
                executor.cancel()
                self.store.forget_probes(streak)
                raise RepeatedFailureError(error or "", len(streak), what=f"probes of '{self.name}'")

    def _probe_value(self, result: Any) -> tuple[float | None, str | None]:
        """The probe's measured value, or why there is none (a NaN score fails the probe)."""
        if result.error is not None:
            return None, result.error
        if self.name not in result.metrics:
            return None, f"the probe returned no '{self.name}'"
        try:
            return objectives.metric_value(self.name, result.metrics[self.name]), None
        except objectives.EstimatorError as error:
            return None, str(error)

    def fit(self, stage: int) -> dict[str, Any] | None:
        """Refit on the successful probes of stages up to ``stage``; returns the cross-validation."""
        measured = [probe for probe in self.probes(stage) if probe.ok]
        if len(measured) < 2:
            failed = [probe for probe in self.probes(stage) if not probe.ok]
            errors = {probe.error for probe in failed}
            if failed and not measured and len(errors) == 1:  # the environment, not the configurations
                self.store.forget_probes([probe.key for probe in failed])
                raise RepeatedFailureError(errors.pop() or "", len(failed), what=f"probes of '{self.name}'")
            first = f"; the first error: {failed[0].error}" if failed else ""
            raise RunError(f"'{self.name}' could not be learned: {len(measured)} probe(s) succeeded and {len(failed)} failed{first} (see the probes in the run store)")
        levels = [self.level(probe) for probe in measured]
        options = {"levels": levels} if len(set(levels)) > 1 else {}
        validation = self.estimator.fit(self.space.parameters, [probe.config for probe in measured], [probe.value for probe in measured], seed=self.seed, **options)
        weak = sum(1 for probe in measured if probe.weak)
        record = {"stage": stage, "probes": len(measured), "failed": len(self.probes(stage)) - len(measured), "weak": weak, **(validation.to_dict() if validation else {})}
        self.history = [item for item in self.history if item["stage"] != stage] + [record]
        for hook in self.hooks:
            hook.fitted(self.name, stage, record)
        return record

    def rescore(self, context: objectives.Context) -> None:
        """Replace the stored predictions of every evaluation with the refitted surrogate's."""
        evaluations = [evaluation for evaluation in self.store.evaluations() if evaluation.ok and self.name in evaluation.metrics]
        outcomes = self.estimator.evaluate_many([context.resolve(evaluation.config) for evaluation in evaluations], context)
        for evaluation, outcome in zip(evaluations, outcomes):
            self.store.update_metrics(evaluation.key, {self.name: float(outcome.value), **{f"{self.name}_{key}": float(value) for key, value in outcome.details.items()}})

    def candidates(self, result: SearchResult, count: int, stage: int) -> list[dict[str, Any]]:
        """Points of the predicted front not probed before probe stage ``stage``, highest upper
        confidence bound first (then other evaluated points, when the front has fewer). The
        stage's own probes do not count: a resumed stage gets the same list, and skips what it
        had probed."""
        probed = {probe.key for probe in self.probes() if probe.stage < stage}
        front_keys = {evaluation.key for evaluation in result.front}

        def bound(evaluation: Evaluation) -> tuple[int, float, str]:
            upper = evaluation.metrics.get(self.name, -np.inf) + evaluation.metrics.get(f"{self.name}_std", 0.0)
            return (0 if evaluation.key in front_keys else 1, -upper, evaluation.key)

        pool = [evaluation for evaluation in result.evaluations if evaluation.ok and evaluation.key not in probed and self.name in evaluation.metrics]
        return [evaluation.config for evaluation in sorted(pool, key=bound)[:count]]


def steps_done(store: RunStore) -> int:
    """How many steps (probe stages and search rounds, alternating) a run has finished."""
    return int(store.get_meta("learning_steps_done", 0))


def mark_step(store: RunStore, step: int) -> None:
    """Record that learning step ``step`` (a probe stage or a search round) is finished, so a resume skips it."""
    store.set_meta("learning_steps_done", step + 1)


def all_probes_weak(metric: str, record: dict[str, Any]) -> str | None:
    """The warning for a fit on probes that all learned (almost) nothing: the surrogate is then
    fitted to noise, and the search it steers is no better than a random one."""
    probes, weak = int(record.get("probes", 0)), int(record.get("weak", 0))
    if not probes or weak < probes:
        return None
    return (
        f"every one of the {probes} probes of '{metric}' is weak (it predicts one class, or its validation ROC AUC is within noise of 0.5): "
        "the surrogate is fitted to noise and will not steer the search. Give the students more to learn from "
        "(more labelled or unlabelled data, a larger transfer set), or longer probes (estimators.accuracy.options.probe_epochs, probe_examples; "
        "with method: supernet, supernet_epochs)"
    )
