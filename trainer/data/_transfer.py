"""A transfer set for pair tasks: new pairs of the distillation split's functions.

A user's labelled pairs are often a few hundred; a student trained from scratch on them learns
little (issue 36: at chance on a Java clone set whose clones share meaning, not text). The
teacher can label any pair, so the distillation split's functions are paired anew
(``train.transfer_pairs``) and the teacher's outputs on those pairs join what students distil on.

Balance: clones are rare among random pairs, so a student would mostly see easy negatives. Half
the pairs (``NEIGHBOUR_SHARE``) join each function to one of its nearest lexical neighbours
(TF-IDF over identifier-like tokens, cosine): the pairs a clone detector must tell apart,
clones or near misses; the rest are uniform random pairs. The choice reads only the texts, never
a label or the teacher, so the same data and seed give the same pairs on any machine: the pairs
a teacher given as its predictions must cover are the ones ``--write-predictions`` wrote.

Never across splits: only functions of the distillation split are used, minus any function that
also appears in the validation or test split (data with its own splits may share functions), and
no pair already in the data is drawn again.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ._task_data import Example, TaskData

__all__ = ["TRANSFER_VERSION", "TRANSFER_PREFIX", "NEIGHBOUR_SHARE", "NEIGHBOURS", "transfer_pairs", "sample_transfer", "transfer_name", "transfer_id", "with_teacher_labels"]

TRANSFER_VERSION = 1  # seeds the sampling: bump it when the sampling changes (cached logits are named by the pairs' ids)
NEIGHBOUR_SHARE = 0.5
NEIGHBOURS = 5  # a function's lexical neighbours a pair may join it to
TRANSFER_PREFIX = "transfer/"


def transfer_id(first: str, second: str) -> str:
    """The id of the transfer pair of two functions (what a predictions file keys it by)."""
    return f"{TRANSFER_PREFIX}{first}/{second}"


def _functions(examples: Sequence[Example], excluded: set[str]) -> dict[str, str]:
    """``{function id: text}`` of the examples' functions, minus ``excluded``, in first-seen order."""
    functions: dict[str, str] = {}
    for example in examples:
        for group, text in zip(example.groups, example.texts):
            if group not in excluded:
                functions.setdefault(group, text)
    return functions


def _neighbours(texts: Sequence[str], count: int, chunk: int = 1024) -> np.ndarray:
    """Each text's ``count`` nearest others by TF-IDF cosine (identifier-like tokens), nearest
    first, ``(n, count)``; computed ``chunk`` rows at a time, so memory stays ``chunk * n``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    count = min(count, len(texts) - 1)
    try:
        matrix = TfidfVectorizer(token_pattern=r"[A-Za-z_][A-Za-z0-9_]+", sublinear_tf=True, lowercase=False, dtype=np.float32).fit_transform(texts)
    except ValueError:  # no text holds an identifier: no neighbours to prefer
        return np.zeros((len(texts), 0), dtype=int)
    rows = []
    for start in range(0, len(texts), chunk):
        similarity = (matrix[start : start + chunk] @ matrix.T).toarray()
        similarity[np.arange(len(similarity)), np.arange(start, start + len(similarity))] = -np.inf  # not itself
        if count < similarity.shape[1]:  # the count nearest without sorting whole rows (thousands of functions)
            part = np.argpartition(-similarity, count - 1, axis=1)[:, :count]
        else:
            part = np.tile(np.arange(similarity.shape[1]), (len(similarity), 1))
        values = np.take_along_axis(similarity, part, axis=1)
        order = np.lexsort((part, -values), axis=1)  # nearest first; of equal similarity, the earlier function
        rows.append(np.take_along_axis(part, order, axis=1)[:, :count])
    return np.concatenate(rows) if rows else np.zeros((0, count), dtype=int)


def transfer_pairs(distillation: Sequence[Example], held_out: Sequence[Example], count: int, seed: int) -> list[Example]:
    """Up to ``count`` new pairs of the functions of ``distillation`` that are not in
    ``held_out`` (the validation and test splits), none already a pair of the data. Their label
    is the first class until the teacher labels them (``with_teacher_labels``).

    Fewer come back when the functions do not make that many new pairs.
    """
    excluded = {group for example in held_out for group in example.groups}
    functions = _functions(distillation, excluded)
    ids = list(functions)
    taken = {frozenset(example.groups) for example in [*distillation, *held_out]}
    if len(ids) < 2 or count <= 0:
        return []
    rng = random.Random(f"transfer-{seed}-{TRANSFER_VERSION}")
    chosen: list[tuple[str, str]] = []

    def take(first: str, second: str) -> None:
        key = frozenset((first, second))
        if first != second and key not in taken:
            taken.add(key)
            chosen.append((first, second))

    neighbours = _neighbours([functions[identifier] for identifier in ids], NEIGHBOURS)
    order = list(range(len(ids)))
    rng.shuffle(order)
    wanted = round(count * NEIGHBOUR_SHARE)
    for rank in range(neighbours.shape[1]):  # each function's nearest first, then its second nearest, ...
        for index in order:
            if len(chosen) >= wanted:
                break
            take(ids[index], ids[int(neighbours[index, rank])])
    attempts = 0
    while len(chosen) < count and attempts < 20 * count:  # a small set of functions may not make ``count`` new pairs
        attempts += 1
        take(*rng.sample(ids, 2))
    return [Example((functions[first], functions[second]), 0, (first, second), transfer_id(first, second)) for first, second in chosen]


def sample_transfer(data: TaskData, count: int, seed: int) -> list[Example]:
    """The transfer set for ``data``, before the teacher labels it: for a pair task,
    ``train.transfer_pairs``'s ``count`` pairs of its distillation split's functions (none of
    its validation or test split's); for a task of single inputs, ``task.unlabeled``'s code."""
    if data.unlabeled_code:
        return list(data.unlabeled_code)
    return transfer_pairs(data.unlabeled, data.valid + data.test, count, seed)


def transfer_name(examples: Sequence[Example]) -> str:
    """The name the teacher's cached logits on the transfer set are stored under: by the ids of
    its examples, so logits cached for other pairs are never read for these."""
    digest = hashlib.sha256("\n".join(example.id for example in examples).encode()).hexdigest()[:16]
    return f"transfer-{len(examples)}-{digest}"


def with_teacher_labels(pairs: Sequence[Example], predicted: Sequence[int]) -> list[Example]:
    """The pairs labelled with the teacher's classes (what ``hard_label_weight`` reads)."""
    return [replace(pair, label=int(label)) for pair, label in zip(pairs, predicted)]
