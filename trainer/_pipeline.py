"""Train the selected points of a run (``selected.json``): data, teacher, then one student each.

Progress is shown for teacher fine-tuning, teacher inference and each student's training.
Finished students are skipped when the command is run again, and an interrupted student
continues from its last epoch's checkpoint.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from avatar.specs import (
    RunDirectory,
    SelectedPoint,
    Spec,
    StudentRecord,
    StudentsRecord,
)

from ._distillation import Distillation, prepare_distillation, progress_bars
from ._realise import keep_finished_student, train_student
from .data import TaskData
from .distill import TeacherOutputs, local_threads, restart_tasks, run_restarts
from .students import checkpoint_metric, model_costs, primary_metric
from .teacher import Teacher, evaluate_teacher

__all__ = ["train_selected", "measure_teacher"]


def measure_teacher(teacher: Teacher, spec: Spec) -> dict[str, float | None]:
    """The teacher's latency, energy and carbon at its ``max_length``, by the students' protocol
    (on the CPU, the spec's threads), so that ratios compare like with like. A teacher given only
    as predictions has what its settings declare (``latency_ms``), the rest unknown."""
    if teacher.model is None:
        return {"latency_ms": teacher.settings.latency_ms, "energy_j": None, "carbon_g": None}
    device = next(teacher.model.parameters()).device
    vocab = int(getattr(teacher.tokenizer, "vocab_size", 1000))
    shape = "defect" if teacher.pair_as_text else spec.task.kind  # a cross-encoder reads one sequence
    measured: dict[str, float | None] = {**model_costs(teacher.model.cpu(), spec, teacher.max_length, vocab, spec.model.threads, task_kind=shape)}
    teacher.model.to(device)
    return measured


def _teacher_summary(teacher: Teacher, data: TaskData, spec: Spec, cache_dir: Path, device: str) -> dict[str, Any]:
    test, threshold = evaluate_teacher(teacher, data, cache_dir, device)
    measured = measure_teacher(teacher, spec)
    size = teacher.size_bytes()
    summary = {
        "model": teacher.settings.name,
        **teacher.record(),
        "max_length": teacher.max_length,
        "folder": str(teacher.folder),
        "test": test,
        "threshold": threshold,
        "validation": teacher.validation,
    }
    summary.update(size_mb=size / 1e6 if size is not None else teacher.settings.size_mb, **measured)
    if teacher.model is not None:
        summary["params"] = sum(p.numel() for p in teacher.model.parameters())
    return summary


def _features_summary(outputs: TeacherOutputs) -> dict[str, Any]:
    """How much disk the teacher's cached features take, when a method used them."""
    cached = [features for features in (outputs.features, outputs.labeled_features) if features is not None]
    return {"features_mb": sum(features.megabytes for features in cached)} if cached else {}


def _distil_in_workers(spec: Spec, points: Sequence[SelectedPoint], distillation: Distillation, run: RunDirectory, executor: Any, console: Console) -> None:
    """Every pending student's distillations (one per seed) on the executor's workers."""
    folders = {point.key: run.student_folder(point.key) for point in points}
    tasks = restart_tasks(spec, points, distillation.data, distillation.outputs, folders, distillation.cache_dir, distillation.device, local_threads(executor))
    with progress_bars(console) as progress:
        task = progress.add_task(f"students on {executor.workers} workers", total=len(tasks), status="distilling")
        run_restarts(executor, tasks, on_done=lambda key, result: progress.advance(task))


def _finished_student(metrics_path: Path) -> dict[str, Any] | None:
    """The metrics of a student realised earlier, or None: not yet, or a file a killed run left
    unreadable (written by an older version; now written atomically) or incomplete, so it is
    trained again."""
    try:
        metrics = json.loads(metrics_path.read_text())
        StudentRecord.from_dict(metrics)
    except (OSError, ValueError):
        return None
    return metrics


def train_selected(
    space_or_spec: Any,
    points: Sequence[SelectedPoint] | None,
    run: RunDirectory | Path,
    *,
    data: str | None = None,
    teacher: str | None = None,
    console: Console | None = None,
    cache_dir: Path | None = None,
    device: str | None = None,
    distillation: Distillation | None = None,
    executor: Any = None,
) -> StudentsRecord:
    """Realise ``points`` (by default the run's ``selected.json``) into ``run``; returns (and
    writes) the ``students.json`` record. ``space_or_spec`` is the run's ``Space`` (or just its
    spec: the trainer needs no more of it). With an ``executor`` of several workers (the
    solver's, for ``--jobs`` or ``--scheduler``) the distillations run there, one per worker
    (``_parallel``); the rest follows here, one student after another.

    Raises:
        DataError, TeacherError: the data or the teacher cannot be used.
        RunFileError: no search has written the selection yet, or it is damaged.
        StudentsFailedError: distillations failed in their workers (the others are kept).
    """
    spec: Spec = getattr(space_or_spec, "spec", space_or_spec)
    run = run if isinstance(run, RunDirectory) else RunDirectory(run)
    console = console or Console(quiet=True)
    points = run.selection().points if points is None else points
    distillation = distillation or prepare_distillation(spec, data=data, teacher=teacher, console=console, cache_dir=cache_dir, device=device)
    timings = dict(distillation.seconds)
    pending = [point for point in points if _finished_student(run.student_metrics(point.key)) is None]
    if executor is not None and getattr(executor, "workers", 1) > 1 and pending:
        step_started = time.perf_counter()
        _distil_in_workers(spec, pending, distillation, run, executor, console)
        timings["students_in_workers"] = time.perf_counter() - step_started
    with progress_bars(console) as progress:
        step_started = time.perf_counter()
        teacher_report = _test_teacher(spec, distillation, progress)
        timings["teacher_test"] = time.perf_counter() - step_started
        students = [_realise(spec, point, distillation, run, progress, console) for point in points]
    record = _students_record(spec, distillation, teacher_report, students, timings)
    run.write_students(record)
    return record


def _test_teacher(spec: Spec, distillation: Distillation, progress: Any) -> dict[str, Any]:
    """The teacher's row: its test scores and measured costs (on the device, then back on the CPU)."""
    testing = progress.add_task("teacher on the test split", total=None, status="")
    teacher = distillation.teacher
    if teacher.model is not None:
        teacher.model.to(distillation.device)
    summary = _teacher_summary(teacher, distillation.data, spec, distillation.cache_dir, distillation.device)
    progress.update(testing, total=1, completed=1)
    if teacher.model is not None:
        teacher.model.cpu()
    return {**summary, **_features_summary(distillation.outputs), "warnings": distillation.warnings}


def _realise(spec: Spec, point: SelectedPoint, distillation: Distillation, run: RunDirectory, progress: Any, console: Console) -> dict[str, Any]:
    """One student's metrics: realised earlier (kept, with the exports the spec now asks for,
    and any changed setting named), or trained now with its progress bar."""
    folder = run.student_folder(point.key)
    finished = _finished_student(run.student_metrics(point.key))
    if finished is not None:
        return keep_finished_student(spec, distillation.data, folder, finished, say=lambda text: console.print(text, highlight=False, markup=False))
    bar = _StudentBar(progress, point.key, checkpoint_metric(spec.task.kind, spec.train.tune_threshold, spec.task.num_labels))
    return train_student(spec, point, distillation.data, distillation.outputs, folder, distillation.cache_dir, device=distillation.device, on_start=bar.started, on_step=bar.step, on_epoch=bar.epoch)


class _StudentBar:
    """One student's progress bar, fed by the training loop's callbacks."""

    def __init__(self, progress: Any, key: str, chosen_by: str) -> None:
        self.progress, self.chosen_by = progress, chosen_by
        self.task = progress.add_task(f"student {key}", total=None, status="tokenizer")

    def started(self, total: int) -> None:
        self.progress.update(self.task, total=total, status="training")

    def step(self, epoch: int, step: int, loss: float) -> None:
        self.progress.update(self.task, advance=1, status=f"epoch {epoch + 1} loss {loss:.3f}")

    def epoch(self, epoch: int, record: Mapping[str, float]) -> None:
        self.progress.update(self.task, status=f"epoch {epoch + 1} valid {self.chosen_by} {record.get(f'valid_{self.chosen_by}', 0):.3f}")


def _students_record(spec: Spec, distillation: Distillation, teacher: dict[str, Any], students: list[dict[str, Any]], timings: dict[str, float]) -> StudentsRecord:
    """``students.json``: the data, the teacher, the lexical baseline and every student."""
    data = distillation.data
    labels = {"num_labels": data.num_labels, **({"labels": list(data.label_names)} if data.label_names else {})}
    baseline = distillation.baseline
    summary = {"data": {"source": data.source, **data.summary(), **labels}, "teacher": teacher, "students": students, "device": distillation.device, "seconds": timings}
    primary = primary_metric(spec.task.kind, spec.task.num_labels)
    return StudentsRecord.from_dict({**summary, "primary": primary, **({"baseline": baseline.to_dict()} if baseline is not None else {})})
