"""``long_inputs: chunks`` on the model side: a teacher reads a function's windows one by one
(``data._windows`` cuts them) and pools them.

A pair teacher (``TeacherForCloneDetection``) mean-pools each function's tokens over all its
windows, so its comparison head sees the whole function. A sequence classifier (a classify task's
teacher, or a cross-encoder used as it is) averages its logits over the windows it was given:
its pooling is its own (a [CLS] token, a pooler), so the windows meet after its head.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..students import logits_of

__all__ = ["WindowAveragedClassifier", "reading_model", "on_present_windows"]


def on_present_windows(run: Callable[..., torch.Tensor], input_ids: torch.Tensor, attention_mask: torch.Tensor, **inputs: torch.Tensor) -> torch.Tensor:
    """``run``'s output for each of the ``(rows, length)`` windows, zeros for a missing one
    (all padding), which it never runs on: the windows that hold tokens cost what they cost."""
    present = attention_mask.bool().any(dim=-1)
    output = run(input_ids=input_ids[present], attention_mask=attention_mask[present], **{name: value[present] for name, value in inputs.items()})
    every = output.new_zeros((len(present), *output.shape[1:]))
    every[present] = output
    return every


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
            return logits_of(self.classifier, {"input_ids": input_ids, "attention_mask": attention_mask, **extra})
        batch, windows, length = input_ids.shape
        flat = {name: value.reshape(batch * windows, length) for name, value in extra.items()}
        every = on_present_windows(lambda **row: logits_of(self.classifier, row), input_ids.reshape(batch * windows, length), attention_mask.reshape(batch * windows, length), **flat)
        weights = attention_mask.bool().any(dim=-1, keepdim=True).to(every.dtype)  # (batch, windows, 1): the windows an example has
        return (every.reshape(batch, windows, -1) * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def reading_model(model: nn.Module, long_inputs: str) -> nn.Module:
    """``model`` as it reads examples encoded with ``long_inputs``: with ``chunks``, a model that
    pools windows itself (``reads_windows``) as it is, any other wrapped to average its logits."""
    if long_inputs != "chunks" or getattr(model, "reads_windows", False):
        return model
    return WindowAveragedClassifier(model)
