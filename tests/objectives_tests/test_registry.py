"""Finding estimators: built-ins, entry-point plugins, ``module:Class`` references, broken plugins."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from avatar.objectives import Context, EstimatorError, evaluate, get, spec_metrics, validate
from avatar.objectives.testing import check_estimator
from avatar.specs import SpecError, load, loads, registered_metric_names
from tests.helpers import EXAMPLES
from tests.objectives_tests.conftest import SMALL_SPACE

PLUGIN = Path(__file__).resolve().parents[1] / "plugin_example"


def register(tmp_path: Path, monkeypatch, name: str, entry_points: dict[str, str]) -> None:
    """Make a distribution with these entry points visible, as ``pip install`` would."""
    dist_info = tmp_path / f"{name.replace('-', '_')}-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = "".join(f"{metric} = {target}\n" for metric, target in entry_points.items())
    (dist_info / "entry_points.txt").write_text(f"[avatar.objectives]\n{lines}")
    monkeypatch.syspath_prepend(str(tmp_path))
    registered_metric_names.cache_clear()


@pytest.fixture(autouse=True)
def fresh_registry():
    registered_metric_names.cache_clear()
    yield
    registered_metric_names.cache_clear()


@pytest.fixture
def plugin_installed(tmp_path, monkeypatch):
    """The example plugin in tests/plugin_example, registered with its own pyproject's entry points."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())
    monkeypatch.syspath_prepend(str(PLUGIN))
    register(tmp_path, monkeypatch, project["project"]["name"], project["project"]["entry-points"]["avatar.objectives"])


def test_builtins_are_registered():
    assert {"params", "size_mb", "gflops", "latency_ms", "energy_j", "carbon_g"} <= registered_metric_names()
    for name in ["params", "size_mb", "gflops", "latency_ms", "energy_j", "carbon_g"]:
        assert get(name).name == name


def test_entry_point_plugin_is_usable_from_a_spec(plugin_installed, tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SMALL_SPACE.replace("objectives: {size_mb: minimize}", "constraints: {small_table: embedding_params <= 100000}\nobjectives: {embedding_params: minimize, size_mb: minimize}"))
    spec = load(spec_path)
    validate(spec)
    config = {"vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64, "max_sequence_length": 32}
    assert evaluate(spec, config, ["embedding_params"]) == {"embedding_params": 64000.0}
    check_estimator(get("embedding_params"), Context.from_spec(spec), [config])


def test_module_class_reference_with_options(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN))
    monkeypatch.setenv("AVATAR_ALLOW_PLUGINS", "tests avatar_plugin_example")
    text = SMALL_SPACE.replace(
        "objectives: {size_mb: minimize}",
        "estimators:\n  table:\n    class: avatar_plugin_example:EmbeddingParamsEstimator\n    options: {include_positions: true}\nobjectives: {table: minimize}",
    )
    with pytest.raises(SpecError, match="declares the metric 'embedding_params', not 'table'"):
        validate(loads(text))
    spec = loads(text.replace("table", "embedding_params"))
    validate(spec)
    config = {"vocab_size": 1000, "hidden_size": 10, "max_sequence_length": 30}
    assert get("embedding_params", spec).include_positions is True
    assert evaluate(spec, config, ["embedding_params"])["embedding_params"] == (1000 + 32) * 10


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_such_module_for_avatar:Thing", "plugin 'broken' (entry point no_such_module_for_avatar:Thing, from broken-plugin 0.1.0) failed to import: ModuleNotFoundError"),
        ("os:sep", "is a str, not a class"),
        ("collections:OrderedDict", "is not an estimator: it lacks name, unit, direction, evaluate()"),
        ("avatar_plugin_example:EmbeddingParamsEstimator", "declares the metric 'embedding_params', not 'broken'"),
    ],
)
def test_broken_plugin_gives_a_clear_error(tmp_path, monkeypatch, target, message):
    monkeypatch.syspath_prepend(str(PLUGIN))
    register(tmp_path, monkeypatch, "broken-plugin", {"broken": target})
    with pytest.raises(EstimatorError) as raised:
        get("broken")
    assert message in str(raised.value)
    spec = loads(SMALL_SPACE.replace("objectives: {size_mb: minimize}", "objectives: {broken: minimize}"), filename="s.yaml")
    with pytest.raises(SpecError) as spec_error:
        validate(spec)
    problem = spec_error.value.problems[0]
    assert problem.path == ("objectives", "broken") and problem.location.line == 15 and message in problem.message


def test_unknown_option_is_an_error():
    with pytest.raises(EstimatorError, match="does not accept these options"):
        get("params", colour="blue")


def test_unknown_metric():
    with pytest.raises(EstimatorError, match="no estimator is registered for the metric 'nope'"):
        get("nope")


def test_evaluate_reports_metrics_derived_names_and_side_figures(tmp_path):
    spec = load(EXAMPLES / "quickstart.yaml", overrides={"objectives": {"gflops": "maximize", "latency_ms": "minimize", "size_mb": "minimize"}, "estimators": {}})
    assert spec_metrics(spec) == ["gflops", "latency_ms", "size_mb"]
    config = {
        "tokenizer": "bpe", "vocab_size": 2000, "num_hidden_layers": 1, "hidden_size": 64, "num_attention_heads": 2,
        "intermediate_size": 128, "hidden_act": "gelu", "max_sequence_length": 128, "learning_rate": 1e-3, "batch_size": 16,
    }  # fmt: skip
    context = Context.from_spec(spec, cache_dir=tmp_path)
    values = evaluate(spec, config, context=context, estimators={"latency_ms": get("latency_ms", warmup=0, repeats=3)})
    assert set(values) == {"gflops", "latency_ms", "latency_ms_p90", "size_mb", "head_dim"}
    assert values["head_dim"] == 32.0
    assert values["size_mb"] == get("params").evaluate(config, context) * 4 / 1e6
