"""The learned ``accuracy``: surrogates recover known rankings; probes are stored, reused and
skipped when they fail; the report shows prediction against measurement."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from avatar import objectives
from avatar.objectives import AccuracyEstimator, Surrogate, cross_validate
from avatar.solver import RunError, Space, run_search
from avatar.solver._store import RunStore
from avatar.solver._summary import check_report
from avatar.specs import loads

SPEC = """\
name: learned
task: {kind: defect, data: d}
space:
  vocab_size:          {range: [1000, 8000], step: 1000}
  num_hidden_layers:   {range: [1, 4]}
  hidden_size:         {range: [32, 256], step: 32}
  num_attention_heads: {choices: [1, 2, 4, 8]}
  intermediate_size:   {range: [64, 1024], step: 64}
  max_sequence_length: {choices: [128, 256]}
  hidden_act:          {choices: [gelu, relu]}
  learning_rate:       {range: [1.0e-4, 1.0e-2], log: true, num: 5}
constraints:
  heads_divide_hidden: hidden_size % num_attention_heads == 0
  under_1mb: size_mb <= 1
objectives:
  accuracy: maximize
  size_mb: minimize
estimators:
  accuracy: {options: {initial: 12, rounds: 3, per_round: 3, probe_epochs: 1}}
search: {population: 8, evaluations: 40, seed: 5}
"""


def true_accuracy(config: dict[str, Any]) -> float:
    """A known, non-linear truth: capacity helps, a learning rate far from 1e-3 hurts, gelu helps a bit."""
    capacity = math.log2(config["hidden_size"] / 32) * 0.04 + config["num_hidden_layers"] * 0.02
    rate = -0.03 * abs(math.log10(config["learning_rate"]) + 3)
    return 0.55 + capacity + rate + (0.01 if config["hidden_act"] == "gelu" else 0.0)


@dataclass(frozen=True)
class FakeProbe:
    metric: str
    config: dict[str, Any]
    timeout: float | None = None

    def run(self) -> dict[str, float]:
        if self.config["num_hidden_layers"] == 4 and self.config["hidden_size"] == 32:
            raise RuntimeError("this probe diverged")
        FakeProber.calls.append(self.config)
        return {self.metric: true_accuracy(self.config)}

    def picklable(self) -> "FakeProbe":
        return self


class FakeProber:
    calls: list[dict[str, Any]] = []

    def task(self, metric: str, estimator: Any, config: dict[str, Any]) -> FakeProbe:
        return FakeProbe(metric, config)


def _configs(n: int, seed: int = 0) -> list[dict[str, Any]]:
    return Space.from_spec(loads(SPEC)).sample(n, seed=seed)  # sampling never evaluates accuracy


@pytest.mark.parametrize("kind", ["forest", "gp"])
def test_surrogate_recovers_a_known_ranking_and_reports_its_cross_validated_error(kind):
    spec = loads(SPEC)
    configs = _configs(60)
    values = [true_accuracy(config) for config in configs]
    validation = cross_validate(spec.parameters, configs, values, kind, folds=5, seed=0)
    assert validation.n == 60 and len(validation.predictions) == 60
    assert validation.spearman > 0.8, validation
    assert validation.mae < 0.03
    fresh = _configs(40, seed=1)
    mean, std = Surrogate(spec.parameters, kind, seed=0).fit(configs, values).predict(fresh)
    from scipy.stats import spearmanr

    assert spearmanr(mean, [true_accuracy(config) for config in fresh]).statistic > 0.8
    assert np.all(std >= 0)


def test_reference_ordinal_ridge_is_available_for_comparison():
    spec = loads(SPEC)
    configs = _configs(40)
    validation = cross_validate(spec.parameters, configs, [true_accuracy(config) for config in configs], "ridge-ordinal")
    assert -1 <= validation.spearman <= 1 and validation.mae >= 0


def test_unfitted_accuracy_says_how_it_is_learned():
    spec = loads(SPEC)
    with pytest.raises(objectives.EstimatorError, match="learned from probes"):
        AccuracyEstimator().evaluate(_configs(1)[0], objectives.Context.from_spec(spec))
    with pytest.raises(objectives.EstimatorError, match="surrogate"):
        AccuracyEstimator(surrogate="magic")


def test_accuracy_proxy_is_exact_labelled_and_free():
    spec = loads(SPEC)
    context = objectives.Context.from_spec(spec)
    proxy = objectives.get("accuracy_proxy")
    config = _configs(1)[0]
    embeddings = (config["vocab_size"] + config["max_sequence_length"] + 2 + 1 + 2) * config["hidden_size"]
    assert proxy.evaluate(config, context) == objectives.get("params").evaluate(config, context) - embeddings
    assert "proxy" in proxy.unit and "PROXY" in proxy.method(context)
    assert proxy.is_symbolic(context)


def _run(tmp_path, resume=False, prober=None):
    spec = loads(SPEC)
    space = Space.from_spec(spec)
    return run_search(spec, space, check_report(spec, space), out=str(tmp_path / "run"), resume=resume, prober=prober or FakeProber())


def test_rounds_probe_the_predicted_front_and_move_it_toward_measured_truth(tmp_path):
    FakeProber.calls = []
    outcome = _run(tmp_path)
    store = RunStore(tmp_path / "run" / "evaluations.sqlite")
    probes = store.probes()
    stages = [probe.stage for probe in probes]
    assert stages.count(0) == 12 and stages.count(1) == 3 and stages.count(2) == 3
    assert all(probe.fidelity == {"epochs": 1, "examples": 512} for probe in probes)
    failed = [probe for probe in probes if not probe.ok]
    assert all("diverged" in probe.error for probe in failed)
    # Later probes come from the predicted front and were not probed before.
    assert len({probe.key for probe in probes}) == len(probes)
    # Stored predictions are the final surrogate's (rescored after each refit).
    learning = json.loads((tmp_path / "run" / "learning.json").read_text())[0]
    assert [fit["stage"] for fit in learning["fits"]] == [0, 1, 2]
    assert learning["fits"][-1]["probes"] == len(probes) - len(failed)
    assert -1 <= learning["fits"][-1]["spearman"] <= 1
    front_predictions = {point["key"]: point["predicted"] for point in learning["front"]}
    for evaluation in outcome.result.front:
        assert evaluation.metrics["accuracy"] == pytest.approx(front_predictions[evaluation.key])
    # The generations of all rounds are numbered on, and the budget is per round.
    assert len(outcome.result.evaluations) <= 3 * 40
    report = (tmp_path / "run" / "report.md").read_text()
    assert "## Learned metrics" in report and "Spearman" in report and (tmp_path / "run" / "accuracy.png").exists()
    store.close()


def test_probes_are_reused_after_a_resume(tmp_path):
    FakeProber.calls = []
    first = _run(tmp_path)
    calls = len(FakeProber.calls)
    assert calls > 0
    FakeProber.calls = []
    second = _run(tmp_path, resume=True)
    assert FakeProber.calls == [], "a stored probe was measured again"
    assert [evaluation.key for evaluation in second.result.front] == [evaluation.key for evaluation in first.result.front]


def test_interrupted_probe_stage_resumes_without_repeating_finished_probes(tmp_path):
    @dataclass(frozen=True)
    class InterruptedProbe(FakeProbe):
        def run(self):
            if len(FakeProber.calls) >= 5:
                raise KeyboardInterrupt  # as Ctrl-C during the sixth probe
            return super().run()

    class Interrupting(FakeProber):
        def task(self, metric, estimator, config):
            return InterruptedProbe(metric, config)

    FakeProber.calls = []
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, prober=Interrupting())
    first_calls = list(FakeProber.calls)
    assert len(first_calls) == 5
    FakeProber.calls = []
    _run(tmp_path, resume=True)
    assert not any(call in first_calls for call in FakeProber.calls)
    uninterrupted = tmp_path / "other"
    uninterrupted.mkdir()
    FakeProber.calls = []
    reference = _run(uninterrupted)
    resumed = json.loads((tmp_path / "run" / "pareto.json").read_text())
    assert [point["key"] for point in resumed["front"]] == [evaluation.key for evaluation in reference.result.front]


def test_a_learned_metric_without_a_prober_is_refused(tmp_path):
    spec = loads(SPEC)
    space = Space.from_spec(spec)
    with pytest.raises(RunError, match="learned from probes"):
        run_search(spec, space, check_report(spec, space), out=str(tmp_path / "run"))
