"""The run's records: every one survives a JSON round trip, and a damaged file is refused with
its name and the field at fault."""

from __future__ import annotations

import json

import pytest

from avatar.specs import (
    LearningRecord,
    Manifest,
    RunDirectory,
    RunFileError,
    SelectedPoint,
    Selection,
    SpaceReport,
    StudentRecord,
    StudentsRecord,
    TeacherRecord,
)

POINT = SelectedPoint("9793ad621de6", {"hidden_size": 16, "tokenizer": "bpe"}, {"size_mb": 1.108, "gflops": 0.46}, "knee of the front", "ok", None, 0.00012, 9)
STUDENT = {  # a metrics.json as the trainer writes it (every part typed)
    "key": "9793ad621de6",
    "config": {"hidden_size": 16, "tokenizer": "bpe"},
    "test": {"accuracy": 0.61, "precision": 0.6, "recall": 0.7, "f1": 0.64, "auc": None},
    "size_mb": 1.1,
    "latency_ms": 2.5,
    "energy_j": 0.03,
    "carbon_g": 0.004,
    "weak": ["it predicts class 1 for 99.0% of the test split"],
    "predicted": {"accuracy": {"value": 0.71, "std": 0.02, "score": "f1", "validation": 0.69, "test": 0.64}},
    "task": "clone",
    "test_examples": 3,
    "test_predictions": [1, 1, 0],
    "validation": {
        "metric": "auc",
        "best": 0.75,
        "best_epoch": 2,
        "epochs_run": 2,
        "history": [{"epoch": 1, "loss": 0.76, "seconds": 8.7, "valid_f1": 0.0, "valid_auc": 0.64}, {"epoch": 2, "loss": 0.71, "seconds": 8.5, "valid_f1": 0.62, "valid_auc": 0.75}],
    },
    "threshold": {
        "tuned": True,
        "margin": 0.2,
        "probability": 0.55,
        "folded": True,
        "metric": "f1",
        "validation_at_default": 0.6,
        "validation_tuned": 0.65,
        "test_at_default": {"accuracy": 0.6, "f1": 0.6, "auc": None},
    },
    "distill": {"logits": 1.0, "hard_labels": 1.0},
    "seed": 42,
    "restarts": [{"seed": 42, "best": 0.75, "best_epoch": 2, "epochs_run": 2}],
    "params": 12345,
    "size_mb_estimated": 1.05,
    "notes": ["distilled on 201 unlabelled and 201 labelled examples (hard_labels)"],
    "train": {"epochs": 3, "patience": 3, "temperature": 2.0, "distill": None, "seed": 42},
    "latency_ms_p90": 2.9,
    "energy_estimated": 1.0,
    "onnx": {
        "file": "model.onnx",
        "test": {"f1": 0.64},
        "max_logit_difference": 1e-6,
        "size_mb": 1.2,
        "latency_ms": 1.0,
        "latency_ms_p90": 1.2,
        "energy_j": 0.01,
        "energy_estimated": 1.0,
        "carbon_g": 0.001,
    },
    "int8": {"test": {"f1": 0.63}, "size_mb": 0.4, "latency_ms": 0.9, "latency_ms_p90": 1.0, "energy_j": 0.01, "energy_estimated": 0.0, "carbon_g": 0.001},
    "seconds": 30.5,
}
OLD_STUDENT = {key: STUDENT[key] for key in ("key", "config", "test", "size_mb", "latency_ms", "energy_j", "carbon_g")} | {"weak": [], "predicted": {}}  # written before the rest was kept
TEACHER = {
    "model": "microsoft/codebert-base",
    "test": {"accuracy": 0.63, "f1": 0.0},
    "size_mb": 498.6,
    "latency_ms": 70.0,
    "energy_j": 0.9,
    "carbon_g": 0.1,
    "warnings": ["predicts one class"],
    "path": "fine-tuned",
    "max_length": 128,
    "folder": "/cache/teachers/604237a25c46a273618f",
    "threshold": {"metric": "f1", "validation_tuned_margin": -0.68, "test_at_validation_tuned": {"accuracy": 0.79, "f1": 0.84}},
    "validation": {"metric": "auc", "value": 0.79, "epochs": 1, "best_epoch": 1, "max_epochs": 1, "learning_rate": 1e-4, "learning_rate_trial": {"1e-05": 0.61, "3e-05": 0.7, "0.0001": 0.79}},
    "latency_ms_p90": 79.2,
    "energy_estimated": 1.0,
    "params": 124,
    "features_mb": 12.5,
}
DATA = {"source": "d", "labeled": 1, "unlabeled": 2, "valid": 3, "test": 4, "dropped": 5, "transfer": 6, "num_labels": 2, "labels": ["different", "clone"]}
STUDENTS = {"primary": "f1", "data": DATA, "teacher": TEACHER, "students": [STUDENT, OLD_STUDENT], "device": "cpu", "seconds": {"teacher": 1.5}}
LEARNING = {  # a learning.json entry as the run writes it
    "metric": "accuracy",
    "method": "learned",
    "fidelity": {"epochs": 1, "examples": 64, "score": "auc"},
    "promoted": None,
    "surrogate": "forest",
    "fits": [{"stage": 0, "probes": 8, "failed": 0, "weak": 1, "spearman": 0.12, "mae": 0.058, "folds": 5, "n": 8}, {"stage": 1, "probes": 3, "failed": 1, "weak": 0}],
    "probes": [
        {"key": "a", "stage": 0, "level": 0, "status": "ok", "measured": 0.6, "error": None, "seconds": 29.4, "out_of_fold": 0.58, "config": {"hidden_size": 32}},
        {"key": "b", "stage": 1, "level": 0, "status": "failed", "measured": None, "error": "out of memory", "seconds": 1.0, "out_of_fold": None, "config": {"hidden_size": 64}},
    ],
    "front": [{"key": "a", "predicted": 0.6, "std": 0.02, "accuracy": 0.6, "size_mb": 0.18}],
}
SPACE = {
    "name": "s",
    "file": "s.yaml",
    "feasible": True,
    "grid_size": 100,
    "count": {"value": 40, "exact": True},
    "fraction": 0.4,
    "parameters": [{"name": "tokenizer", "kind": "categorical", "domain": "{bpe, word}", "size": 2}],
    "constraints": [{"name": "c", "expression": "size_mb <= 3", "line": 4, "hard": True, "note": None}],
    "bounds": {"tokenizer": ["bpe", "bpe"]},
    "declared": {"tokenizer": ["bpe", "word"]},
    "choices": {"tokenizer": ["bpe"]},
    "hard": ["c"],
    "estimators": [{"metric": "size_mb"}],
}
MANIFEST = {"spec": {"name": "s", "hash": "abc", "search_hash": "def"}, "seeds": {"search": 1}, "libraries": {"numpy": "2"}, "machine": {}, "sessions": [{"command": ["solve"]}], "extra_field": 1}

