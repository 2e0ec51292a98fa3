"""A teacher given as its predictions (``train.teacher.predictions``): no teacher model runs;
students distilled from a teacher's predictions equal those distilled from the teacher; every
problem with the file names the file, the line and the id."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy
import pytest
import torch

from avatar.specs import loads
from avatar.trainer import PredictionsError, load_task_data, prepare_distillation, read_predictions, train_selected
from tests.trainer_tests.conftest import student_spec

CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip


def _spec(tmp_path: Path, data: Path, teacher_fields: str):
    text = student_spec("defect", data, "unused")
    text = text.replace('teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}', f"teacher: {{{teacher_fields}}}")
    (tmp_path / "spec.yaml").write_text(text)
    return loads(text, filename=str(tmp_path / "spec.yaml"))


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _all_examples(spec):
    data = load_task_data(spec)
    return data.labeled + data.unlabeled + data.valid + data.test


def _oracle_rows(examples, strength: float = 2.0) -> list[dict]:
    """A good teacher's logits: the label's class ahead by ``strength``, with some spread."""
    return [{"id": example.id, "logits": [0.0, strength * (1 if example.label else -1) + 0.1 * (index % 7)]} for index, example in enumerate(examples)]


def _select(run: Path, key: str = "pred0000") -> None:
    run.mkdir(parents=True, exist_ok=True)
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [{"key": key, "config": CONFIG, "reason": "test"}]}))


def test_students_distilled_from_a_teachers_predictions_equal_those_distilled_from_the_teacher(tmp_path, defect_file, tiny_classifier):
    """The research's workflow: the teacher's outputs computed once elsewhere give the same
    student as the teacher itself (same seed, same data, same logits)."""
    as_is = _spec(tmp_path, defect_file, f'model: "{tiny_classifier}", accept_weak: true')
    distillation = prepare_distillation(as_is, cache_dir=tmp_path / "cache", device="cpu")
    data, teacher = distillation.data, distillation.teacher
    from avatar.trainer.teacher._teacher import teacher_logits

    rows = []
    for name, part in (("labeled", data.labeled), ("unlabeled", data.unlabeled), ("valid", data.valid), ("test", data.test)):
        logits = teacher_logits(teacher, part, name, data.fingerprint, tmp_path / "cache", "cpu")
        rows += [{"id": example.id, "logits": values} for example, values in zip(part, logits.tolist())]
    _write_jsonl(tmp_path / "teacher.jsonl", rows)
    given = _spec(tmp_path, defect_file, "predictions: teacher.jsonl, accept_weak: true")  # relative to the spec's folder

    _select(tmp_path / "run-model")
    _select(tmp_path / "run-predictions")
    from_model = train_selected(as_is, None, tmp_path / "run-model", cache_dir=tmp_path / "cache", device="cpu", distillation=distillation)
    from_predictions = train_selected(given, None, tmp_path / "run-predictions", cache_dir=tmp_path / "cache2", device="cpu")
    assert from_predictions.teacher.path == "predictions"
    assert from_predictions.teacher.test == pytest.approx(from_model.teacher.test, abs=1e-5)
    assert from_model.students[0].distill == from_predictions.students[0].distill == {"logits": 1.0, "hard_labels": 1.0}  # the default
    assert from_predictions.students[0].test == pytest.approx(from_model.students[0].test, abs=1e-6)
    # no model: its size and latency are unknown, and the report says why instead of inventing ratios
    assert from_predictions.teacher.size_mb is None and from_predictions.teacher.latency_ms is None
    from avatar.solver.report._students_section import students_section

    section = students_section(from_predictions)
    assert "given as its predictions" in section and "size, latency, energy and carbon are not known" in section and "| —" in section


def test_the_default_distils_on_logits_alone_where_the_predictions_lack_the_labelled_split(tmp_path, defect_file):
    """A predictions file from another tool may hold only the examples the teacher did not
    train on: the default (logits+hard_labels) then falls back to logits, and the run says so;
    asked for by name, hard_labels is refused instead."""
    from rich.console import Console

    spec = _spec(tmp_path, defect_file, "predictions: p.jsonl")
    data = load_task_data(spec)
    _write_jsonl(tmp_path / "p.jsonl", _oracle_rows(data.unlabeled + data.valid + data.test))
    console = Console(record=True, width=300)
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu", console=console)
    assert dict(distillation.outputs.methods) == {"logits": 1.0} and distillation.outputs.labeled is None and distillation.spec.train.distill is None
    said = console.export_text()
    assert "train.distill: logits, not the default logits+hard_labels" in said and "p.jsonl has no predictions for some of the labelled split" in said
    _select(tmp_path / "run")
    summary = train_selected(spec, None, tmp_path / "run", cache_dir=tmp_path / "cache", device="cpu", distillation=distillation)
    assert summary.students[0].distill == {"logits": 1.0}
    named = loads((tmp_path / "spec.yaml").read_text().replace("temperature: 2.0", "temperature: 2.0, distill: logits+hard_labels"), filename=str(tmp_path / "spec.yaml"))
    with pytest.raises(PredictionsError, match="no prediction for example id"):
        prepare_distillation(named, cache_dir=tmp_path / "cache", device="cpu")
    _write_jsonl(tmp_path / "p.jsonl", _oracle_rows(data.labeled + data.unlabeled + data.valid + data.test))
    covered = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    assert dict(covered.outputs.methods) == {"logits": 1.0, "hard_labels": 1.0} and covered.spec.train.distill is None  # the spec is never rewritten


def test_declared_size_and_latency_give_the_ratios_and_a_model_is_measured(tmp_path, defect_file, tiny_teacher):
    spec = _spec(tmp_path, defect_file, "predictions: p.jsonl")
    _write_jsonl(tmp_path / "p.jsonl", _oracle_rows(_all_examples(spec)))
    declared = _spec(tmp_path, defect_file, "predictions: p.jsonl, size_mb: 500, latency_ms: 40")
    _select(tmp_path / "run")
    summary = train_selected(declared, None, tmp_path / "run", cache_dir=tmp_path / "cache", device="cpu")
    assert (summary.teacher.size_mb, summary.teacher.latency_ms, summary.teacher.energy_j) == (500, 40, None)
    assert summary.teacher.test["auc"] == 1.0  # the oracle's predictions, read by id
    measured = _spec(tmp_path, defect_file, f'predictions: p.jsonl, model: "{tiny_teacher}"')
    teacher = prepare_distillation(measured, cache_dir=tmp_path / "cache", device="cpu").teacher
    assert teacher.path == "predictions" and teacher.model is not None and teacher.size_bytes() > 0


def test_probabilities_are_turned_into_logits_and_npy_needs_its_ids(tmp_path):
    _write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "probabilities": [0.2, 0.8]}])
    predictions = read_predictions(tmp_path / "p.jsonl", 2, outputs="probabilities")
    assert torch.softmax(torch.tensor(predictions.logits["a"]), 0).tolist() == pytest.approx([0.2, 0.8])
    numpy.save(tmp_path / "p.npy", numpy.array([[0.5, -0.5], [1.0, 2.0]]))
    with pytest.raises(PredictionsError, match=r"p.ids.txt: no such file"):
        read_predictions(tmp_path / "p.npy", 2)
    (tmp_path / "p.ids.txt").write_text("a\nb\n")
    assert read_predictions(tmp_path / "p.npy", 2).logits == {"a": [0.5, -0.5], "b": [1.0, 2.0]}
    (tmp_path / "other.txt").write_text("a\n")
    with pytest.raises(PredictionsError, match=r"other.txt: 1 ids for the 2 rows of p.npy"):
        read_predictions(tmp_path / "p.npy", 2, ids_path=tmp_path / "other.txt")
    numpy.save(tmp_path / "bad.npy", numpy.array([[0.5, math.nan]]))
    (tmp_path / "bad.ids.txt").write_text("z\n")
    with pytest.raises(PredictionsError, match=r"bad.npy row 1 \(id line bad.ids.txt:1\): id 'z': a value that is not finite"):
        read_predictions(tmp_path / "bad.npy", 2)


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"id": "a", "logits": [0, 1]}', "not json"], r"p.jsonl:2: not a JSON line"),
        (['{"id": "a", "logits": [0, 1, 2]}'], r"p.jsonl:1: id 'a': 3 values for the task's 2 labels"),
        (['{"id": "a", "logits": [0, NaN]}'], r"p.jsonl:1: id 'a': a value that is not finite in float32"),
        (['{"id": "a", "logits": [0, 1]}', '{"id": "a", "logits": [1, 0]}'], r"p.jsonl:2: id 'a' is given twice"),
        (['{"id": "a", "probabilities": [0.1, 0.9]}'], r"p.jsonl:1: id 'a' has no 'logits' \(it has 'probabilities': set train.teacher.outputs: probabilities\)"),
        (['{"logits": [0, 1]}'], r'p.jsonl:1: expected \{"id": ..., "logits": \[...\]\}'),
        (['{"id": "a", "logits": ["x", 1]}'], r"p.jsonl:1: id 'a': expected a list of numbers"),
    ],
)
def test_a_bad_predictions_line_names_the_file_the_line_and_the_id(tmp_path, lines, message):
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(PredictionsError, match=message):
        read_predictions(tmp_path / "p.jsonl", 2)


def test_probabilities_that_are_not_probabilities_are_refused(tmp_path):
    _write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "probabilities": [2.0, -1.0]}])
    with pytest.raises(PredictionsError, match=r"p.jsonl:1: id 'a': \[2.0, -1.0\] are not probabilities"):
        read_predictions(tmp_path / "p.jsonl", 2, outputs="probabilities")


def test_solve_refuses_predictions_missing_an_example_before_the_search(tmp_path, defect_file, capsys):
    from avatar.solver.cli import EXIT_INVALID, main

    spec = _spec(tmp_path, defect_file, "predictions: p.jsonl")
    examples = _all_examples(spec)
    rows = [row for row in _oracle_rows(examples) if row["id"] != examples[-1].id]  # the last test example has none
    _write_jsonl(tmp_path / "p.jsonl", rows)
    assert main([str(tmp_path / "spec.yaml"), "--out", str(tmp_path / "run"), "-q"]) == EXIT_INVALID
    error = capsys.readouterr().err
    assert "spec.yaml:16" in error and "train.teacher.predictions" in error
    assert f"p.jsonl: no prediction for example id '{examples[-1].id}'" in error
    assert not (tmp_path / "run" / "evaluations.sqlite").exists()


def test_a_teacher_needs_a_model_or_predictions_and_predictions_settings_need_predictions(tmp_path, defect_file):
    from avatar.specs import SpecError

    with pytest.raises(SpecError, match="a teacher needs 'model'.*or 'predictions'"):
        _spec(tmp_path, defect_file, "epochs: 3")
    with pytest.raises(SpecError, match="train.teacher.latency_ms: 'latency_ms' describes a teacher given as its predictions"):
        _spec(tmp_path, defect_file, "model: m, latency_ms: 3")


def test_write_predictions_needs_a_model_and_unique_ids(tmp_path, defect_file, capsys):
    from avatar.solver.cli import EXIT_INVALID, main

    _spec(tmp_path, defect_file, "predictions: p.jsonl")
    assert main([str(tmp_path / "spec.yaml"), "--write-predictions", str(tmp_path / "out.jsonl"), "-q"]) == EXIT_INVALID
    assert "needs a teacher model to label the data with" in capsys.readouterr().err
    duplicated = tmp_path / "duplicated.jsonl"
    duplicated.write_text("".join(json.dumps({"func": f"int f{index}() {{ return {index}; }}", "target": index % 2, "idx": index % 30}) + "\n" for index in range(60)))
    assert main([str(tmp_path / "spec.yaml"), "--write-predictions", str(tmp_path / "out.jsonl"), "--data", str(duplicated), "--teacher", "unused", "-q"]) == EXIT_INVALID
    error = capsys.readouterr().err
    assert "task.fields.id" in error and re.search(r"the example id '\d+' is given twice", error)
    assert not (tmp_path / "out.jsonl").exists()
