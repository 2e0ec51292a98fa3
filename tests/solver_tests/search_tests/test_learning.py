"""The learned ``accuracy``: surrogates recover known rankings; probes are stored, reused and
skipped when they fail; the report shows prediction against measurement."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scipy.stats import spearmanr

from avatar import objectives
from avatar.objectives import AccuracyEstimator, Surrogate, cross_validate
from avatar.solver import RunError, Space, run_search
from avatar.solver.report._results import sorted_front
from avatar.solver.report._summary import check_report
from avatar.solver.search._store import RunStore
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
  accuracy: {options: {method: probes, initial: 12, rounds: 3, per_round: 3, probe_epochs: 1}}
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

    def picklable(self) -> FakeProbe:
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
    return run_search(space, check_report(space), out=str(tmp_path / "run"), resume=resume, prober=prober or FakeProber())


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


def _interrupting_prober(after: int) -> FakeProber:
    """A prober whose probes raise KeyboardInterrupt (Ctrl-C) once ``after`` probes have been
    measured (``FakeProber.calls``)."""

    @dataclass(frozen=True)
    class InterruptedProbe(FakeProbe):
        def run(self):
            if len(FakeProber.calls) >= after:
                raise KeyboardInterrupt
            return super().run()

    class Interrupting(FakeProber):
        def task(self, metric, estimator, config):
            return InterruptedProbe(metric, config)

    return Interrupting()


def test_interrupted_probe_stage_resumes_without_repeating_finished_probes(tmp_path):
    FakeProber.calls = []
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, prober=_interrupting_prober(after=5))  # as Ctrl-C during the sixth probe
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
    assert [point["key"] for point in resumed["front"]] == [evaluation.key for evaluation in sorted_front(reference.result)]


def test_a_probe_stage_of_the_predicted_front_interrupted_resumes_with_the_same_candidates(tmp_path):
    """Killed after the first probe of stage 1 (the predicted front's): the resumed stage probes
    the rest of the same candidates, not as many new ones, and the run ends as an uninterrupted
    one (the same probes, the same front)."""
    FakeProber.calls = []
    reference = _run(tmp_path / "reference")
    store = RunStore(tmp_path / "reference" / "run" / "evaluations.sqlite")
    expected = sorted((probe.stage, probe.key) for probe in store.probes())
    measured_first = sum(1 for probe in store.probes() if probe.stage == 0 and probe.ok)  # FakeProber.calls counts the measured ones
    store.close()

    FakeProber.calls = []
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, prober=_interrupting_prober(after=measured_first + 1))  # as Ctrl-C during the second probe of stage 1
    store = RunStore(tmp_path / "run" / "evaluations.sqlite")
    assert any(probe.stage == 1 for probe in store.probes()), "the interruption fell in stage 1"
    store.close()
    _run(tmp_path, resume=True)
    store = RunStore(tmp_path / "run" / "evaluations.sqlite")
    assert sorted((probe.stage, probe.key) for probe in store.probes()) == expected
    store.close()
    resumed = json.loads((tmp_path / "run" / "pareto.json").read_text())
    assert [point["key"] for point in resumed["front"]] == [evaluation.key for evaluation in sorted_front(reference.result)]


def test_a_learned_metric_without_a_prober_is_refused(tmp_path):
    spec = loads(SPEC)
    space = Space.from_spec(spec)
    with pytest.raises(RunError, match="learned from probes"):
        run_search(space, check_report(space), out=str(tmp_path / "run"))


def test_a_learned_metric_that_no_objective_or_constraint_reads_is_not_probed(tmp_path):
    """Configured under ``estimators:`` but searched by nothing, it would spend probes on values
    no evaluation holds (the report then drew a front of None)."""
    spec = loads(SPEC.replace("  accuracy: maximize\n", "  gflops: maximize\n"))
    assert "accuracy" not in objectives.searched_metrics(spec) and {"gflops", "size_mb"} <= objectives.searched_metrics(spec)
    FakeProber.calls = []
    space = Space.from_spec(spec)
    outcome = run_search(space, check_report(space), out=str(tmp_path / "run"))  # no prober needed
    assert FakeProber.calls == [] and outcome.result.evaluations and not (tmp_path / "run" / "learning.json").exists()
    constrained = loads(SPEC.replace("  accuracy: maximize\n", "").replace("  under_1mb: size_mb <= 1\n", "  under_1mb: size_mb <= 1\n  learns: accuracy >= 0.5\n"))
    assert "accuracy" in objectives.searched_metrics(constrained)  # read by a constraint: learned


class SourcedProber(FakeProber):
    """A prober that says what its probes were measured against (as the trainer's does)."""

    def __init__(self, source: str) -> None:
        self.source = source


def test_probes_record_their_source_and_a_run_does_not_resume_with_another_teacher(tmp_path):
    FakeProber.calls = []
    _run(tmp_path, prober=SourcedProber("teacher-a"))
    store = RunStore(tmp_path / "run" / "evaluations.sqlite")
    assert {probe.fidelity["source"] for probe in store.probes()} == {"teacher-a"}
    store.close()
    FakeProber.calls = []
    _run(tmp_path, resume=True, prober=SourcedProber("teacher-a"))
    assert FakeProber.calls == []
    with pytest.raises(RunError, match=r"another teacher.*train.distill.*resume it with --set train.distill=logits"):
        _run(tmp_path, resume=True, prober=SourcedProber("teacher-b"))


def test_probes_of_another_source_are_not_reused(tmp_path):
    from avatar.solver import LearnedMetric, SerialExecutor

    spec = loads(SPEC)
    space = Space.from_spec(spec)
    store = RunStore(tmp_path / "probes.sqlite")
    configs = _configs(3)
    FakeProber.calls = []
    first = LearnedMetric("accuracy", space.estimators["accuracy"], space, store, SourcedProber("a"))
    first.probe(configs, 0, SerialExecutor())
    assert len(first.probes()) == 3
    calls = len(FakeProber.calls)
    FakeProber.calls = []
    other = LearnedMetric("accuracy", space.estimators["accuracy"], space, store, SourcedProber("b"))
    assert other.probes() == []
    other.probe(configs, 0, SerialExecutor())
    assert len(FakeProber.calls) == calls and len(other.probes()) == 3, "probes distilled from another teacher were reused"
    assert len(first.probes()) == 3
    store.close()


PROMOTING = SPEC.replace("probe_epochs: 1}", "probe_epochs: 1, promote: 0.25, promote_epochs: 3}")


@dataclass(frozen=True)
class FidelityProbe(FakeProbe):
    epochs: int = 1

    def run(self) -> dict[str, float]:
        value = super().run()[self.metric]
        FidelityProber.epochs.append(self.epochs)
        return {self.metric: value - 0.1 / self.epochs}  # a short probe underestimates


class FidelityProber(FakeProber):
    epochs: list[int] = []

    def task(self, metric, estimator, config, fidelity=None):
        return FidelityProbe(metric, config, epochs=(fidelity or estimator.fidelity)["epochs"])


def test_multi_fidelity_promotes_the_best_short_probes_and_predicts_the_longer_probe(tmp_path):
    FakeProber.calls, FidelityProber.epochs = [], []
    spec = loads(PROMOTING)
    space = Space.from_spec(spec)
    outcome = run_search(space, check_report(space), out=str(tmp_path / "run"), prober=FidelityProber())
    store = RunStore(tmp_path / "run" / "evaluations.sqlite")
    probes = store.probes()
    short = [probe for probe in probes if probe.fidelity["epochs"] == 1]
    promoted = [probe for probe in probes if probe.fidelity == {"epochs": 3, "examples": 1024}]
    assert len(short) == 12 + 3 + 3 and FidelityProber.epochs.count(3) == len(promoted)
    for stage, count in ((0, 3), (1, 1), (2, 1)):  # ceil(25% of 12), then of 3
        stage_short = sorted((probe for probe in short if probe.stage == stage and probe.ok), key=lambda probe: -probe.value)
        assert {probe.key for probe in promoted if probe.stage == stage} == {probe.key for probe in stage_short[:count]}, "the best short probes are promoted"
    learning = json.loads((tmp_path / "run" / "learning.json").read_text())[0]
    assert learning["promoted"] == {"epochs": 3, "examples": 1024} and {probe["level"] for probe in learning["probes"]} == {0, 1}
    # predictions are for the promoted probe: above the short probes' systematic underestimate
    estimator = space.estimators["accuracy"]
    context = objectives.Context.from_spec(spec)
    for probe in promoted:
        assert estimator.evaluate(probe.config, context).value > probe.value - 0.1 / 3 - 0.02
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Multi-fidelity" in report and "promoted" in report
    store.close()
    FakeProber.calls = []
    again = run_search(space, check_report(space), out=str(tmp_path / "run"), resume=True, prober=FidelityProber())
    assert FakeProber.calls == [] and [e.key for e in again.result.front] == [e.key for e in outcome.result.front]


def test_a_fidelity_aware_surrogate_predicts_the_promoted_level():
    spec = loads(SPEC)
    configs = _configs(40)
    truth = np.array([true_accuracy(config) for config in configs])
    promoted = configs[:10]
    estimator = AccuracyEstimator(initial=4, promote=0.25, promote_epochs=4)
    assert estimator.fidelities == [{"epochs": 2, "examples": 512}, {"epochs": 4, "examples": 1024}]
    validation = estimator.fit(spec.parameters, configs + promoted, list(truth - 0.1) + list(truth[:10]), levels=[0] * 40 + [1] * 10)
    assert validation.n == 50 and validation.spearman > 0.7
    context = objectives.Context.from_spec(spec)
    predicted = np.array([estimator.evaluate(config, context).value for config in configs[:10]])
    assert np.mean(np.abs(predicted - truth[:10])) < np.mean(np.abs(predicted - (truth[:10] - 0.1))), "predicts the longer probe, not the short one"
    assert [outcome.value for outcome in estimator.evaluate_many(configs[:10], context)] == pytest.approx(predicted), "one batch predicts what single calls do"
    assert "probed again for 4 epoch(s)" in estimator.method(context)
    with pytest.raises(objectives.EstimatorError, match="promote"):
        AccuracyEstimator(promote=1.5)
    with pytest.raises(objectives.EstimatorError, match="longer"):
        AccuracyEstimator(promote=0.5, promote_epochs=2, promote_examples=512)


def test_grouped_cross_validation_keeps_a_configuration_in_one_fold():
    spec = loads(SPEC)
    configs = _configs(12)
    values = [true_accuracy(config) for config in configs]
    plain = cross_validate(spec.parameters, configs, values, folds=4, seed=3)
    grouped = cross_validate(spec.parameters, configs, values, folds=4, seed=3, groups=list(range(12)))
    assert plain == grouped, "one group per point is the ungrouped split"
    doubled = cross_validate(spec.parameters, configs + configs, values + values, folds=4, seed=3, groups=list(range(12)) * 2)
    assert doubled.predictions[:12] == doubled.predictions[12:], "both copies of a configuration are held out together"


def test_plots_name_what_the_learned_accuracy_predicts():
    from avatar.solver.report._results import axis_labels

    spec = loads(SPEC)
    assert axis_labels(spec, {"accuracy": AccuracyEstimator(), "size_mb": objectives.get("size_mb")}) == {"accuracy": "accuracy: predicted validation accuracy"}
    clone = loads(SPEC.replace("kind: defect", "kind: clone"))
    assert axis_labels(clone, {"accuracy": AccuracyEstimator()})["accuracy"].endswith("validation F1")
    assert axis_labels(clone, {"accuracy": AccuracyEstimator(probe_score="auc")})["accuracy"].endswith("validation ROC AUC")


CALIBRATING = SPEC.replace(
    "accuracy: {options: {method: probes, initial: 12, rounds: 3, per_round: 3, probe_epochs: 1}}",
    "accuracy: {options: {method: supernet+probes, initial: 16, rounds: 2, per_round: 4, probe_epochs: 1}}",
)


def architecture_accuracy(config: dict[str, Any]) -> float:
    """What a sub-network of a super-student shows: the architecture's part of the truth."""
    return true_accuracy(config) + 0.03 * abs(math.log10(config["learning_rate"]) + 3)


def real_accuracy(config: dict[str, Any]) -> float:
    """What a real probe measures: the architecture's part, and a learning rate too small to
    learn much from scratch (as on BigCloneBench, where the best real students had the largest)."""
    return architecture_accuracy(config) + 0.05 * (math.log10(config["learning_rate"]) + 4)


@dataclass(frozen=True)
class SubnetworkOrRealProbe(FakeProbe):
    sub_network: bool = True

    def run(self) -> dict[str, float]:
        CalibratingProber.levels.append(0 if self.sub_network else 1)
        return {self.metric: 0.5 * architecture_accuracy(self.config) if self.sub_network else real_accuracy(self.config)}


class CalibratingProber(FakeProber):
    levels: list[int] = []

    def task(self, metric, estimator, config, fidelity=None):
        return SubnetworkOrRealProbe(metric, config, sub_network=(fidelity or estimator.fidelity).get("method") == "supernet")


def test_supernet_and_probes_learns_what_a_sub_network_cannot_see():
    """Sub-network scores rank architectures on another scale and miss the learning rate; a
    dozen real probes calibrate both, and the estimator predicts the real probe."""
    spec = loads(SPEC)
    context = objectives.Context.from_spec(spec)
    scored, probed, held_out = _configs(64, seed=1), _configs(12, seed=2), _configs(40, seed=3)
    truth = np.array([real_accuracy(config) for config in held_out])
    sub_networks = [0.5 * architecture_accuracy(config) for config in scored]
    alone = AccuracyEstimator(method="supernet")
    alone.fit(spec.parameters, scored, sub_networks)
    calibrated = AccuracyEstimator(method="supernet+probes")
    validation = calibrated.fit(spec.parameters, scored + probed, sub_networks + [real_accuracy(config) for config in probed], levels=[0] * 64 + [1] * 12)
    assert validation is not None and validation.n == 12, "cross-validated over the real probes, the scores it predicts"
    predicted = np.array([outcome.value for outcome in calibrated.evaluate_many(held_out, context)])
    rho, rho_alone = (float(spearmanr(values, truth).statistic) for values in (predicted, [outcome.value for outcome in alone.evaluate_many(held_out, context)]))
    assert rho > 0.8 and rho > rho_alone + 0.05, (rho, rho_alone)
    assert np.mean(np.abs(predicted - truth)) < 0.05, "on the real probes' scale, not the sub-networks' (half of it)"
    assert all(outcome.details["std"] > 0 for outcome in calibrated.evaluate_many(held_out, context))
    effects = calibrated.surrogate_.effects()
    assert effects["super-student"] > 0 and "learning_rate" in effects
    assert "a ridge on 12 of them" in calibrated.method(context)


def test_supernet_and_probes_calibrates_on_a_spread_of_sub_network_scores():
    estimator = AccuracyEstimator(method="supernet+probes")
    assert (estimator.initial, estimator.per_round, estimator.promote) == (64, 16, 0.25)
    assert estimator.fidelities == [{"method": "supernet", "epochs": 2, "examples": 512, "pool": 256}, {"epochs": 2, "examples": 512}], "then a real probe, as method: probes makes it"
    values = [0.9, 0.1, 0.5, 0.7, 0.3, 0.8, 0.2, 0.6, 0.4]
    assert [values[index] for index in estimator.to_promote(values, 3)] == [0.9, 0.5, 0.1], "evenly spaced in rank, the best and the worst included"
    assert [values[index] for index in AccuracyEstimator(promote=0.25, promote_epochs=4).to_promote(values, 3)] == [0.9, 0.8, 0.7], "multi-fidelity promotes the best"
    with pytest.raises(objectives.EstimatorError, match="promote"):
        AccuracyEstimator(method="supernet+probes", promote=0)
    with pytest.raises(objectives.EstimatorError, match="promote_epochs"):
        AccuracyEstimator(method="supernet+probes", promote_epochs=4)


def test_a_run_with_supernet_and_probes_probes_a_spread_for_real(tmp_path):
    FakeProber.calls, CalibratingProber.levels = [], []
    spec = loads(CALIBRATING)
    space = Space.from_spec(spec)
    run_search(space, check_report(space), out=str(tmp_path / "run"), prober=CalibratingProber())
    store = RunStore(tmp_path / "run" / "evaluations.sqlite")
    probes = [probe for probe in store.probes() if probe.ok]
    store.close()
    real = [probe for probe in probes if "method" not in probe.fidelity]
    first = sorted((probe for probe in probes if probe.stage == 0 and "method" in probe.fidelity), key=lambda probe: -probe.value)
    assert {probe.key for probe in real if probe.stage == 0} >= {first[0].key, first[-1].key}, "the calibration spans the sub-network scores"
    assert len([probe for probe in real if probe.stage == 0]) == 4 and CalibratingProber.levels.count(1) == len(real)
    estimator = space.estimators["accuracy"]
    assert estimator.validation_ is not None and estimator.validation_.n == len(real)
    learning = json.loads((tmp_path / "run" / "learning.json").read_text())[0]
    assert all((probe["out_of_fold"] is not None) == (probe["level"] == 1) for probe in learning["probes"] if probe["status"] == "ok"), "the real probes' out-of-fold predictions are plotted"
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Calibrated" in report and "sub-network" in report
