"""Built-in estimators: conformance, agreement with real files and a stated measurement protocol."""

from __future__ import annotations

import itertools
import math
import os

import pytest
import torch

from avatar.objectives import (
    CarbonEstimator,
    Context,
    EnergyEstimator,
    FlopsEstimator,
    InferenceMeasurement,
    LatencyEstimator,
    LatencyModel,
    Measurement,
    MeasurementProtocol,
    ParamsEstimator,
    RaplMeter,
    SizeEstimator,
    get_family,
    measure_inference,
)
from avatar.objectives._measure import quantize_int8
from avatar.objectives.testing import check_estimator
from tests.objectives_tests.conftest import random_configs

FAMILY = get_family("roberta")
MEDIUM = {"vocab_size": 5000, "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 256, "max_sequence_length": 64}


@pytest.mark.parametrize("estimator", [ParamsEstimator(), SizeEstimator(), FlopsEstimator()], ids=lambda estimator: estimator.name)
@pytest.mark.parametrize("dtype", ["fp32", "fp16", "int8"])
def test_analytic_estimators_conform(estimator, dtype, small_spec, task_kind):
    context = Context.from_spec(small_spec, task_kind=task_kind, dtype=dtype, cache_dir=None)
    check_estimator(estimator, context, random_configs(small_spec, 15, seed=7))


@pytest.mark.parametrize("dtype", ["fp32", "fp16"])
def test_size_matches_the_saved_safetensors_file(dtype, task_kind, tmp_path):
    model = FAMILY.build(MEDIUM, task_kind)
    if dtype == "fp16":
        model = model.half()
    model.save_pretrained(tmp_path)
    on_disk_mb = os.path.getsize(tmp_path / "model.safetensors") / 1e6
    estimated = SizeEstimator().evaluate(MEDIUM, Context(task_kind=task_kind, dtype=dtype))
    assert estimated == pytest.approx(on_disk_mb, rel=0.01)


def test_int8_size_matches_the_saved_quantized_state(task_kind, tmp_path):
    model = quantize_int8(FAMILY.build(MEDIUM, task_kind))
    torch.save(model.state_dict(), tmp_path / "model.pt")
    on_disk_mb = os.path.getsize(tmp_path / "model.pt") / 1e6
    estimated = SizeEstimator().evaluate(MEDIUM, Context(task_kind=task_kind, dtype="int8"))
    assert estimated == pytest.approx(on_disk_mb, rel=0.01)


def test_size_is_decimal_megabytes():
    params = ParamsEstimator().evaluate(MEDIUM, Context())
    assert SizeEstimator().evaluate(MEDIUM, Context()) == params * 4 / 1e6
    assert SizeEstimator().evaluate(MEDIUM, Context(dtype="fp16")) == params * 2 / 1e6


class FakeClock:
    """A timer that advances by a fixed list of steps, one step per reading pair."""

    def __init__(self, durations_ms):
        self.durations = itertools.cycle(durations_ms)
        self.now = 0.0
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        if self.readings % 2 == 0:  # the reading that ends a timed run
            self.now += next(self.durations) / 1000.0
        return self.now


def test_latency_protocol_is_median_with_p90(tmp_path):
    runs = []
    clock = FakeClock([5, 1, 3, 2, 4, 9, 6, 7, 8, 10])
    context = Context(cache_dir=str(tmp_path))
    measurement = measure_inference(MEDIUM, context, MeasurementProtocol(warmup=2, repeats=10), timer=clock, run=lambda config, ctx: lambda: runs.append(1))
    assert len(runs) == 12  # 2 warm-up + 10 timed
    assert measurement.median_ms == pytest.approx(5.5)
    assert measurement.p90_ms == pytest.approx(9.0)


def test_latency_is_cached_by_what_changes_it(tmp_path):
    calls = []
    context = Context(cache_dir=str(tmp_path))

    def run(config, ctx):
        calls.append(dict(config))
        return lambda: None

    protocol = MeasurementProtocol(warmup=0, repeats=3)
    measure_inference(MEDIUM, context, protocol, run=run)
    measure_inference({**MEDIUM, "hidden_dropout_prob": 0.3, "learning_rate": 1e-3, "batch_size": 64}, context, protocol, run=run)
    assert len(calls) == 1, "dropout, learning rate and batch size must not cause a new measurement"
    measure_inference({**MEDIUM, "hidden_size": 256}, context, protocol, run=run)
    measure_inference(MEDIUM, Context(cache_dir=str(tmp_path), threads=2), protocol, run=run)
    assert len(calls) == 3
    assert list((tmp_path / "measurements").glob("*.json")), "measurements are kept on disk"


def test_measured_latency_of_a_real_model(tmp_path):
    estimator = LatencyEstimator(warmup=1, repeats=3)
    outcome = estimator.evaluate(MEDIUM, Context(cache_dir=str(tmp_path)))
    assert isinstance(outcome, Measurement) and outcome.value > 0 and outcome.details["p90"] >= outcome.value
    assert not estimator.is_symbolic(Context())


def _synthetic_latency(config, context) -> float:
    features = FAMILY.cost_features(FAMILY.numeric(context.resolve(config)), context.task_kind)
    return (
        0.2
        + 0.01 * features["layers"]
        + 3e-8 * features["projections"]
        + 2e-8 * features["feed_forward"]
        + 2e-6 * features["scores_absolute"]
        + 1e-6 * features["distances_relative_key_query"]
        + 5e-7 * features["activation_gelu_new"]
    )


def test_predicted_latency_recovers_a_known_cost_model(monkeypatch, small_spec, task_kind):
    def fake_measure(config, context, protocol, timer=None):
        return InferenceMeasurement((_synthetic_latency(config, context),), 0.0)

    monkeypatch.setattr("avatar.objectives._latency.measure_inference", fake_measure)
    context = Context.from_spec(small_spec, task_kind=task_kind, cache_dir=None)
    estimator = LatencyEstimator(mode="predicted", calibration_size=40)
    configs = random_configs(small_spec, 20, seed=11)
    for config in configs:
        assert estimator.evaluate(config, context) == pytest.approx(_synthetic_latency(config, context), rel=1e-3)
    assert estimator.model_.held_out_mape < 1e-3
    assert estimator.is_symbolic(context) and estimator.kind == "predicted"
    check_estimator(estimator, context, configs)


def test_predicted_latency_symbolic_form_carries_the_margin(monkeypatch, small_spec):
    monkeypatch.setattr(
        "avatar.objectives._latency.measure_inference",
        lambda config, context, protocol, timer=None: InferenceMeasurement((_synthetic_latency(config, context),), 0.0),
    )
    context = Context.from_spec(small_spec, cache_dir=None)
    estimator = LatencyEstimator(mode="predicted", margin=0.1)
    config = random_configs(small_spec, 1, seed=3)[0]
    from avatar.objectives import ConstantConfig, to_number

    predicted = estimator.evaluate(config, context)
    assert float(to_number(estimator.symbolic(ConstantConfig(context.resolve(config)), context).node)) == pytest.approx(predicted * 1.1)
    assert "10.0% margin" in estimator.method(context)


def test_latency_model_needs_enough_points():
    from avatar.objectives import EstimatorError

    with pytest.raises(EstimatorError, match="at least 8"):
        LatencyModel.fit([{"call": 1}] * 3, [1.0, 2.0, 3.0])


def _fake_rapl(root, microjoules):
    domain = root / "intel-rapl:0"
    domain.mkdir(parents=True, exist_ok=True)
    (domain / "energy_uj").write_text(str(microjoules))
    (domain / "max_energy_range_uj").write_text("1000000")
    return domain


def test_rapl_meter_reads_and_handles_wraparound(tmp_path):
    _fake_rapl(tmp_path, 999_000)
    meter = RaplMeter(tmp_path)
    start = meter.read()
    _fake_rapl(tmp_path, 1_000)
    assert meter.joules(start, meter.read()) == pytest.approx(0.002)
    assert RaplMeter(tmp_path / "absent").read() is None


def test_energy_uses_rapl_when_readable(tmp_path):
    domain = _fake_rapl(tmp_path / "rapl", 0)
    readings = iter(range(0, 10**9, 50_000))

    class CountingRapl(RaplMeter):
        def read(self):
            (domain / "energy_uj").write_text(str(next(readings)))
            return super().read()

    context = Context(cache_dir=None)
    measurement = measure_inference(MEDIUM, context, MeasurementProtocol(0, 4), energy_meter=CountingRapl(tmp_path / "rapl"), run=lambda c, x: lambda: None)
    assert measurement.rapl_joules == pytest.approx(0.05 / 4)


def test_energy_falls_back_to_cpu_time_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(
        "avatar.objectives._energy.measure_inference",
        lambda config, context, protocol, energy_meter=None: InferenceMeasurement((2.0,), cpu_seconds=0.004),
    )
    estimator = EnergyEstimator(watts_per_core=15.0, rapl_root=str(tmp_path / "none"))
    outcome = estimator.evaluate(MEDIUM, Context())
    assert outcome.value == pytest.approx(0.06) and outcome.details["estimated"] == 1.0
    assert estimator.method(Context()).startswith("estimate: CPU time x 15 W per core")
    carbon = CarbonEstimator(watts_per_core=15.0, intensity_g_per_kwh=400.0, rapl_root=str(tmp_path / "none"))
    assert carbon.evaluate(MEDIUM, Context()).value == pytest.approx(0.06 / 3.6e6 * 400.0)
    assert "400 gCO2e/kWh" in carbon.method(Context())


@pytest.mark.parametrize("estimator", [LatencyEstimator(), EnergyEstimator(), CarbonEstimator()], ids=lambda estimator: estimator.name)
def test_measured_estimators_conform(estimator, tmp_path):
    context = Context(cache_dir=str(tmp_path))
    small = {**MEDIUM, "num_hidden_layers": 1, "max_sequence_length": 16}
    check_estimator(type(estimator)(warmup=0, repeats=2), context, [small])
    assert math.isfinite(estimator.evaluate(small, context).value)
