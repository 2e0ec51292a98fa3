"""Probes: short, real distillations that measure a configuration for the ``accuracy`` estimator.

A probe distils the configuration's student for ``probe_epochs`` epochs on the first
``probe_examples`` examples of the distillation split and returns the best validation score:
accuracy for defect, F1 for clone, or with ``probe_score: auc`` the area under the ROC curve
(a promoted probe of multi-fidelity: ``promote_epochs`` on ``promote_examples``). The test split
is never touched. A ``ProbeTask`` carries everything it needs, so the solver's executor can run
it in a worker process or on Dask.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from avatar.specs import Spec

from ._pipeline import Distillation
from .data import TaskData
from .distill import TeacherOutputs, distil, methods_of
from .students import logit_weakness, predict_logits, primary_metric

__all__ = ["ProbeTask", "DistillationProber"]


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
            )
            valid = predict_logits(distilled.model, distilled.valid, distilled.settings.batch_size, distilled.settings.device)
        result = distilled.result
        weak = logit_weakness(valid, distilled.valid.labels.tolist(), seed=self.spec.train.seed)
        return {self.metric: float(result.best_metric), "epochs_run": float(result.epochs_run), "weak": weak}

    def picklable(self) -> ProbeTask:
        return self


class DistillationProber:
    """Makes probe tasks from a prepared distillation (data, teacher logits)."""

    def __init__(self, distillation: Distillation) -> None:
        # Probes never see the test split. The labelled part stays: tokenizers are trained on
        # the whole training part, like the realised students' (and shared with them).
        self.data = replace(distillation.data, test=[])
        self.distillation = distillation

    @property
    def source(self) -> str:
        """What a probe's value depends on beyond its fidelity: the teacher, the data and the
        distillation settings. Stored with every probe, so a probe distilled from another teacher
        or other data is never reused (and a run does not resume with them)."""
        train = self.distillation.spec.train
        parts = [self.distillation.teacher.fingerprint, self.distillation.data.fingerprint, train.temperature, train.hard_label_weight, train.patience, train.seed]
        methods = methods_of(self.distillation.spec, {}, self.distillation.outputs.methods if self.distillation.outputs is not None else None)  # as prepare_distillation resolved them
        if methods != {"logits": 1.0}:  # logits alone (the default until 2026-12) leaves the key as it was, so older runs resume
            parts.append(sorted(methods.items()))
        if train.transfer_pairs:  # probes distil on the transfer pairs too (none: the key as it was)
            parts.append(["transfer_pairs", train.transfer_pairs])
        if train.pretrain_epochs:
            parts.append(["pretrain_epochs", train.pretrain_epochs])
        return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]

    def task(self, metric: str, estimator: Any, config: dict[str, Any], fidelity: Mapping[str, Any] | None = None) -> ProbeTask:
        """The probe of ``config`` at ``fidelity`` (the estimator's short probe by default)."""
        fidelity = fidelity or estimator.fidelity
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
