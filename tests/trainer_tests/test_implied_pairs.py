"""Implied pairs (``train.implied_pairs``): new pairs of a clone task labelled by the clone
relation's transitivity from the labels and the teacher's calibrated predictions, with no call
to the teacher. They never cross splits (a property test), follow the relation exactly where
the edges are certain, and join what students and probes distil on, for a teacher given as its
predictions too."""

from __future__ import annotations

import json
import math
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.specs import SpecError, loads
from avatar.trainer import DistillationProber, prepare_distillation
from avatar.trainer.data import Calibration, Example, implied_logits, implied_pairs, load_task_data
from tests.trainer_tests.conftest import student_spec, write_clone_data


def _pair(first: int, second: int, label: int = 0) -> Example:
    return Example((f"int f{first}() {{ return {first}; }}", f"int f{second}() {{ return {second}; }}"), label, (f"f{first}", f"f{second}"), f"f{first}/f{second}")


edges = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.floats(0.0, 1.0)).filter(lambda edge: edge[0] != edge[1]), max_size=80)
held = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)).filter(lambda pair: pair[0] != pair[1]), max_size=30)


@settings(max_examples=80, deadline=None)
@given(training=edges, held_out=held, count=st.integers(0, 120), seed=st.integers(0, 3))
def test_implied_pairs_never_cross_splits_nor_repeat_a_pair(training, held_out, count, seed):
    training_edges = [(_pair(first, second), probability) for first, second, probability in training]
    held_out_examples = [_pair(*pair) for pair in held_out]
    implied = implied_pairs(training_edges, held_out_examples, count, seed)
    allowed = {group for example, _ in training_edges for group in example.groups} - {group for example in held_out_examples for group in example.groups}
    existing = {frozenset(example.groups) for example, _ in training_edges} | {frozenset(example.groups) for example in held_out_examples}
    keys = [frozenset(pair.example.groups) for pair in implied]
    assert len(implied) <= count
    assert all(set(pair.example.groups) <= allowed and len(set(pair.example.groups)) == 2 for pair in implied)
    assert not set(keys) & existing and len(set(keys)) == len(keys)
    assert all(0.0 <= pair.probability <= 1.0 and pair.example.label == int(pair.probability >= 0.5) for pair in implied)
    assert implied_pairs(training_edges, held_out_examples, count, seed) == implied  # the same edges and seed: the same pairs


