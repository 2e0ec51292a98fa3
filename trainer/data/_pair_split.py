"""Splitting pairs so that no function is on two sides, while keeping as many pairs as possible.

A pair task's examples share functions. A split puts every function on one side (training,
validation or test) and drops the pairs whose two functions land on different sides: a model
must never meet a test function in training. Assigning functions at random keeps a pair with
probability ``sum(f_i^2)`` (54% at 70/10/20), and a small side keeps far fewer than its share
(10% of the functions hold about 1% of the pairs).

Here the pair graph (functions as nodes, pairs as edges) is split along its components, the
largest first: a component goes whole to the side furthest below its share of pairs, so none of
its pairs is lost. A component too large for any side's remaining share is cut into regions
grown breadth-first from seeded starts, the smallest side first, so that neighbouring functions
stay together. Then single functions move between sides while that keeps more pairs without
leaving a side short of its share (``_refine``). On the 4,000 BigCloneBench pairs of
``../shared/data`` at 70/10/20 this keeps about 2,300 pairs split 70/10/20, where random
assignment kept about 2,150 split 90/2/8 (``bench/splits.py``). Everything is deterministic
for the generator.
"""

from __future__ import annotations

import random
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["PairSplit", "split_pairs", "split_pairs_at_random"]

SMALL_COMPONENT = 0.02  # a component holding at most this share of the pairs is never cut
SHORTFALL_WEIGHT = 1.5  # a pair a side lacks of its share weighs 1.5 kept pairs (see _refine)
REFINE_PASSES = 20