RECORDS = [
    (Selection, {"select": "knee", "points": [POINT.to_dict()]}),
    (StudentRecord, STUDENT),
    (TeacherRecord, TEACHER),
    (StudentsRecord, STUDENTS),
    (LearningRecord, LEARNING),
    (SpaceReport, SPACE),
    (Manifest, MANIFEST),
]


@pytest.mark.parametrize(("kind", "document"), RECORDS, ids=[kind.__name__ for kind, _ in RECORDS])
def test_every_record_survives_a_json_round_trip(kind, document):
    record = kind.from_dict(document)
    assert kind.from_dict(json.loads(json.dumps(record.to_dict()))) == record
    assert json.loads(json.dumps(record.to_dict())) == json.loads(json.dumps(document)), "nothing read is lost or changed"


def test_records_give_typed_access_to_what_code_reads():
    students = StudentsRecord.from_dict(STUDENTS)
    student = students.students[0]
    assert students.primary == "f1" and students.teacher.warnings == ("predicts one class",)
    assert student.size_mb == 1.1 and student.threshold is not None and student.threshold.margin == 0.2
    assert [label for label, _ in student.variants()] == ["ONNX Runtime", "int8"] and student.int8 is not None and student.int8.energy_estimated is False
    assert student.validation is not None and student.validation.epoch(2) is not None and student.validation.epoch(2).figures["valid_auc"] == 0.75
    assert student.restarts is not None and student.restarts[0].epochs_run == 2 and student.energy_estimated is True
    assert students.data.transfer == 6 and students.data.labels == ("different", "clone")
    assert students.teacher.validation is not None and students.teacher.validation.best_epoch == 1 and students.teacher.features_mb == 12.5
    old = students.students[1]
    assert old.validation is None and old.threshold is None and old.variants() == [] and old.weak == ()
    learning = LearningRecord.from_dict(LEARNING)
    assert learning.scored_by_auc and learning.fits[0].spearman == 0.12 and learning.fits[1].folds is None
    assert [probe.ok for probe in learning.probes] == [True, False] and learning.probes[1].error == "out of memory"
    assert learning.front[0].objectives == {"accuracy": 0.6, "size_mb": 0.18} and learning.front[0].std == 0.02
    assert SpaceReport.from_dict(SPACE).bounds_cells("tokenizer") == ("{bpe, word}", "{bpe}")
    assert Selection.from_dict({"select": 2, "points": [POINT.to_dict()]}).points == (POINT,)


