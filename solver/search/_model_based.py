"""The model-based search for small budgets (``search.algorithm: surrogate``).

Each batch is chosen from candidates of the exact feasible space, scored with what is known:

* **Candidates**: a pool of uniform samples of the feasible space, refreshed every batch, and
  crossovers and mutations of the current front, repaired onto the space (the evolutionary
  algorithms' own operators). Configurations the search already knows are never candidates.
* **Objectives**: a metric whose estimator is closed-form or a calibrated model (``kind``
  ``analytic`` or ``predicted``) and declares itself ``cheap`` (``params``, ``size_mb``,
  ``gflops``, predicted latency) is computed exactly for every candidate, never modelled. A
  measured or learned metric (measured latency or energy, learned accuracy, a plugin that does
  not declare ``cheap``) is modelled by
  the forest surrogate of the learned ``accuracy`` (``Surrogate``), fitted on the evaluations
  so far: after every batch while they are few, then whenever they have grown by a tenth;
  the spread of its trees is the uncertainty. Its inputs are the configuration and the
  closed forms known for every candidate (``params``, ``gflops``, ``size_mb`` and the exact
  metrics above, as logarithms): accuracy and cost follow a student's compute and size more
  simply than any one parameter, and a forest fitted on a few dozen points finds a split on
  one descriptor sooner than on the several parameters it combines.
* **Acquisition**: random-scalarisation lower confidence bounds, as ParEGO scalarises: for each
  place in the batch a random weight vector, and the candidate with the lowest augmented
  Tchebycheff value of its optimistic objectives (mean minus one spread, normalised) wins.
  Expected hypervolume improvement would cost one hypervolume per candidate and grows with
  the front and the number of objectives; a scalarisation costs one pass over the pool
  whatever the front, and different weights spread a batch over the front. Candidates that
  a known front point dominates even optimistically cannot improve the front and are
  passed over while others remain.
* **Post-evaluation constraints**: their metrics are predicted the same way; candidates
  predicted to break one wait until no other remains.

A batch is the size of the executor's workers, so each worker gets one evaluation. Everything
is drawn from generators seeded by the search's seed, and each batch depends only on the
evaluations of the batches before it: a resumed run proposes the same batches, and the store
answers the ones already evaluated.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from avatar import objectives

from ..space import Space
from ._front import GrowingFront
from ._pareto import as_minimisation
from ._problem import AvatarProblem, GridVariator
from ._store import Evaluation
from ._violation import violations_at

__all__ = ["CandidatePool", "ModelBasedProposer", "modelled_metrics", "EXACT_KINDS", "INITIAL_DESIGN"]

EXACT_KINDS = ("analytic", "predicted")
DESCRIPTORS = ("params", "gflops", "size_mb")  # built-in closed forms given to the models as inputs
INITIAL_DESIGN = 10  # uniform points before the first model, when a metric is modelled
POOL_START = 1000
POOL_FRESH = 32
POOL_MAX = 3000
RESERVE = 2000  # uniform samples drawn at once (one draw costs about as much as a thousand points)
VARIATIONS = 2  # crossovers of front points per batch, two children each (each child is repaired)
TREES = 32
# Refit after every batch while evaluations are few (30), then when they have grown by a tenth (or
# by 25): a model of 400 points learns little from the 401st, and each fit costs a forest.
REFIT_ALWAYS_BELOW = 30
REFIT_GROWTH = 1.1
REFIT_EVERY = 25
OPTIMISM = 1.0  # spreads subtracted from a modelled mean
AUGMENTATION = 0.05  # the augmented Tchebycheff's weighted sum
LIMIT_CHECKS = 200  # candidates checked against predicted post-evaluation limits per pick
DESCRIPTOR_FLOOR = 1e-12  # a descriptor at or below this (or undefined) is taken as this, before its logarithm


def modelled_metrics(space: Space, metrics: Sequence[str]) -> list[str]:
    """The metrics the model-based search would model: learned or measured (not closed forms,
    nor parameters and derived names, which the configuration gives)."""
    return [name for name in metrics if name in space.estimators and not _computed_exactly(space.estimators[name])]


def _computed_exactly(estimator: objectives.Estimator) -> bool:
    """Closed forms and calibrated models whose class vouches that they are cheap; anything
    else (measured, learned, a plugin that does not say) is modelled, since the pool's values
    are computed in this process, with no timeout, for thousands of candidates."""
    return getattr(estimator, "kind", "analytic") in EXACT_KINDS and bool(getattr(estimator, "is_cheap", False))


def _descriptors(space: Space, exact: Sequence[str]) -> dict[str, objectives.Estimator]:
    """The closed forms given to the models as inputs: the built-in ``DESCRIPTORS`` and the
    metrics computed exactly, where registered for the spec and cheap."""
    found: dict[str, objectives.Estimator] = {}
    for name in dict.fromkeys([*DESCRIPTORS, *exact]):
        try:
            estimator = space.estimators.get(name) or objectives.get(name, space.spec)
        except Exception:  # not registered, or not for this spec's family
            continue
        if _computed_exactly(estimator):
            found[name] = estimator
    return found


class CandidatePool:
    """Feasible candidates with their exactly computed metrics, keyed by grid positions."""

    def __init__(self, space: Space, problem: AvatarProblem, exact: Sequence[str]) -> None:
        self.space, self.problem, self.exact = space, problem, tuple(exact)
        self.configs: dict[tuple, dict[str, Any]] = {}
        self.values: dict[tuple, np.ndarray] = {}  # the exact metrics, in the order of ``exact``

    def add(self, configs: Sequence[Mapping[str, Any]]) -> None:
        for config in configs:
            key = tuple(self.problem.positions(dict(config)))
            if key in self.configs:
                continue
            try:
                values = objectives.evaluate(self.space.spec, config, self.exact, context=self.space.context, estimators=self.space.estimators) if self.exact else {}
            except Exception:  # an estimator that cannot take this point: not a candidate
                continue
            self.configs[key] = dict(config)
            self.values[key] = np.array([float(values[name]) for name in self.exact])
        for key in list(self.configs)[: max(0, len(self.configs) - POOL_MAX)]:  # the oldest go first
            self.discard(key)

    def discard(self, key: tuple) -> None:
        self.configs.pop(key, None)
        self.values.pop(key, None)

    def keys(self) -> list[tuple]:
        return list(self.configs)


class ModelBasedProposer:
    """Chooses each batch of the model-based search (see the module docstring)."""

    def __init__(
        self,
        space: Space,
        problem: AvatarProblem,
        metrics: Sequence[str],
        objective_names: Sequence[str],
        directions: Sequence[str],
        post_constraints: Sequence[Any],
        seed: int,
    ) -> None:
        self.space, self.problem = space, problem
        self.objective_names, self.directions = list(objective_names), list(directions)
        self.post = list(post_constraints)
        self.measured_breaks: dict[str, bool] = {}
        # an objective may also be a parameter or a derived name: the configuration gives it
        self.modelled = modelled_metrics(space, metrics)
        self.exact = [name for name in metrics if name not in self.modelled]
        self.columns = self.exact + self.modelled
        self.pool = CandidatePool(space, problem, self.exact)
        self.rng = np.random.default_rng(seed)
        self.reserve: list[dict[str, Any]] = []
        self.variation_rng = random.Random(f"variation:{seed}")
        self.seed = seed
        self.encoder = objectives.Encoder(space.parameters)  # the forest surrogate's own encoding
        self.descriptors = _descriptors(space, self.exact) if self.modelled else {}
        self.encodings: dict[Any, np.ndarray] = {}
        self.models: list[objectives.Surrogate] = []
        self.predicted: dict[tuple, int] = {}  # a candidate's row of predictions (means, then spreads)
        self.predictions = np.empty((0, 2 * len(self.modelled)))
        self.fitted_on = 0
        self.fits = 0
        self.front, self.feasible_front = GrowingFront(), GrowingFront()  # over every measurement, and over those meeting the limits

    def propose(self, known: Sequence[Evaluation], is_known: Callable[[tuple], bool], size: int) -> list[dict[str, Any]]:
        """Up to ``size`` new feasible configurations (fewer when the space runs out)."""
        measured = [evaluation for evaluation in known if evaluation.ok]
        known_points = self._objective_points(measured)
        self._refresh(measured, known_points, is_known)  # known points leave the pool there
        keys = self.pool.keys()
        if not keys:
            return []
        means, spreads = self._predict(keys, measured)
        if means is None:  # too few measurements to model: a uniform initial design
            order = self.rng.permutation(len(keys))[: max(size, INITIAL_DESIGN)]
            return [self.pool.configs[keys[index]] for index in sorted(order)]
        objective_columns = [self.columns.index(name) for name in self.objective_names]
        optimistic = as_minimisation(means[:, objective_columns], self.directions) - OPTIMISM * spreads[:, objective_columns]
        improving = self._may_improve(optimistic, known_points, measured)
        chosen: list[int] = []
        scaled = self._scaled(optimistic, known_points)
        for _ in range(min(size, len(keys))):
            weights = self.rng.dirichlet(np.ones(len(self.objective_names)))
            weighted = scaled * weights
            score = weighted.max(axis=1) + AUGMENTATION * weighted.sum(axis=1)
            score[chosen] = np.inf
            pick = self._best_allowed(keys, means, score, improving)
            if pick is None:
                break
            chosen.append(pick)
        return [self.pool.configs[keys[index]] for index in chosen]

    def _best_allowed(self, keys: Sequence[tuple], means: np.ndarray, score: np.ndarray, improving: np.ndarray) -> int | None:
        """The best-scored candidate that may improve the front and is predicted to meet every
        post-evaluation limit; failing that, the best that may improve; then the best.
        Predicted limits are checked in score order, for the first ``LIMIT_CHECKS`` only."""
        order = [index for index in np.argsort(score, kind="stable") if np.isfinite(score[index])]
        if not order:
            return None
        hopeful = [index for index in order if improving[index]] or order
        for index in hopeful[:LIMIT_CHECKS]:
            predicted = {name: float(value) for name, value in zip(self.columns, means[index])}
            if not self._breaks(self.pool.configs[keys[index]], predicted):
                return int(index)
        return int(hopeful[0])

    def _may_improve(self, optimistic: np.ndarray, known_points: np.ndarray, measured: Sequence[Evaluation]) -> np.ndarray:
        """Candidates whose optimistic objectives no point of the feasible front dominates."""
        rows = self.feasible_front([evaluation.key for evaluation in measured], known_points, lambda index: not self._measured_breaks(measured[index]))
        if not len(rows):
            return np.ones(len(optimistic), dtype=bool)
        front = known_points[rows]
        return ~np.any(np.all(front[None, :, :] <= optimistic[:, None, :], axis=2), axis=1)

    # -- the pool ------------------------------------------------------------------------------

    def _refresh(self, measured: Sequence[Evaluation], known_points: np.ndarray, is_known: Callable[[tuple], bool]) -> None:
        """New uniform samples and variations of the front; known points leave the pool."""
        fresh = POOL_START if not self.pool.configs else POOL_FRESH
        if len(self.reserve) < fresh:
            self.reserve += self.space.sample(RESERVE, seed=int(self.rng.integers(2**31)))
        self.pool.add(self.reserve[:fresh])
        del self.reserve[:fresh]
        self.pool.add(self._variations(measured, known_points, is_known))
        for key in [key for key in self.pool.keys() if is_known(key)]:
            self.pool.discard(key)

    def _variations(self, measured: Sequence[Evaluation], known_points: np.ndarray, is_known: Callable[[tuple], bool]) -> list[dict[str, Any]]:
        if len(measured) < 2:
            return []
        front = [measured[index] for index in self.front([evaluation.key for evaluation in measured], known_points)]
        parents = front if len(front) >= 2 else list(measured)
        variator = GridVariator(self.problem, self.variation_rng, is_known, lambda key: None)
        children = []
        for _ in range(VARIATIONS):
            pair = self.variation_rng.sample(parents, 2)
            children += variator.evolve([self.problem.solution(evaluation.config) for evaluation in pair])
        return [self.problem.config(child.variables) for child in children]

    # -- the models ----------------------------------------------------------------------------

    def _predict(self, keys: Sequence[tuple], measured: Sequence[Evaluation]) -> tuple[np.ndarray | None, np.ndarray]:
        """Means and spreads of every metric for the candidates: exact ones with no spread."""
        exact = np.array([self.pool.values[key] for key in keys], dtype=float).reshape(len(keys), len(self.exact))
        if not self.modelled:
            return exact, np.zeros_like(exact)
        usable = [evaluation for evaluation in measured if all(np.isfinite(evaluation.metrics.get(name, np.nan)) for name in self.modelled)]
        if len(usable) < 2:
            return None, np.empty(0)
        if len(usable) >= self.fitted_on * REFIT_GROWTH or len(usable) - self.fitted_on >= REFIT_EVERY or len(usable) <= REFIT_ALWAYS_BELOW:
            self._fit(usable)
        missing = [key for key in keys if key not in self.predicted]
        if missing:
            rows = self._encoded(missing, [self.pool.configs[key] for key in missing])
            outputs = [model.predict_features(rows) for model in self.models]
            block = np.column_stack([mean for mean, _ in outputs] + [spread for _, spread in outputs])
            self.predicted.update((key, len(self.predictions) + index) for index, key in enumerate(missing))
            self.predictions = np.vstack([self.predictions, block])
        table = self.predictions[[self.predicted[key] for key in keys]]
        width = len(self.modelled)
        return np.hstack([exact, table[:, :width]]), np.hstack([np.zeros_like(exact), table[:, width:]])

    def _fit(self, usable: Sequence[Evaluation]) -> None:
        """One forest per modelled metric on every usable evaluation; predictions start over."""
        rows = self._encoded([evaluation.key for evaluation in usable], [evaluation.config for evaluation in usable])
        self.models = [
            objectives.Surrogate(self.space.parameters, seed=self.seed, trees=TREES).fit_features(rows, [float(evaluation.metrics[name]) for evaluation in usable]) for name in self.modelled
        ]
        self.fitted_on = len(usable)
        self.predicted = {}
        self.predictions = np.empty((0, 2 * len(self.modelled)))
        self.fits += 1

    def _encoded(self, keys: Sequence[Any], configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The models' inputs for these configurations: the encoder's row and the logarithms of
        the descriptors, each configuration encoded once per run."""
        new = [index for index, key in enumerate(keys) if key not in self.encodings]
        if new:
            rows = self.encoder.encode([configs[index] for index in new])
            described = np.array([self._described(configs[index]) for index in new]).reshape(len(new), len(self.descriptors))
            for index, row in zip(new, np.hstack([rows, described])):
                self.encodings[keys[index]] = row
        return np.array([self.encodings[key] for key in keys])

    def _described(self, config: Mapping[str, Any]) -> list[float]:
        """The descriptors' logarithms; one that cannot take this point, or is not positive and
        finite there, gives the floor (a value of its own, which a tree can split off)."""
        row = []
        for name, estimator in self.descriptors.items():
            try:
                value = float(objectives.evaluate(self.space.spec, config, [name], context=self.space.context, estimators={name: estimator})[name])
            except Exception:
                value = math.nan
            row.append(math.log(value) if math.isfinite(value) and value > DESCRIPTOR_FLOOR else math.log(DESCRIPTOR_FLOOR))
        return row

    def _objective_points(self, measured: Sequence[Evaluation]) -> np.ndarray:
        values = np.array([[evaluation.metrics[name] for name in self.objective_names] for evaluation in measured], dtype=float)
        return as_minimisation(values.reshape(len(measured), len(self.objective_names)), self.directions)

    def _measured_breaks(self, evaluation: Evaluation) -> bool:
        """Whether an evaluation broke a post-evaluation limit (computed once per evaluation)."""
        if evaluation.key not in self.measured_breaks:
            self.measured_breaks[evaluation.key] = self._breaks(evaluation.config, evaluation.metrics)
        return self.measured_breaks[evaluation.key]

    def _breaks(self, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> bool:
        return bool(self.post) and any(amount > 0 for amount in violations_at(self.post, self.space.context, config, metrics))

    def _scaled(self, points: np.ndarray, known_points: np.ndarray) -> np.ndarray:
        """Each objective scaled to [0, 1] over the candidates and the measured points."""
        every = np.vstack([points, known_points]) if len(known_points) else points
        low, high = every.min(axis=0), every.max(axis=0)
        return (points - low) / np.where(high > low, high - low, 1.0)
