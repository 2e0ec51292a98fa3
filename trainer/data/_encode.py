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


def encode(examples: Sequence[Example], tokenizer: Any, max_length: int) -> EncodedSet:
    """Tokenise every function of every example (truncated to ``max_length`` tokens)."""
    texts = [clipped(text, max_length) for example in examples for text in example.texts]
    encoded = tokenizer(texts, truncation=True, max_length=max_length, add_special_tokens=True)["input_ids"]
    width = len(examples[0].texts) if examples else 1
    ids = [encoded[index * width : (index + 1) * width] for index in range(len(examples))]
    labels = torch.tensor([example.label for example in examples], dtype=torch.long)
    return EncodedSet(ids, labels, tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)


def encode_text_pairs(examples: Sequence[Example], tokenizer: Any, max_length: int) -> EncodedSet:
    """Each example's two functions as one text pair, the way a cross-encoder reads them
    (``[CLS] a [SEP] b [SEP]``, truncated longest first to ``max_length`` tokens in all)."""
    firsts, seconds = [clipped(example.texts[0], max_length) for example in examples], [clipped(example.texts[-1], max_length) for example in examples]
    encoded = tokenizer(firsts, seconds, truncation=True, max_length=max_length)
    ids = [[sequence] for sequence in encoded["input_ids"]]
    types = [[sequence] for sequence in encoded["token_type_ids"]] if "token_type_ids" in encoded else None
    labels = torch.tensor([example.label for example in examples], dtype=torch.long)
    return EncodedSet(ids, labels, tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0, types)
