"""The examples of each way in (a teacher used as it is, a teacher's predictions file, a task of
four labels, an ``hf:`` dataset) run end to end with tiny local models and data: ``--data``,
``--teacher`` and reduced budgets through ``--set``; nothing touches the network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from avatar.solver.cli import EXIT_OK, main
from tests.helpers import EXAMPLES

REDUCED = {
    "search.population": 4,
    "search.evaluations": 4,
    "train.epochs": 1,
    "objectives": {"size_mb": "minimize", "gflops": "maximize"},  # no latency calibration: seconds, not minutes
    "space.vocab_size": {"choices": [300]},
    "space.num_hidden_layers": {"choices": [1]},
    "space.hidden_size": {"choices": [16, 32]},
    "space.num_attention_heads": {"choices": [2]},
    "space.intermediate_size": {"choices": [32]},
    "space.max_sequence_length": {"choices": [64]},
    "space.batch_size": {"choices": [16]},
    "train.teacher.accept_weak": True,  # the tiny stand-in teachers are too weak to distil from (test_teacher_fitness tests the stop)
}


def _solve(example: str, tmp_path: Path, *extra: str, **overrides) -> dict:
    settings = {**REDUCED, **overrides}
    arguments = [f"--set={field}={json.dumps(value)}" for field, value in settings.items()]
    run = tmp_path / "run"
    assert main([str(EXAMPLES / f"{example}.yaml"), "--out", str(run), "-q", *arguments, *extra]) == EXIT_OK
    return json.loads((run / "students.json").read_text())


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AVATAR_CACHE", str(tmp_path / "cache"))


def test_own_teacher_example_uses_the_classifier_as_it_is(tmp_path, defect_file, tiny_classifier):
    summary = _solve("own-teacher-devign", tmp_path, "--data", str(defect_file), "--teacher", str(tiny_classifier))
    assert summary["teacher"]["path"] == "as-is" and summary["students"]
    assert "used as it is" in (tmp_path / "run" / "report.md").read_text()


def test_predictions_example_distils_from_the_file_that_write_predictions_wrote(tmp_path, defect_file, tiny_classifier):
    """The research's workflow end to end: where the teacher runs, ``--write-predictions``;
    elsewhere, the predictions example distils from that file with no teacher model."""
    predictions = tmp_path / "teacher.jsonl"
    spec = str(EXAMPLES / "own-teacher-devign.yaml")
    assert main([spec, "--write-predictions", str(predictions), "--data", str(defect_file), "--teacher", str(tiny_classifier), "-q"]) == EXIT_OK
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert len(rows) == 120 and {row["id"] for row in rows} == {str(index) for index in range(120)} and all(len(row["logits"]) == 2 for row in rows)
    summary = _solve("teacher-predictions-devign", tmp_path, "--data", str(defect_file), **{"train.teacher.predictions": str(predictions)})
    teacher = summary["teacher"]
    assert teacher["path"] == "predictions" and teacher["predictions"] == str(predictions)
    assert (teacher["size_mb"], teacher["latency_ms"]) == (499, 120) and summary["students"]


def test_four_label_example_on_the_builtin_packages(tmp_path, tiny_teacher):
    teacher = {"model": "stand-in", "epochs": 1, "max_length": 64, "accept_weak": True}
    summary = _solve("python-packages", tmp_path, "--teacher", str(tiny_teacher), **{"task.max_examples": 240, "train.teacher": teacher})
    assert summary["data"]["labels"] == ["asyncio", "email", "multiprocessing", "xml"] and summary["primary"] == "f1"
    assert {f"f1_class_{label}" for label in range(4)} <= set(summary["students"][0]["test"])
    assert "F1 `multiprocessing`" in (tmp_path / "run" / "report.md").read_text()


def test_hf_example_reads_a_dataset_laid_out_as_on_the_hub(tmp_path, monkeypatch, defect_file, tiny_classifier):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    rows = [json.loads(line) for line in defect_file.read_text().splitlines()]
    hub = tmp_path / "hub"
    hub.mkdir()
    for split, part in (("train", rows[:80]), ("validation", rows[80:100]), ("test", rows[100:])):
        datasets.Dataset.from_list([{"id": row["idx"], "func": row["func"], "target": row["target"]} for row in part]).to_parquet(str(hub / f"{split}.parquet"))
    summary = _solve("hf-devign", tmp_path, "--data", f"hf:{hub}", "--teacher", str(tiny_classifier))
    assert summary["data"]["valid"] == 20 and summary["data"]["test"] == 20 and summary["students"]
