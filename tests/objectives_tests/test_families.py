"""The roberta family: its closed forms are exact against the models it builds."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from avatar.objectives import Context, RobertaForCloneDetection, get_family, validate
from avatar.specs import PAIR_KINDS, SpecError, loads
from tests.objectives_tests.conftest import SMALL_SPACE, random_configs

FAMILY = get_family("roberta")


@pytest.mark.parametrize("seed, num_labels", [(0, 2), (1, 2), (2, 2), (3, 3), (4, 7)])
def test_params_equal_the_built_model(small_spec, task_kind, seed, num_labels):
    for config in random_configs(small_spec, 12, seed):
        with torch.device("meta"):
            model = FAMILY.build(config, task_kind, num_labels)
        counted = sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
        assert FAMILY.params(FAMILY.numeric(config), task_kind, num_labels) == counted, config


@pytest.mark.parametrize("seed, num_labels", [(0, 2), (1, 2), (2, 5)])
def test_flops_match_flop_counter(small_spec, task_kind, seed, num_labels):
    for config in random_configs(small_spec, 10, seed):
        with torch.device("meta"):
            model = FAMILY.build(config, task_kind, num_labels, attn_implementation="eager").eval()
        length = config["max_sequence_length"]
        shape = (1, 2, length) if task_kind in PAIR_KINDS else (1, length)
        input_ids = torch.zeros(shape, dtype=torch.long, device="meta")
        with FlopCounterMode(display=False) as counter:
            model(input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
        expected = counter.get_total_flops()
        assert FAMILY.flops(FAMILY.numeric(config), task_kind, num_labels) == pytest.approx(expected, rel=0.01), config


@pytest.mark.parametrize("num_labels", [2, 4])
def test_linear_weights_are_what_quantization_compresses(small_spec, task_kind, num_labels):
    config = random_configs(small_spec, 1, 3)[0]
    model = FAMILY.build(config, task_kind, num_labels)
    weights = sum(module.weight.numel() for module in model.modules() if isinstance(module, torch.nn.Linear))
    assert FAMILY.linear_weights(FAMILY.numeric(config), task_kind, num_labels) == weights


def test_pinned_semantics():
    config = {"vocab_size": 500, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64, "max_sequence_length": 48}
    hf_config = FAMILY.hf_config(config)
    assert (hf_config.max_position_embeddings, hf_config.type_vocab_size, hf_config.num_labels) == (50, 1, 2)
    assert hf_config.hidden_act == "gelu" and hf_config.position_embedding_type == "absolute"


def test_check_rejects_heads_that_do_not_divide_hidden():
    config = {"vocab_size": 500, "hidden_size": 48, "num_hidden_layers": 1, "num_attention_heads": 5, "intermediate_size": 64, "max_sequence_length": 48}
    assert "not a multiple" in FAMILY.check(config)


def test_clone_model_round_trips_through_save_pretrained(tmp_path):
    config = {"vocab_size": 300, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64, "max_sequence_length": 16}
    torch.manual_seed(0)
    model = FAMILY.build(config, "clone").eval()
    model.save_pretrained(tmp_path)
    loaded = RobertaForCloneDetection.from_pretrained(tmp_path).eval()
    input_ids = torch.randint(3, 300, (3, 2, 16))
    with torch.no_grad():
        assert torch.equal(model(input_ids=input_ids).logits, loaded(input_ids=input_ids).logits)
    assert model(input_ids=input_ids).logits.shape == (3, 2)


def _spec_with(old: str, new: str):
    assert old in SMALL_SPACE
    return loads(SMALL_SPACE.replace(old, new), filename="s.yaml")


def test_relative_positions_rejected_when_transformers_lacks_them(monkeypatch):
    monkeypatch.setattr("avatar.objectives._roberta.relative_positions_supported", lambda: False)
    with pytest.raises(SpecError) as raised:
        validate(loads(SMALL_SPACE, filename="s.yaml"))
    problem = raised.value.problems[0]
    assert problem.path == ("space", "position_embedding_type") and problem.location.line == 12
    assert "does not implement relative_key, relative_key_query position embeddings" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{choices: [gelu, relu, silu, gelu_new]}", "{choices: [gelu, swishy]}", "'hidden_act' cannot be 'swishy'"),
        ("objectives:", "constants: {attention_probs_dropout_prob: 1.5}\nobjectives:", "must take probabilities"),
        ("{range: [1, 3]}", "{range: [0, 3]}", "'num_hidden_layers' must take whole numbers of at least 1"),
        ("objectives:", "constants: {unrelated: 1}\nobjectives:", None),
    ],
)
def test_family_validation(old, new, message):
    spec = _spec_with(old, new)
    if message is None:
        validate(spec)
        return
    with pytest.raises(SpecError, match=message):
        validate(spec)


def test_missing_architecture_name_is_reported():
    spec = loads(SMALL_SPACE.replace("  vocab_size:              {range: [100, 2000], step: 100}\n", ""), filename="s.yaml")
    with pytest.raises(SpecError, match="needs 'vocab_size' as a parameter or a constant") as raised:
        validate(spec)
    assert raised.value.problems[0].location.line == 3  # the 'space:' key


def test_context_resolves_constants(small_spec):
    context = Context.from_spec(small_spec)
    assert context.resolve({"a": 1}) == {"a": 1}
