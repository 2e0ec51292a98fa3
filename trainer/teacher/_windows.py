"""``long_inputs: chunks`` on the model side: a teacher reads a function's windows one by one
(``data._windows`` cuts them) and pools them.

A pair teacher (``TeacherForCloneDetection``) mean-pools each function's tokens over all its
windows, so its comparison head sees the whole function. A sequence classifier (a classify task's
teacher, or a cross-encoder used as it is) averages its logits over the windows it was given:
its pooling is its own (a [CLS] token, a pooler), so the windows meet after its head.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

__all__ = ["WindowAveragedClassifier", "reading_model", "encode_present"]


def encode_present(run: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, **inputs: torch.Tensor) -> tuple[Any, torch.Tensor]:
    """``run`` on the windows that hold tokens (a missing window, all padding, costs nothing):
    ``(outputs of the present rows, which rows are present)`` for ``(rows, length)`` inputs."""
    present = attention_mask.bool().any(dim=-1)
    return run(input_ids=input_ids[present], attention_mask=attention_mask[present], **{name: value[present] for name, value in inputs.items()}), present


class WindowAveragedClassifier(nn.Module):
    """A sequence classifier reading ``(batch, windows, length)``: its logits averaged over each
    example's windows (``(batch, length)`` passes through as it is)."""

    reads_windows = True

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        if input_ids.dim() == 2:
            return _logits(self.classifier(input_ids=input_ids, attention_mask=attention_mask, **extra))
        batch, windows, length = input_ids.shape
        flat = {name: value.reshape(batch * windows, length) for name, value in extra.items()}
        output, present = encode_present(self.classifier, input_ids.reshape(batch * windows, length), attention_mask.reshape(batch * windows, length), **flat)
        logits = _logits(output)
        every = logits.new_zeros((batch * windows, logits.shape[-1]))
        every[present] = logits
        weights = present.reshape(batch, windows, 1).to(logits.dtype)
        return (every.reshape(batch, windows, -1) * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def reading_model(model: nn.Module, long_inputs: str) -> nn.Module:
    """``model`` as it reads examples encoded with ``long_inputs``: with ``chunks``, a model that
    pools windows itself (``reads_windows``) as it is, any other wrapped to average its logits."""
    if long_inputs != "chunks" or getattr(model, "reads_windows", False):
        return model
    return WindowAveragedClassifier(model)


def _logits(output: Any) -> torch.Tensor:
    return output.logits if hasattr(output, "logits") else output
