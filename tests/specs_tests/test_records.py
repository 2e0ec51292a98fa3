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
STUDENT = {
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
    "threshold": {"tuned": True, "margin": 0.2},
    "restarts": [{"seed": 1, "best": 0.7}],
    "onnx": {"file": "model.onnx", "test": {"f1": 0.64}, "size_mb": 1.2, "latency_ms": 1.0, "energy_j": 0.01, "carbon_g": 0.001},
}
TEACHER = {
    "model": "microsoft/codebert-base",
    "test": {"accuracy": 0.63, "f1": 0.0},
    "size_mb": 498.6,
    "latency_ms": 70.0,
    "energy_j": 0.9,
    "carbon_g": 0.1,
    "warnings": ["predicts one class"],
    "params": 124,
}
STUDENTS = {"primary": "f1", "data": {"source": "d", "labeled": 1, "unlabeled": 2, "valid": 3, "test": 4}, "teacher": TEACHER, "students": [STUDENT], "device": "cpu", "seconds": {"teacher": 1.5}}
LEARNING = {
    "metric": "accuracy",
    "method": "learned",
    "fidelity": {"epochs": 1, "examples": 64},
    "promoted": None,
    "surrogate": "forest",
    "fits": [{"stage": 0, "probes": 8, "failed": 0}],
    "probes": [{"key": "a", "status": "ok", "measured": 0.6}],
    "front": [{"key": "a", "predicted": 0.6}],
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
    assert student.size_mb == 1.1 and student.extra["threshold"]["margin"] == 0.2
    assert [label for label, _ in student.variants()] == ["ONNX Runtime"]
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
        (SpaceReport, {**SPACE, "grid_size": 1.5}, "'grid_size'"),
        (Manifest, {**MANIFEST, "spec": {}}, "'hash' is missing"),
        (LearningRecord, {**LEARNING, "metric": None}, "'metric' is NoneType"),
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
