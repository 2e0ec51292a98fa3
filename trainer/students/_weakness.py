"""Whether a model learned anything: a student (or a probe) that calls nearly every example one
class, or whose validation ROC AUC cannot be told from a coin flip, or (more than two labels)
that never predicts a common class, is *weak*.

On a balanced pair task, calling every pair a clone scores F1 0.67; against a teacher's 0.76
that reads as "88% kept". The flag says what the F1 hides: the reasons are shown beside the
scores in the terminal, ``students.json`` and the report, and a run whose probes are all weak
says so before its search steers by them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from scipy.stats import rankdata

from ._threshold import margins, predictions_at

__all__ = ["ONE_CLASS_SHARE", "MISSED_CLASS_SHARE", "weakness", "unpredicted_classes", "logit_weakness", "auc_interval"]

ONE_CLASS_SHARE = 0.98  # predicting one class for this share of a split or more is predicting a constant
MISSED_CLASS_SHARE = 0.05  # with more than two labels, never predicting a class this common is a class not learned
RESAMPLES = 1000
LEVEL = 0.95


def auc_interval(scores: Sequence[float], labels: Sequence[int], *, seed: int = 0, resamples: int = RESAMPLES) -> tuple[float, float] | None:
    """The bootstrap percentile interval (95%) of the ROC AUC of ``scores`` against two-class
    ``labels``; ``None`` when a split holds one class (no AUC exists)."""
    values, truth = np.asarray(scores, dtype=float), np.asarray(labels, dtype=int)
    if len(values) < 2 or len(set(truth.tolist())) < 2:
        return None
    generator = np.random.default_rng(seed)
    rows = generator.integers(0, len(values), size=(resamples, len(values)))
    sampled, positive = values[rows], truth[rows] == 1
    n_positive = positive.sum(axis=1)
    n_negative = positive.shape[1] - n_positive
    usable = (n_positive > 0) & (n_negative > 0)
    ranks = rankdata(sampled[usable], axis=1)  # ties share their mean rank, as ROC AUC counts them half
    areas = ((ranks * positive[usable]).sum(axis=1) - n_positive[usable] * (n_positive[usable] + 1) / 2) / (n_positive[usable] * n_negative[usable])
    tail = (1 - LEVEL) / 2
    return float(np.quantile(areas, tail)), float(np.quantile(areas, 1 - tail))


def weakness(predictions: Mapping[str, Sequence[int]], scores: Sequence[float] | None = None, labels: Sequence[int] | None = None, *, seed: int = 0) -> list[str]:
    """Why a model is weak (empty: it is not).

    Args:
        predictions: the predicted class of each example, by split name.
        scores, labels: the positive-class margin and the label of each validation example
            (two-class tasks), for the ROC AUC's interval.
    """
    reasons = []
    for split, predicted in predictions.items():
        if len(predicted):
            counts = np.bincount(np.asarray(predicted, dtype=int))
            share = counts.max() / len(predicted)
            if share >= ONE_CLASS_SHARE:
                reasons.append(f"it predicts class {int(counts.argmax())} for {share:.1%} of the {split} split")
    if scores is not None and labels is not None:
        interval = auc_interval(scores, labels, seed=seed)
        if interval is not None and interval[0] <= 0.5 <= interval[1]:
            reasons.append(f"its validation ROC AUC is within noise of 0.5 (95% bootstrap interval [{interval[0]:.3f}, {interval[1]:.3f}])")
    return reasons


def unpredicted_classes(predicted: Sequence[int], labels: Sequence[int], split: str = "validation", names: Sequence[str] = ()) -> list[str]:
    """Classes (more than two labels) that make up ``MISSED_CLASS_SHARE`` or more of a split
    and that the model never predicts there: macro-F1 counts such a class as 0, but accuracy
    and the other classes' F1 can look fine, so it is said in words (with the label's name
    from ``names``, the task's labels, where given)."""
    truth = np.asarray(labels, dtype=int)
    if len(truth) == 0 or len(set(truth.tolist())) <= 2:
        return []
    counts, made = np.bincount(truth), set(np.asarray(predicted, dtype=int).tolist())
    missed = [(label, count) for label, count in enumerate(counts) if count / len(truth) >= MISSED_CLASS_SHARE and label not in made]
    return [f"it never predicts class {label}{f' ({names[label]})' if label < len(names) else ''}, {count / len(truth):.0%} of the {split} split" for label, count in missed]


def logit_weakness(logits: torch.Tensor, labels: Sequence[int], *, seed: int, threshold: float = 0.0, others: Mapping[str, Sequence[int]] | None = None, names: Sequence[str] = ()) -> list[str]:
    """``weakness`` of a model from its validation ``logits``: its predictions at the cut it
    ships with (``threshold`` on the margin for two labels; ``argmax`` otherwise), the interval
    of its ROC AUC (two labels), the classes it never predicts (more labels), and its
    predictions on ``others`` splits."""
    two = logits.shape[1] == 2
    predicted = predictions_at(logits, threshold) if two else logits.argmax(dim=1).tolist()
    reasons = weakness({"validation": predicted, **(others or {})}, margins(logits).tolist() if two else None, list(labels) if two else None, seed=seed)
    return reasons + ([] if two or reasons else unpredicted_classes(predicted, labels, names=names))
