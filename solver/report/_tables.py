"""The run's results as terminal tables: the front with the selected points, and the students."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from avatar.specs import Spec, StudentsRecord

from ._markdown import auc_kept_text, figure_text, has_auc_kept, kept_text, ratio_text, student_rows, teacher_at_like_cut, weak_text, weak_warnings
from ._results import sorted_front
from ._terminal import plain

if TYPE_CHECKING:
    from .._run import RunOutcome

__all__ = ["front_table", "students_table", "weak_warnings"]


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
    order = sorted_front(result)
    if len(order) > max_rows:  # the selected points, then an even spread of the others
        picked = [evaluation for evaluation in order if evaluation.key in chosen]
        others = [evaluation for evaluation in order if evaluation.key not in chosen]
        step = len(others) / max(1, max_rows - len(picked))
        picked += [others[int(index * step)] for index in range(max_rows - len(picked))]
        order = [evaluation for evaluation in order if evaluation in picked]
    for evaluation in order:
        cells: list[str | Text] = [f"{evaluation.metrics[name]:.4g}" for name in result.objective_names]
        cells += [plain(evaluation.config[name]) for name in varying]
        table.add_row(*cells, "●" if evaluation.key in chosen else "")
    return table


def students_table(summary: StudentsRecord) -> Table:
    """The realised students against the teacher; for two labels led by the ROC AUC kept above
    chance, so a student that guesses never reads as most of the teacher. Weak students are
    flagged (``weak_warnings`` says why)."""
    teacher, primary = summary.teacher, summary.primary
    auc = has_auc_kept(summary)
    table = Table(title="Realised students (test split)", title_justify="left")
    columns = ["model", "size MB", "latency ms", *(["AUC"] if auc else []), primary, "smaller", "faster", *(["AUC kept"] if auc else []), f"{primary} kept", "weak"]
    for column in columns:
        table.add_column(column, justify="right")
    size, latency = teacher.size_mb, teacher.latency_ms  # None: a teacher given only as predictions
    teacher_auc = [figure_text(teacher.test.get("auc"), ".4f")] if auc else []
    table.add_row("teacher", figure_text(size, ".2f"), figure_text(latency, ".2f"), *teacher_auc, figure_text(teacher.test.get(primary), ".4f"), "", "", *([""] if auc else []), "", "")
    if summary.baseline is not None:  # the reference point: what TF-IDF and a logistic regression reach
        base = summary.baseline.test
        base_primary = base.get(primary)
        table.add_row(
            "lexical baseline",
            "",
            "",
            *([figure_text(base.get("auc"), ".4f")] if auc else []),
            figure_text(base.get(primary), ".4f"),
            "",
            "",
            *([auc_kept_text(base.get("auc"), teacher.test.get("auc"))] if auc else []),
            kept_text(base_primary, teacher.test.get(primary), primary),
            "",
        )
    for row in student_rows(summary):
        student_auc = row.test.get("auc")
        table.add_row(
            row.name,
            f"{row.size_mb:.3f}",
            f"{row.latency_ms:.2f}",
            *([f"{student_auc:.4f}" if student_auc is not None else "n/a"] if auc else []),
            figure_text(row.test.get(primary), ".4f"),
            ratio_text(size, row.size_mb, digits=0),
            ratio_text(latency, row.latency_ms, digits=0),
            *([auc_kept_text(student_auc, teacher.test.get("auc"))] if auc else []),
            kept_text(row.test.get(primary), teacher_at_like_cut(summary, row.tuned), primary),
            weak_text(row),
        )
    return table
