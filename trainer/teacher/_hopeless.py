"""Hopeless fine-tuning stopped early: a teacher that stays well below the lexical baseline.

On a Java clone set no one here tuned to, the first epoch of fine-tuning took 25 minutes and
reached validation ROC AUC 0.475, where TF-IDF and a logistic regression reach 0.83; with
``patience: 3`` the run would have spent at least three more such epochs before the weak-teacher
check could stop it. After each epoch the loop already scores the validation split; this rule
reads that score against the baseline's:

after at least ``MIN_EPOCHS`` epochs, stop when the best score so far holds less than ``SHARE``
of the baseline's ROC AUC above chance (``0.5 + SHARE * (baseline - 0.5)``) and the last epoch
raised it by less than ``MIN_GAIN``.

The floor is a share of the room above chance, not a fixed distance below the baseline: 0.05
under a baseline of 0.60 is half of what TF-IDF knows, under 0.993 a tenth. With a fixed 0.05,
the four-label example's teacher (0.936 then 0.940, against TF-IDF's 0.993 on a set whose
labels are package names the code spells out) was stopped in one run and passed in another,
and students distilled from such teachers kept 95% to 103% of their macro-F1.

A teacher that learns (a gain of ``MIN_GAIN`` or more an epoch) goes on whatever its level, and
``train.teacher.accept_weak: true`` turns the rule off. The run exits 6 with the figures and
what to try; the epochs done stay in the checkpoint, so a rerun that accepts the teacher
continues from them.
"""

from __future__ import annotations

from ._errors import WeakTeacherError

__all__ = ["HopelessFineTuning", "HopelessTeacherError", "SHARE", "MIN_GAIN", "MIN_EPOCHS"]

SHARE = 0.8
MIN_GAIN = 0.02
MIN_EPOCHS = 2


class HopelessTeacherError(WeakTeacherError):
    """Fine-tuning stopped: the teacher stays well below the lexical baseline (``solve`` exits 6)."""


class HopelessFineTuning:
    """The loop's ``on_epoch`` callback that applies the rule (raises ``HopelessTeacherError``)."""

    def __init__(self, model: str, baseline_auc: float, max_epochs: int, metric: str = "auc") -> None:
        self.model, self.baseline_auc, self.max_epochs, self.metric = model, baseline_auc, max_epochs, metric
        self.scores: list[float] = []

    def __call__(self, epoch: int, record: dict[str, float]) -> None:
        score = record.get(f"valid_{self.metric}")
        if score is None:
            return
        best_before = max(self.scores, default=float("-inf"))
        self.scores.append(float(score))
        best = max(self.scores)
        if len(self.scores) < MIN_EPOCHS or best >= self.floor or best - best_before >= MIN_GAIN:
            return
        if len(self.scores) >= self.max_epochs:
            return  # the last epoch: fine-tuning ends anyway, and the weak-teacher check judges it
        raise HopelessTeacherError(self.message())

    @property
    def floor(self) -> float:
        """The validation ROC AUC a teacher must reach: ``SHARE`` of the baseline's above chance."""
        return 0.5 + SHARE * (self.baseline_auc - 0.5)

    def message(self) -> str:
        scores = ", ".join(f"{score:.3f}" for score in self.scores)
        return (
            f"fine-tuning the teacher {self.model} stopped after {len(self.scores)} of {self.max_epochs} epochs: its validation ROC AUC ({scores} by epoch) "
            f"holds less than {SHARE:.0%} of the lexical baseline's {self.baseline_auc:.3f} above chance (it needed {self.floor:.3f}) and gained less than {MIN_GAIN} in its last epoch. "
            "A student distilled from it would learn less than TF-IDF already knows. Try a model pretrained on code (--teacher or train.teacher.model, "
            "e.g. microsoft/codebert-base), a teacher given as its predictions (train.teacher.predictions), a longer input (train.teacher.max_length), "
            "or more labelled data (task.split.labeled); to fine-tune it to the end anyway, set train.teacher.accept_weak: true "
            "(the epochs done are kept: the rerun continues from them)"
        )
