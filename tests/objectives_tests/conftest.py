"""A small space with every option of the roberta family, and random configurations of it."""

from __future__ import annotations

import random

import pytest

from avatar.objectives import Context, get_family
from avatar.specs import loads

SMALL_SPACE = """\
name: small
task: {kind: defect, data: d}
space:
  tokenizer:               {choices: [bpe, word]}
  vocab_size:              {range: [100, 2000], step: 100}
  num_hidden_layers:       {range: [1, 3]}
  hidden_size:             {range: [16, 128], step: 16}
  num_attention_heads:     {choices: [1, 2, 4]}
  intermediate_size:       {range: [32, 256], step: 32}
  hidden_act:              {choices: [gelu, relu, silu, gelu_new]}
  max_sequence_length:     {choices: [16, 32, 64]}
  position_embedding_type: {choices: [absolute, relative_key, relative_key_query]}
  hidden_dropout_prob:     {range: [0.1, 0.3], step: 0.1}
  learning_rate:           {choices: [1.0e-4, 1.0e-3]}
objectives: {size_mb: minimize}
"""


@pytest.fixture(scope="session")
def small_spec():
    return loads(SMALL_SPACE)


def random_configs(spec, n: int, seed: int) -> list[dict]:
    generator = random.Random(seed)
    family = get_family(spec.model.family)
    configs = []
    while len(configs) < n:
        config = {parameter.name: generator.choice(parameter.values) for parameter in spec.parameters}
        if family.check(config) is None:
            configs.append(config)
    return configs


@pytest.fixture(params=["defect", "clone", "pair"])
def task_kind(request):
    return request.param


@pytest.fixture
def context(small_spec, task_kind, tmp_path):
    return Context.from_spec(small_spec, task_kind=task_kind, cache_dir=tmp_path / "cache")
