"""A model's logits on an encoded split, and the scores they give against the labels: what
students, the teacher and the exported variants are all evaluated with."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..data import EncodedSet
from ._metrics import classification_metrics, multiclass_metrics, roc_auc
from ._threshold import margins, predictions_at

__all__ = ["predict_logits", "logits_of", "logit_scores"]


def logits_of(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The logits of a batch, for Hugging Face outputs and plain tensors alike."""
    output = model(**batch)
    return output.logits if hasattr(output, "logits") else output


@torch.no_grad()
def predict_logits(model: torch.nn.Module, data: EncodedSet, batch_size: int, device: str, on_batch: Callable[[int], None] | None = None) -> torch.Tensor:
    """Logits of every example, in order (eval mode, no gradients)."""
    model.eval()
    chunks = []
    for indices, batch in data.batches(batch_size, device):
        chunks.append(logits_of(model, batch).float().cpu())
        if on_batch is not None:
            on_batch(len(indices))
    return torch.cat(chunks) if chunks else torch.zeros((0, 2))


def logit_scores(logits: torch.Tensor, labels: Sequence[int], threshold: float = 0.0) -> dict[str, float]:
    """Two labels: accuracy, precision, recall and F1 of predicting 1 where the margin is above
    ``threshold`` (0: ``argmax``), and the threshold-free ROC AUC, against ``labels``. More
    labels: ``multiclass_metrics`` of ``argmax`` (no threshold)."""
    labels = list(labels)
    if logits.shape[1] > 2:
        return multiclass_metrics(torch.softmax(logits.float(), dim=1).tolist(), labels)
    return {**classification_metrics(predictions_at(logits, threshold), labels), "auc": roc_auc(margins(logits).tolist(), labels)}
