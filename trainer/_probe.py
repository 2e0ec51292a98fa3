"""Probes: short, real distillations that measure a configuration for the ``accuracy`` estimator.

A probe distils the configuration's student for ``probe_epochs`` epochs on the first
``probe_examples`` examples of the distillation split and returns the best validation score:
accuracy for defect, F1 for clone, or with ``probe_score: auc`` the area under the ROC curve
(a promoted probe of multi-fidelity: ``promote_epochs`` on ``promote_examples``). The test split
is never touched. A ``ProbeTask`` carries everything it needs, so the solver's executor can run
it in a worker process or on Dask.

With ``method: supernet`` (``SubnetworkProbe``) the prober first distils one super-student
(``prepare``, once per run and cached across runs; in this process, or on a worker of a Dask
executor, where its probes run), and a probe scores a configuration's sub-network on the
validation split.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from avatar import objectives
from avatar.specs import Spec

from ._distillation import Distillation
from .data import TaskData
from .distill import TeacherOutputs, distil, methods_of
from .students import logit_weakness, predict_logits, primary_metric
from .supernet import ELASTIC, Supernet, SupernetSettings, score_subnetwork, train_supernet

__all__ = ["ProbeTask", "SubnetworkProbe", "SupernetTraining", "DistillationProber"]

_POOL_SEED_OFFSET = 104729  # the super-student's pool is not the initial design


@dataclass(frozen=True)
class SupernetPlan:
    """What the super-student of one learned metric is distilled on (its cache key)."""

    pool: tuple[dict[str, Any], ...]
    limits: dict[str, Any]
    settings: SupernetSettings


_loaded: dict[str, Supernet] = {}  # one super-student per process, read once


def _loaded_key(teacher_fingerprint: str, data: TaskData, plan: SupernetPlan) -> str:
    return repr((teacher_fingerprint, data.fingerprint, plan))


def _epoch_line(metric: str, plan: SupernetPlan, record: Mapping[str, Any]) -> str:
    scores = ", ".join(f"{name.removeprefix('valid_')} sub-network validation AUC {record[name].get('auc', float('nan')):.3f}" for name in ("valid_largest", "valid_smallest"))
    return f"{metric}: super-student epoch {int(record['epoch']) + 1}/{plan.settings.epochs}: loss {record['loss']:.4f}; {scores}"


@dataclass(frozen=True)
class SupernetTraining:
    """The super-student's distillation (picklable): in this process, or as a task of an
    executor whose workers are remote, where the probes that read it run."""

    spec: Spec
    data: TaskData
    teacher: TeacherOutputs
    teacher_fingerprint: str
    plan: SupernetPlan
    cache_dir: str
    timeout: float | None = None

    def train(self, **callbacks: Any) -> Supernet:
        return train_supernet(self.spec, self.data, self.teacher, self.teacher_fingerprint, self.plan.pool, Path(self.cache_dir), self.plan.settings, limits=self.plan.limits, **callbacks)

    def run(self) -> Mapping[str, Any]:
        """As an executor's task: trained, or read from the cache; its history per epoch."""
        supernet = self.train()
        _loaded.clear()  # the probes of this worker process score on it without reading it again
        _loaded[_loaded_key(self.teacher_fingerprint, self.data, self.plan)] = supernet
        return {"history": supernet.history}

    def on(self, executor: Any) -> list[dict[str, Any]]:
        """Distilled as a task of ``executor``, awaited; its history (raises ``RuntimeError``
        naming the worker's error when it failed)."""
        executor.submit(0, self)
        history: list[dict[str, Any]] = []
        for _, result in executor.results():
            if result.error is not None:
                raise RuntimeError(f"the super-student's distillation failed on a worker: {result.error}")
            history = list(result.metrics["history"])
        return history

    def picklable(self) -> SupernetTraining:
        return self


