"""The teacher's model: the pair head a fine-tuned teacher reads pairs with, loading and saving
it, and what a model folder says about itself (a head for the task, its input length)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from avatar.objectives import comparison_features, mean_pool
from avatar.specs import PAIR_KINDS, describe_error

from ..data import with_user_mode
from ._errors import TeacherError
from ._windows import on_present_windows

__all__ = ["TeacherForCloneDetection", "load_teacher_model", "save_teacher_model", "load_to_measure", "has_task_head", "own_max_length"]


class TeacherForCloneDetection(nn.Module):
    """A teacher's encoder shared by both functions of a pair, with a comparison head.

    Each function is mean-pooled over its tokens (u, v); the head reads (u, v, |u - v|, u * v)
    (the classification objective of Sentence-BERT, Reimers and Gurevych 2019): dense 4H->H,
    tanh, dense H->N (the task's labels). Sentence encoders such as all-MiniLM-L6-v2 are trained for mean pooling,
    so the comparison is there from the first step; the students keep their own pinned head.
    With ``long_inputs: chunks`` a function comes as windows, ``(batch, 2, windows, length)``:
    its tokens are pooled over all of them (``reads_windows``).
    """

    head_version = "mean-pool-uv-diff-product-1"
    reads_windows = True

    def __init__(self, encoder: Any, num_labels: int = 2) -> None:  # a Hugging Face PreTrainedModel
        super().__init__()
        hidden = int(encoder.config.hidden_size)
        self.encoder = encoder
        self.dense = nn.Linear(4 * hidden, hidden)
        self.dropout = nn.Dropout(0.1)
        self.out_proj = nn.Linear(hidden, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, n_functions, length = input_ids.shape[0], input_ids.shape[1], input_ids.shape[-1]
        flat_ids = input_ids.reshape(-1, length)  # every function's every window, one row each
        mask = attention_mask.reshape(-1, length) if attention_mask is not None else torch.ones_like(flat_ids)
        if input_ids.dim() == 3:  # one sequence per function
            hidden = self.encoder(input_ids=flat_ids, attention_mask=mask).last_hidden_state
        else:  # windows: the padding ones are skipped, and a function's tokens pool over all of its
            hidden = on_present_windows(lambda **row: self.encoder(**row).last_hidden_state, flat_ids, mask)
        tokens = flat_ids.numel() // (batch * n_functions)  # a function's windows side by side
        pooled = mean_pool(hidden.reshape(batch * n_functions, tokens, -1), mask.reshape(batch * n_functions, tokens)).reshape(batch, n_functions, -1)
        features = torch.cat([pooled.flatten(1), comparison_features(pooled)], dim=-1)  # [u, v, |u - v|, u * v]
        return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(features)))))


def load_teacher_model(folder: str, task_kind: str, num_labels: int = 2) -> tuple[nn.Module, Any]:
    """The teacher with a head for ``num_labels`` classes (a head of another size, as a
    classifier fine-tuned for other labels has, starts anew)."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        if task_kind in PAIR_KINDS:
            model = TeacherForCloneDetection(AutoModel.from_pretrained(folder), num_labels)
            head = Path(folder) / "pair_head.pt"
            if head.exists():
                model.load_state_dict({**model.state_dict(), **torch.load(head, map_location="cpu", weights_only=True)})
        else:
            model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=num_labels, ignore_mismatched_sizes=True)
    except Exception as error:  # noqa: BLE001 - transformers and safetensors raise many types for a bad folder
        raise TeacherError(f"cannot load the teacher '{folder}': {describe_error(error)}".splitlines()[0]) from error
    return model, tokenizer


def save_teacher_model(model: Any, tokenizer: Any, folder: Path, task_kind: str) -> None:
    """The teacher in ``folder`` as Hugging Face saves it (a pair teacher: its encoder, and its
    head beside it in ``pair_head.pt``)."""
    folder.mkdir(parents=True, exist_ok=True)
    if task_kind in PAIR_KINDS:
        model.encoder.save_pretrained(folder)
        head = {key: value for key, value in model.state_dict().items() if not key.startswith("encoder.")}
        torch.save(head, folder / "pair_head.pt")
    else:
        model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    with_user_mode(folder)


def has_task_head(source: str, num_labels: int = 2) -> bool:
    """Whether ``source`` is a sequence classifier with the task's ``num_labels`` labels (its
    config says so; no weights are loaded)."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError):
        return False
    return any(name.endswith("ForSequenceClassification") for name in config.architectures or ()) and config.num_labels == num_labels


def own_max_length(tokenizer: Any, config: Any) -> int:
    """The input length a model was trained for: its tokenizer's, else its position table's
    (less RoBERTa's two reserved positions)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if limit and limit < 100_000:
        return int(limit)
    positions = int(getattr(config, "max_position_embeddings", 512))
    return positions - 2 if "roberta" in getattr(config, "model_type", "") else positions


def load_to_measure(source: str, num_labels: int) -> tuple[nn.Module, Any]:
    """The model behind a teacher given as predictions, loaded only to measure its size and
    latency for the report (its classifier when it has the task's head, else its encoder)."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    try:
        model_class = AutoModelForSequenceClassification if has_task_head(source, num_labels) else AutoModel
        return model_class.from_pretrained(source).eval(), AutoTokenizer.from_pretrained(source)
    except Exception as error:  # noqa: BLE001 - transformers and safetensors raise many types for a bad folder
        raise TeacherError(f"cannot load the teacher '{source}' (train.teacher.model, loaded to measure its size and latency): {describe_error(error)}".splitlines()[0]) from error