class _Grouped(Protocol):
    @property
    def groups(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class PairSplit:
    """The parts (in the order of the fractions) and how many pairs crossing sides were dropped."""

    parts: tuple[list, ...]
    dropped: int

    @property
    def kept(self) -> int:
        return sum(len(part) for part in self.parts)


def split_pairs(examples: Sequence[_Grouped], fractions: Sequence[float], generator: random.Random) -> PairSplit:
    """Assign whole groups (functions) to parts so that each part gets about its fraction of the
    examples and as few examples as possible span two parts (those are dropped)."""
    components = _components(examples)
    generator.shuffle(components)
    components.sort(key=len, reverse=True)  # stable: equal sizes keep their seeded order
    targets = [fraction * len(examples) for fraction in fractions]
    assigned = [0] * len(fractions)
    side: dict[str, int] = {}
    for members in components:
        deficits = [target - count for target, count in zip(targets, assigned)]
        best = max(range(len(fractions)), key=lambda index: (deficits[index], -index))
        if len(members) <= max(deficits[best], SMALL_COMPONENT * len(examples)):
            for index in members:
                for group in examples[index].groups:
                    side[group] = best
            assigned[best] += len(members)
        else:
            _grow(examples, members, deficits, assigned, side, generator)
    _refine(examples, fractions, side, generator)
    split = _parts(examples, len(fractions), side)
    for part in split.parts:
        generator.shuffle(part)
    return split


def split_pairs_at_random(examples: Sequence[_Grouped], fractions: Sequence[float], generator: random.Random) -> PairSplit:
    """The previous assignment, for comparison: each group goes to a part at random, in
    proportion to the fractions of groups; examples spanning two parts are dropped."""
    groups = sorted({group for example in examples for group in example.groups})
    generator.shuffle(groups)
    side: dict[str, int] = {}
    start = 0
    for index, fraction in enumerate(fractions):
        end = len(groups) if index == len(fractions) - 1 else start + round(fraction * len(groups))
        for group in groups[start:end]:
            side[group] = index
        start = end
    return _parts(examples, len(fractions), side)


def _parts(examples: Sequence[_Grouped], n_parts: int, side: dict[str, int]) -> PairSplit:
    parts: tuple[list, ...] = tuple([] for _ in range(n_parts))
    dropped = 0
    for example in examples:
        sides = {side[group] for group in example.groups}
        if len(sides) == 1:
            parts[sides.pop()].append(example)
        else:
            dropped += 1
    return PairSplit(parts, dropped)


def _components(examples: Sequence[_Grouped]) -> list[list[int]]:
    """Example indices of each connected component of the group graph, in first-seen order."""
    parent: dict[str, str] = {}

    def root(group: str) -> str:
        while parent.setdefault(group, group) != group:
            parent[group] = parent[parent[group]]
            group = parent[group]
        return group

    for example in examples:
        first = root(example.groups[0])
        for group in example.groups[1:]:
            other = root(group)
            if other != first:
                parent[other] = first
    members: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        members[root(example.groups[0])].append(index)
    return list(members.values())


def _grow(examples: Sequence[_Grouped], members: list[int], deficits: list[float], assigned: list[int], side: dict[str, int], generator: random.Random) -> None:
    """Split one large component: the sides with the smallest remaining share are grown first,
    each breadth-first from a seeded start over the functions not yet placed, until the pairs
    inside it reach its share; the side with the largest share takes the rest. An example counts
    for a side once all its functions are on it."""
    incident: dict[str, list[int]] = defaultdict(list)
    for index in members:
        for group in set(examples[index].groups):
            incident[group].append(index)
    order = sorted(range(len(deficits)), key=lambda index: (deficits[index], index))
    unplaced = sorted(incident)
    generator.shuffle(unplaced)
    for position, part in enumerate(order):
        if position == len(order) - 1:
            for group in unplaced:
                if group not in side:
                    side[group] = part
            break
        capacity, inside = max(0.0, deficits[part]), 0
        queue: deque[str] = deque()
        while inside < capacity:
            if not queue:
                start = next((group for group in unplaced if group not in side), None)
                if start is None:
                    return
                queue.append(start)
                side[start] = part
                inside += _completed(examples, incident[start], part, side)
            group = queue.popleft()
            for index in incident[group]:
                for other in examples[index].groups:
                    if other not in side and inside < capacity:
                        side[other] = part
                        inside += _completed(examples, incident[other], part, side)
                        queue.append(other)
        assigned[part] += inside
    assigned[order[-1]] += sum(1 for index in members if all(side.get(group) == order[-1] for group in examples[index].groups))


def _completed(examples: Sequence[_Grouped], indices: list[int], part: int, side: dict[str, int]) -> int:
    """How many of these examples have all their functions on ``part`` now."""
    return sum(1 for index in indices if all(side.get(group) == part for group in examples[index].groups))


def _refine(examples: Sequence[_Grouped], fractions: Sequence[float], side: dict[str, int], generator: random.Random) -> None:
    """Move single functions between sides while that raises ``kept - SHORTFALL_WEIGHT *
    shortfall``: the pairs kept, less the pairs each side lacks of its share of them (a side
    above its share costs nothing, one below it costs more than the pairs it would gain)."""
    incident: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        for group in set(example.groups):
            incident[group].append(index)
    kept = [0] * len(fractions)
    for example in examples:
        sides = {side[group] for group in example.groups}
        if len(sides) == 1:
            kept[sides.pop()] += 1

    def score(counts: list[int]) -> float:
        total = sum(counts)
        return total - SHORTFALL_WEIGHT * sum(max(0.0, fraction * total - count) for fraction, count in zip(fractions, counts))

    def gains(group: str) -> list[int]:
        """For each side, the examples of ``group`` kept if it were there."""
        found = [0] * len(fractions)
        for index in incident[group]:
            others = {side[other] for other in examples[index].groups if other != group}
            if len(others) == 1:
                found[others.pop()] += 1
            elif not others:  # a function paired with itself
                found = [count + 1 for count in found]
        return found

    groups = sorted(incident)
    current = score(kept)
    for _ in range(REFINE_PASSES):
        generator.shuffle(groups)
        moved = False
        for group in groups:
            here, found = side[group], gains(group)
            best, best_score = here, current
            for there in range(len(fractions)):
                if there != here:
                    counts = list(kept)
                    counts[here] -= found[here]
                    counts[there] += found[there]
                    if (candidate := score(counts)) > best_score + 1e-9:
                        best, best_score = there, candidate
            if best != here:
                kept[here] -= found[here]
                kept[best] += found[best]
                side[group], current, moved = best, best_score, True
        if not moved:
            return
