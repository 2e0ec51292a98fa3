"""``FeasibleGrid``: ranks, enumeration, marginals and samples agree with each other and with
membership, and ``Space`` answers through it."""

from __future__ import annotations

import collections

import numpy as np

from avatar.solver import Space
from avatar.specs import loads
from tests.helpers import SEARCH_SPACE

# hidden_act is free (no constraint mentions it): ranks multiply it in last
SMALL = SEARCH_SPACE.replace("{range: [1000, 8000], step: 1000}", "{choices: [1000, 2000]}").replace("{range: [64, 1024], step: 64}", "{range: [64, 256], step: 64}")


def _space() -> Space:
    return Space.from_spec(loads(SMALL))


def test_ranks_enumerate_every_feasible_point_once_in_order():
    space = _space()
    grid = space.grid
    count = grid.count()
    assert count.exact and grid.is_ranked and grid.inner is not None, "a closed-form inner count is used"
    enumerated = list(grid.enumerate())
    assert [grid.config_of_rank(rank) for rank in range(count.value)] == enumerated
    assert len({tuple(config.values()) for config in enumerated}) == count.value
    assert all(space.contains(config) for config in enumerated)


def test_marginals_count_the_enumeration():
    grid = _space().grid
    enumerated = list(grid.enumerate())
    for name, counts in grid.marginals().items():
        values = next(parameter.values for parameter in grid.parameters if parameter.name == name)
        expected = collections.Counter(config[name] for config in enumerated)
        assert counts.tolist() == [expected.get(value, 0) for value in values], name


def test_samples_are_distinct_feasible_and_seeded():
    space = _space()
    first, again = space.sample(40, seed=5), space.sample(40, seed=5)
    assert first == again and len({tuple(config.values()) for config in first}) == 40
    assert all(space.contains(config) for config in first)
    everything = space.grid.sample(10**6, np.random.default_rng(0))
    assert everything == list(space.grid.enumerate()), "asking for more than there are gives all of them"


def test_a_space_with_other_estimators_shares_its_formula_and_grid():
    space = _space()
    other = space.with_estimators({"size_mb": space.estimators["size_mb"]})
    assert other.grid is space.grid and other.compiled is space.compiled and other.spec is space.spec
    assert other.estimators is not space.estimators and other.estimators.keys() == space.estimators.keys()
