"""Pareto pieces: non-dominated sorting, hypervolume, selection, limits and violations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.solver.search._front import GrowingFront
from avatar.solver.search._pareto import Normalisation, hypervolume, nondominated, select_points
from avatar.solver.search._search import objective_limits
from avatar.solver.search._violation import violation
from avatar.specs import loads, parse_expression
from tests.helpers import SEARCH_SPACE


def test_nondominated_and_hypervolume():
    points = np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [3.0, 3.0], [2.0, 2.0]])
    assert list(nondominated(points)) == [0, 1, 2]
    box = Normalisation((0.0, 0.0), (5.0, 5.0))
    # union of the rectangles up to (5, 5), in units of 25
    assert hypervolume(points, box) == pytest.approx((4 * 1 + 3 * 2 + 1 * 1) / 25)
    cube = Normalisation((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert hypervolume(np.array([[0.5, 0.5, 0.5]]), cube) == pytest.approx(0.125)
    assert hypervolume(np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]), cube) == pytest.approx(0.75)
    assert hypervolume(np.array([[2.0, 2.0, 2.0]]), cube) == 0.0


def test_selection():
    points = np.array([[0.0, 1.0], [0.4, 0.4], [1.0, 0.0], [0.6, 0.3]])
    assert select_points(points, "knee", ["a", "b"]) == [1]
    assert select_points(points, "best:b", ["a", "b"]) == [2]
    assert sorted(select_points(points, 3, ["a", "b"])) == [0, 1, 2]
    assert select_points(points, "all", ["a", "b"]) == [0, 1, 2, 3]


def test_the_knee_is_taken_in_the_fronts_own_scale():
    """A front found far beyond the first evaluations' ideal (and far inside a hard limit) still
    has its knee in the middle: each objective runs from the front's best to its worst value."""
    # minimisation form: (-accuracy, size MB); sizes far below a 3 MB limit
    front = np.array([[-0.90, 0.30], [-0.80, 0.10], [-0.85, 0.20], [-0.70, 0.05]])
    assert select_points(front, "knee", ["accuracy", "size_mb"]) == [1]
    for scale in (1e-3, 1.0, 1e3):  # the knee does not depend on units
        assert select_points(front * np.array([1.0, scale]), "knee", ["accuracy", "size_mb"]) == [1]


def test_objective_limits_come_from_hard_limits():
    spec = loads(SEARCH_SPACE.replace("  under_1mb: size_mb <= 1\n", "  under_1mb: size_mb <= 1\n  enough: 0.01 <= gflops\n"))
    assert objective_limits(spec, ["gflops", "size_mb"]) == [-0.01, 1.0]


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("latency_ms <= 20", {"latency_ms": 30.0}, 10 / 30),
        ("latency_ms <= 20", {"latency_ms": 10.0}, 0.0),
        ("a >= 4 and b <= 1", {"a": 2, "b": 2}, 0.5 + 0.5),
        ("a >= 4 or b <= 1", {"a": 2, "b": 2}, 0.5),
        ("t == 'x'", {"t": "y"}, 1.0),
        ("a in [4, 8]", {"a": 2}, 0.5),
    ],
)
def test_violations_are_relative(text, values, expected):
    assert violation(parse_expression(text), values) == pytest.approx(expected)


@pytest.mark.parametrize("dimensions", [2, 3, 4])
def test_hypervolume_matches_inclusion_exclusion(dimensions):
    generator = np.random.default_rng(dimensions)
    box = Normalisation(tuple([0.0] * dimensions), tuple([1.0] * dimensions))
    for _ in range(10):
        points = generator.random((6, dimensions))
        exact = sum((-1) ** (size + 1) * np.prod(1 - points[list(subset)].max(axis=0)) for size in range(1, len(points) + 1) for subset in itertools.combinations(range(len(points)), size))
        assert hypervolume(points, box) == pytest.approx(exact, abs=1e-12)


# -- the model-based search's front, kept as its measurements grow (issue 34) -------------------


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.booleans()), min_size=0, max_size=40),
    cuts=st.lists(st.integers(0, 40), max_size=5),
)
def test_a_growing_front_is_the_front_of_everything_seen(rows, cuts):
    points = np.array([[first, second] for first, second, _ in rows], dtype=float).reshape(-1, 2)
    usable = [flag for _, _, flag in rows]
    keys = [f"k{index}" for index in range(len(rows))]
    front = GrowingFront()
    for end in sorted({*cuts, len(rows)}):  # the list grows by any steps
        end = min(end, len(rows))
        got = front(keys[:end], points[:end], lambda index: usable[index])
        eligible = np.array([index for index in range(end) if usable[index]], dtype=int)
        expected = eligible[nondominated(points[eligible])] if len(eligible) else eligible
        assert sorted(got.tolist()) == sorted(expected.tolist())


def test_a_growing_front_starts_again_when_given_another_list():
    front = GrowingFront()
    points = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    assert sorted(front(["a", "b", "c"], points).tolist()) == [0, 1]
    other = np.array([[5.0, 5.0], [0.0, 0.0]])
    assert front(["x", "y"], other).tolist() == [1]  # not the continuation of a, b, c
