"""Predicted against realised: the ranking check over the realised students, its warning, and
the students' ``predicted`` entries' round trip."""

from __future__ import annotations

import pytest

from avatar.solver.report._predicted import RANKING_WARNING_FROM, predicted_section, prediction_checks
from avatar.specs import DataRecord, PredictionRecord, StudentRecord, StudentsRecord, TeacherRecord


def _student(key: str, predicted: float, realised: float, size: float) -> StudentRecord:
    entry = PredictionRecord(predicted, 0.01, "auc", realised, realised - 0.01)
    return StudentRecord(key, {"hidden_size": 16}, {"accuracy": 0.5, "f1": 0.5, "auc": realised - 0.01}, size, 1.0, 0.1, 0.01, predicted={"accuracy": entry})


def _summary(pairs: list[tuple[float, float]]) -> StudentsRecord:
    teacher = TeacherRecord("t", {"accuracy": 0.8, "f1": 0.8, "auc": 0.9}, 100.0, 10.0, 1.0, 0.1)
    students = tuple(_student(f"s{index:011d}", predicted, realised, 0.1 * (index + 1)) for index, (predicted, realised) in enumerate(pairs))
    return StudentsRecord(DataRecord("d", 1, 1, 1, 1), teacher, students, primary="f1")


def test_a_faithful_ranking_has_no_warning(tmp_path):
    (check,) = prediction_checks(_summary([(0.6, 0.62), (0.7, 0.69), (0.8, 0.83), (0.9, 0.88)]))
    assert check.spearman == pytest.approx(1.0) and check.mae == pytest.approx(0.02, abs=1e-9)
    assert check.warning() is None
    section = predicted_section(_summary([(0.6, 0.62), (0.7, 0.69)]), tmp_path)
    assert "## Predicted against realised" in section and "**1.000**" in section and (tmp_path / "predicted-accuracy.png").stat().st_size > 0


def test_a_reversed_ranking_over_four_students_warns_and_over_three_does_not():
    reversed_four = prediction_checks(_summary([(0.9, 0.6), (0.8, 0.7), (0.7, 0.8), (0.6, 0.9)]))[0]
    warning = reversed_four.warning()
    assert reversed_four.spearman == pytest.approx(-1.0) and warning and "ranks the 4 realised students poorly" in warning
    assert RANKING_WARNING_FROM == 4 and prediction_checks(_summary([(0.9, 0.6), (0.8, 0.7), (0.7, 0.8)]))[0].warning() is None


def test_one_student_or_none_predicted_gives_no_section(tmp_path):
    assert prediction_checks(_summary([(0.7, 0.7)])) == [] and predicted_section(_summary([(0.7, 0.7)]), tmp_path) == ""


def test_predicted_entries_round_trip_and_bad_ones_are_refused():
    record = _summary([(0.6, 0.62), (0.7, 0.69)])
    assert StudentsRecord.from_dict(record.to_dict()) == record
    data = record.to_dict()
    data["students"][0]["predicted"] = {"accuracy": {"value": "high"}}
    with pytest.raises(ValueError, match="predicted.accuracy"):
        StudentsRecord.from_dict(data)
