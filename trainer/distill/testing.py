"""Conformance checks for a distillation method, Avatar's own or a plugin's.

Use them in a plugin's own tests::

    from avatar.trainer.distill.testing import check_method

    def test_my_method_conforms():
        check_method(MyMethod)

Each check raises ``AssertionError`` with a message saying what the contract requires. The
batches are random, shaped as the trainer shapes them (``StudentOutputs``, ``TeacherTargets``).
"""

from __future__ import annotations

import pickle

import torch

from ._losses import SEGMENTS, StudentOutputs, TeacherTargets
from ._methods import DistillationMethod, LossShape
from ._registry import MethodError, check_method_class

__all__ = ["check_method", "check_declarations", "check_loss", "check_gradients", "check_deterministic", "check_pickles", "check_edge_batches", "sample_batch"]

SHAPE = LossShape(temperature=2.0, student_width=8, student_layers=2, student_heads=2, teacher_width=12, teacher_layers=3)


def sample_batch(method: DistillationMethod, *, size: int = 6, texts: int = 1, labels: int = 2, labelled: int | None = None, seed: int = 0) -> tuple[StudentOutputs, TeacherTargets]:
    """A random batch for ``method``: the student's logits (requiring gradients), and its
    features and the teacher's where the method declares it reads them. The first ``labelled``
    examples (default: half) are of the labelled split."""
    generator = torch.Generator().manual_seed(seed)

    def random(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator)

    labelled = size // 2 if labelled is None else labelled
    student = StudentOutputs(random(size, labels).requires_grad_())
    teacher = TeacherTargets(random(size, labels), torch.randint(0, labels, (size,), generator=generator), torch.arange(size) < labelled)
    segments = torch.ones(size, texts, SEGMENTS, dtype=torch.bool)
    if "hidden" in method.student_outputs:
        student.hidden = random(size, texts, SHAPE.student_layers, SHAPE.student_width).requires_grad_()
    if "relations" in method.student_outputs:
        student.relations, student.segments = random(size, texts, 3, SEGMENTS, SHAPE.student_width).requires_grad_(), segments
    if method.needs_teacher_features:
        teacher.hidden = random(size, texts, SHAPE.teacher_layers, SHAPE.teacher_width)
        teacher.relations, teacher.segments = random(size, texts, 3, SEGMENTS, SHAPE.teacher_width), segments
    return student, teacher


def _inputs(student: StudentOutputs) -> list[torch.Tensor]:
    return [tensor for tensor in (student.logits, student.hidden, student.relations) if tensor is not None and tensor.requires_grad]


def check_declarations(method_class: type[DistillationMethod]) -> None:
    """Name, flags and student outputs are declared with allowed values, and ``build`` is there."""
    name = getattr(method_class, "name", None)
    assert isinstance(name, str) and name and "+" not in name and name.strip() == name, f"{method_class.__name__}.name must be a non-empty string without '+' or spaces"
    try:
        check_method_class(name, method_class, method_class.__name__)
    except MethodError as error:
        raise AssertionError(str(error)) from None


def check_loss(method: DistillationMethod) -> None:
    """``build(shape)`` gives a module whose loss on a batch is a finite scalar tensor."""
    module = method.build(SHAPE)
    assert isinstance(module, torch.nn.Module), f"{type(method).__name__}.build must return a torch.nn.Module, got {type(module).__name__}"
    for texts in (1, 2):  # one function, or a pair read function by function
        try:
            loss = module(*sample_batch(method, texts=texts))
        except Exception as error:  # noqa: BLE001 - any failure of the method's code is the finding
            raise AssertionError(f"{method.name}'s loss fails on a batch of {texts} text(s) per example: {type(error).__name__}: {error}") from error
        assert isinstance(loss, torch.Tensor) and loss.dim() == 0, f"{method.name}'s loss must be a scalar tensor, got {loss!r}"
        assert torch.isfinite(loss), f"{method.name}'s loss is {float(loss)} on a random batch"


def check_gradients(method: DistillationMethod) -> None:
    """The loss sends finite gradients to the student (else the method teaches nothing)."""
    student, teacher = sample_batch(method)
    loss = method.build(SHAPE)(student, teacher)
    assert loss.requires_grad, f"{method.name}'s loss sends no gradient to the student's outputs (it does not depend on them)"
    loss.backward()
    gradients = [tensor.grad for tensor in _inputs(student)]
    assert any(gradient is not None and bool(gradient.abs().sum() > 0) for gradient in gradients), f"{method.name}'s loss sends no gradient to the student's outputs"
    assert all(gradient is None or bool(torch.isfinite(gradient).all()) for gradient in gradients), f"{method.name}'s loss sends non-finite gradients"


def check_deterministic(method: DistillationMethod) -> None:
    """The same batch, with the module built from the same seed, gives the same loss."""
    values = []
    for _ in range(2):
        torch.manual_seed(0)
        values.append(float(method.build(SHAPE)(*sample_batch(method)).detach()))
    assert values[0] == values[1], f"{method.name}'s loss differs between two identical calls: {values}"


def check_pickles(method: DistillationMethod) -> None:
    """Worker processes may receive the method by pickling."""
    copy = pickle.loads(pickle.dumps(method))
    assert type(copy) is type(method), f"{method.name} does not survive pickling"


def check_edge_batches(method: DistillationMethod) -> None:
    """A batch of one example, and a batch with no labelled example, give a finite loss (the
    last batch of an epoch may be either)."""
    module = method.build(SHAPE)
    for student, teacher in (sample_batch(method, size=1), sample_batch(method, labelled=0), sample_batch(method, labels=4)):
        loss = module(student, teacher)
        assert torch.isfinite(loss), f"{method.name}'s loss is {float(loss)} on a batch of {len(student.logits)} ({int(teacher.labeled.sum())} labelled, {student.logits.shape[1]} labels)"


def check_method(method_class: type[DistillationMethod]) -> None:
    """Every check above, on a fresh instance of ``method_class``."""
    check_declarations(method_class)
    method = method_class()
    for check in (check_loss, check_gradients, check_deterministic, check_pickles, check_edge_batches):
        check(method)
