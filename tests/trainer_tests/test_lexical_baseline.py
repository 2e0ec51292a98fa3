"""The lexical baseline (issue 33): a reference point that is real (it learns what the text
tells), fitted without the held-out labels, and in
``students.json``, the terminal table and the report of every run that trains."""

from __future__ import annotations

import dataclasses
import json

import pytest
from rich.console import Console

from avatar.solver.report._students_section import students_section
from avatar.solver.report._tables import students_table
from avatar.specs import BaselineRecord, StudentsRecord, loads
from avatar.trainer import train_selected
from avatar.trainer.data import load_task_data
from avatar.trainer.teacher import baseline_logits, lexical_baseline
from tests.trainer_tests.conftest import student_spec

CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip


@pytest.mark.parametrize("kind", ["defect", "clone"])
def test_the_baseline_learns_what_the_text_tells(kind, defect_file, clone_folder):
    data = load_task_data(loads(student_spec(kind, defect_file if kind == "defect" else clone_folder, "unused")))
    record = lexical_baseline(data, 42, tune_cut=True, metric="accuracy" if kind == "defect" else "f1")
    assert record.test["auc"] > 0.85 and set(record.valid) == set(record.test) == {"accuracy", "precision", "recall", "f1", "auc"}


def test_the_held_out_labels_never_reach_the_baseline(defect_file):
    data = load_task_data(loads(student_spec("defect", defect_file, "unused")))
    flipped = dataclasses.replace(data, valid=[dataclasses.replace(example, label=1 - example.label) for example in data.valid], test=[dataclasses.replace(example, label=0) for example in data.test])
    _, test = baseline_logits(data, 42)
    _, again = baseline_logits(flipped, 42)
    assert test.tolist() == again.tolist()


def test_every_run_that_trains_records_and_shows_the_baseline(tmp_path, clone_folder, tiny_teacher):
    spec = loads(student_spec("clone", clone_folder, tiny_teacher))
    run = tmp_path / "run"
    run.mkdir()
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [{"key": "base0000", "config": CONFIG, "reason": "test"}]}))
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu")
    assert isinstance(summary.baseline, BaselineRecord) and summary.baseline.test["auc"] is not None
    written = json.loads((run / "students.json").read_text())
    assert written["baseline"]["test"] == summary.baseline.test and StudentsRecord.from_dict(written) == summary
    (cached,) = (tmp_path / "cache" / "baseline").glob("*.json")  # a rerun with a cached teacher spends nothing on it
    console = Console(record=True, width=200)
    console.print(students_table(summary))
    assert "lexical baseline" in console.export_text()
    assert f"| baseline: {summary.baseline.name} |" in students_section(summary)


def test_a_students_file_from_before_the_baseline_still_reads():
    document = {
        "data": {"source": "d", "labeled": 1, "unlabeled": 1, "valid": 1, "test": 1},
        "teacher": {"model": "t", "test": {"f1": 0.9}, "size_mb": None, "latency_ms": None, "energy_j": None, "carbon_g": None},
        "students": [],
    }
    assert StudentsRecord.from_dict(document).baseline is None
    with pytest.raises(ValueError, match="baseline: 'valid' is missing"):
        StudentsRecord.from_dict({**document, "baseline": {"name": "x", "test": {}}})


def test_a_baseline_that_cannot_be_fitted_never_stops_a_run(tmp_path, clone_folder, tiny_teacher, monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("scikit-learn ran out of memory")

    monkeypatch.setattr("avatar.trainer._distillation.lexical_baseline", broken)
    spec = loads(student_spec("clone", clone_folder, tiny_teacher))
    run = tmp_path / "run"
    run.mkdir()
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [{"key": "base0001", "config": CONFIG, "reason": "test"}]}))
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu")
    assert summary.baseline is None and len(summary.students) == 1 and "baseline" not in json.loads((run / "students.json").read_text())