@pytest.mark.parametrize(
    ("kind", "document", "complaint"),
    [
        (Selection, [1, 2], "not a JSON object"),
        (Selection, {"points": 3}, "'points' is int"),
        (Selection, {"points": [{"key": "x"}]}, "point 1: 'config' is missing"),
        (StudentsRecord, {**STUDENTS, "students": [{**STUDENT, "size_mb": "big"}]}, "student 1: 'size_mb' is str"),
        (StudentsRecord, {**STUDENTS, "teacher": {**TEACHER, "latency_ms": True}}, "teacher: 'latency_ms' is True"),
        (StudentRecord, {**STUDENT, "test": {"f1": "high"}}, "'test.f1'"),
        (StudentRecord, {**STUDENT, "threshold": {"tuned": True}}, "'margin' is missing"),
        (StudentRecord, {**STUDENT, "validation": {**STUDENT["validation"], "history": [{"epoch": 1, "loss": "low"}]}}, "'an epoch.loss' is 'low'"),
        (StudentRecord, {**STUDENT, "restarts": [{"seed": 1}]}, "'best' is missing"),
        (StudentRecord, {**STUDENT, "int8": {"test": {}}}, "'size_mb' is missing"),
        (StudentRecord, {**STUDENT, "test_predictions": [1, "clone"]}, "'test_predictions'"),
        (StudentRecord, {**STUDENT, "distill": {"logits": "all"}}, "'distill.logits'"),
        (StudentsRecord, {**STUDENTS, "data": {**DATA, "labeled": "many"}}, "data: 'labeled' is str"),
        (StudentsRecord, {**STUDENTS, "teacher": {**TEACHER, "validation": {"epochs": 1.5}}}, "teacher: 'epochs' is float"),
        (SpaceReport, {**SPACE, "grid_size": 1.5}, "'grid_size'"),
        (Manifest, {**MANIFEST, "spec": {}}, "'hash' is missing"),
        (LearningRecord, {**LEARNING, "metric": None}, "'metric' is NoneType"),
        (LearningRecord, {**LEARNING, "probes": [{"key": "a", "status": "ok", "measured": "high"}]}, "'measured' is str"),
        (LearningRecord, {**LEARNING, "fits": [{"stage": 0}]}, "'probes' is missing"),
        (LearningRecord, {**LEARNING, "front": [{"key": "a", "predicted": 0.6, "size_mb": "small"}]}, "'a front point.size_mb'"),
    ],
)
def test_a_damaged_document_names_the_field(kind, document, complaint):
    with pytest.raises(ValueError, match=None) as error:
        kind.from_dict(document)
    assert complaint in str(error.value)


def test_a_selection_of_another_spec_is_refused():
    selection = Selection("knee", (POINT,))
    selection.check_parameters(["hidden_size", "tokenizer"])
    with pytest.raises(ValueError, match="does not configure"):
        selection.check_parameters(["hidden_size"])


def test_the_run_directory_owns_the_file_names_and_reads_back_what_it_wrote(tmp_path):
    run = RunDirectory(tmp_path)
    with pytest.raises(RunFileError, match="has no selected.json: run the search first"):
        run.selection()
    assert run.students() is None and run.learning() == [] and run.manifest() is None
    run.write_selection(Selection("knee", (POINT,)))
    run.write_students(StudentsRecord.from_dict(STUDENTS))
    run.write_learning([LearningRecord.from_dict(LEARNING)])
    run.write_space_report(SpaceReport.from_dict(SPACE))
    run.write_manifest(Manifest.from_dict(MANIFEST))
    assert run.selection().points == (POINT,) and run.students() == StudentsRecord.from_dict(STUDENTS)
    assert run.learning() == [LearningRecord.from_dict(LEARNING)] and run.space_report() == SpaceReport.from_dict(SPACE)
    assert run.manifest() == Manifest.from_dict(MANIFEST)
    assert run.results() == ["selected.json", "manifest.json", "space.json", "learning.json", "students.json"]
    assert run.student_folder("k") == tmp_path / "students" / "k" and run.selected == tmp_path / "selected.json"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["learning.json", "manifest.json", "selected.json", "space.json", "students.json"], "no temporary file is left"


@pytest.mark.parametrize("damage", ["{oops", "[1, 2]", '{"points": [{"key": "x"}]}', "\udcff"])
def test_a_damaged_file_is_a_run_file_error_naming_it(tmp_path, damage):
    (tmp_path / "selected.json").write_text(damage, errors="surrogateescape")
    with pytest.raises(RunFileError) as error:
        RunDirectory(tmp_path).selection()
    assert str(tmp_path / "selected.json") in str(error.value) and ("is damaged" in str(error.value) or "cannot be read" in str(error.value))
