"""Method names resolved to method objects, and a student's weighted mix of them.

A name is looked up in the ``avatar.distill`` entry-point group (``avatar.specs.load_method``),
its class checked against the contract of ``DistillationMethod`` and instantiated once per
process. ``MethodMix`` answers what the pipeline asks of a student's methods (does any need the
teacher's features, the labelled split, which student outputs) and builds their summed loss.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache

import torch
from torch import nn

from avatar.specs import DISTILL_ENTRY_POINT_GROUP, load_method

from ._losses import StudentOutputs, TeacherTargets
from ._methods import STUDENT_OUTPUTS, DistillationMethod, LossShape

__all__ = ["MethodError", "get_method", "MethodMix", "DistillationLoss", "check_method_class"]


class MethodError(ValueError):
    """A distillation method that cannot be used: not registered, broken, or not a method."""


def check_method_class(name: str, method_class: object, source: str) -> None:
    """Refuse what cannot serve as the method ``name``, saying what it lacks.

    Raises:
        MethodError: not a class, another name, a declaration of the wrong type, or no ``build``.
    """
    if not isinstance(method_class, type):
        raise MethodError(f"distillation method {source} is a {type(method_class).__name__}, not a class (subclass avatar.trainer.distill.DistillationMethod)")
    declared = getattr(method_class, "name", None)
    if declared != name:
        raise MethodError(f"distillation method {source} declares the name {declared!r}, not '{name}'")
    flags = [flag for flag in ("needs_teacher_features", "reads_each_text", "uses_labels") if not isinstance(getattr(method_class, flag, None), bool)]
    if flags:
        raise MethodError(f"distillation method {source} lacks {', '.join(flags)} (a bool; subclass avatar.trainer.distill.DistillationMethod)")
    outputs = getattr(method_class, "student_outputs", None)
    if not isinstance(outputs, frozenset) or not outputs <= STUDENT_OUTPUTS:
        raise MethodError(f"distillation method {source} has student_outputs {outputs!r}: a frozenset of {', '.join(sorted(STUDENT_OUTPUTS))}")
    build = getattr(method_class, "build", None)
    if not callable(build) or build is DistillationMethod.build:
        raise MethodError(f"distillation method {source} does not implement build(shape)")


@cache
def get_method(name: str) -> DistillationMethod:
    """The method registered as ``name``, checked and instantiated (once per process).

    Raises:
        MethodError: nothing registered under ``name``, or the plugin is broken.
    """
    try:
        method_class = load_method(name)
    except ValueError as error:
        raise MethodError(str(error)) from error
    check_method_class(name, method_class, f"'{name}' (in {DISTILL_ENTRY_POINT_GROUP})")
    return method_class()


@dataclass(frozen=True)
class MethodMix:
    """A student's methods with their weights (above 0), resolved to objects."""

    weights: Mapping[str, float]

    @classmethod
    def of(cls, weights: Mapping[str, float]) -> MethodMix:
        """Resolve every name now, so a broken method fails before training starts.

        Raises:
            MethodError: a name that cannot be resolved.
        """
        mix = cls(dict(weights))
        list(mix.methods())
        return mix

    @classmethod
    def of_names(cls, names: Iterable[str]) -> MethodMix:
        """The methods ``names`` resolved (weights 1, in name order): for asking what a set of
        methods needs, not for a loss."""
        return cls.of(dict.fromkeys(sorted(names), 1.0))

    def methods(self) -> Iterator[DistillationMethod]:
        return (get_method(name) for name in self.weights)

    def names_with(self, flag: str) -> list[str]:
        """The names of the methods that declare ``flag`` (a flag of ``DistillationMethod``)."""
        return [method.name for method in self.methods() if getattr(method, flag)]

    @property
    def needs_teacher_features(self) -> bool:
        return bool(self.names_with("needs_teacher_features"))

    @property
    def uses_labels(self) -> bool:
        return bool(self.names_with("uses_labels"))

    @property
    def student_outputs(self) -> frozenset[str]:
        return frozenset().union(*(method.student_outputs for method in self.methods()))

    def loss(self, shape: LossShape) -> DistillationLoss:
        return DistillationLoss({method.name: (weight, method.build(shape)) for method, weight in zip(self.methods(), self.weights.values())})


class DistillationLoss(nn.Module):
    """The weighted sum of the methods' losses. Holds what they train (``hidden``'s
    projections), which is trained with the student and not part of it."""

    def __init__(self, terms: Mapping[str, tuple[float, nn.Module]]) -> None:
        super().__init__()
        self.weights = {name: weight for name, (weight, _) in terms.items()}
        self.terms = nn.ModuleDict({name: module for name, (_, module) in terms.items()})
        self._register_load_state_dict_pre_hook(_earlier_checkpoint_keys)

    def forward(self, student: StudentOutputs, teacher: TeacherTargets) -> torch.Tensor:
        total = student.logits.new_zeros(())
        for name, weight in self.weights.items():
            total = total + weight * self.terms[name](student, teacher)
        return total


def _earlier_checkpoint_keys(state: dict[str, torch.Tensor], prefix: str, *_: object) -> None:
    """A checkpoint written before methods were objects holds ``hidden``'s projections at
    ``projections.*``: a run killed then resumes now."""
    for key in [key for key in state if key.startswith(f"{prefix}projections.")]:
        state[f"{prefix}terms.hidden.{key[len(prefix) :]}"] = state.pop(key)
