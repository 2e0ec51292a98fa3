"""A student that learned nothing is named weak, and a coin flip never reads as most of the
teacher: the headline for two labels is the ROC AUC kept above chance, next to F1 kept."""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import numpy as np
import pytest
import torch
from rich.console import Console

from avatar.solver.report._markdown import auc_kept_text
from avatar.solver.report._students_section import students_section
from avatar.solver.report._tables import students_table, weak_warnings
from avatar.specs import StudentsRecord, loads
from avatar.trainer import load_task_data, prepare_distillation, train_selected
from avatar.trainer.students import MISSED_CLASS_SHARE, ONE_CLASS_SHARE, auc_interval, checkpoint_metric, logit_weakness, unpredicted_classes, weakness
from tests.trainer_tests.conftest import student_spec

CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_constant_and_a_coin_flip_are_weak_and_a_good_model_is_not(seed):
    generator = np.random.default_rng(seed)
    labels = generator.integers(0, 2, 400).tolist()
    informative = (np.array(labels) + generator.normal(0, 0.7, 400)).tolist()
    noise = generator.normal(0, 1, 400).tolist()
    assert weakness({"validation": [int(score > 0.5) for score in informative]}, informative, labels) == []
    constant = weakness({"validation": [1] * 400})
    assert len(constant) == 1 and "predicts class 1 for 100.0% of the validation split" in constant[0]
    flip = weakness({"validation": [int(score > 0) for score in noise]}, noise, labels)
    assert flip and "within noise of 0.5" in flip[-1]


def test_a_class_never_predicted_is_named_with_more_than_two_labels():
    labels = [0, 1, 2, 3] * 25
    misses_three = [label if label != 3 else 0 for label in labels]
    logits = torch.nn.functional.one_hot(torch.tensor(misses_three), 4).float()
    reasons = logit_weakness(logits, labels, seed=0)
    assert reasons == ["it never predicts class 3, 25% of the validation split"]
    assert logit_weakness(torch.nn.functional.one_hot(torch.tensor(labels), 4).float(), labels, seed=0) == []
    rare = [0] * 60 + [1] * 20 + [2] * 17 + [3] * 3  # a class under MISSED_CLASS_SHARE of the split is not a class missed
    assert unpredicted_classes([label if label != 3 else 0 for label in rare], rare) == [] and MISSED_CLASS_SHARE == 0.05
    assert unpredicted_classes([0] * 100, [0, 1] * 50) == []  # two labels: the one-class rule covers it
    named = logit_weakness(logits, labels, seed=0, names=["asyncio", "email", "multiprocessing", "xml"])
    assert named == ["it never predicts class 3 (xml), 25% of the validation split"]


def test_the_epoch_is_chosen_by_auc_only_where_a_cut_is_tuned():
    assert checkpoint_metric("defect", True, 2) == "auc" and checkpoint_metric("clone", True, 2) == "auc"
    assert checkpoint_metric("defect", False, 2) == "accuracy"
    assert checkpoint_metric("classify", True, 4) == "f1"  # no cut with four labels: argmax ships, so macro-F1 picks


def test_the_share_rule_is_at_98_percent():
    assert weakness({"test": [0] * 98 + [1] * 2}) and not weakness({"test": [0] * 97 + [1] * 3})
    assert ONE_CLASS_SHARE == 0.98


def test_the_auc_interval_covers_the_auc_and_is_undefined_for_one_class():
    generator = np.random.default_rng(5)
    labels = generator.integers(0, 2, 300)
    scores = labels + generator.normal(0, 1, 300)
    low, high = auc_interval(scores.tolist(), labels.tolist())
    from sklearn.metrics import roc_auc_score

    assert low < roc_auc_score(labels, scores) < high and high - low < 0.2
    assert auc_interval([0.1, 0.2, 0.3], [1, 1, 1]) is None


def test_auc_kept_is_zero_for_a_coin_flip_and_na_for_a_teacher_at_chance():
    assert auc_kept_text(0.5, 0.85) == "0.0%"
    assert auc_kept_text(0.82, 0.85) == f"{0.32 / 0.35:.1%}"
    assert auc_kept_text(0.7, 0.5).startswith("n/a")


def _noise_spec(tmp_path: Path, data: Path):
    text = student_spec("defect", data, "unused").replace(
        'teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}',
        "teacher: {predictions: p.jsonl, accept_weak: true}",
    )
    (tmp_path / "spec.yaml").write_text(text)
    return loads(text, filename=str(tmp_path / "spec.yaml"))