@dataclass(frozen=True)
class SubnetworkProbe:
    """One configuration scored by its sub-network of the trained super-student (picklable)."""

    metric: str
    spec: Spec
    config: dict[str, Any]
    data: TaskData
    teacher: TeacherOutputs
    teacher_fingerprint: str
    plan: SupernetPlan
    score: str | None
    cache_dir: str
    finetune_steps: int = 0  # of the sub-network's own training before it is scored
    timeout: float | None = None

    def run(self) -> Mapping[str, Any]:
        supernet = self._supernet()
        metric = self.score or primary_metric(self.spec.task.kind, self.spec.task.num_labels)
        config = objectives.Context.from_spec(self.spec).resolve(self.config)
        value, weak = score_subnetwork(supernet, config, metric, device=self.plan.settings.device, finetune_steps=self.finetune_steps)
        return {self.metric: value, "weak": weak}

    def _supernet(self) -> Supernet:
        key = _loaded_key(self.teacher_fingerprint, self.data, self.plan)
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = SupernetTraining(self.spec, self.data, self.teacher, self.teacher_fingerprint, self.plan, self.cache_dir).train()
        return _loaded[key]

    def picklable(self) -> SubnetworkProbe:
        return self


@dataclass(frozen=True)
class ProbeTask:
    """One probe (picklable): the spec, the configuration, the data and the teacher's outputs
    (its features travel as the path of their memory-mapped cache)."""

    metric: str
    spec: Spec
    config: dict[str, Any]
    data: TaskData
    teacher: TeacherOutputs
    epochs: int
    examples: int | None
    score: str | None  # None: the task's primary metric
    cache_dir: str
    device: str
    timeout: float | None = None

    def run(self) -> Mapping[str, Any]:
        with tempfile.TemporaryDirectory(prefix="avatar-probe-") as folder:
            distilled = distil(
                self.spec,
                self.config,
                self.data,
                self.teacher,
                Path(folder),
                Path(self.cache_dir),
                device=self.device,
                epochs=self.epochs,
                max_examples=self.examples,
                metric=self.score or primary_metric(self.spec.task.kind, self.spec.task.num_labels),
                pretrain_epochs=self.spec.train.pretraining_epochs(probe=True),
            )
            valid = predict_logits(distilled.model, distilled.valid, distilled.settings.batch_size, distilled.settings.device)
        result = distilled.result
        weak = logit_weakness(valid, distilled.valid.labels.tolist(), seed=self.spec.train.seed)
        return {self.metric: float(result.best_metric), "epochs_run": float(result.epochs_run), "weak": weak}

    def picklable(self) -> ProbeTask:
        return self


