"""What every way of reading a function shares: how much of a text a tokenizer could ever
reach (in characters), its tokens' character spans, and the labels and padding id an encoded
set carries. ``_encode`` (``truncate``, ``head_tail``) and ``_windows`` (``chunks``) read
through these."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ._task_data import Example

__all__ = ["CHARACTERS_PER_TOKEN_AT_MOST", "clipped", "two_ends", "token_spans", "labels_of", "pad_id_of"]

CHARACTERS_PER_TOKEN_AT_MOST = 64  # a token of code is far shorter: text past this bound is never read


def clipped(text: str, max_length: int) -> str:
    """``text`` cut where ``max_length`` tokens must already have ended: a tokenizer truncates
    only after tokenizing the whole text, so a 30 MB one-line function would cost seconds."""
    return text[: max_length * CHARACTERS_PER_TOKEN_AT_MOST]


def two_ends(text: str, max_length: int) -> str:
    """``text``, or its two ends where more of it than ``max_length`` tokens from each end could
    ever read lies between them (see ``clipped``)."""
    limit = max_length * CHARACTERS_PER_TOKEN_AT_MOST
    return text if len(text) <= 2 * limit else text[:limit] + "\n" + text[-limit:]


def token_spans(tokenizer: Any, texts: list[str]) -> list[list[tuple[int, int]]] | None:
    """Each text's tokens as character spans (no special tokens); ``None`` for a slow (Python)
    tokenizer, which has none: its texts are then read by their first tokens."""
    if not getattr(tokenizer, "is_fast", False):
        return None
    if not texts:
        return []
    spans: list[list[tuple[int, int]]] = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
    return spans


def labels_of(examples: Sequence[Example]) -> torch.Tensor:
    """The examples' labels, as the training loop and the metrics read them."""
    return torch.tensor([example.label for example in examples], dtype=torch.long)


def pad_id_of(tokenizer: Any) -> int:
    """The tokenizer's padding id (0 where it has none: the attention mask hides padding)."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
