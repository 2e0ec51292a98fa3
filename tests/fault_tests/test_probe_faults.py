"""Probes (short distillations that teach the learned ``accuracy``) under faults: a probe that
scores NaN is a failed probe; probes that all fail the same way (a broken teacher, a missing
GPU driver) stop the run before the search, and a resumed run probes them again."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest

from avatar.solver import RunError, Space, run_search
from avatar.solver._errors import RepeatedFailureError
from avatar.solver.report._summary import check_report
from avatar.solver.search._store import RunStore
from avatar.specs import loads

from .helpers import SPEC

LEARNED = (
    SPEC.replace("  gflops: maximize\n", "  accuracy: maximize\n")
    .replace("search: {", "estimators:\n  accuracy: {options: {method: probes, initial: 6, rounds: 1, per_round: 2, probe_epochs: 1}}\nsearch: {")
    .replace("evaluations: 40", "evaluations: 16")
)


@dataclass(frozen=True)
class Probe:
    metric: str
    config: dict[str, Any]
    fault: str
    timeout: float | None = None

    def run(self) -> dict[str, float]:
        if self.fault == "broken":
            raise OSError("the teacher's weights cannot be read")
        value = 0.5 + self.config["hidden_size"] / 1000
        if self.fault == "nan" and self.config["hidden_size"] % 64 == 0:
            value = math.nan
        return {self.metric: value}

    def picklable(self) -> Probe:
        return self


@dataclass
class Prober:
    fault: str

    def task(self, metric: str, estimator: Any, config: dict[str, Any]) -> Probe:
        return Probe(metric, config, self.fault)


def _run(tmp_path, fault: str, resume: bool = False):
    spec = loads(LEARNED)
    space = Space.from_spec(spec)
    return run_search(space, check_report(space), out=str(tmp_path / "run"), resume=resume, prober=Prober(fault))


def _probes(tmp_path):
    store = RunStore(tmp_path / "run" / "evaluations.sqlite")
    try:
        return store.probes()
    finally:
        store.close()


def test_a_nan_score_is_a_failed_probe(tmp_path):
    outcome = _run(tmp_path, "nan")
    failed = [probe for probe in _probes(tmp_path) if not probe.ok]
    assert failed and all("returned nan" in probe.error for probe in failed)
    assert all(math.isfinite(evaluation.metrics["accuracy"]) for evaluation in outcome.result.evaluations if evaluation.ok)


def test_probes_that_all_fail_alike_stop_the_run_and_resume_probes_again(tmp_path):
    with pytest.raises(RepeatedFailureError, match="probes of 'accuracy' all failed with the same error: OSError: the teacher's weights cannot be read"):
        _run(tmp_path, "broken")
    assert not _probes(tmp_path), "failures of the environment are not kept"
    outcome = _run(tmp_path, "fine", resume=True)
    assert len(outcome.result.evaluations) == 16 and all(probe.ok for probe in _probes(tmp_path))
    assert isinstance(RepeatedFailureError("x", 1), RunError)
