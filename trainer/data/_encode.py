"""Tokenised examples and their batches (a pair of functions is one example of shape (2, L))."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ._task_data import Example

__all__ = ["EncodedSet", "encode", "encode_text_pairs"]


@dataclass
class EncodedSet:
    """Token ids per example (one list per function) and labels."""

    ids: list[list[list[int]]]
    labels: torch.Tensor
    pad_id: int
    type_ids: list[list[list[int]]] | None = None  # segment ids of a text pair (cross-encoders)

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, indices: Sequence[int], device: Any) -> dict[str, torch.Tensor]:
        """Input ids and attention mask, padded to the batch's longest function."""
        rows = [self.ids[index] for index in indices]
        width = max(len(sequence) for row in rows for sequence in row)
        input_ids = torch.full((len(rows), len(rows[0]), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        types = torch.zeros_like(input_ids)
        for row_index, row in enumerate(rows):
            for column, sequence in enumerate(row):
                input_ids[row_index, column, : len(sequence)] = torch.tensor(sequence)
                mask[row_index, column, : len(sequence)] = 1
                if self.type_ids is not None:
                    segments = self.type_ids[indices[row_index]][column]
                    types[row_index, column, : len(segments)] = torch.tensor(segments)
        if input_ids.shape[1] == 1:  # a single sequence: (batch, length)
            input_ids, mask, types = input_ids[:, 0], mask[:, 0], types[:, 0]
        batch = {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}
        if self.type_ids is not None:
            batch["token_type_ids"] = types.to(device)
        return batch

    def subset(self, indices: Sequence[int]) -> EncodedSet:
        """The examples at ``indices``, in that order."""
        chosen = list(indices)
        types = [self.type_ids[index] for index in chosen] if self.type_ids is not None else None
        return EncodedSet([self.ids[index] for index in chosen], self.labels[chosen], self.pad_id, types)

    def batches(self, batch_size: int, device: Any, order: Sequence[int] | None = None) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
        indices = list(order) if order is not None else list(range(len(self)))
        for start in range(0, len(indices), batch_size):
            chosen = indices[start : start + batch_size]
            yield chosen, self.batch(chosen, device)


CHARACTERS_PER_TOKEN_AT_MOST = 64  # a token of code is far shorter: text past this bound is never read


def clipped(text: str, max_length: int) -> str:
    """``text`` cut where ``max_length`` tokens must already have ended: a tokenizer truncates
    only after tokenizing the whole text, so a 30 MB one-line function would cost seconds."""
    return text[: max_length * CHARACTERS_PER_TOKEN_AT_MOST]


def encode(examples: Sequence[Example], tokenizer: Any, max_length: int, long_inputs: str = "truncate") -> EncodedSet:
    """Tokenise every function of every example, at most ``max_length`` tokens each: a longer
    one is cut after its first tokens (``truncate``) or keeps its first and its last tokens,
    half the window each (``head_tail``: a Hugging Face tokenizer's)."""
    texts = [text for example in examples for text in example.texts]
    if long_inputs == "head_tail":
        budget = max(1, max_length - tokenizer.num_special_tokens_to_add(pair=False))
        texts = [_ends(text, max_length) for text in texts]
        texts = _head_and_tail(texts, _offsets(tokenizer, texts), [budget] * len(texts))
    else:
        texts = [clipped(text, max_length) for text in texts]
    encoded = tokenizer(texts, truncation=True, max_length=max_length, add_special_tokens=True)["input_ids"]
    width = len(examples[0].texts) if examples else 1
    ids = [encoded[index * width : (index + 1) * width] for index in range(len(examples))]
    labels = torch.tensor([example.label for example in examples], dtype=torch.long)
    return EncodedSet(ids, labels, tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)


def encode_text_pairs(examples: Sequence[Example], tokenizer: Any, max_length: int, long_inputs: str = "truncate") -> EncodedSet:
    """Each example's two functions as one text pair, the way a cross-encoder reads them
    (``[CLS] a [SEP] b [SEP]``, at most ``max_length`` tokens in all: the longer function is
    shortened first, cut after its first tokens or, with ``head_tail``, keeping its first and
    last ones)."""
    if long_inputs == "head_tail":
        firsts, seconds = _pair_of_heads_and_tails(tokenizer, examples, max_length)
    else:
        firsts, seconds = [clipped(example.texts[0], max_length) for example in examples], [clipped(example.texts[-1], max_length) for example in examples]
    encoded = tokenizer(firsts, seconds, truncation=True, max_length=max_length)
    ids = [[sequence] for sequence in encoded["input_ids"]]
    types = [[sequence] for sequence in encoded["token_type_ids"]] if "token_type_ids" in encoded else None
    labels = torch.tensor([example.label for example in examples], dtype=torch.long)
    return EncodedSet(ids, labels, tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0, types)


def _ends(text: str, max_length: int) -> str:
    """``text``, or its two ends where the middle cannot be read (see ``clipped``)."""
    limit = max_length * CHARACTERS_PER_TOKEN_AT_MOST
    return text if len(text) <= 2 * limit else text[:limit] + "\n" + text[-limit:]


JOIN_MARGIN = 2  # tokens spared where head and tail meet: the joined text may tokenize a little longer there


def _offsets(tokenizer: Any, texts: list[str]) -> list[list[tuple[int, int]]] | None:
    """Each text's tokens as character spans (no special tokens); ``None`` for a slow (Python)
    tokenizer, which has no offsets: its texts are then read by ``truncate``."""
    if not getattr(tokenizer, "is_fast", False):
        return None
    spans: list[list[tuple[int, int]]] = tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False)["offset_mapping"]
    return spans


def _head_and_tail(texts: list[str], offsets: list[list[tuple[int, int]]] | None, budgets: list[int]) -> list[str]:
    """Each text, or where it is longer than its budget of tokens, its first and last tokens'
    text (half the budget each) joined by a line break, to be encoded as any text is: with the
    tokenizer's own special tokens and segment ids. The first lines of a function hold its
    signature, the last ones what it returns; a cut after the head loses the second."""
    if offsets is None:
        return texts
    shortened = []
    for text, spans, budget in zip(texts, offsets, budgets):
        if len(spans) <= budget or budget < 2 * JOIN_MARGIN + 2:
            shortened.append(text)
            continue
        head = (budget - JOIN_MARGIN) - (budget - JOIN_MARGIN) // 2
        tail = budget - JOIN_MARGIN - head
        shortened.append(text[: spans[head - 1][1]] + "\n" + text[spans[len(spans) - tail][0] :])
    return shortened


def _pair_of_heads_and_tails(tokenizer: Any, examples: Sequence[Example], max_length: int) -> tuple[list[str], list[str]]:
    """The pairs' two texts, shortened to share ``max_length`` tokens: the longer function gives
    way first (to its head and tail), as a tokenizer's ``longest_first`` truncation shares the window."""
    budget = max(2, max_length - tokenizer.num_special_tokens_to_add(pair=True))
    firsts = [_ends(example.texts[0], max_length) for example in examples]
    seconds = [_ends(example.texts[-1], max_length) for example in examples]
    first_spans, second_spans = _offsets(tokenizer, firsts), _offsets(tokenizer, seconds)
    if first_spans is None or second_spans is None:
        return firsts, seconds
    keep_first = [min(len(first), max(budget // 2, budget - len(second))) for first, second in zip(first_spans, second_spans)]
    return _head_and_tail(firsts, first_spans, keep_first), _head_and_tail(seconds, second_spans, [budget - keep for keep in keep_first])
