"""Probes of the learned ``accuracy``: real short distillations, in parallel, through ``solve``."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from avatar.objectives import AccuracyEstimator
from avatar.solver import PoolExecutor, RunStore
from avatar.specs import loads
from avatar.trainer import DistillationProber, prepare_distillation
from tests.helpers import REPOSITORY
from tests.trainer_tests.conftest import student_spec

LEARNED = {
    "objectives: {size_mb: minimize, gflops: maximize}": "objectives: {size_mb: minimize, accuracy: maximize}\nestimators: {accuracy: {options: {initial: 4, rounds: 2, per_round: 2, probe_epochs: 1, probe_examples: 40, promote: 0.5, promote_epochs: 2}}}",
}


def learned_spec(kind: str, data: Path, teacher: Path) -> str:
    text = student_spec(kind, data, teacher)
    for old, new in LEARNED.items():
        text = text.replace(old, new)
    return text


def test_probe_tasks_run_in_worker_processes_without_the_test_split(tmp_path, clone_folder, tiny_teacher):
    spec = loads(learned_spec("clone", clone_folder, tiny_teacher))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    prober = DistillationProber(distillation)
    estimator = AccuracyEstimator(initial=4, probe_epochs=1, probe_examples=40, probe_score="auc")
    assert estimator.fidelity == {"epochs": 1, "examples": 40, "score": "auc"}
    configs = [{"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": size, "num_attention_heads": 2,
                "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8} for size in (16, 32)]  # fmt: skip
    tasks = [prober.task("accuracy", estimator, config) for config in configs]
    assert all(task.data.test == [] and task.score == "auc" for task in tasks), "probes never see the test split"
    pool = PoolExecutor(2)
    try:
        for index, task in enumerate(tasks):
            pool.submit(index, task)
        results = dict(pool.results())
    finally:
        pool.shutdown()
    assert all(result.error is None for result in results.values()), results
    assert all(0.0 <= result.metrics["accuracy"] <= 1.0 and result.metrics["epochs_run"] == 1 for result in results.values())
    assert all(isinstance(result.metrics["weak"], list) for result in results.values()), "each probe says whether it is weak"
    # The probes' source names the teacher, the data and the distillation settings.
    assert prober.source == DistillationProber(distillation).source
    hotter = dataclasses.replace(distillation, spec=dataclasses.replace(spec, train=dataclasses.replace(spec.train, temperature=9.0)))
    other_teacher = dataclasses.replace(distillation, teacher=dataclasses.replace(distillation.teacher, fingerprint="another"))
    assert len({prober.source, DistillationProber(hotter).source, DistillationProber(other_teacher).source}) == 3


def test_solve_learns_accuracy_from_probes_and_compares_it_with_the_students(tmp_path, clone_folder, tiny_teacher):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(learned_spec("clone", clone_folder, tiny_teacher))
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "AVATAR_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "avatar.solver.cli", str(spec_path), "--out", str(tmp_path / "run")]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "accuracy surrogate" in result.stdout and "Spearman" in result.stdout
    run = tmp_path / "run"
    store = RunStore(run / "evaluations.sqlite")
    probes = store.probes()
    store.close()
    short = [probe for probe in probes if probe.fidelity["epochs"] == 1]
    promoted = [probe for probe in probes if probe.fidelity["epochs"] == 2]
    assert [probe.stage for probe in short].count(0) == 4 and all(probe.ok for probe in probes)
    assert [probe.stage for probe in promoted] == [0, 0, 1], "the best half of each stage is probed again, longer"
    assert all(probe.fidelity["examples"] == 80 and probe.fidelity["source"] == short[0].fidelity["source"] for probe in promoted)
    learning = json.loads((run / "learning.json").read_text())[0]
    assert learning["metric"] == "accuracy" and learning["fits"]
    report = (run / "report.md").read_text()
    assert "## Learned metrics" in report and "Realised students: the prediction" in report
    assert (run / "accuracy.png").stat().st_size > 0
    (student,) = json.loads((run / "students.json").read_text())["students"]
    entry = student["predicted"]["accuracy"]  # the prediction beside the realised scores on the probes' score
    assert (
        entry["score"] == "f1" and isinstance(entry["value"], float) and isinstance(entry["validation"], float) and entry["test"] == student["threshold"].get("test_at_default", student["test"])["f1"]
    )  # at the default cut, as validated
    again = subprocess.run([*command, "--resume", "--no-train"], env=environment, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    store = RunStore(run / "evaluations.sqlite")
    assert len(store.probes()) == len(probes), "resuming measured a stored probe again"
    store.close()


def test_accuracy_without_a_teacher_is_a_located_spec_error(tmp_path, clone_folder, tiny_teacher):
    text = learned_spec("clone", clone_folder, tiny_teacher)
    text = text[: text.index("train:")]
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "avatar.solver.cli", str(spec_path), "--out", str(tmp_path / "run")], env={**os.environ, "PYTHONPATH": str(REPOSITORY)}, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 2 and "objectives.accuracy" in result.stderr and "accuracy_proxy" in result.stderr
