"""Classification metrics: for two labels, those of the positive class (1 = vulnerable / clone);
for more, accuracy, macro-F1 (with each class's F1) and macro one-vs-rest ROC AUC."""

from __future__ import annotations

from collections.abc import Sequence

from avatar.specs import PAIR_KINDS

__all__ = ["classification_metrics", "multiclass_metrics", "primary_metric", "checkpoint_metric", "roc_auc"]


def classification_metrics(predictions: Sequence[int], labels: Sequence[int]) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of the positive class."""
    pairs = list(zip(predictions, labels))
    true_positive = sum(1 for prediction, label in pairs if prediction == 1 and label == 1)
    false_positive = sum(1 for prediction, label in pairs if prediction == 1 and label == 0)
    false_negative = sum(1 for prediction, label in pairs if prediction == 0 and label == 1)
    correct = sum(1 for prediction, label in pairs if prediction == label)
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else 0.0
    recall = true_positive / (true_positive + false_negative) if true_positive + false_negative else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": correct / len(pairs) if pairs else 0.0, "precision": precision, "recall": recall, "f1": f1}


def multiclass_metrics(probabilities: Sequence[Sequence[float]], labels: Sequence[int]) -> dict[str, float]:
    """Accuracy, macro-F1 (as ``f1``), each class's F1 (``f1_class_K``) and macro one-vs-rest
    ROC AUC (as ``auc``; over the classes present, 0.5 when fewer than two are) of ``argmax``."""
    import numpy as np
    from sklearn.metrics import f1_score, roc_auc_score

    scores, truth = np.asarray(probabilities, dtype=float), np.asarray(labels, dtype=int)
    classes = list(range(scores.shape[1]))
    predicted = scores.argmax(axis=1) if len(scores) else np.zeros(0, dtype=int)
    per_class = f1_score(truth, predicted, labels=classes, average=None, zero_division=0.0) if len(truth) else np.zeros(len(classes))
    present = sorted(set(truth.tolist()))
    aucs = [roc_auc_score(truth == label, scores[:, label]) for label in present] if len(present) > 1 else []
    metrics = {"accuracy": float((predicted == truth).mean()) if len(truth) else 0.0, "f1": float(np.mean(per_class)), "auc": float(np.mean(aucs)) if aucs else 0.5}
    metrics.update({f"f1_class_{label}": float(value) for label, value in zip(classes, per_class)})
    return metrics


def primary_metric(task_kind: str, num_labels: int = 2) -> str:
    """What early stopping and reports rank by: F1 for clone detection (as BigCloneBench
    results are reported) and for more than two labels (macro-F1: accuracy hides a class the
    model never predicts), accuracy for defect prediction (as Devign results are)."""
    return "f1" if task_kind in PAIR_KINDS or num_labels > 2 else "accuracy"


def checkpoint_metric(task_kind: str, tune_threshold: bool, num_labels: int = 2) -> str:
    """What picks the best epoch on validation: ROC AUC when a decision threshold is tuned
    afterwards (two labels: threshold-free, so an epoch is not chosen, or a majority-class epoch
    kept, for where its default cut happens to fall), otherwise the task's primary metric.

    With more than two labels no cut is tuned (the student ships ``argmax``), so the epoch is
    the one whose ``argmax`` is best: macro one-vs-rest AUC had kept an epoch that never
    predicted one of four classes, at 37% of the teacher's macro-F1."""
    return "auc" if tune_threshold and num_labels == 2 else primary_metric(task_kind, num_labels)


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve of positive-class scores (0.5 for a constant score or one class).

    Threshold-free, so it still ranks students that a short probe left on one side of the
    decision threshold (their F1 or accuracy would be the same constant).
    """
    if len(set(labels)) < 2:
        return 0.5
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(list(labels), list(scores)))
