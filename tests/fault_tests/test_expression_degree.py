"""Expressions within the documented limits stay bounded: a formula whose polynomial degree
explodes (nested powers, a power of a derived power) is refused in milliseconds with the
constraint or derived name and its column, not a MemoryError after minutes."""

from __future__ import annotations

import time

import pytest

from avatar.specs import MAX_DEGREE, SpecError, loads
from tests.helpers import SEARCH_SPACE


def _with(constraint: str, derived: str = "") -> str:
    text = SEARCH_SPACE.replace("under_1mb: size_mb <= 1", f"under_1mb: size_mb <= 1\n  exploding: {constraint}")
    return text.replace("constraints:\n", f"derived:\n{derived}constraints:\n") if derived else text


@pytest.mark.parametrize(
    ("constraint", "derived", "where"),
    [
        ("((hidden_size ** 8) ** 8) ** 8 >= 1", "", "constraints.exploding"),
        (
            "hidden_size ** 8 * intermediate_size ** 8 * vocab_size ** 8 * num_hidden_layers ** 8 * max_sequence_length ** 8 * hidden_size ** 8 * intermediate_size ** 8 * vocab_size ** 8 * hidden_size >= 1",
            "",
            "constraints.exploding",
        ),
        ("big >= 1", "  big: (hidden_size ** 8) ** 8 * hidden_size\n", "derived.big"),
        ("wide ** 8 >= 1", "  wide: hidden_size ** 8 * intermediate_size\n", "constraints.exploding"),
    ],
    ids=["nested-powers", "long-product", "derived", "power-of-derived"],
)
def test_an_exploding_degree_is_refused_fast(constraint, derived, where):
    started = time.perf_counter()
    with pytest.raises(SpecError) as raised:
        loads(_with(constraint, derived))
    assert time.perf_counter() - started < 2.0
    problems = [problem for problem in raised.value.problems if "degree" in problem.message]
    assert problems and ".".join(map(str, problems[0].path)) == where
    assert f"above the limit of {MAX_DEGREE}" in problems[0].message


def test_degree_at_the_limit_is_allowed():
    spec = loads(_with("(hidden_size ** 8) ** 8 <= (intermediate_size ** 8) ** 8 * 1000"))
    assert any(constraint.name == "exploding" for constraint in spec.constraints)
