"""Distillation methods as objects: what each needs, and the loss it adds.

A method declares what it needs, so the pipeline asks the method rather than its name:

* ``needs_teacher_features``: the teacher's hidden states and attention (a model teacher; a
  teacher given as its predictions has none), cached before students train;
* ``reads_each_text``: those features taken per function of a pair (a cross-encoder, which
  reads the pair as one text, cannot give them);
* ``uses_labels``: the student trains on the labelled split too, with the teacher's outputs on
  it and its true labels;
* ``student_outputs``: which of the student's features its loss reads (``"hidden"``: the
  mean-pooled state of each layer; ``"relations"``: the last layer's segment-pooled queries,
  keys and values).

``build(shape)`` returns the ``nn.Module`` computing the loss for one batch, ``module(student,
teacher)`` with ``StudentOutputs`` and ``TeacherTargets``; parameters it holds (``hidden``'s
projections) train with the student and are not saved with it.

Built-in methods and third-party ones are entry points of the ``avatar.distill`` group
(``_registry``); ``avatar.trainer.distill.testing.check_method`` tests a method's contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from ._losses import StudentOutputs, TeacherTargets, dist_loss, layer_map, logits_loss, relation_kl

__all__ = ["LossShape", "DistillationMethod", "Logits", "Dist", "HardLabels", "Hidden", "AttentionRelations", "STUDENT_OUTPUTS"]

STUDENT_OUTPUTS = frozenset({"hidden", "relations"})


@dataclass(frozen=True)
class LossShape:
    """What a method's loss may be shaped by: the temperature and both models' dimensions
    (the teacher's are 0 when no method reads its features)."""

    temperature: float = 1.0
    student_width: int = 0
    student_layers: int = 0
    student_heads: int = 1
    teacher_width: int = 0
    teacher_layers: int = 0


class DistillationMethod:
    """Base class of a distillation method. Subclass it, set ``name`` and what the method needs,
    and implement ``build``; register the class in the ``avatar.distill`` entry-point group
    under its name."""

    name: ClassVar[str] = ""
    needs_teacher_features: ClassVar[bool] = False
    reads_each_text: ClassVar[bool] = False
    uses_labels: ClassVar[bool] = False
    student_outputs: ClassVar[frozenset[str]] = frozenset()

    def build(self, shape: LossShape) -> nn.Module:
        """The loss module: ``module(student: StudentOutputs, teacher: TeacherTargets)`` gives
        a scalar tensor."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class _Term(nn.Module):
    """A loss that is a function of the logits and the temperature."""

    def __init__(self, function: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor], temperature: float) -> None:
        super().__init__()
        self.function, self.temperature = function, temperature

    def forward(self, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        return self.function(student.logits, teacher.logits, self.temperature)


class Logits(DistillationMethod):
    """The Kullback-Leibler divergence between the temperature-softened distributions of the
    student's and the teacher's logits, times T squared (Hinton et al., 2015)."""

    name = "logits"

    def build(self, shape: LossShape) -> nn.Module:
        return _Term(logits_loss, shape.temperature)


class Dist(DistillationMethod):
    """DIST (Huang et al., 2022): one minus the Pearson correlation of the softened predictions,
    per example and per class over the batch, times T squared. It asks the student to rank as
    the teacher does, not to match its values, which suits a student far smaller than its teacher."""

    name = "dist"

    def build(self, shape: LossShape) -> nn.Module:
        return _Term(dist_loss, shape.temperature)


class _CrossEntropyOnLabelled(nn.Module):
    def forward(self, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        if not teacher.labeled.any():
            return student.logits.new_zeros(())
        return nn.functional.cross_entropy(student.logits[teacher.labeled], teacher.labels[teacher.labeled])


class HardLabels(DistillationMethod):
    """Cross-entropy with the true labels of the labelled split; the student then trains on the
    labelled split as well (its soft terms too)."""

    name = "hard_labels"
    uses_labels = True

    def build(self, shape: LossShape) -> nn.Module:
        return _CrossEntropyOnLabelled()


class _HiddenMatch(nn.Module):
    def __init__(self, shape: LossShape) -> None:
        super().__init__()
        self.layers = layer_map(shape.student_layers, shape.teacher_layers)
        self.projections = nn.ModuleList(nn.Linear(shape.student_width, shape.teacher_width) for _ in self.layers)

    def forward(self, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        assert student.hidden is not None and teacher.hidden is not None
        student_hidden, teacher_hidden = student.hidden, teacher.hidden.to(student.hidden.dtype)
        if teacher_hidden.shape[1] != student_hidden.shape[1]:  # a cross-encoder read the pair as one text
            student_hidden = student_hidden.mean(dim=1, keepdim=True)
        terms = [nn.functional.mse_loss(projection(student_hidden[:, :, mine]), teacher_hidden[:, :, theirs]) for projection, (mine, theirs) in zip(self.projections, self.layers)]
        return torch.stack(terms).mean()


class Hidden(DistillationMethod):
    """Mean-squared error between the student's mean-pooled hidden states, each projected by a
    learned linear map to the teacher's width, and the teacher's, with student layer i (of S)
    mapped to teacher layer round(i * T / S) (uniform, the last to the last). Pooled rather than
    per token: the student has its own tokenizer."""

    name = "hidden"
    needs_teacher_features = True
    student_outputs = frozenset({"hidden"})

    def build(self, shape: LossShape) -> nn.Module:
        return _HiddenMatch(shape)


class _RelationMatch(nn.Module):
    def __init__(self, shape: LossShape) -> None:
        super().__init__()
        divides = shape.teacher_width and shape.student_width % shape.student_heads == 0 and shape.teacher_width % shape.student_heads == 0
        self.heads = shape.student_heads if divides else 1

    def forward(self, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        assert student.relations is not None and student.segments is not None and teacher.relations is not None and teacher.segments is not None
        mask = (student.segments & teacher.segments.to(torch.bool)).flatten(0, 1)  # (n * texts, S)
        terms = []
        for which in range(3):  # query-query, key-key, value-value
            mine = student.relations[:, :, which].flatten(0, 1)
            theirs = teacher.relations[:, :, which].flatten(0, 1).to(mine.dtype)
            terms.append(relation_kl(mine, theirs, mask, self.heads))
        return torch.stack(terms).mean()


class AttentionRelations(DistillationMethod):
    """MiniLM v2's relations (Wang et al., 2021) at the last layer: the softmax of scaled
    query-query, key-key and value-value dot products, matched by KL divergence. Tokens are
    first mean-pooled into ``SEGMENTS`` equal segments of each input (the two models tokenise
    differently, so positions are compared by share of the input); a relation needs no matching
    width or head count."""

    name = "attention_relations"
    needs_teacher_features = True
    reads_each_text = True
    student_outputs = frozenset({"relations"})

    def build(self, shape: LossShape) -> nn.Module:
        return _RelationMatch(shape)
