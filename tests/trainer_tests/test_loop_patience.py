"""Early stopping counts epochs without progress: a better checkpoint score, or a better ROC
AUC. Macro-F1 of a four-label student jumps about in its first epochs while its ranking climbs;
by macro-F1 alone, patience ended it while it was still learning."""

from __future__ import annotations

import pytest
import torch

from avatar.trainer.data._encode import EncodedSet
from avatar.trainer.distill import LoopSettings, train

# validation scores by epoch, as a four-label student's went (macro-F1 up and down, AUC climbing)
F1 = [0.10, 0.36, 0.30, 0.32, 0.31, 0.41, 0.40, 0.39, 0.38, 0.37]
AUC = [0.77, 0.79, 0.82, 0.90, 0.92, 0.91, 0.90, 0.90, 0.90, 0.90]


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.out = torch.nn.Linear(1, 2)

    def forward(self, input_ids, attention_mask):
        return self.out(input_ids[:, :1].float())


class Killed(Exception):
    pass


def _run(tmp_path, monkeypatch, progress_metric, epochs_scored=None, kill_after=None):
    epochs_scored = epochs_scored or iter(range(len(F1)))

    def scripted(logits, labels):
        epoch = next(epochs_scored)
        return {"f1": F1[epoch], "auc": AUC[epoch]}

    def kill(epoch, record):
        if epoch == kill_after:
            raise Killed

    monkeypatch.setattr("avatar.trainer.distill._loop.logit_scores", scripted)
    data = EncodedSet([[[1, 2]], [[3, 4]], [[5, 6]], [[7, 8]]], torch.tensor([0, 1, 0, 1]), 0)
    settings = LoopSettings(epochs=len(F1), learning_rate=0.01, batch_size=2, patience=3, seed=0, metric="f1", progress_metric=progress_metric)
    loss = lambda logits, indices: torch.nn.functional.cross_entropy(logits, data.labels[indices])  # noqa: E731
    return train(Tiny(), data, loss, data, settings, tmp_path, on_epoch=kill)


def test_a_climbing_auc_keeps_it_training_and_the_best_f1_is_kept(tmp_path, monkeypatch):
    result = _run(tmp_path, monkeypatch, "auc")
    assert result.best_epoch == 5 and result.best_metric == pytest.approx(0.41)  # epoch 6, counted from 1
    assert result.epochs_run == 9  # AUC rose at epochs 3 to 5, then three epochs without progress


def test_by_the_checkpoint_metric_alone_patience_ends_it_early(tmp_path, monkeypatch):
    result = _run(tmp_path, monkeypatch, None)
    assert result.epochs_run == 5 and result.best_epoch == 1  # the 0.41 of epoch 6 never seen


def test_a_killed_run_resumes_with_the_progress_it_had(tmp_path, monkeypatch):
    epochs_scored = iter(range(len(F1)))
    with pytest.raises(Killed):
        _run(tmp_path, monkeypatch, "auc", epochs_scored, kill_after=4)  # killed when AUC had just peaked at 0.92
    assert torch.load(tmp_path / "last.pt", weights_only=False)["best_progress"] == pytest.approx(0.92)
    resumed = _run(tmp_path, monkeypatch, "auc", epochs_scored)
    assert resumed.resumed_from == 5 and (resumed.best_epoch, resumed.epochs_run) == (5, 9)
