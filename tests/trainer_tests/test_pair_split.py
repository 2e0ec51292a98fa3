"""Pair splits keep no function on two sides, count what they drop, and keep far more of each
side's share than assigning functions at random."""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.specs import TaskSettings, loads
from avatar.trainer import load_task_data, read_examples, split_pairs, split_pairs_at_random
from tests.helpers import REPOSITORY
from tests.trainer_tests.conftest import student_spec

FRACTIONS = (0.7, 0.1, 0.2)


@dataclass(frozen=True)
class Pair:
    groups: tuple[str, ...]


def _sides(split):
    return [{group for example in part for group in example.groups} for part in split.parts]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=120), st.integers(0, 10**6))
def test_no_function_is_on_two_sides_and_every_pair_is_kept_or_counted(edges, seed):
    examples = [Pair((f"f{a}", f"f{b}")) for a, b in edges]
    split = split_pairs(examples, FRACTIONS, random.Random(seed))
    sides = _sides(split)
    assert all(not (sides[i] & sides[j]) for i in range(3) for j in range(i + 1, 3))
    assert split.kept + split.dropped == len(examples)
    assert sorted(map(id, (example for part in split.parts for example in part))) == sorted(
        id(example) for example in examples if len({side for side, groups in enumerate(sides) if set(example.groups) <= groups}) == 1
    )
    again = split_pairs(examples, FRACTIONS, random.Random(seed))
    assert [[example.groups for example in part] for part in again.parts] == [[example.groups for example in part] for part in split.parts], "deterministic for a seed"


def _clustered(seed: int) -> list[Pair]:
    """40 families of 4 to 16 functions: dense pairs within a family, a few across."""
    generator = random.Random(seed)
    families = [[f"c{family}-{index}" for index in range(generator.randint(4, 16))] for family in range(40)]
    everyone = [name for family in families for name in family]
    pairs = [Pair(tuple(generator.sample(family, 2))) for family in families for _ in range(2 * len(family))]
    pairs += [Pair((generator.choice(everyone), generator.choice(everyone))) for _ in range(len(pairs) // 4)]
    return pairs


def test_each_side_gets_its_share_and_more_pairs_survive_than_at_random():
    for seed in range(3):
        examples = _clustered(seed)
        new = split_pairs(examples, FRACTIONS, random.Random(seed))
        old = split_pairs_at_random(examples, FRACTIONS, random.Random(seed))
        assert new.kept > old.kept
        shares = [len(part) / new.kept for part in new.parts]
        assert all(share >= 0.8 * fraction for share, fraction in zip(shares, FRACTIONS)), shares
        assert len(new.parts[1]) > 2 * len(old.parts[1]), "the validation side is no longer starved"


def test_loaded_clone_data_counts_its_dropped_pairs(clone_folder):
    spec = loads(student_spec("clone", clone_folder, "unused"))
    data = load_task_data(spec)
    pairs = read_examples(spec.task, str(clone_folder))["all"]
    assert data.dropped + len(data.train) + len(data.valid) + len(data.test) == len(pairs)
    assert data.summary()["dropped"] == data.dropped


@pytest.mark.slow
def test_bigclonebench_keeps_each_sides_share_and_more_pairs():
    examples = read_examples(TaskSettings("clone", str(REPOSITORY.parent / "shared" / "data" / "bigclonebench-codexglue-test4000")))["all"]
    new = [split_pairs(examples, FRACTIONS, random.Random(seed)) for seed in range(3)]
    old = [split_pairs_at_random(examples, FRACTIONS, random.Random(seed)) for seed in range(3)]
    assert statistics.median(split.kept for split in new) > statistics.median(split.kept for split in old)
    assert all(len(split.parts[1]) >= 0.08 * split.kept for split in new), "validation holds about its 10% of the pairs"
