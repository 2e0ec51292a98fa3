"""A clone student as Hugging Face remote code: copied beside its weights as
``modeling_avatar_clone.py`` and named in its ``config.json``'s ``auto_map``.

With it a clone student loads without Avatar:
``AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)``, and
``pipeline("text-classification", model=folder, trust_remote_code=True)`` classifies a text pair.
This file imports torch and transformers only (it runs where Avatar is not installed), and
its weights have the names of ``avatar.objectives.RobertaForCloneDetection``'s.

Inputs come two ways: ``input_ids`` of shape ``(batch, 2, length)``, each function encoded on
its own (what Avatar does; each function gets the whole window), or a text pair encoded as one
sequence, ``<s> A </s></s> B </s>`` (what ``tokenizer(a, b)`` and the pipeline give), shape
``(batch, length)``, which is split at its separator into the two functions.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import RobertaModel, RobertaPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

SEPARATOR_ID = 2  # ``</s>``
START_ID = 0  # ``<s>``


class AvatarCloneHead(nn.Module):
    """``[|u - v|, u * v]`` of the two mean-pooled functions: dense 2H->H, tanh, dense H->labels."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.dense = nn.Linear(2 * config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(features)))))


def split_text_pairs(input_ids: torch.Tensor, attention_mask: torch.Tensor, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``<s> A </s></s> B </s>`` rows (batch, length) as ``(batch, 2, length)``: ``<s> A </s>``
    and ``<s> B </s>``, padded with ``pad_id``."""
    batch, length = input_ids.shape
    pairs = torch.full((batch, 2, length), pad_id, dtype=input_ids.dtype, device=input_ids.device)
    masks = torch.zeros((batch, 2, length), dtype=attention_mask.dtype, device=input_ids.device)
    for row in range(batch):
        tokens = input_ids[row][attention_mask[row].bool()]
        separators = (tokens == SEPARATOR_ID).nonzero().flatten().tolist()
        if len(separators) < 2:
            raise ValueError("a clone student reads two functions: pass tokenizer(first, second), or input_ids of shape (batch, 2, length)")
        first = tokens[: separators[0] + 1]
        rest = tokens[separators[0] + 1 :]
        rest = rest[1:] if len(rest) and int(rest[0]) == SEPARATOR_ID else rest  # the pair's second separator
        second = torch.cat([tokens.new_tensor([START_ID]), rest[1:] if len(rest) and int(rest[0]) == START_ID else rest])
        for column, sequence in enumerate((first, second)):
            pairs[row, column, : len(sequence)] = sequence
            masks[row, column, : len(sequence)] = 1
    return pairs, masks


class AvatarCloneDetector(RobertaPreTrainedModel):
    """A shared RoBERTa encoder reads both functions; the head classifies the pair (label 1: clones)."""

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = AvatarCloneHead(config)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **unused: Any,  # token_type_ids from a tokenizer: one segment type here
    ) -> SequenceClassifierOutput | tuple:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if input_ids.dim() == 2:
            input_ids, attention_mask = split_text_pairs(input_ids, attention_mask, int(self.config.pad_token_id or 0))
        batch, functions, length = input_ids.shape
        mask = attention_mask.reshape(batch * functions, length)
        hidden = self.roberta(input_ids=input_ids.reshape(batch * functions, length), attention_mask=mask).last_hidden_state
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = ((hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)).reshape(batch, functions, -1)
        logits = self.classifier(torch.cat([(pooled[:, 0] - pooled[:, 1]).abs(), pooled[:, 0] * pooled[:, 1]], dim=-1))
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        if return_dict is False:
            return (logits,) if loss is None else (loss, logits)
        return SequenceClassifierOutput(loss=loss, logits=logits)  # type: ignore[arg-type]
