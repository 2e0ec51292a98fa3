"""Every example spec loads, and its JSON form gives an equal ``Spec``."""

from __future__ import annotations

import json

import pytest

from avatar.specs import Spec, load, loads
from tests.helpers import EXAMPLE_SPECS


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=lambda path: path.stem)
def test_example_loads(path):
    spec = load(path)
    assert isinstance(spec, Spec)
    assert spec.parameters and spec.objectives
    assert spec.grid_size == __import__("math").prod(parameter.size for parameter in spec.parameters)


@pytest.mark.parametrize("path", EXAMPLE_SPECS, ids=lambda path: path.stem)
def test_json_and_yaml_forms_are_equal(path, tmp_path):
    spec = load(path)
    json_path = tmp_path / (path.stem + ".json")
    json_path.write_text(json.dumps(spec.to_dict(), indent=2))
    assert load(json_path) == spec


def test_json_locations_point_at_lines(tmp_path):
    text = json.dumps(
        {
            "name": "located",
            "task": {"kind": "defect", "data": "d"},
            "space": {"layers": {"range": [1, 4]}, "hidden": {"range": [16, 64], "step": 16}},
            "constraints": {"small": "hidden <= 32"},
            "objectives": {"size_mb": "minimize"},
        },
        indent=2,
    )
    spec = loads(text, format="json", metrics={"size_mb"})
    lines = text.splitlines()
    assert '"hidden"' in lines[spec.parameter("hidden").location.line - 1]
    assert '"small"' in lines[spec.constraints[0].location.line - 1]


def test_the_devign_example_is_the_paper_space():
    spec = load(EXAMPLE_SPECS[[path.stem for path in EXAMPLE_SPECS].index("avatar-devign")])
    assert set(spec.parameter_names) == {
        "tokenizer", "vocab_size", "num_hidden_layers", "hidden_size", "hidden_act",
        "hidden_dropout_prob", "intermediate_size", "num_attention_heads",
        "attention_probs_dropout_prob", "max_sequence_length", "position_embedding_type",
        "learning_rate", "batch_size",
    }  # fmt: skip
    assert spec.parameter("hidden_dropout_prob").values == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert [constraint.text for constraint in spec.constraints if constraint.name == "fits_3mb"] == ["size_mb <= 3"]


def test_derived_names_are_kept_in_dependency_order():
    text = "name: ordered\ntask: {kind: defect, data: d}\nspace:\n  h: {range: [1, 4]}\nderived:\n  a: b + 1\n  b: c * 2\n  c: h\nobjectives: {a: minimize}\n"
    spec = loads(text, metrics=set())
    assert [item.name for item in spec.derived] == ["c", "b", "a"]
