"""Predicted against realised: every run that trains two or more students checks the learned
metric's predictions (what the search traded accuracy for) against what the students realised.

For each learned metric, each student's ``predicted`` entry in ``students.json`` holds the
prediction, its uncertainty, and the student's validation and test scores on the same score.
Over the students, the Spearman rank correlation and the mean absolute error say whether the
front's accuracy axis can be trusted; below 0.5 over four or more students the terminal and the
report warn that the predictions rank the students wrongly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from avatar.specs import StudentsRecord

from ._markdown import markdown_table

__all__ = ["PredictionCheck", "prediction_checks", "predicted_section", "ranking_warnings", "PREDICTED_HEADING", "RANKING_WARNING_BELOW", "RANKING_WARNING_FROM"]

PREDICTED_HEADING = "## Predicted against realised"
RANKING_WARNING_BELOW = 0.5  # Spearman under this ...
RANKING_WARNING_FROM = 4  # ... over at least this many students: the ranking is not to be trusted


@dataclass(frozen=True)
class PredictionCheck:
    """One learned metric's predictions against the students' realised scores."""

    metric: str
    score: str
    keys: tuple[str, ...]
    predicted: tuple[float, ...]
    std: tuple[float | None, ...]
    validation: tuple[float, ...]
    test: tuple[float | None, ...]
    size_mb: tuple[float, ...]

    @property
    def spearman(self) -> float | None:
        """Rank correlation of prediction and realised validation score (``None``: fewer than
        two students, or one side constant)."""
        if len(self.predicted) < 2 or len(set(self.predicted)) < 2 or len(set(self.validation)) < 2:
            return None
        from scipy.stats import spearmanr

        return float(spearmanr(self.predicted, self.validation).statistic)

    @property
    def mae(self) -> float:
        return sum(abs(value - real) for value, real in zip(self.predicted, self.validation)) / len(self.predicted)

    def warning(self) -> str | None:
        """Why the ranking is not to be trusted, when it is not."""
        rho = self.spearman
        if len(self.keys) < RANKING_WARNING_FROM or rho is None or rho >= RANKING_WARNING_BELOW:
            return None
        return (
            f"the predicted {self.metric} ranks the {len(self.keys)} realised students poorly (Spearman {rho:.2f} against their validation {self.score}, "
            f"MAE {self.mae:.3f}): the front's {self.metric} axis is not to be trusted; probe longer or on more examples, or train more students along the front"
        )


def prediction_checks(summary: StudentsRecord) -> list[PredictionCheck]:
    """One check per learned metric that two or more students have a prediction and a realised
    validation score for."""
    metrics = sorted({name for student in summary.students for name in student.predicted})
    checks = []
    for metric in metrics:
        rows = [(student, student.predicted[metric]) for student in summary.students if metric in student.predicted and student.predicted[metric].validation is not None]
        if len(rows) < 2:
            continue
        checks.append(
            PredictionCheck(
                metric,
                rows[0][1].score or "",
                tuple(student.key for student, _ in rows),
                tuple(entry.value for _, entry in rows),
                tuple(entry.std for _, entry in rows),
                tuple(float(entry.validation or 0.0) for _, entry in rows),
                tuple(entry.test for _, entry in rows),
                tuple(student.size_mb for student, _ in rows),
            )
        )
    return checks


def _plot(path: Path, check: PredictionCheck) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.scatter(check.predicted, check.validation, marker="*", s=140, color="crimson")
    values = [*check.predicted, *check.validation]
    left.plot([min(values), max(values)], [min(values), max(values)], color="grey", linewidth=0.8, linestyle="--")
    left.set_xlabel(f"predicted {check.metric}")
    left.set_ylabel(f"realised validation {check.score}")
    left.set_title("each student: predicted against realised")
    order = sorted(range(len(check.keys)), key=lambda index: check.size_mb[index])
    right.plot([check.size_mb[index] for index in order], [check.predicted[index] for index in order], "o--", label=f"predicted {check.metric}")
    right.plot([check.size_mb[index] for index in order], [check.validation[index] for index in order], "*-", markersize=12, color="crimson", label=f"realised validation {check.score}")
    right.set_xlabel("size MB")
    right.set_ylabel(check.score)
    right.set_title("the front, predicted and realised")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def predicted_section(summary: StudentsRecord, folder: Path) -> str:
    """The report's section (empty when no learned metric has two realised students); draws
    ``predicted-<metric>.png`` into ``folder``."""
    checks = prediction_checks(summary)
    if not checks:
        return ""
    parts = [PREDICTED_HEADING, ""]
    for check in checks:
        rows = [
            [f"`{key}`", f"{value:.4f}" + (f" ± {std:.4f}" if std is not None else ""), f"{real:.4f}", f"{real - value:+.4f}", "n/a" if test is None else f"{test:.4f}", f"{size:.3f}"]
            for key, value, std, real, test, size in zip(check.keys, check.predicted, check.std, check.validation, check.test, check.size_mb)
        ]
        rho = "n/a" if check.spearman is None else f"{check.spearman:.3f}"
        warning = check.warning()
        image = f"predicted-{check.metric}.png"
        _plot(folder / image, check)
        parts.append(
            f"""### `{check.metric}` over {len(check.keys)} realised students

Spearman rank correlation of the prediction with the realised validation {check.score}: **{rho}**; mean absolute error {check.mae:.4f}.{f"{chr(10)}{chr(10)}**Warning:** {warning}." if warning else ""}

{markdown_table(["student", f"predicted {check.metric}", f"realised validation {check.score} (default cut)", "error", f"test {check.score} (default cut)", "size MB"], rows)}

![{check.metric}: predicted against realised]({image})
"""
        )
    return "\n".join(parts)


def ranking_warnings(checks: Sequence[PredictionCheck]) -> list[str]:
    """The warnings of the checks whose ranking is not to be trusted."""
    return [warning for check in checks if (warning := check.warning())]
