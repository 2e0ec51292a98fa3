"""``accuracy``: learned from probes; ``accuracy_proxy``: a zero-cost stand-in.

``accuracy`` predicts the task's score (accuracy for ``defect``, F1 for ``clone``; or, with
``probe_score: auc``, the threshold-free ROC AUC) on the validation split after a *probe*: a short, real distillation of the configuration (a few epochs
on a subset of the distillation split, set by ``probe_epochs`` and ``probe_examples``). The
solver runs the probes (an initial design of ``initial`` feasible configurations, then
``per_round`` candidates of the predicted front after each of ``rounds`` searches), fits the
surrogate on them, and reports its cross-validated Spearman correlation and mean absolute error.
Each prediction carries its uncertainty as the side figure ``accuracy_std``.

Multi-fidelity (``promote``): each stage's probes are short; the best ``promote`` share of them
(by their short score) is probed again, longer (``promote_epochs`` on ``promote_examples``). The
surrogate learns from both, with the fidelity as one more input, and predicts the longer probe's
score: many configurations are screened cheaply, and the ones that matter are measured well.

``accuracy_proxy`` is *not* an accuracy: it counts non-embedding parameters (the capacity proxy
of earlier research). It costs nothing and is exact, and every output labels it a proxy.

With ``method: supernet`` a probe is not a distillation of its own: one weight-sharing
super-student is distilled once (``supernet_epochs`` on ``supernet_examples`` examples, sandwich
rule, on a sample of ``supernet_pool`` feasible configurations; ``avatar.trainer.supernet``), and a configuration's
probe scores its sub-network on the validation split, in about a second. Probes being cheap,
the initial design and each round probe more (64 and 16 by default). With
``supernet_finetune_steps: N`` a copy of the sub-network first trains N steps with the
configuration's own learning rate, batch size and dropout, which a shared weight cannot show.

``method: auto`` (the default) is to take whichever estimator ranks real students best per
unit of compute. Measured against fully distilled students (bench/README, *Against real
students*), the super-student did on BigCloneBench and probes did on ``python-clones-hard``, so
``auto`` is probes, with the same fidelity (stored probes stay valid), and says why.

``method: supernet+probes`` stacks the two (``_calibrated``): every configuration of a stage is
scored by its sub-network, and a spread of them (``promote``, a quarter by default: evenly
spaced in rank of their sub-network scores) is also probed for real. A surrogate learns the
sub-network scores; a ridge fitted on the real probes maps its prediction and the training
parameters (learning rate, batch size, dropout: what a sub-network does not show) to a real
probe's score, which is what is predicted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from avatar.specs import PAIR_KINDS

from ._base import Context, Estimator, EstimatorError, Measurement
from ._calibrated import CalibratedSurrogate, cross_validate_calibrated
from ._closed_form import ClosedFormEstimator
from ._surrogate import SURROGATE_KINDS, CrossValidation, Surrogate, cross_validate

__all__ = ["AccuracyEstimator", "AccuracyProxyEstimator"]


@dataclass(frozen=True)
class _FidelityInput:
    """The probe's fidelity as one more input of the surrogate (0 short, 1 promoted)."""

    name: str = "probe_fidelity"
    values: tuple[int, ...] = (0, 1)


FIDELITY = _FidelityInput()
METHODS = ("auto", "probes", "supernet", "supernet+probes")
SUPERNET_METHODS = ("supernet", "supernet+probes")  # a super-student is distilled first
CALIBRATION_SHARE = 0.25  # supernet+probes: the share of each stage's configurations probed for real


# What ``method: auto`` is, and why. It is to take the estimator that ranks real students best
# per unit of compute; measured against fully distilled students (bench/README, *Against real
# students*), neither did on both sets, so it stays with probes.
AUTO_METHOD = "probes"
AUTO_REASON = "auto: probes; against real students neither they nor the super-student ranked best on both BigCloneBench and python-clones-hard (bench/README)"