def test_a_student_that_cannot_learn_is_flagged_everywhere(tmp_path, defect_file):
    """Labels and teacher outputs that are noise: whatever the student does, it cannot beat a
    coin, so it is weak in students.json, in the terminal's table and warnings, and in the report."""
    rows = [json.loads(line) for line in defect_file.read_text().splitlines()]
    generator = random.Random(3)
    noisy = tmp_path / "noise.jsonl"
    noisy.write_text("".join(json.dumps({**row, "target": generator.randrange(2)}) + "\n" for row in rows))
    spec = _noise_spec(tmp_path, noisy)
    data = load_task_data(spec)
    examples = data.labeled + data.unlabeled + data.valid + data.test
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"id": example.id, "logits": [0.0, generator.uniform(-0.1, 0.1)]}) + "\n" for example in examples))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    run = tmp_path / "run"
    run.mkdir()
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [{"key": "noise000", "config": CONFIG, "reason": "test"}]}))
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu", distillation=distillation)
    student = summary.students[0]
    assert student.is_weak, student.test
    umask = os.umask(0o022)
    os.umask(umask)
    written = [path for path in (run / "students" / student.key).iterdir() if path.is_file()] + [run / "students.json"]
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in written} == {path.name: 0o666 & ~umask for path in written}, "every file gets the user's umask"
    stored = json.loads((run / "students.json").read_text())["students"][0]
    assert stored["weak"] == list(student.weak)
    assert StudentsRecord.from_dict(json.loads((run / "students.json").read_text())).students[0].weak == student.weak
    console = Console(record=True, width=300)
    console.print(students_table(summary))
    table = console.export_text()
    assert "WEAK" in table and "AUC kept" in table
    assert weak_warnings(summary) and weak_warnings(summary)[0].startswith("student noise000 is weak: ")
    section = students_section(summary)
    assert "WEAK" in section and "ROC AUC kept above chance" in section and "**Warning:** student noise000 is weak" in section
    energy = student.training_energy
    assert energy is not None and energy.joules > 0 and energy.carbon_g is not None and stored["training_energy"] == energy.to_dict()
    assert "Training energy: distilling the student took" in section and energy.source in section, "a teacher given as predictions took none here"


def test_probes_that_are_all_weak_are_told_before_the_search(tmp_path):
    """The fit after the initial design counts its weak probes (stored with each probe); when
    every one is weak, the terminal and the report say the surrogate is fitted to noise."""
    from avatar.solver.search._learning import all_probes_weak
    from avatar.solver.search._store import Probe, RunStore

    store = RunStore(tmp_path / "evaluations.sqlite")
    store.add_probe(Probe("a", {"x": 1}, {"epochs": 1}, "ok", 0.5, None, 1.0, 0, ("it predicts class 1 for 100.0% of the validation split",)))
    store.add_probe(Probe("b", {"x": 2}, {"epochs": 1}, "ok", 0.6, None, 1.0, 0))
    assert [probe.weak for probe in store.probes()] == [("it predicts class 1 for 100.0% of the validation split",), ()]
    assert all_probes_weak("accuracy", {"probes": 2, "weak": 1}) is None
    warning = all_probes_weak("accuracy", {"probes": 2, "weak": 2})
    assert warning and "every one of the 2 probes of 'accuracy' is weak" in warning and "fitted to noise" in warning


def test_a_store_from_before_weak_probes_opens_and_reads_them_as_not_weak(tmp_path):
    import sqlite3

    from avatar.solver.search._store import RunStore

    path = tmp_path / "evaluations.sqlite"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE probes (id INTEGER PRIMARY KEY, key TEXT NOT NULL, fidelity TEXT NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL, "
        "value REAL, error TEXT, seconds REAL, stage INTEGER NOT NULL, created REAL NOT NULL, UNIQUE (key, fidelity));"
        "INSERT INTO probes (key, fidelity, config, status, value, error, seconds, stage, created) VALUES ('a', '{}', '{}', 'ok', 0.7, NULL, 1.0, 0, 0);"
    )
    connection.commit()
    connection.close()
    assert [(probe.key, probe.weak) for probe in RunStore(path).probes()] == [("a", ())]


def test_two_students_record_their_predictions_and_the_report_compares_them(tmp_path, defect_file):
    """Each student's ``predicted`` entry holds the search's prediction for its point and what it
    realised on the same score; with two or more, the report and the terminal give the ranking's
    Spearman and MAE."""
    from avatar.solver.report._predicted import predicted_section, prediction_checks

    text = student_spec("defect", defect_file, "unused").replace(
        'teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}', "teacher: {predictions: p.jsonl, accept_weak: true}"
    )
    text = text.replace("objectives: {size_mb: minimize, gflops: maximize}", "objectives: {size_mb: minimize, accuracy: maximize}\nestimators: {accuracy: {options: {probe_score: auc}}}")
    (tmp_path / "spec.yaml").write_text(text)
    spec = loads(text, filename=str(tmp_path / "spec.yaml"))
    data = load_task_data(spec)
    examples = data.labeled + data.unlabeled + data.valid + data.test
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"id": example.id, "logits": [0.0, 2.0 if example.label else -2.0]}) + "\n" for example in examples))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    run = tmp_path / "run"
    run.mkdir()
    points = [
        {"key": f"point{size:03d}", "config": {**CONFIG, "hidden_size": size}, "metrics": {"size_mb": 0.1, "accuracy": 0.6 + size / 100, "accuracy_std": 0.02}, "reason": "test"} for size in (16, 32)
    ]
    (run / "selected.json").write_text(json.dumps({"select": 2, "points": points}))
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu", distillation=distillation)
    for student, point in zip(summary.students, points):
        entry = student.predicted["accuracy"]
        assert entry.value == point["metrics"]["accuracy"] and entry.std == 0.02 and entry.score == "auc"
        assert entry.test == student.test["auc"] and entry.validation is not None and 0.0 <= entry.validation <= 1.0
    (check,) = prediction_checks(summary)
    assert check.keys == ("point016", "point032") and check.score == "auc"
    section = predicted_section(summary, run)
    assert "### `accuracy` over 2 realised students" in section and (run / "predicted-accuracy.png").exists()
