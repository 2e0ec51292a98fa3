"""The checks before the search: what would make training fail is refused before a long search,
not after it. The data is read (a field it lacks, a one-class split, a malformed line), a
teacher's predictions file is read against it, the teacher is found and its weights checked,
and the ONNX extra is there when exports are asked for."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from avatar.specs import DISTILL_PARAMETER, NAMED_DATA, Problem, Spec, SpecError

from ._distillation import methods_needed, teacher_settings
from .data import DataError, TaskData, load_task_data, sample_transfer
from .distill import MethodError, MethodMix
from .teacher import PredictionsError, TeacherError, check_teacher_available, checked_predictions, has_task_head, resolve_teacher

__all__ = ["preflight", "ONNX_MODULES"]

ONNX_MODULES = ("onnx", "onnxruntime", "onnxscript")  # the onnx extra; PyTorch's exporter needs onnxscript


def preflight(spec: Spec, *, data: str | None = None, teacher: str | None = None) -> TaskData | None:
    """Check what training needs; returns the task's data (read to check it), or ``None`` when
    a problem came first.

    Raises:
        SpecError: every problem found, each at the spec line it is about.
    """
    problems = _environment_problems(spec) + _method_problems(spec) + _location_problems(spec, data)
    task_data = None
    if not problems:  # read it now: a field the data lacks is found before the search, not after
        try:
            task_data = load_task_data(spec, data)
        except DataError as error:
            problems.append(_problem(spec, error.field, str(error)))
        else:
            problems += _predictions_problems(spec, teacher, task_data)
    problems += _teacher_problems(spec, teacher)
    if problems:
        raise SpecError(problems)
    return task_data


def _problem(spec: Spec, path: tuple[str, ...], message: str) -> Problem:
    return Problem(spec.source, spec.locate(path), path, message)


def _environment_problems(spec: Spec) -> list[Problem]:
    missing = [name for name in ONNX_MODULES if importlib.util.find_spec(name) is None]
    if spec.train.onnx and missing:
        return [_problem(spec, ("train", "onnx"), f"ONNX export needs the onnx extra ({', '.join(missing)} not installed): pip install 'avatar-lm[onnx]'")]
    return []


def _method_problems(spec: Spec) -> list[Problem]:
    """Every distillation method the run may use resolves to a working method object (a plugin
    that fails to import, or is not a method, is found now)."""
    try:
        MethodMix.of_names(methods_needed(spec))
    except MethodError as error:
        path = ("space", DISTILL_PARAMETER) if DISTILL_PARAMETER in spec.parameter_names and spec.train.distill is None else ("train", "distill")
        return [_problem(spec, path, str(error))]
    return []


def _location_problems(spec: Spec, data: str | None) -> list[Problem]:
    problems = []
    location = spec.task_data(data)
    if not location.startswith(NAMED_DATA) and not Path(location).exists():
        hint = "override it with --data PATH" if data is None else "given with --data"
        problems.append(_problem(spec, ("task", "data"), f"{location}: no such file or folder ({hint})"))
    if spec.task.functions and not Path(spec.resolve_path(spec.task.functions)).is_file():
        message = f"{spec.resolve_path(spec.task.functions)}: no such file (the table of functions that task.fields.ids point into)"
        problems.append(_problem(spec, ("task", "functions"), message))
    if spec.task.unlabeled and not Path(spec.resolve_path(spec.task.unlabeled)).exists():
        problems.append(_problem(spec, ("task", "unlabeled"), f"{spec.resolve_path(spec.task.unlabeled)}: no such file or folder (the unlabelled code the teacher labels)"))
    return problems


def _predictions_problems(spec: Spec, teacher: str | None, task_data: TaskData) -> list[Problem]:
    """A teacher given as its predictions: the file is read and every example's id looked up
    now (the trainer's own check), so a missing id or a malformed line is found before the search."""
    settings = teacher_settings(spec, teacher)
    if settings is None or not settings.predictions:
        return []
    try:
        labeled = MethodMix.of_names(methods_needed(spec)).uses_labels  # hard_labels distils on the labelled split too
        required = spec.train.transfer_count(pair_task=spec.task.is_pair, teacher_labels_them=False)  # what the file must have: auto asks for none
        checked_predictions(settings, task_data, labeled=labeled, extra=sample_transfer(task_data, required, spec.train.seed))
    except DataError as error:
        return [_problem(spec, error.field, str(error))]
    except PredictionsError as error:
        return [_problem(spec, ("train", "teacher", "predictions"), str(error))]
    return []


def _teacher_problems(spec: Spec, teacher: str | None) -> list[Problem]:
    """The teacher can be had (a model folder with readable weights, or a hub id in the cache or
    downloadable), and can be used as ``finetune`` asks."""
    name = teacher or (spec.train.teacher.model if spec.train.teacher else None)
    if name is None:
        return []
    try:
        check_teacher_available(name)
    except TeacherError as error:
        return [_problem(spec, ("train", "teacher"), str(error))]
    finetune = spec.train.teacher.finetune if spec.train.teacher else "auto"
    predictions = bool(spec.train.teacher and spec.train.teacher.predictions)  # the model is only measured
    if finetune == "never" and not predictions and not has_task_head(resolve_teacher(name), spec.task.num_labels):
        message = (
            f"finetune: never, but the teacher {name} has no classification head for the task's {spec.task.num_labels} labels "
            "(a sequence classifier, or for pairs a cross-encoder): use finetune: auto to fine-tune it"
        )
        return [_problem(spec, ("train", "teacher", "finetune"), message)]
    return []
