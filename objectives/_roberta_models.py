"""Torch models of the ``roberta`` family that transformers does not ship (imports torch).

``RobertaForCloneDetection`` is a regular ``PreTrainedModel``: ``save_pretrained`` writes it
and ``RobertaForCloneDetection.from_pretrained(folder)`` loads it back.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import RobertaModel, RobertaPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

__all__ = ["RobertaForCloneDetection", "CloneClassificationHead"]


class CloneClassificationHead(nn.Module):
    """Concatenated first-token vectors of both functions: dense 2H->H, tanh, dense H->2."""

    def __init__(self, config) -> None:
        super().__init__()
        self.dense = nn.Linear(2 * config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pair_features: torch.Tensor) -> torch.Tensor:
        hidden = torch.tanh(self.dense(self.dropout(pair_features)))
        return self.out_proj(self.dropout(hidden))


class RobertaForCloneDetection(RobertaPreTrainedModel):
    """A shared RoBERTa encoder reads both functions of a pair; the head classifies the pair.

    ``input_ids`` and ``attention_mask`` have shape ``(batch, 2, length)``: the two functions
    of each pair. Returns logits of shape ``(batch, 2)`` (label 1: clones).
    """

    def __init__(self, config) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = CloneClassificationHead(config)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput | tuple:
        batch, n_functions, length = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        encoded = self.roberta(
            input_ids=input_ids.reshape(batch * n_functions, length),
            attention_mask=attention_mask.reshape(batch * n_functions, length),
        )
        first_tokens = encoded.last_hidden_state[:, 0, :].reshape(batch, n_functions * self.config.hidden_size)
        logits = self.classifier(first_tokens)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits, labels)
        if return_dict is False:
            return (logits,) if loss is None else (loss, logits)
        return SequenceClassifierOutput(loss=loss, logits=logits)
