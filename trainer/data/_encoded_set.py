"""Tokenised examples and their batches: a pair of functions is one example of shape (2, L);
a function read window after window (``long_inputs: chunks``) adds a windows axis."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

__all__ = ["EncodedSet"]


@dataclass
class EncodedSet:
    """Token ids per example (one list per function) and labels."""

    ids: list[list[list[int]]]
    labels: torch.Tensor
    pad_id: int
    type_ids: list[list[list[int]]] | None = None  # segment ids of a text pair (cross-encoders)
    # ``long_inputs: chunks``: how many windows each function of an example was cut into; its
    # ``ids`` then hold every window of its first function, then of its second.
    windows: list[list[int]] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def batch(self, indices: Sequence[int], device: Any) -> dict[str, torch.Tensor]:
        """Input ids and attention mask, padded to the batch's longest function; with
        ``windows``, of shape (batch, functions, windows, length), (batch, windows, length) for
        one function, a missing window all padding."""
        if self.windows is not None:
            return self._windowed_batch(indices, device)
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

    def _windowed_batch(self, indices: Sequence[int], device: Any) -> dict[str, torch.Tensor]:
        assert self.windows is not None
        counts = [self.windows[index] for index in indices]
        width = max(len(sequence) for index in indices for sequence in self.ids[index])
        shape = (len(indices), len(counts[0]), max(max(row) for row in counts), width)
        input_ids = torch.full(shape, self.pad_id, dtype=torch.long)
        mask, types = torch.zeros_like(input_ids), torch.zeros_like(input_ids)
        for row, (index, functions) in enumerate(zip(indices, counts)):
            position = 0
            for function, count in enumerate(functions):
                for window in range(count):
                    sequence = self.ids[index][position]
                    input_ids[row, function, window, : len(sequence)] = torch.tensor(sequence)
                    mask[row, function, window, : len(sequence)] = 1
                    if self.type_ids is not None:
                        segments = self.type_ids[index][position]
                        types[row, function, window, : len(segments)] = torch.tensor(segments)
                    position += 1
        if shape[1] == 1:  # one function (or one text pair): (batch, windows, length)
            input_ids, mask, types = input_ids[:, 0], mask[:, 0], types[:, 0]
        batch = {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}
        if self.type_ids is not None:
            batch["token_type_ids"] = types.to(device)
        return batch

    def subset(self, indices: Sequence[int]) -> EncodedSet:
        """The examples at ``indices``, in that order."""
        chosen = list(indices)
        types = [self.type_ids[index] for index in chosen] if self.type_ids is not None else None
        windows = [self.windows[index] for index in chosen] if self.windows is not None else None
        return EncodedSet([self.ids[index] for index in chosen], self.labels[chosen], self.pad_id, types, windows)

    def batches(self, batch_size: int, device: Any, order: Sequence[int] | None = None) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
        indices = list(order) if order is not None else list(range(len(self)))
        for start in range(0, len(indices), batch_size):
            chosen = indices[start : start + batch_size]
            yield chosen, self.batch(chosen, device)
