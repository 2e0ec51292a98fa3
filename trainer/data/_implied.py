"""Implied pairs: new pairs of a clone task labelled by the clone relation's transitivity, with
no call to the teacher.

A teacher given as its predictions can label no pair beyond its file, so ``train.transfer_pairs``
needs the user to run it again (issue 36). But clones are an equivalence: two functions that
both clone a third clone each other, and a function that clones a third does not clone what
that third does not (on the 4,000 BigCloneBench pairs of ../shared/data every such triangle
agrees: 552 of 552 and 72 of 72). So the pairs a task already has imply new ones.

Each pair of the training side is an edge carrying its probability of being a clone: its label
where it is labelled, else the teacher's prediction calibrated on the labelled split
(``Calibration``). Two edges A-B and B-C imply the pair A-C: a clone with probability
``p_AB * p_BC`` (both clones), not one with ``p_AB (1 - p_BC) + (1 - p_AB) p_BC`` (exactly one),
and nothing when both are not clones. Over every middle function the two kinds of evidence add
up (``p = clone / (clone + not)``); a pair is implied when its strongest path says at least
``MIN_STRENGTH`` either way. A second round (``ROUNDS``) chains through the first round's sure
pairs, reaching functions four edges apart. The strongest pairs are kept, half clones and half
not where the data allows, and the student distils on them with the logits the teacher would give that
probability (the calibration inverted), so they look like the teacher's.

Never across splits: only functions of the training side are joined, minus any function that
also appears in the validation or test split, and no pair already in the data is implied.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ._task_data import Example

__all__ = ["IMPLIED_PREFIX", "IMPLIED_VERSION", "MIN_STRENGTH", "Calibration", "ImpliedPair", "implied_pairs", "implied_logits"]

IMPLIED_PREFIX = "implied/"
IMPLIED_VERSION = 1  # seeds the choice among equally strong pairs
MIN_STRENGTH = 0.5  # the least probability a pair's strongest path gives its class
ROUNDS = 2  # pairs implied by implied pairs too (functions up to four edges apart)
CHAIN_STRENGTH = 0.8  # an implied pair chains on in the next round when its strongest path is this sure
OVERLAP_BANDS = 10  # implied pairs are balanced between clones and not within each tenth of lexical overlap
MAX_EDGES_PER_FUNCTION = 32  # a function joined to many others implies pairs from its most certain edges only
PROBABILITY_LIMIT = 0.98  # implied probabilities are kept inside [0.02, 0.98], so no target logit is infinite


@dataclass(frozen=True)
class Calibration:
    """``P(clone) = sigmoid(slope * margin + intercept)``, with ``margin`` the teacher's clone
    logit minus its other one: a teacher's logits are seldom probabilities (a fine-tuned model
    is overconfident, a predictions file may be scores), and chaining two edges multiplies their
    errors. The identity where nothing can be fitted."""

    slope: float = 1.0
    intercept: float = 0.0

    @classmethod
    def fitted(cls, logits: torch.Tensor, labels: Sequence[int]) -> Calibration:
        """A one-feature logistic regression of the labels on the teacher's margins (Platt
        scaling); the identity when the labels hold one class or the teacher ranks them the
        wrong way round."""
        if len(labels) < 2 or len(set(labels)) < 2 or logits.shape[0] != len(labels):
            return cls()
        from sklearn.linear_model import LogisticRegression

        margins = _margins(logits).reshape(-1, 1)
        model = LogisticRegression(C=1.0).fit(margins, list(labels))
        slope = float(model.coef_[0][0])
        return cls(slope, float(model.intercept_[0])) if slope > 0 else cls()

    def probabilities(self, logits: torch.Tensor) -> list[float]:
        """The calibrated clone probability of each row of two-class logits."""
        return [1.0 / (1.0 + math.exp(-(self.slope * margin + self.intercept))) for margin in _margins(logits).tolist()]

    def logits(self, probability: float) -> list[float]:
        """Two-class logits whose calibrated clone probability is ``probability``."""
        limited = min(max(probability, 1.0 - PROBABILITY_LIMIT), PROBABILITY_LIMIT)
        margin = (math.log(limited / (1.0 - limited)) - self.intercept) / self.slope
        return [-margin / 2.0, margin / 2.0]


@dataclass(frozen=True)
class ImpliedPair:
    """A pair the training side's pairs imply, its clone probability, and how strongly its best
    path says so."""

    example: Example
    probability: float
    strength: float


def _margins(logits: torch.Tensor):
    return (logits[:, 1] - logits[:, 0]).detach().double().numpy()


def implied_pairs(edges: Sequence[tuple[Example, float]], held_out: Sequence[Example], count: int, seed: int, rounds: int = ROUNDS) -> list[ImpliedPair]:
    """Up to ``count`` pairs implied by ``edges`` (training-side pairs with their clone
    probability), none joining a function of ``held_out`` and none already a pair of the data;
    the strongest first within each class, half clones where the data allows.

    Each round after the first also chains through the previous rounds' pairs of strength
    ``CHAIN_STRENGTH`` or more, so ``rounds`` reaches functions up to ``2 ** rounds`` edges apart.
    """
    if count <= 0:
        return []
    excluded = {group for example in held_out for group in example.groups}
    texts: dict[str, str] = {}
    linked: dict[str, dict[str, float]] = defaultdict(dict)
    taken = {frozenset(example.groups) for example in held_out}
    for example, probability in edges:
        taken.add(frozenset(example.groups))
        first, second = example.groups
        if first == second or first in excluded or second in excluded:
            continue
        texts.setdefault(first, example.texts[0])
        texts.setdefault(second, example.texts[1])
        linked[first][second] = probability
        linked[second][first] = probability
    found: dict[tuple[str, str], tuple[float, float]] = {}  # (first, second) -> (probability, strength)
    for _ in range(rounds):
        implied = _one_round(linked, taken)
        found.update(implied)
        for (first, second), (probability, strength) in implied.items():
            taken.add(frozenset((first, second)))
            if strength >= CHAIN_STRENGTH:
                linked[first][second] = linked[second][first] = probability
    rng = random.Random(f"implied-{seed}-{IMPLIED_VERSION}")
    candidates = sorted(found.items())
    rng.shuffle(candidates)
    candidates.sort(key=lambda candidate: -candidate[1][1])  # stable: equally strong pairs keep their seeded order
    chosen = _balanced_by_overlap(candidates, texts, count)
    return [
        ImpliedPair(Example((texts[first], texts[second]), int(probability >= 0.5), (first, second), f"{IMPLIED_PREFIX}{first}/{second}"), probability, strength)
        for (first, second), (probability, strength) in chosen
    ]


def _balanced_by_overlap(candidates: list, texts: dict[str, str], count: int) -> list:
    """Up to ``count`` of ``candidates`` (strongest first), as many clones as not within each
    band of lexical overlap. Chains favour clones that share text (near copies link up most
    surely), so the strongest pairs alone would teach a student that overlap means a clone: on
    BigCloneBench's pairs whose text does not give the label away, implied clones overlapped
    twice as much as implied non-clones, where the data's own pairs overlap alike. Balanced
    within each band, the pairs teach only what overlap does not tell."""
    if not candidates:
        return []
    overlap = _overlaps([pair for pair, _ in candidates], texts)
    edges = np.quantile(overlap, np.linspace(0, 1, OVERLAP_BANDS + 1)[1:-1])
    bands = np.searchsorted(edges, overlap, side="right")
    clones: list[list] = [[] for _ in range(OVERLAP_BANDS)]
    others: list[list] = [[] for _ in range(OVERLAP_BANDS)]
    for candidate, band in zip(candidates, bands.tolist()):
        (clones if candidate[1][0] >= 0.5 else others)[band].append(candidate)
    chosen: list = []
    depth = max((min(len(clone), len(other)) for clone, other in zip(clones, others)), default=0)
    for rank in range(depth):  # the strongest pair of each kind from every band, then the second strongest, ...
        for clone, other in zip(clones, others):
            if rank < min(len(clone), len(other)) and len(chosen) + 2 <= count:
                chosen += [clone[rank], other[rank]]
    return chosen


def _overlaps(pairs: Sequence[tuple[str, str]], texts: dict[str, str]) -> np.ndarray:
    """Each pair's TF-IDF cosine over identifier-like tokens (as the transfer pairs' neighbours)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids = sorted(texts)
    row = {identifier: index for index, identifier in enumerate(ids)}
    try:
        matrix = TfidfVectorizer(token_pattern=r"[A-Za-z_][A-Za-z0-9_]+", sublinear_tf=True, lowercase=False, dtype=np.float32).fit_transform([texts[identifier] for identifier in ids])
    except ValueError:  # no text holds an identifier: no overlap to balance
        return np.zeros(len(pairs))
    firsts = matrix[[row[first] for first, _ in pairs]]
    seconds = matrix[[row[second] for _, second in pairs]]
    return np.asarray(firsts.multiply(seconds).sum(axis=1)).ravel()


