"""``train.teacher.learning_rate: auto``: a short trial of a few rates, each from the same seeded
start on a share of an epoch, chooses the teacher's rate by validation ROC AUC; a killed trial
goes on from the next rate, and the choice is recorded with the teacher and in the report."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from avatar.solver.report._students_section import _teacher_sentence
from avatar.specs import SpecError, TeacherValidation, loads
from avatar.trainer import load_task_data, prepare_teacher
from avatar.trainer.teacher import MARKER
from avatar.trainer.teacher._rate_trial import FALLBACK, MIN_STEPS, RATES, TRIAL_FILE, RateTrial, trial_examples, try_rates
from tests.trainer_tests.conftest import student_spec


def _spec(tmp_path, defect_file, tiny_teacher, rate: str):
    text = student_spec("defect", defect_file, tiny_teacher).replace("learning_rate: 0.001", f"learning_rate: {rate}")
    return loads(text, filename=str(tmp_path / "spec.yaml"))


def test_the_setting_takes_auto_or_a_positive_rate(tmp_path, defect_file, tiny_teacher):
    assert _spec(tmp_path, defect_file, tiny_teacher, "auto").train.teacher.learning_rate == "auto"
    assert _spec(tmp_path, defect_file, tiny_teacher, "3.0e-5").train.teacher.learning_rate == pytest.approx(3e-5)
    for bad in ("fast", "0", "-1.0e-5"):
        with pytest.raises(SpecError, match=r"train\.teacher\.learning_rate"):
            _spec(tmp_path, defect_file, tiny_teacher, bad)


def test_the_best_rate_wins_the_lowest_among_equals_and_a_split_that_cannot_rank_falls_back():
    assert RateTrial({1e-5: 0.6, 3e-5: 0.8, 1e-4: 0.7}).chosen == 3e-5
    assert RateTrial({1e-5: 0.8, 3e-5: 0.8, 1e-4: 0.7}).chosen == 1e-5
    assert RateTrial({1e-5: math.nan, 3e-5: 0.55, 1e-4: math.nan}).chosen == 3e-5
    assert RateTrial(dict.fromkeys(RATES, math.nan)).chosen == FALLBACK


def test_every_rate_is_tried_on_the_same_seeded_share_of_an_epoch():
    assert trial_examples(4000, 16, seed=1) == trial_examples(4000, 16, seed=1) != trial_examples(4000, 16, seed=2)
    assert len(trial_examples(4000, 16, seed=1)) == 1000, "a quarter of an epoch"
    assert len(trial_examples(400, 16, seed=1)) == 320 == MIN_STEPS * 16, "at least MIN_STEPS batches"
    assert trial_examples(100, 16, seed=1) == list(range(100)), "a small split is tried whole"


def test_auto_fine_tunes_at_the_trials_best_rate_and_records_the_trial(tmp_path, defect_file, tiny_teacher):
    spec = _spec(tmp_path, defect_file, tiny_teacher, "auto")
    data = load_task_data(spec)
    heard: list[tuple[float, float | None]] = []
    teacher = prepare_teacher(dataclasses.replace(spec.train.teacher, epochs=1), data, tmp_path / "cache", seed=1, device="cpu", on_rate=lambda rate, score: heard.append((rate, score)))
    trial = teacher.validation["learning_rate_trial"]
    assert [rate for rate, score in heard] == [rate for rate in RATES for _ in range(2)] and [score is None for _, score in heard] == [True, False] * len(RATES)
    assert list(trial) == [f"{rate:g}" for rate in RATES]
    assert teacher.validation["learning_rate"] == RateTrial({float(rate): score for rate, score in trial.items()}).chosen
    marker = json.loads((teacher.folder / MARKER).read_text())
    assert marker["validation"]["learning_rate_trial"] == trial, "cached with the teacher"
    energy = TeacherValidation.from_dict(marker["validation"]).training_energy
    assert energy is not None and energy.joules > 0 and energy.source, "what the trial and the fine-tuning took, measured or estimated"
    assert not (teacher.folder / TRIAL_FILE).exists() and not (teacher.folder / "rate_trial").exists(), "the trial's files go once its figures are in the marker"
    fixed = prepare_teacher(dataclasses.replace(spec.train.teacher, epochs=1, learning_rate=2e-5), data, tmp_path / "cache", seed=1, device="cpu")
    assert fixed.folder != teacher.folder and "learning_rate" not in fixed.validation, "a fixed rate is another teacher, with no trial"
    again = prepare_teacher(dataclasses.replace(spec.train.teacher, epochs=1), data, tmp_path / "cache", seed=1, device="cpu", on_rate=lambda rate, score: heard.append((rate, score)))
    assert again.folder == teacher.folder and len(heard) == 2 * len(RATES), "a cached teacher runs no trial"
    sentence = _teacher_sentence(TeacherValidation.from_dict(teacher.validation))
    assert f"Its learning rate, {teacher.validation['learning_rate']:g}, was chosen by a short trial" in sentence and "1e-05" in sentence


def test_a_killed_trial_goes_on_from_the_next_rate(tmp_path, defect_file, tiny_teacher):
    from avatar.trainer.data import encode
    from avatar.trainer.teacher._models import load_teacher_model

    spec = _spec(tmp_path, defect_file, tiny_teacher, "auto")
    data = load_task_data(spec)
    model, tokenizer = load_teacher_model(str(tiny_teacher), "defect")
    labeled, valid = encode(data.labeled, tokenizer, 64), encode(data.valid, tokenizer, 64)
    folder = tmp_path / "teacher"
    folder.mkdir()
    (folder / TRIAL_FILE).write_text(json.dumps({f"{RATES[0]:g}": 0.61, f"{RATES[1]:g}": 0.64}))  # two rates finished before the kill
    started: list[float] = []
    trial = try_rates(
        lambda: load_teacher_model(str(tiny_teacher), "defect")[0],
        labeled,
        valid,
        folder,
        batch_size=8,
        seed=1,
        device="cpu",
        on_rate=lambda rate, score: started.append(rate) if score is None else None,
    )
    assert started == [RATES[2]], "only the rate the kill cut short is tried"
    assert trial.scores[RATES[0]] == 0.61 and trial.scores[RATES[1]] == 0.64 and 0.0 <= trial.scores[RATES[2]] <= 1.0
    assert json.loads((folder / TRIAL_FILE).read_text()) == trial.to_dict()
