"""Estimators for search tests: instrumented, slow or failing on purpose (importable by
worker processes and subprocesses as ``tests.solver_tests.instrumented``)."""

from __future__ import annotations

import time

from avatar.objectives import Estimator, FlopsEstimator, SizeEstimator


class RecordingSizeEstimator(SizeEstimator):
    """``size_mb`` that remembers every configuration it was asked to evaluate."""

    seen: list[dict] = []
    in_process = True  # it records in the test's process
    cheap = True  # as cheap as size_mb: the model-based search may compute it for candidates

    def evaluate(self, config, context):
        RecordingSizeEstimator.seen.append(dict(config))
        return super().evaluate(config, context)


class SlowSizeEstimator(SizeEstimator):
    """``size_mb`` after a pause, so a run lasts long enough to be killed mid-search."""

    name = "slow_size"

    def __init__(self, *, delay: float = 0.05) -> None:
        self.delay = delay

    def evaluate(self, config, context):
        time.sleep(self.delay)
        return super().evaluate(config, context)


class FlakySizeEstimator(SizeEstimator):
    """``size_mb`` that fails for narrow models and hangs for the widest ones."""

    name = "flaky_size"

    def __init__(self, *, fail_below: int = 48, hang_above: int = 10_000, hang_seconds: float = 30.0) -> None:
        self.fail_below = fail_below
        self.hang_above = hang_above
        self.hang_seconds = hang_seconds

    def evaluate(self, config, context):
        if config["hidden_size"] < self.fail_below:
            raise ValueError(f"cannot size hidden_size {config['hidden_size']}")
        if config["hidden_size"] > self.hang_above:
            time.sleep(self.hang_seconds)
        return super().evaluate(config, context)


class MeasuredFlopsEstimator(Estimator):
    """``gflops`` declared measured and without a closed form: the model-based search models
    it, as it would a measured latency, and a limit on it is checked after evaluation."""

    name = "measured_gflops"
    unit = "GFLOPs"
    direction = "maximize"
    kind = "measured"

    def evaluate(self, config, context):
        return FlopsEstimator().evaluate(config, context)
