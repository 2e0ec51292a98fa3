"""Distillation methods: each one loss, combined with weights (``train.distill``).

* ``logits``: the Kullback-Leibler divergence between the temperature-softened distributions of
  the student's and the teacher's logits, times T squared (Hinton et al., 2015).
* ``dist``: DIST (Huang et al., 2022): one minus the Pearson correlation of the softened
  predictions, per example (inter-class) and per class over the batch (intra-class), times T
  squared. It asks the student to rank as the teacher does, not to match its values, which
  suits a student far smaller than its teacher.
* ``hard_labels``: cross-entropy with the true labels of the labelled split; the student then
  trains on the labelled split as well (its soft terms too).
* ``hidden``: mean-squared error between the student's mean-pooled hidden states, each
  projected by a learned linear map to the teacher's width, and the teacher's, with student
  layer i (of S) mapped to teacher layer round(i * T / S) (uniform, the last to the last).
  Pooled rather than per token: the student has its own tokenizer. The projections are
  trained with the student and dropped from the saved model.
* ``attention_relations``: MiniLM v2's relations (Wang et al., 2021) at the last layer: the
  softmax of scaled query-query, key-key and value-value dot products, matched by KL
  divergence. Tokens are first mean-pooled into ``SEGMENTS`` equal segments of each input
  (the two models tokenise differently, so positions are compared by share of the input); a
  relation needs no matching width or head count.

The spec's forms (``"logits+hidden"``, ``[logits, dist]``, ``{logits: 1, hidden: 0.5}``) are
read by ``avatar.specs.parse_methods``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from avatar.specs import FEATURE_METHODS

__all__ = ["SEGMENTS", "StudentOutputs", "TeacherTargets", "DistillationLoss", "dist_loss", "logits_loss"]

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


def _relation_kl(student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor, heads: int) -> torch.Tensor:
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


class DistillationLoss(nn.Module):
    """The weighted sum of the chosen methods. Holds the ``hidden`` projections (trained with
    the student, not part of it)."""

    def __init__(
        self, methods: Mapping[str, float], temperature: float, *, student_width: int = 0, student_layers: int = 0, student_heads: int = 1, teacher_width: int = 0, teacher_layers: int = 0
    ) -> None:
        super().__init__()
        self.methods, self.temperature = dict(methods), temperature
        self.layers = layer_map(student_layers, teacher_layers) if "hidden" in methods else []
        self.projections = nn.ModuleList(nn.Linear(student_width, teacher_width) for _ in self.layers)
        self.relation_heads = student_heads if teacher_width and student_width % student_heads == 0 and teacher_width % student_heads == 0 else 1

    @property
    def needs_features(self) -> bool:
        return bool(FEATURE_METHODS & set(self.methods))

    def forward(self, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        total = student.logits.new_zeros(())
        for method, weight in self.methods.items():
            total = total + weight * self._term(method, student, teacher)
        return total

    def _term(self, method: str, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        if method == "logits":
            return logits_loss(student.logits, teacher.logits, self.temperature)
        if method == "dist":
            return dist_loss(student.logits, teacher.logits, self.temperature)
        if method == "hard_labels":
            if not teacher.labeled.any():
                return student.logits.new_zeros(())
            return nn.functional.cross_entropy(student.logits[teacher.labeled], teacher.labels[teacher.labeled])
        if method == "hidden":
            return self._hidden(student, teacher)
        return self._attention_relations(student, teacher)

    def _hidden(self, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        student_hidden, teacher_hidden = student.hidden, teacher.hidden.to(student.hidden.dtype)
        if teacher_hidden.shape[1] != student_hidden.shape[1]:  # a cross-encoder read the pair as one text
            student_hidden = student_hidden.mean(dim=1, keepdim=True)
        terms = [nn.functional.mse_loss(projection(student_hidden[:, :, mine]), teacher_hidden[:, :, theirs]) for projection, (mine, theirs) in zip(self.projections, self.layers)]
        return torch.stack(terms).mean()

    def _attention_relations(self, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        mask = (student.segments & teacher.segments.to(torch.bool)).flatten(0, 1)  # (n * texts, S)
        terms = []
        for which in range(3):  # query-query, key-key, value-value
            mine = student.relations[:, :, which].flatten(0, 1)
            theirs = teacher.relations[:, :, which].flatten(0, 1).to(mine.dtype)
            terms.append(_relation_kl(mine, theirs, mask, self.relation_heads))
        return torch.stack(terms).mean()