class DistillationProber:
    """Makes probe tasks from a prepared distillation (data, teacher logits)."""

    def __init__(self, distillation: Distillation, *, progress: Callable[[str], None] | None = None) -> None:
        # Probes never see the test split. The labelled part stays: tokenizers are trained on
        # the whole training part, like the realised students' (and shared with them).
        self.data = replace(distillation.data, test=[])
        self.distillation = distillation
        self.progress = progress
        self.plans: dict[str, SupernetPlan] = {}
        self.supernets: dict[str, Supernet] = {}  # each learned metric's, once prepared

    def prepare(self, metric: str, estimator: Any, space: Any, executor: Any = None) -> None:
        """Before the first probe: distil the super-student of a ``method: supernet`` estimator
        (read from the cache when it was), on a sample of ``space`` (a ``Space``) sized to its
        largest feasible configuration. With an ``executor`` whose workers are remote (Dask),
        it is distilled on one of them, into the cache its probes read; else in this process."""
        if not getattr(estimator, "uses_supernet", False) or metric in self.plans:
            return
        spec = self.distillation.spec
        context = objectives.Context.from_spec(spec)
        pool = tuple(context.resolve(config) for config in space.sample(estimator.supernet_pool, seed=spec.search.seed + _POOL_SEED_OFFSET))
        bounds = space.bounds()
        limits = {name: bounds[name].tight[1] for name in (*ELASTIC, "vocab_size") if name in bounds and bounds[name].tight is not None}
        plan = SupernetPlan(pool, limits, SupernetSettings(epochs=estimator.supernet_epochs, max_examples=estimator.supernet_examples, seed=spec.train.seed, device=self.distillation.device))
        say = self.progress or (lambda line: None)
        training = SupernetTraining(spec, self.data, self.distillation.outputs, self.distillation.teacher.fingerprint, plan, str(self.distillation.cache_dir))
        if getattr(executor, "remote", False):
            say(f"{metric}: distilling a super-student on a worker of the executor ({len(pool)} sampled configurations, {plan.settings.epochs} epoch(s)); cached once done")
            for record in training.on(executor):
                say(_epoch_line(metric, plan, record))
            self.plans[metric] = plan  # its probes read it from the cache, where they run
            return
        trained: list[int] = []

        def started(first_epoch: int) -> None:
            resumed = f", resumed at epoch {first_epoch + 1}" if first_epoch else ""
            say(f"{metric}: distilling a super-student (its sub-networks are every configuration) with {len(pool)} sampled configurations, {plan.settings.epochs} epoch(s){resumed}; cached once done")
            trained.append(first_epoch)

        supernet = training.train(on_start=started, on_epoch=lambda epoch, record: say(_epoch_line(metric, plan, record)))
        if not trained:
            say(f"{metric}: super-student read from the cache ({supernet.folder})")
        self.plans[metric], self.supernets[metric] = plan, supernet
        _loaded.clear()  # probes in this process (a serial run) score on it without reading it again
        _loaded[_loaded_key(self.distillation.teacher.fingerprint, self.data, plan)] = supernet

    @property
    def source(self) -> str:
        """What a probe's value depends on beyond its fidelity: the teacher, the data and the
        distillation settings. Stored with every probe, so a probe distilled from another teacher
        or other data is never reused (and a run does not resume with them)."""
        train = self.distillation.spec.train
        parts = [self.distillation.teacher.fingerprint, self.distillation.data.fingerprint, train.temperature, train.hard_label_weight, train.patience, train.seed]
        methods = methods_of(self.distillation.spec, {}, self.distillation.outputs.methods)  # as prepare_distillation resolved them
        if methods != {"logits": 1.0}:  # logits alone (the default until 2026-12) leaves the key as it was, so older runs resume
            parts.append(sorted(methods.items()))
        if self.distillation.transfer_pairs:  # probes distil on the transfer pairs too (none: the key as it was)
            parts.append(["transfer_pairs", self.distillation.transfer_pairs])
        if train.long_inputs != "truncate":  # probes read long functions as students do (truncate: the key as it was)
            parts.append(["long_inputs", train.long_inputs])
        if train.pretraining_epochs(probe=True):  # auto does not pretrain probes: the key as it was
            parts.append(["pretrain_epochs", train.pretraining_epochs(probe=True)])
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]

    def task(self, metric: str, estimator: Any, config: dict[str, Any], fidelity: Mapping[str, Any] | None = None) -> ProbeTask | SubnetworkProbe:
        """The probe of ``config`` at ``fidelity`` (the estimator's short probe by default)."""
        fidelity = fidelity or estimator.fidelity
        if fidelity.get("method") == "supernet":
            if metric not in self.plans:
                raise RuntimeError(f"the super-student of '{metric}' is not distilled yet: call prepare() first")
            score = None if fidelity.get("score", "primary") == "primary" else str(fidelity["score"])
            return SubnetworkProbe(
                metric,
                self.distillation.spec,
                dict(config),
                self.data,
                self.distillation.outputs,
                self.distillation.teacher.fingerprint,
                self.plans[metric],
                score,
                str(self.distillation.cache_dir),
                int(fidelity.get("finetune_steps", 0)),
            )
        return ProbeTask(
            metric,
            self.distillation.spec,
            dict(config),
            self.data,
            self.distillation.outputs,
            int(fidelity["epochs"]),
            fidelity.get("examples"),
            None if fidelity.get("score", "primary") == "primary" else str(fidelity["score"]),
            str(self.distillation.cache_dir),
            self.distillation.device,
        )
