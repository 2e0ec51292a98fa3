"""Students realised in parallel: through local worker processes (``--jobs``) and a Dask
cluster, the same students as one after another; a failed worker names its student; a run
killed while its workers distil resumes them from their checkpoints."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from avatar.solver.search._execution import DaskExecutor, PoolExecutor
from avatar.solver.search._tasks import TaskResult
from avatar.specs import loads
from avatar.trainer import StudentsFailedError, prepare_distillation, train_selected
from avatar.trainer.distill import load_outputs, restart_tasks, run_restarts, save_outputs
from tests.helpers import REPOSITORY
from tests.trainer_tests.conftest import student_spec, wait_for_epochs

POINTS = [
    {"key": f"parallel{index}", "config": {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": size, "num_attention_heads": 2,
     "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}, "reason": "test"}
    for index, size in enumerate((16, 32, 16))
]  # fmt: skip


def _run(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "selected.json").write_text(json.dumps({"select": "all", "points": POINTS}))
    return folder


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, defect_file, tiny_teacher):
    cache = tmp_path_factory.mktemp("cache")
    spec = loads(student_spec("defect", defect_file, tiny_teacher, restarts=2))
    return spec, prepare_distillation(spec, cache_dir=cache, device="cpu"), cache


def _tests(summary) -> dict:
    return {student.key: student.test for student in summary.students}


def test_workers_realise_the_students_one_after_another_would(tmp_path, prepared):
    """With the same CPU threads: torch's sums depend on how many threads share them, so a
    student trained on 1 thread and on 2 differ at float precision (a tie in ROC AUC)."""
    spec, distillation, cache = prepared
    executor = PoolExecutor(2)
    threads = torch.get_num_threads()
    torch.set_num_threads(executor.task_threads)
    try:
        serial = train_selected(spec, None, _run(tmp_path / "serial"), cache_dir=cache, device="cpu", distillation=distillation)
    finally:
        torch.set_num_threads(threads)
    try:
        parallel = train_selected(spec, None, _run(tmp_path / "parallel"), cache_dir=cache, device="cpu", distillation=distillation, executor=executor)
    finally:
        executor.shutdown()
    assert "students_in_workers" in parallel.seconds
    for key, test in _tests(serial).items():
        assert _tests(parallel)[key] == pytest.approx(test, abs=1e-6), key
    # each restart distilled in its own folder (seed-42, seed-43), as best_restart expects
    assert {path.name for path in (tmp_path / "parallel" / "students" / "parallel0" / "checkpoint").iterdir()} >= {"seed-42", "seed-43"}


def test_a_dask_cluster_realises_them_too(tmp_path, prepared):
    distributed = pytest.importorskip("distributed")
    spec, distillation, cache = prepared
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            summary = train_selected(spec, None, _run(tmp_path / "dask"), cache_dir=cache, device="cpu", distillation=distillation, executor=DaskExecutor(client=client))
    assert len(summary.students) == 3 and "students_in_workers" in summary.seconds


def test_the_teachers_outputs_travel_by_path_and_a_failed_worker_names_its_student(tmp_path, prepared):
    spec, distillation, cache = prepared
    path = save_outputs(distillation.outputs, cache)
    assert path.parent == cache / "targets" and load_outputs(path).unlabeled.equal(distillation.outputs.unlabeled)
    from avatar.specs import SelectedPoint

    points = [SelectedPoint(point["key"], point["config"], {}, "test") for point in POINTS[:1]]
    tasks = restart_tasks(spec, points, distillation.data, distillation.outputs, {"parallel0": tmp_path / "s"}, cache, "cpu")
    assert len(tasks) == 2 and tasks[0][1].outputs_path == str(path) and tasks[0][1].data.test == []

    class Dying:
        workers = 2

        def __init__(self) -> None:
            self.submitted = []

        def submit(self, index, task):
            self.submitted.append(index)

        def results(self):
            yield 0, TaskResult({"best": 0.5})
            yield 1, TaskResult({}, "the worker process died (signal 9) while running this task")

    with pytest.raises(StudentsFailedError, match=r"1 of 2 student distillations failed.*parallel0 \(seed 43\): the worker process died"):
        run_restarts(Dying(), tasks)


@pytest.mark.slow
def test_a_run_killed_while_workers_distil_resumes_their_students(tmp_path, clone_folder, tiny_teacher):
    spec = tmp_path / "spec.yaml"
    spec.write_text(student_spec("clone", clone_folder, tiny_teacher, epochs=12, patience=12, select="all"))
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "AVATAR_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}

    def command(out: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "avatar.solver.cli", str(spec), "--out", str(tmp_path / out), "-q", *extra]

    whole = subprocess.run(command("whole", "--jobs", "2"), env=environment, capture_output=True, text=True, timeout=900)  # the same threads per student
    assert whole.returncode == 0, whole.stderr
    process = subprocess.Popen(command("killed", "--jobs", "2"), env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    wait_for_epochs(tmp_path / "killed" / "students", process)
    os.killpg(process.pid, signal.SIGKILL)  # the run and its workers
    process.wait()
    assert not list((tmp_path / "killed" / "students").glob("*/metrics.json")), "killed before the students were finished"
    resumed = subprocess.run(command("killed", "--resume", "--jobs", "2"), env=environment, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    finished = list((tmp_path / "whole" / "students").glob("*/metrics.json"))
    assert finished
    for metrics in finished:
        twin = tmp_path / "killed" / "students" / metrics.parent.name / "metrics.json"
        assert json.loads(twin.read_text())["test"] == pytest.approx(json.loads(metrics.read_text())["test"], abs=1e-6), "the resumed student is the uninterrupted one"


@pytest.mark.parametrize("kind", ["defect", "clone"])
def test_teacher_inference_chunked_over_workers_gives_the_teachers_logits(kind, tmp_path, defect_file, clone_folder, tiny_teacher, tiny_classifier):
    """Fine-tuned here (defect) and used as it is, a cross-encoder (clone): each worker loads
    the teacher from its folder and labels its chunk."""
    from avatar.trainer.students import predict_logits
    from avatar.trainer.teacher import logits_on_workers

    teacher_folder = tiny_teacher if kind == "defect" else tiny_classifier
    spec = loads(student_spec(kind, defect_file if kind == "defect" else clone_folder, teacher_folder))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    teacher, examples = distillation.teacher, distillation.data.unlabeled
    assert teacher.path == ("fine-tuned" if kind == "defect" else "as-is")
    expected = predict_logits(teacher.model, teacher.encode(examples), 8, "cpu")
    executor = PoolExecutor(2)
    try:
        got = logits_on_workers(teacher, examples, executor)
    finally:
        executor.shutdown()
    assert got.shape == expected.shape and torch.allclose(got, expected, atol=1e-4)
