"""``latency_ms``: measured on this machine, or predicted by a calibrated cost model.

Measured (default): the protocol of ``_measure`` (median of timed runs, p90 kept as a side
figure). Predicted (``options: {mode: predicted}``): a non-negative weighted sum of the family's
cost terms (matrix products, attention scores, activations, fixed costs per call, layer and
head), fitted to measurements of ``calibration_size`` (60) configurations of the spec's space
by minimising the mean absolute relative error. A quarter of them is held out to report the prediction
error; the final model is refitted on all. Because the prediction is a closed form, a limit on
``latency_ms`` becomes a hard constraint: its symbolic term is the prediction times
``1 + margin``, the margin being by default the held-out 90th-percentile relative error.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from ._base import Context, Estimator, EstimatorError, Measurement
from ._measure import MeasurementProtocol, measure_inference
from ._sampling import sample_grid
from ._symbolic import SymbolicConfig, Term, as_term

__all__ = ["LatencyEstimator", "LatencyModel"]


@dataclass(frozen=True)
class LatencyModel:
    """latency_ms = sum of coefficient x cost term; with its held-out error."""

    feature_names: tuple[str, ...]
    coefficients: tuple[float, ...]
    held_out_mape: float
    held_out_p90_error: float
    n_measured: int

    @classmethod
    def fit(cls, features: Sequence[Mapping[str, float]], latencies_ms: Sequence[float], *, seed: int = 0) -> LatencyModel:
        """Fit on 3/4 of the points, report the error on the rest, then refit on all."""
        if len(latencies_ms) < 8:
            raise EstimatorError(f"a latency model needs at least 8 measured configurations, got {len(latencies_ms)}", "latency_ms")
        names = tuple(features[0])
        order = list(range(len(latencies_ms)))
        random.Random(seed).shuffle(order)
        n_test = max(2, len(order) // 4)
        test, train = order[:n_test], order[n_test:]
        coefficients = _fit_relative(names, [features[i] for i in train], [latencies_ms[i] for i in train])
        errors = sorted(abs(_predict(names, coefficients, features[i]) - latencies_ms[i]) / latencies_ms[i] for i in test)
        final = _fit_relative(names, features, latencies_ms)
        return cls(names, final, statistics.fmean(errors), errors[min(len(errors) - 1, round(0.9 * (len(errors) - 1)))], len(latencies_ms))

    def predict(self, features: Mapping[str, Any]) -> float:
        return _predict(self.feature_names, self.coefficients, features)

    def term(self, features: Mapping[str, Any]) -> Term:
        total: Any = 0
        for name, coefficient in zip(self.feature_names, self.coefficients):
            if coefficient:
                total = total + Fraction(repr(coefficient)) * features[name]
        return as_term(total if not isinstance(total, int) else Fraction(total))


def _predict(names: Sequence[str], coefficients: Sequence[float], features: Mapping[str, Any]) -> float:
    return math.fsum(coefficient * float(features[name]) for name, coefficient in zip(names, coefficients) if coefficient)


def _fit_relative(names: Sequence[str], rows: Sequence[Mapping[str, float]], targets: Sequence[float], *, iterations: int = 20) -> tuple[float, ...]:
    """Non-negative coefficients minimising the mean absolute *relative* error.

    Iteratively reweighted non-negative least squares: the L1 loss matches the reported error
    (MAPE) and keeps one noisy measurement from bending the whole model.
    """
    import numpy as np
    from scipy.optimize import nnls

    matrix = np.array([[float(row[name]) for name in names] for row in rows]) / np.array(targets)[:, None]
    scale = np.maximum(np.abs(matrix).max(axis=0), 1e-300)
    matrix = matrix / scale
    weights = np.ones(len(targets))
    for _ in range(iterations):
        solution, _ = nnls(matrix * weights[:, None], weights, maxiter=50 * len(names))
        weights = 1.0 / np.sqrt(np.maximum(np.abs(matrix @ solution - 1.0), 1e-3))
    return tuple(float(value) for value in solution / scale)


class LatencyEstimator(Estimator):
    """Inference latency at batch 1 on the spec's device, in milliseconds."""

    name = "latency_ms"
    unit = "ms"
    direction = "minimize"

    def __init__(
        self,
        *,
        mode: Literal["measured", "predicted"] = "measured",
        warmup: int = 5,
        repeats: int = 20,
        calibration_size: int = 60,
        margin: float | None = None,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.mode = mode
        self.warmup = warmup
        self.repeats = repeats
        self.calibration_size = calibration_size
        self.margin = margin
        self.timer = timer
        self.model_: LatencyModel | None = None
        self.model_context_: tuple | None = None

    @property
    def kind(self) -> str:  # type: ignore[override]
        return "predicted" if self.mode == "predicted" else "measured"

    @property
    def cheap(self) -> bool:  # type: ignore[override]
        """The calibrated model is a weighted sum; a measurement runs the model."""
        return self.mode == "predicted"

    @property
    def protocol(self) -> MeasurementProtocol:
        return MeasurementProtocol(self.warmup, self.repeats)

    @property
    def symbolic_margin(self) -> float:
        if self.margin is not None:
            return float(self.margin)
        return self.model_.held_out_p90_error if self.model_ is not None else 0.0

    def is_symbolic(self, context: Context) -> bool:
        return self.mode == "predicted"

    def method(self, context: Context) -> str:
        if self.mode == "predicted":
            model = self.model_
            error = f"held-out MAPE {model.held_out_mape:.1%} over {model.n_measured} measured configurations" if model else "not calibrated yet"
            return f"predicted by a cost model calibrated on this machine ({error}); limits compiled with a {self.symbolic_margin:.1%} margin"
        return f"measured: median of {self.repeats} runs after {self.warmup} warm-up runs, batch 1, {context.threads} thread(s), {context.device}"

    def measure(self, config: Mapping[str, Any], context: Context) -> Measurement:
        measurement = measure_inference(config, context, self.protocol, timer=self.timer)
        return Measurement(measurement.median_ms, {"p90": measurement.p90_ms})

    def evaluate(self, config: Mapping[str, Any], context: Context) -> float | Measurement:
        if self.mode == "measured":
            return self.measure(config, context)
        family = context.model_family
        return self.calibrate(context).predict(family.cost_features(family.numeric(context.resolve(config)), context.task_kind))

    def symbolic(self, config: SymbolicConfig, context: Context) -> Term | None:
        if self.mode != "predicted":
            return None
        family = context.model_family
        prediction = self.calibrate(context).term(family.cost_features(family.symbolic(config), context.task_kind))
        return prediction * Fraction(repr(1.0 + self.symbolic_margin))

    def calibrate(self, context: Context) -> LatencyModel:
        """The fitted cost model for ``context``, measuring configurations the first time."""
        key = (context.family, context.task_kind, context.dtype, context.device, context.threads, context.cache_dir)
        if self.model_ is not None and self.model_context_ == key:
            return self.model_
        if context.sample_configurations is not None:
            configs = context.sample_configurations(self.calibration_size, context.seed)
        else:
            family = context.model_family
            configs = sample_grid(context.parameters, self.calibration_size, context.seed, accept=lambda config: family.check(context.resolve(config)) is None)
        family = context.model_family
        features = [family.cost_features(family.numeric(context.resolve(config)), context.task_kind) for config in configs]
        latencies = [self.measure(config, context).value for config in configs]
        self.model_ = LatencyModel.fit(features, latencies, seed=context.seed)
        self.model_context_ = key
        return self.model_