class AccuracyEstimator(Estimator):
    """Validation score of a short distillation, predicted by a surrogate fitted on probes."""

    name = "accuracy"
    unit = "validation score of a probe (accuracy for defect, F1 for clone; ROC AUC with probe_score: auc)"
    direction = "maximize"
    kind = "learned"

    def __init__(
        self,
        *,
        method: str = "auto",
        initial: int | None = None,
        rounds: int = 2,
        per_round: int | None = None,
        probe_epochs: int = 2,
        probe_examples: int | None = 512,
        surrogate: str = "forest",
        folds: int = 5,
        probe_score: str = "primary",
        promote: float | None = None,
        promote_epochs: int | None = None,
        promote_examples: int | None = -1,
        supernet_epochs: int = 2,
        supernet_examples: int | None = 512,
        supernet_pool: int = 256,
        supernet_finetune_steps: int = 0,
    ) -> None:
        if method not in METHODS:
            raise EstimatorError(f"option 'method' must be one of {', '.join(METHODS)} (short distillations, sub-networks of one weight-sharing super-student, or both), got {method!r}", "accuracy")
        self.auto_reason: str | None = None
        if method == "auto":
            method, self.auto_reason = AUTO_METHOD, AUTO_REASON
        cheap = method in SUPERNET_METHODS  # a probe of a sub-network costs a validation pass
        calibrated = method == "supernet+probes"
        if calibrated and (promote_epochs is not None or promote_examples != -1):
            raise EstimatorError("with method: supernet+probes the real probes are probe_epochs on probe_examples; promote_epochs and promote_examples do not apply", "accuracy")
        if calibrated and promote == 0:
            raise EstimatorError("method: supernet+probes probes a share of its configurations for real: option 'promote' must be above 0 (default 0.25)", "accuracy")
        promote = (CALIBRATION_SHARE if calibrated else 0.0) if promote is None else promote
        initial = (64 if cheap else 16) if initial is None else initial
        per_round = (16 if cheap else 4) if per_round is None else per_round
        if supernet_examples is not None and (not isinstance(supernet_examples, int) or isinstance(supernet_examples, bool) or supernet_examples < 1):
            raise EstimatorError(f"option 'supernet_examples' must be a positive integer, or null for every distillation example, got {supernet_examples!r}", "accuracy")
        for option, value, least in (("supernet_epochs", supernet_epochs, 1), ("supernet_pool", supernet_pool, 2), ("supernet_finetune_steps", supernet_finetune_steps, 0)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise EstimatorError(f"option '{option}' must be an integer of at least {least}, got {value!r}", "accuracy")
        if method == "supernet" and promote:
            raise EstimatorError(
                "option 'promote' (multi-fidelity probes) does not apply to method: supernet, whose probes all read one super-student (method: supernet+probes probes a share for real)", "accuracy"
            )
        if surrogate not in SURROGATE_KINDS:
            raise EstimatorError(f"unknown surrogate '{surrogate}'; choose from {', '.join(SURROGATE_KINDS)}", "accuracy")
        if probe_score not in ("primary", "auc"):
            raise EstimatorError(f"probe_score must be 'primary' (accuracy for defect, F1 for clone) or 'auc', got {probe_score!r}", "accuracy")
        for option, value, least in (("initial", initial, 4), ("rounds", rounds, 1), ("per_round", per_round, 0), ("probe_epochs", probe_epochs, 1)):
            if not isinstance(value, int) or value < least:
                raise EstimatorError(f"option '{option}' must be an integer of at least {least}, got {value!r}", "accuracy")
        if not isinstance(promote, (int, float)) or isinstance(promote, bool) or not 0.0 <= promote <= 1.0:
            raise EstimatorError(f"option 'promote' must be a share between 0 and 1 (of each stage's probes probed again, longer), got {promote!r}", "accuracy")
        promote_epochs = 2 * probe_epochs if promote_epochs is None else promote_epochs
        if not isinstance(promote_epochs, int) or promote_epochs < 1:
            raise EstimatorError(f"option 'promote_epochs' must be a positive integer, got {promote_epochs!r}", "accuracy")
        if promote_examples == -1:  # not given: twice the short probe's examples
            promote_examples = None if probe_examples is None else 2 * probe_examples
        if calibrated:  # the second level is a real probe, as method: probes makes it
            promote_epochs, promote_examples = probe_epochs, probe_examples
        elif promote > 0 and (promote_epochs, promote_examples) == (probe_epochs, probe_examples):
            raise EstimatorError("a promoted probe must be longer than a short one: set promote_epochs or promote_examples", "accuracy")
        self.method_name = method
        self.supernet_epochs = supernet_epochs
        self.supernet_pool = supernet_pool
        self.supernet_examples = supernet_examples
        self.supernet_finetune_steps = supernet_finetune_steps
        self.promote = float(promote)
        self.promote_epochs = promote_epochs
        self.promote_examples = promote_examples
        self.initial = initial
        self.rounds = rounds
        self.per_round = per_round
        self.probe_epochs = probe_epochs
        self.probe_examples = probe_examples
        self.surrogate = surrogate
        self.folds = folds
        self.probe_score = probe_score
        self.surrogate_: Surrogate | CalibratedSurrogate | None = None
        self.validation_: CrossValidation | None = None
        self.levels_: list[int] = [0]

    def score_name(self, task_kind: str, num_labels: int = 2) -> str:
        """What a probe of this task measures, by its real name (for plots and tables): ROC AUC
        with ``probe_score: auc``, else the task's primary metric (F1 for pairs and for more
        than two labels, where it is macro-F1; accuracy for defect)."""
        if self.probe_score == "auc":
            return "ROC AUC"
        if num_labels > 2:
            return "macro-F1"
        return "F1" if task_kind in PAIR_KINDS else "accuracy"

    @property
    def uses_supernet(self) -> bool:
        """Whether a super-student is distilled before the first probe."""
        return self.method_name in SUPERNET_METHODS

    @property
    def calibrated(self) -> bool:
        """Whether real probes calibrate the super-student's scores (``supernet+probes``)."""
        return self.method_name == "supernet+probes"

    def _fidelity(self, epochs: int, examples: int | None, *, sub_network: bool = False) -> dict[str, Any]:
        fidelity: dict[str, Any] = {"epochs": epochs, "examples": examples}
        if sub_network:
            fidelity = {"method": "supernet", "epochs": self.supernet_epochs, "examples": self.supernet_examples, "pool": self.supernet_pool}
            if self.supernet_finetune_steps:  # none: the fidelity as it was, so stored scores stay valid
                fidelity["finetune_steps"] = self.supernet_finetune_steps
        if self.probe_score != "primary":
            fidelity["score"] = self.probe_score
        return fidelity

    @property
    def fidelity(self) -> dict[str, Any]:
        """What one probe is (stored with every probe; probes of another fidelity are not reused)."""
        return self._fidelity(self.probe_epochs, self.probe_examples, sub_network=self.uses_supernet)

    @property
    def promoted_fidelity(self) -> dict[str, Any] | None:
        """What a promoted probe is (longer; with ``supernet+probes``, a real one), or None
        without a second level."""
        return self._fidelity(self.promote_epochs, self.promote_examples) if self.promote > 0 else None

    def to_promote(self, values: Sequence[float], count: int) -> list[int]:
        """Which of a stage's first-level probes (by their ``values``) to probe at the second
        level: the best ``count`` for multi-fidelity (the ones that matter, measured well); for
        ``supernet+probes``, ``count`` evenly spaced in rank, so that the ridge learns the
        real score over the whole range of sub-network scores."""
        order = sorted(range(len(values)), key=lambda index: -values[index])
        count = min(count, len(order))
        if not self.calibrated or count < 2:
            return order[:count]
        return [order[round(position * (len(order) - 1) / (count - 1))] for position in range(count)]

    @property
    def fidelities(self) -> list[dict[str, Any]]:
        """The fidelities of this estimator's probes, shortest first."""
        return [self.fidelity] + ([self.promoted_fidelity] if self.promoted_fidelity else [])

    def fit(
        self,
        parameters: Sequence[Any],
        configs: Sequence[Mapping[str, Any]],
        values: Sequence[float],
        *,
        seed: int = 0,
        levels: Sequence[int] | None = None,
    ) -> CrossValidation | None:
        """Fit on measured probes; cross-validate first when there are enough of them.

        ``levels`` gives each probe's fidelity (0 short, 1 promoted); with two levels the
        fidelity is an input of the surrogate, and predictions are for the promoted probe.
        """
        groups = None
        self.levels_ = sorted(set(levels)) if levels is not None else [0]
        if self.calibrated and len(self.levels_) > 1:
            assert levels is not None
            self.surrogate_ = CalibratedSurrogate(parameters, self.surrogate, seed=seed).fit(configs, values, levels)  # type: ignore[arg-type]
            self.validation_ = cross_validate_calibrated(self.surrogate_, configs, values, levels, folds=self.folds, seed=seed)
            self.levels_ = [0]  # predicts the real probe without a fidelity input
            return self.validation_
        if len(self.levels_) > 1:
            assert levels is not None
            groups = [repr(sorted(config.items())) for config in configs]
            configs = [{**config, FIDELITY.name: level} for config, level in zip(configs, levels)]
            parameters = [*parameters, FIDELITY]
        self.validation_ = cross_validate(parameters, configs, values, self.surrogate, folds=self.folds, seed=seed, groups=groups) if len(values) >= 4 else None  # type: ignore[arg-type]
        self.surrogate_ = Surrogate(parameters, self.surrogate, seed=seed).fit(configs, values)  # type: ignore[arg-type]
        return self.validation_

    def evaluate(self, config: Mapping[str, Any], context: Context) -> Measurement:
        return self.evaluate_many([config], context)[0]

    def evaluate_many(self, configs: Sequence[Mapping[str, Any]], context: Context) -> list[Measurement]:  # type: ignore[override]
        """Predictions for many configurations at once (one pass of the surrogate)."""
        if self.surrogate_ is None:
            raise EstimatorError(
                "accuracy is learned from probes (short distillations) that 'solve' runs before the search; it needs train.teacher and task.data, and cannot be evaluated on its own",
                "accuracy",
            )
        if len(self.levels_) > 1:  # predict the promoted probe
            configs = [{**config, FIDELITY.name: max(self.levels_)} for config in configs]
        mean, std = self.surrogate_.predict(configs)
        return [Measurement(float(value), {"std": float(spread)}) for value, spread in zip(mean, std)]

    def method(self, context: Context) -> str:
        score = self.score_name(context.task_kind, context.num_labels)
        probe = f"probes of {self.probe_epochs} epoch(s) on {self.probe_examples or 'all'} distillation examples, scored by validation {score}"
        if self.uses_supernet:
            tuned = f" after {self.supernet_finetune_steps} steps of its own fine-tuning" if self.supernet_finetune_steps else ""
            probe = f"sub-networks of one super-student (distilled for {self.supernet_epochs} epoch(s) on {self.supernet_examples or 'all'} examples, {self.supernet_pool} sampled configurations), scored by validation {score}{tuned}"
        if self.calibrated:
            calibration = self.surrogate_.n_calibrated_ if isinstance(self.surrogate_, CalibratedSurrogate) else 0
            probe += (
                f"; {self.promote:.0%} of each stage probed for real ({self.probe_epochs} epoch(s) on {self.probe_examples or 'all'} examples), "
                f"and a ridge on {calibration} of them maps the sub-network prediction and the training parameters to a real probe's score (predicted: that score)"
            )
        elif self.promote > 0:
            probe += f"; the best {self.promote:.0%} of each stage probed again for {self.promote_epochs} epoch(s) on {self.promote_examples or 'all'} examples (predicted: that longer probe)"
        if self.auto_reason:
            probe += f" ({self.auto_reason})"
        if self.surrogate_ is None:
            return f"learned ({self.surrogate} surrogate on {probe}); not fitted yet"
        quality = ""
        if self.validation_ is not None:
            rho = self.validation_.spearman
            quality = f"; cross-validated Spearman {'n/a (all probes equal)' if rho != rho else f'{rho:.3f}'}, MAE {self.validation_.mae:.4f}"
        return f"learned: {self.surrogate} surrogate fitted on {self.surrogate_.n_fitted_} {probe}{quality}"


class AccuracyProxyEstimator(ClosedFormEstimator):
    """PROXY, not an accuracy: non-embedding parameters (capacity), free and exact."""

    name = "accuracy_proxy"
    unit = "non-embedding parameters (zero-cost proxy, not a measured accuracy)"
    direction = "maximize"

    def count(self, family: Any, view: Any, context: Context) -> Any:
        return family.non_embedding_params(view, context.task_kind, context.num_labels)

    def method(self, context: Context) -> str:
        return "ZERO-COST PROXY (not a measured accuracy): non-embedding parameter count, a capacity measure"
