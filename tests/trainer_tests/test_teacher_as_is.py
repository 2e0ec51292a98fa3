"""A teacher used as it is: a sequence classifier whose head already has the task's two labels
(for pairs, a cross-encoder reading both functions as one text pair) is not fine-tuned again
under ``finetune: auto``; ``always`` fine-tunes anyway; ``never`` refuses a bare encoder."""

from __future__ import annotations

import json

import pytest
import torch

from avatar.specs import loads
from avatar.trainer import TeacherError, prepare_distillation, train_selected
from tests.trainer_tests.conftest import student_spec


def _spec(kind, data, teacher, tmp_path, finetune):
    text = student_spec(kind, data, teacher).replace("accept_weak: true}", f"accept_weak: true, finetune: {finetune}}}")
    return loads(text, filename=str(tmp_path / "spec.yaml"))


@pytest.mark.parametrize("kind", ["defect", "clone"])
def test_a_classifier_with_the_tasks_labels_is_used_as_it_is(kind, tmp_path, defect_file, clone_folder, tiny_classifier):
    data = defect_file if kind == "defect" else clone_folder
    spec = _spec(kind, data, tiny_classifier, tmp_path, "auto")
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    teacher = distillation.teacher
    assert teacher.path == "as-is" and teacher.folder == tiny_classifier
    assert not (tmp_path / "cache" / "teachers").exists(), "nothing was fine-tuned"
    assert teacher.pair_as_text is (kind == "clone"), "a pair is read by a cross-encoder as one text pair"
    assert distillation.logits.shape == (len(distillation.data.unlabeled), 2)
    # its logits are the model's own on the examples, read with its own tokenizer
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(tiny_classifier).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_classifier)
    example = distillation.data.unlabeled[0]
    inputs = tokenizer(*example.texts, truncation=True, max_length=teacher.max_length, return_tensors="pt")
    with torch.no_grad():
        expected = model(**inputs).logits[0]
    assert torch.allclose(distillation.logits[0], expected, atol=1e-4)


def test_always_fine_tunes_and_never_refuses_a_bare_encoder(tmp_path, defect_file, tiny_teacher, tiny_classifier):
    spec = _spec("defect", defect_file, tiny_classifier, tmp_path, "always")
    assert prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu").teacher.path == "fine-tuned"
    with pytest.raises(TeacherError, match="finetune: never.*no classification head"):
        prepare_distillation(_spec("defect", defect_file, tiny_teacher, tmp_path, "never"), cache_dir=tmp_path / "cache", device="cpu")
    assert prepare_distillation(_spec("defect", defect_file, tiny_classifier, tmp_path, "never"), cache_dir=tmp_path / "cache", device="cpu").teacher.path == "as-is"


def test_students_json_records_the_path_taken(tmp_path, defect_file, tiny_classifier):
    spec = _spec("defect", defect_file, tiny_classifier, tmp_path, "auto")
    run = tmp_path / "run"
    run.mkdir()
    config = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
              "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [{"key": "asis0000", "config": config, "reason": "test"}]}))
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu")
    assert summary.teacher.path == "as-is"
    assert json.loads((run / "students.json").read_text())["teacher"]["path"] == "as-is"


def test_solve_refuses_finetune_never_without_a_head_before_the_search(tmp_path, defect_file, tiny_teacher, capsys):
    from avatar.solver.cli import EXIT_INVALID, main

    spec = tmp_path / "spec.yaml"
    spec.write_text(student_spec("defect", defect_file, tiny_teacher).replace("accept_weak: true}", "accept_weak: true,\n  finetune: never}").replace("train: {teacher: {", "train: {teacher: {\n  "))
    assert main([str(spec), "--out", str(tmp_path / "run"), "-q"]) == EXIT_INVALID
    err = capsys.readouterr().err
    line = next(number for number, text in enumerate(spec.read_text().splitlines(), 1) if "finetune: never" in text)
    assert f"spec.yaml:{line}:" in err and "train.teacher.finetune: finetune: never" in err, err
    assert not (tmp_path / "run" / "evaluations.sqlite").exists(), "refused before the search"


@pytest.mark.parametrize("finetune", ["auto", "always"])
def test_a_worker_loads_the_teacher_as_the_run_did(finetune, tmp_path, clone_folder, tiny_classifier):
    from avatar.trainer.teacher import AsIsTeacher, FineTunedTeacher, ModelTeacher, load_teacher

    distillation = prepare_distillation(_spec("clone", clone_folder, tiny_classifier, tmp_path, finetune), cache_dir=tmp_path / "cache", device="cpu")
    teacher = distillation.teacher
    assert isinstance(teacher, AsIsTeacher if finetune == "auto" else FineTunedTeacher) and isinstance(teacher, ModelTeacher)
    assert teacher.cached is (finetune == "always") and teacher.record() == {"path": teacher.kind}
    again = load_teacher(teacher.reference())
    assert type(again) is type(teacher) and again.max_length == teacher.max_length and again.pair_as_text == teacher.pair_as_text
    examples = distillation.data.valid[:6]
    with torch.no_grad():
        expected = teacher.logits(examples, "six", "data", tmp_path / "fresh", "cpu")
        assert torch.allclose(again.logits(examples, "six", "data", tmp_path / "other", "cpu"), expected, atol=1e-5)