def _one_round(linked: dict[str, dict[str, float]], taken: set[frozenset[str]]) -> dict[tuple[str, str], tuple[float, float]]:
    """The pairs two edges of ``linked`` imply, none in ``taken``: their clone probability over
    every middle function, and the probability their strongest path gives its class (at least
    ``MIN_STRENGTH``)."""
    evidence: dict[tuple[str, str], list[float]] = {}  # (first, second) -> [clone, not clone, strongest path]
    for middle in sorted(linked):
        ends = sorted(linked[middle].items(), key=lambda item: (-abs(item[1] - 0.5), item[0]))[:MAX_EDGES_PER_FUNCTION]
        for index, (first, to_first) in enumerate(ends):
            for second, to_second in ends[index + 1 :]:
                pair = (first, second) if first < second else (second, first)
                if frozenset(pair) in taken:
                    continue
                clone = to_first * to_second
                other = to_first * (1.0 - to_second) + (1.0 - to_first) * to_second
                sums = evidence.setdefault(pair, [0.0, 0.0, 0.0])
                sums[0] += clone
                sums[1] += other
                sums[2] = max(sums[2], clone, other)
    return {pair: (clone / (clone + other), strongest) for pair, (clone, other, strongest) in evidence.items() if strongest >= MIN_STRENGTH and clone + other > 0}


def implied_logits(pairs: Sequence[ImpliedPair], calibration: Calibration) -> torch.Tensor:
    """The teacher-like logits students distil on for ``pairs``, ``(len(pairs), 2)``."""
    return torch.tensor([calibration.logits(pair.probability) for pair in pairs], dtype=torch.float32).reshape(len(pairs), 2)
