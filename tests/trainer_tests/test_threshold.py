"""The decision threshold: tuned on validation, folded into the output bias."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from avatar.trainer.students._metrics import classification_metrics
from avatar.trainer.students._threshold import fold_threshold, margins, output_layer, tune_threshold


def _metric(scores, labels, cut, metric):
    return classification_metrics([int(score > cut) for score in scores], labels)[metric]


@pytest.mark.parametrize("metric", ["f1", "accuracy"])
def test_the_tuned_cut_is_the_best_one(metric):
    generator = np.random.default_rng(0)
    for _ in range(20):
        labels = generator.integers(0, 2, 60).tolist()
        scores = (np.array(labels) * 1.0 + generator.normal(0.7, 1.0, 60)).round(2).tolist()  # ties included
        cut = tune_threshold(scores, labels, metric)
        brute = max(_metric(scores, labels, value, metric) for value in [min(scores) - 1, *scores])
        assert _metric(scores, labels, cut, metric) == pytest.approx(brute)


def test_a_cut_moves_only_where_it_helps():
    # two clear classes around 0: the default cut is already the best, and it is kept
    assert tune_threshold([-1.0, -0.5, 0.5, 1.0], [0, 0, 1, 1], "f1") == 0.0
    # positives start at -1: the cut moves between -2 and -1
    assert tune_threshold([-3.0, -2.0, -1.0, -0.5, 0.2, 1.0], [0, 0, 1, 1, 1, 1], "f1") == pytest.approx(-1.5)
    assert tune_threshold([-3.0, -2.0, -1.0, -0.5, 0.2, 1.0], [0, 0, 1, 1, 1, 1], "accuracy") == pytest.approx(-1.5)
    # one class or nothing: nothing to tune
    assert tune_threshold([0.3, -0.2], [1, 1], "f1") == 0.0
    assert tune_threshold([], [], "accuracy") == 0.0
    with pytest.raises(ValueError):
        tune_threshold([0.1], [1], "auc")


def _tiny_models():
    from transformers import RobertaConfig, RobertaForSequenceClassification

    from avatar.objectives import RobertaForCloneDetection

    config = RobertaConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, max_position_embeddings=40, num_labels=2)
    torch.manual_seed(0)
    sequence, clone = RobertaForSequenceClassification(config).eval(), RobertaForCloneDetection(config).eval()
    ids = torch.randint(3, 50, (64, 16))
    return [(sequence, ids), (clone, ids.reshape(32, 2, 16))]


@pytest.mark.parametrize("which", [0, 1], ids=["sequence classification", "clone detection"])
def test_folding_makes_argmax_predict_at_the_cut(which):
    model, ids = _tiny_models()[which]
    with torch.no_grad():
        before = margins(model(input_ids=ids).logits)
    cut = float(before.median())
    assert output_layer(model) is model.classifier.out_proj
    assert fold_threshold(model, cut)
    with torch.no_grad():
        after = model(input_ids=ids).logits
    assert after.argmax(dim=1).tolist() == (before > cut).long().tolist()
    assert torch.allclose(margins(after), before - cut, atol=1e-5)


def test_a_model_without_a_two_output_layer_is_left_alone():
    model = nn.Sequential(nn.Linear(4, 3))
    assert output_layer(model) is None and not fold_threshold(model, 0.5)
    plain = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    assert output_layer(plain) is plain[1]
