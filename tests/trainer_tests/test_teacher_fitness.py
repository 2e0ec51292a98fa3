"""A teacher learns the task before anyone distils from it: fine-tuning runs to convergence
(``patience``), and a teacher that still predicts one class stops the run (exit 6) unless
``train.teacher.accept_weak`` says otherwise."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from avatar.specs import AvatarError, loads
from avatar.trainer import WeakTeacherError, load_task_data, prepare_distillation, prepare_teacher
from tests.trainer_tests.conftest import student_spec


def _spec(tmp_path, defect_file, tiny_teacher, **teacher):
    text = student_spec("defect", defect_file, tiny_teacher)
    options = ", ".join(f"{key}: {value}" for key, value in teacher.items())
    text = text.replace("epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}", f"batch_size: 8, max_length: 64, learning_rate: 0.001, {options}}}")
    return loads(text, filename=str(tmp_path / "spec.yaml"))


def test_fine_tuning_stops_after_patience_epochs_without_a_better_auc_and_keeps_the_best(tmp_path, defect_file, tiny_teacher):
    spec = _spec(tmp_path, defect_file, tiny_teacher, epochs=12, patience=1)
    assert spec.train.teacher.epochs == 12 and spec.train.teacher.patience == 1
    teacher = prepare_teacher(spec.train.teacher, load_task_data(spec), tmp_path / "cache", seed=1, device="cpu")
    validation = teacher.validation
    assert validation["max_epochs"] == 12 and validation["metric"] == "auc"
    # either it ran out of epochs, or it stopped exactly `patience` epochs after its best one
    assert validation["epochs"] == 12 or validation["epochs"] - validation["best_epoch"] == 1, validation


def test_a_teacher_that_ranks_well_but_cuts_on_one_side_still_teaches(tmp_path, defect_file, tiny_teacher, monkeypatch):
    def one_sided_but_ranked(teacher, examples, *args, **kwargs):
        return torch.tensor([[-1.0 - example.label, 1.0 + example.label] for example in examples])  # class 1 for all, ranked by label

    monkeypatch.setattr("avatar.trainer._distillation.teacher_logits", one_sided_but_ranked)
    distillation = prepare_distillation(_spec(tmp_path, defect_file, tiny_teacher, epochs=1), cache_dir=tmp_path / "cache", device="cpu")
    assert distillation.warnings and "class 1 for 100.0%" in distillation.warnings[0], "flagged, but not stopped: its margins rank the examples"


def test_the_defaults_fine_tune_up_to_ten_epochs_with_patience():
    teacher = loads("name: t\ntask: {kind: defect, data: d}\nspace: {a: {choices: [1]}}\nobjectives: {params: minimize}\ntrain: {teacher: m}\n").train.teacher
    assert (teacher.epochs, teacher.patience, teacher.accept_weak) == (10, 3, False)


def _constant_logits(*args, **kwargs):
    examples = args[1]
    return torch.tensor([[3.0, -3.0]] * len(examples))


def test_a_teacher_predicting_one_class_stops_the_run_with_what_to_do(tmp_path, defect_file, tiny_teacher, monkeypatch):
    monkeypatch.setattr("avatar.trainer._distillation.teacher_logits", _constant_logits)
    spec = _spec(tmp_path, defect_file, tiny_teacher, epochs=1)
    with pytest.raises(WeakTeacherError) as error:
        prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    message = str(error.value)
    assert "too weak to distil from (validation ROC AUC 0.500, below 0.75" in message and "class 0 for 100.0%" in message
    assert "train.teacher.accept_weak: true" in message
    assert isinstance(error.value, AvatarError) and error.value.exit_code == 6
    accepted = dataclasses.replace(spec, train=dataclasses.replace(spec.train, teacher=dataclasses.replace(spec.train.teacher, accept_weak=True)))
    distillation = prepare_distillation(accepted, cache_dir=tmp_path / "cache", device="cpu")
    assert distillation.warnings and "class 0" in distillation.warnings[0]
    assert distillation.teacher.folder.parent == (tmp_path / "cache" / "teachers"), "accepting it reuses the cached fine-tuning"
    assert len(list((tmp_path / "cache" / "teachers").glob("*.lock"))) == 1, "one fine-tuning for both runs: accept_weak is not part of the cache key"


def test_solve_exits_6_when_the_teacher_is_too_weak(monkeypatch, capsys):
    from avatar.solver import cli
    from tests.helpers import EXAMPLES

    def weak(*args, **kwargs):
        raise WeakTeacherError("the teacher t is too weak to distil from: ... set train.teacher.accept_weak: true")

    monkeypatch.setattr(cli, "_run", weak)
    assert cli.main([str(EXAMPLES / "quickstart.yaml"), "--check"]) == cli.EXIT_WEAK_TEACHER == 6
    assert "accept_weak" in capsys.readouterr().err


# -- hopeless fine-tuning (issue 33) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "scores, stops",
    [
        ([0.475, 0.48], True),  # the Java clone set's teacher against its baseline's 0.83
        ([0.475], False),  # one epoch is too early to judge
        ([0.475, 0.52], False),  # it learns: 0.045 in an epoch
        ([0.80, 0.80], False),  # close to the baseline (0.764 needed: 80% of its 0.33 above chance)
        ([0.75, 0.755], True),  # just under that floor, and no longer learning
        ([0.50, 0.60, 0.605], True),  # it stopped learning well below the baseline
        ([0.50, 0.60, 0.65, 0.66], False),  # with four epochs in all, the last is not cut short (the weak-teacher check judges it)
    ],
)
def test_the_hopeless_rule(scores, stops):
    from avatar.trainer.teacher import HopelessFineTuning, HopelessTeacherError

    watch = HopelessFineTuning("m", 0.83, max_epochs=4)
    raised = False
    for epoch, score in enumerate(scores):
        try:
            watch(epoch, {"valid_auc": score})
        except HopelessTeacherError as error:
            raised = True
            assert epoch == len(scores) - 1 and "lexical baseline's 0.830 above chance (it needed 0.764)" in str(error) and "accept_weak: true" in str(error)
    assert raised is stops


def test_the_floor_is_a_share_of_the_room_above_chance_so_a_good_teacher_under_a_near_perfect_baseline_goes_on():
    from avatar.trainer.teacher import HopelessFineTuning, HopelessTeacherError

    near_perfect = HopelessFineTuning("m", 0.993, max_epochs=4)  # the four-label example: TF-IDF reads the package names
    near_perfect(0, {"valid_auc": 0.936})
    near_perfect(1, {"valid_auc": 0.940})  # 89% of the room above chance: it goes on (a fixed 0.05 margin stopped it)
    low = HopelessFineTuning("m", 0.993, max_epochs=4)
    low(0, {"valid_auc": 0.85})
    with pytest.raises(HopelessTeacherError, match=r"needed 0\.894"):
        low(1, {"valid_auc": 0.86})


def test_hopeless_fine_tuning_stops_early_keeps_its_epochs_and_exits_6(tmp_path, defect_file, tiny_teacher):
    from avatar.solver.cli import EXIT_WEAK_TEACHER
    from avatar.trainer import HopelessTeacherError

    spec = _spec(tmp_path, defect_file, tiny_teacher, epochs=6, patience=6)
    data = load_task_data(spec)
    with pytest.raises(HopelessTeacherError, match="stopped after 2 of 6 epochs") as error:
        prepare_teacher(spec.train.teacher, data, tmp_path / "cache", seed=1, device="cpu", baseline_auc=1.2)  # a baseline no teacher reaches
    assert error.value.exit_code == EXIT_WEAK_TEACHER
    (checkpoint,) = (tmp_path / "cache" / "teachers").glob("*/checkpoint")
    assert list(checkpoint.glob("*.pt"))  # the epochs done are kept
    teacher = prepare_teacher(spec.train.teacher, data, tmp_path / "cache", seed=1, device="cpu")  # accepted: it continues to the end
    assert teacher.validation["epochs"] == 6 or teacher.validation["epochs"] - teacher.validation["best_epoch"] == 6


def test_fine_tuning_depends_on_the_seed_alone_not_on_what_ran_before(tmp_path, defect_file, tiny_teacher):
    """The new head's initial weights are drawn from the seed: a run whose search had measured
    other models first (random draws that a cached run skips) fine-tuned another teacher."""
    spec = _spec(tmp_path, defect_file, tiny_teacher, epochs=1)
    data = load_task_data(spec)
    torch.manual_seed(123)
    first = prepare_teacher(spec.train.teacher, data, tmp_path / "cache-a", seed=1, device="cpu")
    torch.rand(1000)  # what measuring a few students' latency would have drawn
    second = prepare_teacher(spec.train.teacher, data, tmp_path / "cache-b", seed=1, device="cpu")
    first_weights, second_weights = first.model.state_dict(), second.model.state_dict()
    assert all(torch.equal(first_weights[name], second_weights[name]) for name in first_weights)
    other = prepare_teacher(spec.train.teacher, data, tmp_path / "cache-c", seed=2, device="cpu")
    assert not all(torch.equal(first_weights[name], value) for name, value in other.model.state_dict().items())