def test_certain_edges_imply_the_true_relation_half_clones_half_not():
    # Four families of five functions: clones within a family, not across. Only a chain of
    # each family and a few pairs across families are known.
    family = {number: number // 5 for number in range(20)}
    known = [(number, number + 1) for number in range(19) if family[number] == family[number + 1]] + [(0, 5), (6, 12), (13, 19), (3, 17)]
    training = [(_pair(first, second, int(family[first] == family[second])), float(family[first] == family[second])) for first, second in known]
    implied = implied_pairs(training, [], 20, 0)
    assert len(implied) == 20
    for pair in implied:
        first, second = (int(group[1:]) for group in pair.example.groups)
        assert pair.example.label == int(family[first] == family[second])
        assert pair.strength == 1.0 and pair.probability in (0.0, 1.0)
    assert sum(pair.example.label for pair in implied) == 10  # balanced where both kinds are implied


def test_two_non_clones_imply_nothing_and_uncertain_edges_imply_little():
    unrelated = [(_pair(0, 1), 0.0), (_pair(1, 2), 0.0)]
    assert implied_pairs(unrelated, [], 10, 0) == []  # f0 and f2 may or may not be clones
    uncertain = [(_pair(0, 1), 0.6), (_pair(1, 2), 0.6)]
    assert implied_pairs(uncertain, [], 10, 0) == []  # its best path says 0.48 at most
    sure = [(_pair(0, 1), 0.95), (_pair(1, 2), 0.9), (_pair(2, 3), 0.05)]
    implied = implied_pairs(sure, [], 10, 0)
    [clone] = [pair for pair in implied if pair.example.label == 1]
    assert clone.example.groups == ("f0", "f2") and 0.85 < clone.probability < 0.9  # 0.855 / (0.855 + 0.14)
    assert len(implied) == 2  # as many clones as not: one of f1-f3 and f0-f3 (through the implied f0-f2)
    assert implied_pairs(sure[:2], [], 10, 0) == []  # a clone alone is not balanced by any other


def test_the_calibration_maps_margins_to_probabilities_and_back():
    generator = torch.Generator().manual_seed(0)
    labels = [index % 2 for index in range(200)]
    margins = torch.tensor(labels, dtype=torch.float32) * 4.0 - 2.0 + torch.randn(200, generator=generator) * 2.0  # an overconfident teacher's scale
    logits = torch.stack([-margins / 2, margins / 2], dim=1)
    calibration = Calibration.fitted(logits, labels)
    assert 0.0 < calibration.slope < 2.0
    probabilities = calibration.probabilities(logits)
    assert all(0.0 < probability < 1.0 for probability in probabilities)
    for probability in (0.1, 0.5, 0.9):
        back = calibration.probabilities(torch.tensor([calibration.logits(probability)]))[0]
        assert math.isclose(back, probability, rel_tol=1e-6)
    assert Calibration.fitted(logits, [1] * 200) == Calibration()  # one class: nothing to fit
    assert Calibration.fitted(-logits, labels) == Calibration()  # a teacher ranking the wrong way round is read as it is
    assert implied_logits([], calibration).shape == (0, 2)


def test_implied_pairs_are_a_spec_error_for_tasks_that_are_not_clones(defect_file):
    with pytest.raises(SpecError, match="train.implied_pairs: implied_pairs follows the clone relation"):
        loads(student_spec("defect", defect_file, "unused", implied_pairs=100))
    with pytest.raises(SpecError, match="implied_pairs"):
        loads(student_spec("clone", defect_file, "unused", implied_pairs=-1))


def test_implied_pairs_are_as_many_clones_as_not_within_each_band_of_overlap():
    # Clones of one family share their words, so chains imply clones that overlap and
    # non-clones that do not; only where both kinds overlap alike are pairs kept.
    words = {family: " ".join(f"w{family}_{index}" for index in range(8)) for family in range(4)}

    def text(number: int) -> str:
        return words[number % 4] if number < 16 else f"unique_{number} other_{number}"  # 16 and up share no word with anything

    family = {number: number % 4 for number in range(24)}
    known = [(first, second) for first in range(24) for second in range(first + 1, min(first + 6, 24))]
    training = [
        (Example((text(first), text(second)), int(family[first] == family[second]), (f"f{first}", f"f{second}"), f"{first}/{second}"), float(family[first] == family[second]))
        for first, second in known
    ]
    implied = implied_pairs(training, [], 1000, 0)
    clones = [pair for pair in implied if pair.example.label == 1]
    assert implied and len(clones) * 2 == len(implied)
    sharing = [pair for pair in clones if max(int(group[1:]) for group in pair.example.groups) < 16]  # implied clones with the same words
    assert len(sharing) < len(clones)  # the unbalanced surplus of copies is left out


def test_a_predictions_teacher_gets_implied_pairs_and_students_and_probes_distil_on_them(tmp_path):
    clone_folder = write_clone_data(tmp_path / "clones", n_methods=120)  # predictions are keyed by id: each pair once
    lines = (clone_folder / "pairs.txt").read_text().splitlines()
    (clone_folder / "pairs.txt").write_text("".join(line + "\n" for index, line in enumerate(lines) if line.split("\t")[:2] not in [other.split("\t")[:2] for other in lines[:index]]))
    text = student_spec("clone", clone_folder, "unused", implied_pairs=40)
    data = load_task_data(loads(text))
    written = tmp_path / "predictions.jsonl"  # a good teacher's: its margins follow the labels, with noise
    generator = random.Random(0)
    rows = [{"id": example.id, "logits": [0.0, (2.0 if example.label else -2.0) + generator.gauss(0.0, 1.0)]} for example in data.labeled + data.unlabeled + data.valid + data.test]
    written.write_text("".join(json.dumps(row) + "\n" for row in rows))
    text = text.replace('teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}', f'teacher: {{predictions: "{written}", accept_weak: true}}')
    distillation = prepare_distillation(loads(text), cache_dir=tmp_path / "cache", device="cpu")
    data = distillation.data
    assert 0 < len(data.implied) <= 40 and data.distillation[-len(data.implied) :] == data.implied
    assert len(distillation.outputs) == len(data.distillation)
    logits = distillation.outputs.unlabeled[-len(data.implied) :]
    margins = (logits[:, 1] - logits[:, 0]).tolist()  # teacher-like: the calibration inverted, so monotone in the implied probability
    assert min(margin for margin, example in zip(margins, data.implied) if example.label) > max(margin for margin, example in zip(margins, data.implied) if not example.label)
    assert data.summary()["implied"] == len(data.implied)
    held_out = {group for example in data.valid + data.test for group in example.groups}
    assert not any(set(example.groups) & held_out for example in data.implied)
    existing = {frozenset(example.groups) for example in data.labeled + data.unlabeled + data.valid + data.test}
    assert not any(frozenset(example.groups) in existing for example in data.implied)
    assert not any(row["id"].startswith("implied/") for row in rows)  # the file has no output for them: none was needed
    without = prepare_distillation(loads(text.replace("implied_pairs: 40", "implied_pairs: 0")), cache_dir=tmp_path / "cache", device="cpu")
    assert not without.data.implied and DistillationProber(distillation).source != DistillationProber(without).source
