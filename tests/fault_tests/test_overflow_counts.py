"""Formulas whose values leave int64 (products of large parameters) are counted, sampled and
checked exactly: counts agree with a brute-force count in Python integers and fractions, and
grids beyond 2**63 points are searched without overflowing."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from avatar.solver import Space
from avatar.solver.cli import EXIT_OK, main
from avatar.specs import loads

HEAD = """\
name: overflow
task: {kind: defect, data: d}
space:
SPACE
constants: {vocab_size: 1000, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 64, hidden_size: 32, max_sequence_length: 64}
constraints:
  c: CONDITION
objectives:
  size_mb: minimize
  a: minimize
search: {population: 8, evaluations: 24, seed: 1}
"""

BIG = 10**12  # products of two values pass 2**63; of three, 2**100


def _spec(space: dict[str, str], condition: str) -> str:
    lines = "\n".join(f"  {name}: {domain}" for name, domain in space.items())
    return HEAD.replace("SPACE", lines).replace("CONDITION", condition)


CASES = [
    ({"a": f"{{range: [{BIG}, {BIG + 40}]}}", "b": f"{{range: [{BIG}, {BIG + 40}]}}", "d": f"{{range: [{BIG}, {BIG + 40}]}}"},
     "a * b - d * d >= 0", lambda a, b, d: a * b - d * d >= 0),
    ({"a": f"{{range: [{BIG}, {BIG + 30}]}}", "b": f"{{range: [{BIG}, {BIG + 30}]}}", "d": f"{{range: [{BIG}, {BIG + 30}]}}"},
     "a * b * d <= 1000000000000000000 * 1000000000000 + 45 * 1000000000000 * 1000000000000", lambda a, b, d: a * b * d <= 10**30 + 45 * 10**24),
    ({"a": "{range: [1, 60]}", "b": f"{{range: [{BIG}, {BIG + 60}]}}", "d": f"{{range: [{BIG}, {BIG + 60}]}}"},
     "a * b * b - d * d * 30 >= 0", lambda a, b, d: a * b * b - d * d * 30 >= 0),
    ({"a": f"{{range: [{BIG}, {BIG + 50}]}}", "b": "{range: [1, 50]}", "d": f"{{range: [{BIG}, {BIG + 50}]}}"},
     "a / b <= d / 7", lambda a, b, d: Fraction(a, b) <= Fraction(d, 7)),
    ({"a": f"{{range: [{BIG}, {BIG + 50}]}}", "b": f"{{range: [{BIG}, {BIG + 50}]}}", "d": "{range: [1, 50]}"},
     "(a * b) // d % 3 == 1", lambda a, b, d: (a * b) // d % 3 == 1),
]  # fmt: skip


@pytest.mark.parametrize(("space", "condition", "holds"), CASES)
def test_counts_of_overflowing_formulas_agree_with_brute_force(space, condition, holds):
    spec = loads(_spec(space, condition))  # literals stop at 1e18; products of them and of parameters do not
    compiled = Space.from_spec(spec)
    values = [spec.parameter(name).values for name in ("a", "b", "d")]
    expected = sum(1 for point in itertools.product(*values) if holds(*point))
    count = compiled.count()
    assert count.exact and count.value == expected
    if expected:
        sample = compiled.sample(min(expected, 25), seed=3)
        assert len({tuple(config.values()) for config in sample}) == len(sample)
        assert all(holds(config["a"], config["b"], config["d"]) and compiled.contains(config) for config in sample)


def test_a_grid_beyond_2_63_points_is_counted_sampled_and_searched(tmp_path, capsys):
    space = {name: "{range: [1, 1000000]}" for name in ("a", "b", "d", "e", "f")}
    path = tmp_path / "spec.yaml"
    path.write_text(_spec(space, "a * b * d * e * f >= 1000000000000000000 * 1000000000"))
    spec = loads(path.read_text())
    compiled = Space.from_spec(spec)
    assert compiled.grid.decomposition.outer_size >= 2**63, "the outer grid alone is beyond int64"
    count = compiled.count()
    assert not count.exact and count.low <= count.value <= count.high and count.value > 0
    for config in compiled.sample(20, seed=2):
        assert config["a"] * config["b"] * config["d"] * config["e"] * config["f"] >= 10**27 and compiled.contains(config)
    assert main([str(path), "--out", str(tmp_path / "run"), "-q", "--no-train"]) == EXIT_OK, capsys.readouterr().err


def test_a_sparse_space_is_sampled_through_z3_and_searched(tmp_path, capsys):
    space = {"a": "{range: [1, 1000000]}", "b": "{range: [1, 1000000]}"}
    path = tmp_path / "spec.yaml"
    path.write_text(_spec(space, "a * 7 + b * 13 == 999983"))
    compiled = Space.from_spec(loads(path.read_text()))
    sample = compiled.sample(30, seed=1)
    assert len(sample) == 30 and all(7 * config["a"] + 13 * config["b"] == 999983 for config in sample)
    assert main([str(path), "--out", str(tmp_path / "run"), "-q", "--no-train"]) == EXIT_OK, capsys.readouterr().err
