"""The run's results as terminal tables: the front with the selected points, and the students."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from avatar.specs import Spec, StudentsRecord

from ._markdown import figure_text, kept_text, ratio_text, student_rows
from ._terminal import plain

if TYPE_CHECKING:
    from .._run import RunOutcome

__all__ = ["front_table", "students_table"]


def front_table(spec: Spec, outcome: RunOutcome, *, max_rows: int = 20, max_parameters: int = 4) -> Table:
    """The front as a rich table: objectives, then the parameters that vary most on it (all of
    it is in pareto.csv)."""
    result = outcome.result
    chosen = {evaluation.key for evaluation, _ in outcome.selected}
    spread = {name: len({repr(evaluation.config[name]) for evaluation in result.front}) for name in spec.parameter_names}
    varying = sorted((name for name in spec.parameter_names if spread[name] > 1), key=lambda name: -spread[name])[:max_parameters]
    varying = [name for name in spec.parameter_names if name in varying]
    shown = f", {max_rows} shown; all in pareto.csv" if len(result.front) > max_rows else ""
    table = Table(title=f"Feasible Pareto front: {len(result.front)} points{shown} (hypervolume {result.hypervolume:.4f})", title_justify="left")
    for name, direction in zip(result.objective_names, result.directions):
        table.add_column(f"{name} ({'max' if direction == 'maximize' else 'min'})", justify="right")
    for name in varying:
        table.add_column(name, justify="right")
    table.add_column("selected")
    order = sorted(result.front, key=lambda evaluation: evaluation.metrics[result.objective_names[0]])
    if len(order) > max_rows:  # the selected points, then an even spread of the others
        picked = [evaluation for evaluation in order if evaluation.key in chosen]
        others = [evaluation for evaluation in order if evaluation.key not in chosen]
        step = len(others) / max(1, max_rows - len(picked))
        picked += [others[int(index * step)] for index in range(max_rows - len(picked))]
        order = [evaluation for evaluation in order if evaluation in picked]
    for evaluation in order:
        cells = [f"{evaluation.metrics[name]:.4g}" for name in result.objective_names]
        cells += [plain(evaluation.config[name]) for name in varying]
        table.add_row(*cells, "●" if evaluation.key in chosen else "")
    return table


def students_table(summary: StudentsRecord) -> Table:
    """The realised students against the teacher."""
    teacher, primary = summary.teacher.to_dict(), summary.primary
    table = Table(title="Realised students (test split)", title_justify="left")
    for column in ("model", "size MB", "latency ms", primary, "smaller", "faster", f"{primary} kept"):
        table.add_column(column, justify="right")
    size, latency = teacher["size_mb"], teacher["latency_ms"]  # None: a teacher given only as predictions
    table.add_row("teacher", figure_text(size, ".2f"), figure_text(latency, ".2f"), f"{teacher['test'][primary]:.4f}", "", "", "")
    for name, student in student_rows(summary):
        table.add_row(
            name,
            f"{student['size_mb']:.3f}",
            f"{student['latency_ms']:.2f}",
            f"{student['test'][primary]:.4f}",
            ratio_text(size, student["size_mb"], digits=0),
            ratio_text(latency, student["latency_ms"], digits=0),
            kept_text(student["test"][primary], teacher["test"][primary], primary),
        )
    return table
