"""Hidden states for feature-based distillation (``hidden``, ``attention_relations``).

Forward hooks on a BERT- or RoBERTa-style encoder (``encoder.layer``; ``attention.self.query``,
``key`` and ``value`` in the last layer) read, for every input text, the mean-pooled output of
each layer and the last layer's queries, keys and values mean-pooled into ``SEGMENTS`` equal
segments of the text. The teacher's are computed once per split, with its logits, and cached as
float16 ``.npy`` files that are memory-mapped when read (``TeacherFeatures``); the student's are
read by the same hooks on every training batch (``LayerTaps``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import torch
from torch import nn

from avatar.specs import Cache, write_atomically

from ._losses import SEGMENTS, StudentOutputs

__all__ = ["LayerTaps", "TeacherFeatures", "FeatureError", "teacher_features", "segment_pool", "student_forward"]

FEATURE_FILES = ("hidden", "relations", "segments")
# A teacher reading a function window by window (``long_inputs: chunks``) gives its features on
# the first window, the part of the function a student reads too (its window starts there).
FEATURE_READING = {"chunks": "truncate"}


class FeatureError(ValueError):
    """A model whose hidden states cannot be read (not a BERT- or RoBERTa-style encoder)."""


def encoder_layers(model: nn.Module) -> nn.ModuleList:
    """The transformer layers of a BERT- or RoBERTa-style model (``...encoder.layer``)."""
    for name, module in model.named_modules():
        if name.endswith("encoder.layer") and isinstance(module, nn.ModuleList) and len(module):
            return module
    raise FeatureError(f"{type(model).__name__} has no BERT- or RoBERTa-style encoder layers (encoder.layer): feature-based distillation cannot read its hidden states")


def segment_pool(vectors: torch.Tensor, mask: torch.Tensor, segments: int = SEGMENTS) -> tuple[torch.Tensor, torch.Tensor]:
    """Token vectors ``(n, L, H)`` mean-pooled into ``segments`` equal shares of each text's
    tokens (``mask`` ``(n, L)``, padding at the end); returns ``(n, segments, H)`` and which
    segments hold a token ``(n, segments)``."""
    lengths = mask.sum(dim=1, keepdim=True).clamp(min=1)
    positions = torch.arange(mask.shape[1], device=mask.device)[None, :].expand_as(mask)
    index = torch.div(positions * segments, lengths, rounding_mode="floor").clamp(max=segments - 1)
    weights = mask.to(vectors.dtype)
    sums = vectors.new_zeros(vectors.shape[0], segments, vectors.shape[2]).scatter_add_(1, index[:, :, None].expand_as(vectors), vectors * weights[:, :, None])
    counts = vectors.new_zeros(vectors.shape[0], segments).scatter_add_(1, index, weights)
    return sums / counts.clamp(min=1)[:, :, None], counts > 0


class LayerTaps:
    """Hooks that keep, for one forward pass, every layer's output and the last layer's queries,
    keys and values. Use as a context manager around the forward call."""

    def __init__(self, model: nn.Module, *, hidden: bool, relations: bool) -> None:
        self.layers = encoder_layers(model)
        self.hidden, self.relations = hidden, relations
        self.outputs: list[torch.Tensor] = []
        self.projections: dict[str, torch.Tensor] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> LayerTaps:
        self.outputs, self.projections = [], {}
        if self.hidden:
            for layer in self.layers:
                self._handles.append(layer.register_forward_hook(lambda module, inputs, output: self.outputs.append(output[0] if isinstance(output, tuple) else output)))
        if self.relations:
            attention = getattr(getattr(self.layers[-1], "attention", None), "self", None)
            if attention is None or not all(hasattr(attention, name) for name in ("query", "key", "value")):
                raise FeatureError("attention_relations needs BERT- or RoBERTa-style attention (attention.self.query, key, value) in the last layer")
            for name in ("query", "key", "value"):
                self._handles.append(getattr(attention, name).register_forward_hook(lambda module, inputs, output, name=name: self.projections.__setitem__(name, output)))
        return self

    def __exit__(self, *exception: Any) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def pooled(self, attention_mask: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        """``hidden`` ``(batch, texts, layers, H)``, ``relations`` ``(batch, texts, 3, S, H)``
        and ``segments`` ``(batch, texts, S)`` of the pass just made."""
        texts = attention_mask.shape[1] if attention_mask.dim() == 3 else 1
        mask = attention_mask.reshape(-1, attention_mask.shape[-1])
        batch = mask.shape[0] // texts
        hidden = relations = segments = None
        if self.hidden:
            weights = mask.to(self.outputs[0].dtype)[:, :, None]
            pooled = [(output * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1) for output in self.outputs]
            hidden = torch.stack(pooled, dim=1).reshape(batch, texts, len(pooled), -1)
        if self.relations:
            parts = [segment_pool(self.projections[name], mask) for name in ("query", "key", "value")]
            relations = torch.stack([vectors for vectors, _ in parts], dim=1).reshape(batch, texts, 3, SEGMENTS, -1)
            segments = parts[0][1].reshape(batch, texts, SEGMENTS)
        return hidden, relations, segments


def _save_array(array: np.ndarray, file: IO[Any]) -> None:
    np.save(file, array)


def student_forward(hidden: bool, relations: bool) -> Callable[[nn.Module, dict[str, torch.Tensor]], StudentOutputs]:
    """The training loop's forward pass for a student: its logits, and its features when a
    method needs them."""

    def forward(model: nn.Module, batch: dict[str, torch.Tensor]) -> StudentOutputs:
        if not hidden and not relations:
            output = model(**batch)
            return StudentOutputs(output.logits if hasattr(output, "logits") else output)
        with LayerTaps(model, hidden=hidden, relations=relations) as taps:
            output = model(**batch)
        pooled_hidden, pooled_relations, segments = taps.pooled(batch["attention_mask"])
        return StudentOutputs(output.logits if hasattr(output, "logits") else output, pooled_hidden, pooled_relations, segments)

    return forward


@dataclass(frozen=True)
class TeacherFeatures:
    """A split's cached teacher features, memory-mapped when read: ``hidden`` ``(N, texts,
    layers, H)``, ``relations`` ``(N, texts, 3, S, H)``, ``segments`` ``(N, texts, S)``.
    Picklable (a folder), so probes in other processes share the cache instead of copies."""

    folder: str

    def array(self, name: str) -> np.ndarray:
        return np.load(Path(self.folder) / f"{name}.npy", mmap_mode="r")

    @property
    def layers(self) -> int:
        return int(self.array("hidden").shape[2])

    @property
    def width(self) -> int:
        return int(self.array("hidden").shape[3])

    def take(self, indices: Sequence[int], device: Any) -> dict[str, torch.Tensor]:
        """The features of examples ``indices`` as tensors on ``device``."""
        chosen = np.asarray(indices)
        return {name: torch.from_numpy(np.ascontiguousarray(self.array(name)[chosen])).to(device) for name in FEATURE_FILES}

    @property
    def megabytes(self) -> float:
        return sum((Path(self.folder) / f"{name}.npy").stat().st_size for name in FEATURE_FILES) / 1e6


def teacher_features(teacher: Any, examples: Sequence, name: str, data_fingerprint: str, cache_dir: Path, device: str, on_batch: Callable[[int], None] | None = None) -> TeacherFeatures:
    """The teacher's features on ``examples`` (cached by teacher, data and split name, like its
    logits).

    Raises:
        FeatureError: the teacher is no BERT- or RoBERTa-style encoder.
    """
    folder = Cache(cache_dir).features(f"{teacher.fingerprint}-{data_fingerprint}-{name}-s{SEGMENTS}")
    if all((folder / f"{part}.npy").exists() for part in FEATURE_FILES):
        return TeacherFeatures(str(folder))
    model = teacher.model
    model.eval()
    collected: dict[str, list[np.ndarray]] = {part: [] for part in FEATURE_FILES}
    with torch.no_grad():
        for indices, batch in teacher.encode(examples, long_inputs=FEATURE_READING.get(teacher.settings.long_inputs)).batches(teacher.settings.batch_size, device):
            with LayerTaps(model, hidden=True, relations=True) as taps:
                model(**batch)
            hidden, relations, segments = taps.pooled(batch["attention_mask"])
            assert hidden is not None and relations is not None and segments is not None  # both taps are on
            for part, value in zip(FEATURE_FILES, (hidden.half(), relations.half(), segments)):
                collected[part].append(value.cpu().numpy())
            if on_batch is not None:
                on_batch(len(indices))
    folder.mkdir(parents=True, exist_ok=True)
    for part, chunks in collected.items():  # each whole or absent, as a killed run leaves it
        write_atomically(folder / f"{part}.npy", functools.partial(_save_array, np.concatenate(chunks)), binary=True)
    return TeacherFeatures(str(folder))
