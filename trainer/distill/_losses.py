"""The losses of the built-in distillation methods (``_methods``), and their weighted sum.

The spec's forms (``"logits+hidden"``, ``[logits, dist]``, ``{logits: 1, hidden: 0.5}``) are
read by ``avatar.specs.parse_methods``; names are resolved to method objects by ``_registry``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["SEGMENTS", "StudentOutputs", "TeacherTargets", "dist_loss", "logits_loss", "layer_map", "relation_kl"]

SEGMENTS = 16


@dataclass
class StudentOutputs:
    """What the losses read of the student on a batch: logits, the mean-pooled hidden state of
    every layer ``(batch, texts, layers, H)``, and the segment-pooled queries, keys and values
    of the last layer ``(batch, texts, 3, SEGMENTS, H)`` with their segment mask."""

    logits: torch.Tensor
    hidden: torch.Tensor | None = None
    relations: torch.Tensor | None = None
    segments: torch.Tensor | None = None


@dataclass
class TeacherTargets:
    """The teacher's side for the same batch (its features from the cache)."""

    logits: torch.Tensor
    labels: torch.Tensor
    labeled: torch.Tensor  # bool: which examples' labels may be used (the labelled split)
    hidden: torch.Tensor | None = None  # (batch, texts, teacher layers, H_t)
    relations: torch.Tensor | None = None  # (batch, texts, 3, SEGMENTS, H_t)
    segments: torch.Tensor | None = None  # (batch, texts, SEGMENTS) bool


def logits_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """``KL(softmax(t / T) || softmax(s / T)) * T^2`` averaged over the batch."""
    return (
        nn.functional.kl_div(nn.functional.log_softmax(student / temperature, dim=-1), nn.functional.log_softmax(teacher / temperature, dim=-1), reduction="batchmean", log_target=True)
        * temperature**2
    )


def _correlation_distance(first: torch.Tensor, second: torch.Tensor, dim: int) -> torch.Tensor:
    """``1 - Pearson(first, second)`` along ``dim``, averaged over the other dimension."""
    first = first - first.mean(dim=dim, keepdim=True)
    second = second - second.mean(dim=dim, keepdim=True)
    correlation = (first * second).sum(dim=dim) / (first.norm(dim=dim) * second.norm(dim=dim) + 1e-8)
    return (1 - correlation).mean()


def dist_loss(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """DIST: inter-class (per example) plus intra-class (per class) correlation distance of the
    softened predictions, times T squared."""
    student_probabilities = torch.softmax(student / temperature, dim=-1)
    teacher_probabilities = torch.softmax(teacher / temperature, dim=-1)
    inter = _correlation_distance(student_probabilities, teacher_probabilities, dim=1)
    intra = _correlation_distance(student_probabilities, teacher_probabilities, dim=0) if len(student) > 1 else student.new_zeros(())
    return (inter + intra) * temperature**2


def layer_map(student_layers: int, teacher_layers: int) -> list[tuple[int, int]]:
    """Uniform mapping: student layer i (1..S) to teacher layer round(i * T / S), 0-based."""
    return [(index, max(1, round((index + 1) * teacher_layers / student_layers)) - 1) for index in range(student_layers)]


def relation_kl(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor, heads: int) -> torch.Tensor:
    """KL between teacher and student relation distributions over segments, for one of Q, K, V:
    ``student`` (n, S, H_s), ``teacher`` (n, S, H_t), ``mask`` (n, S)."""

    def relations(vectors: torch.Tensor) -> torch.Tensor:
        n, segments, width = vectors.shape
        split = vectors.reshape(n, segments, heads, width // heads).transpose(1, 2)  # (n, heads, S, d)
        scores = split @ split.transpose(-1, -2) / math.sqrt(width // heads)
        scores = scores.masked_fill(~mask[:, None, None, :], -1e4)  # not -inf: a row with no segment would give NaN gradients
        return torch.log_softmax(scores, dim=-1)

    student_log, teacher_log = relations(student), relations(teacher)
    rows = mask[:, None, :, None]
    pointwise = torch.where(rows & mask[:, None, None, :], teacher_log.exp() * (teacher_log - student_log), torch.zeros_like(student_log))
    return pointwise.sum() / (mask.sum() * heads).clamp(min=1)  # the mean over valid rows and heads
