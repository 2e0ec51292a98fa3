"""Paths and small helpers shared by the tests (importable as ``tests.helpers``)."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLES = REPOSITORY / "specs" / "examples"
EXAMPLE_SPECS = sorted(EXAMPLES.glob("*.yaml"))

# A small space of tiny RoBERTa students with analytic objectives: searches over it take seconds.
SEARCH_SPACE = """\
name: searched
task: {kind: defect, data: d}
space:
  vocab_size:          {range: [1000, 8000], step: 1000}
  num_hidden_layers:   {range: [1, 4]}
  hidden_size:         {range: [32, 256], step: 32}
  num_attention_heads: {choices: [1, 2, 4, 8]}
  intermediate_size:   {range: [64, 1024], step: 64}
  max_sequence_length: {choices: [128, 256]}
  hidden_act:          {choices: [gelu, relu]}
constraints:
  heads_divide_hidden: hidden_size % num_attention_heads == 0
  under_1mb: size_mb <= 1
objectives:
  gflops: maximize
  size_mb: minimize
search: {population: 10, evaluations: 60, seed: 3}
"""
