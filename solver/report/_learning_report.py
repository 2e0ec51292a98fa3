"""The report's section on learned metrics: how good the surrogate is, and prediction vs truth.

``learning.json`` (written by the run) holds each learned metric's fits, probes and predicted
front. The section shows the cross-validated quality of every refit, the probes with their
out-of-fold predictions, and, once students are trained, each student's predicted value beside
its measured one. ``accuracy.png`` plots the same: predicted against measured, and the predicted
front with the realised students at their measured values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avatar.specs import LearningRecord, RunDirectory, StudentRecord, StudentsRecord

from ..search._learning import all_probes_weak
from ._markdown import markdown_table

__all__ = ["LEARNING_HEADING", "learning_section", "student_predictions"]

LEARNING_HEADING = "## Learned metrics"


@dataclass(frozen=True)
class StudentPrediction:
    """A realised student on a learned metric's predicted front: the prediction there, and the
    student's validation score (at its best epoch) and test score on what the probes score."""

    metric: str
    key: str
    predicted: float
    std: float | None
    validation: float | None
    test: float | None


def student_predictions(learning: Sequence[LearningRecord], students: Sequence[StudentRecord], primary: str) -> list[StudentPrediction]:
    """For each student whose point is on a learned metric's predicted front: predicted vs measured."""
    rows = []
    for record in learning:
        front = {point.key: point for point in record.front}
        for student in students:
            point = front.get(student.key)
            if point is None or point.predicted is None:
                continue
            score = "auc" if record.scored_by_auc else primary
            best = student.validation.epoch(student.validation.best_epoch) if student.validation is not None else None
            measured = best.figures.get(f"valid_{score}") if best is not None else None
            rows.append(StudentPrediction(record.metric, student.key, point.predicted, point.std, measured, student.test_at_default_cut.get(score)))
    return rows


def _plot(path: Path, record: LearningRecord, predictions: Sequence[StudentPrediction], measured: str) -> None:
    """Probes and students, predicted against measured; the predicted front beside the students.
    ``measured`` names what the axes hold (``accuracy: validation F1``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = record.metric
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    probes = [(probe.out_of_fold, probe.measured) for probe in record.probes if probe.ok and probe.out_of_fold is not None and probe.measured is not None]
    if probes:
        left.scatter([predicted for predicted, _ in probes], [value for _, value in probes], s=18, label="probes (out-of-fold prediction)")
    validated = [row for row in predictions if row.validation is not None]
    if validated:
        left.scatter([row.predicted for row in validated], [row.validation for row in validated], marker="*", s=140, color="crimson", label="students (validation after full training)")
    values = [value for pair in probes for value in pair]
    if values:
        low, high = min(values), max(values)
        left.plot([low, high], [low, high], color="grey", linewidth=0.8, linestyle="--")
    left.set_xlabel(f"predicted ({measured})")
    left.set_ylabel(f"measured ({measured})")
    left.set_title("prediction vs measurement")
    if probes or validated:
        left.legend(fontsize=8)
    others = [name for name in (record.front[0].objectives if record.front else {}) if name != metric]
    if others:
        axis = others[0]
        front = sorted((point for point in record.front if point.objectives.get(axis) is not None), key=lambda point: point.objectives[axis] or 0.0)
        right.errorbar(
            [point.objectives[axis] for point in front],
            [point.predicted for point in front],
            yerr=[point.std or 0 for point in front],
            fmt="o-",
            markersize=4,
            capsize=2,
            label=f"predicted front ({metric} ± std)",
        )
        by_key = {point.key: point for point in record.front}
        tested = [row for row in predictions if row.test is not None]
        if tested:
            right.scatter([by_key[row.key].objectives.get(axis) for row in tested], [row.test for row in tested], marker="*", s=140, color="crimson", label="students (measured, test)")
        right.set_xlabel(axis)
        right.set_ylabel(measured)
        right.set_title("predicted front and measured students")
        right.legend(fontsize=8)
    else:
        right.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _fidelity_text(fidelity: Mapping[str, Any], promoted: Mapping[str, Any] | None) -> tuple[str, str, tuple[str, str]]:
    """What one probe is, what the second level of probes (if any) is, in words, and the names
    of the two levels: a short distillation and a longer one (multi-fidelity), or a sub-network
    of the super-student and a real distillation (``supernet+probes``)."""
    sub_networks = fidelity.get("method") == "supernet"
    one_probe = "its sub-network of the super-student" if sub_networks else f"{fidelity['epochs']} epoch(s) of distillation on {fidelity['examples'] or 'all'} examples"
    names = ("sub-network", "real") if sub_networks else ("short", "promoted")
    if not promoted:
        return one_probe, "", names
    if sub_networks:
        return (
            one_probe,
            f" Calibrated: a spread of each stage's configurations was also probed for real ({promoted['epochs']} epoch(s) of distillation on {promoted['examples'] or 'all'} examples);"
            " a ridge maps the sub-network surrogate's prediction and the training parameters to the real probe's score, which is predicted."
            " The cross-validated figures are over the real probes.",
            names,
        )
    return (
        one_probe,
        f" Multi-fidelity: the best of each stage's probes were probed again for {promoted['epochs']} epoch(s) on {promoted['examples'] or 'all'} examples;"
        " the surrogate takes the fidelity as an input and predicts the promoted probe's score.",
        names,
    )


def _section(record: LearningRecord, predictions: Sequence[StudentPrediction]) -> str:
    metric = record.metric
    fits = [
        [
            item.stage,
            item.probes,
            item.failed,
            "n/a" if item.weak is None else item.weak,
            f"{item.spearman:.3f}" if item.spearman is not None else "n/a",
            f"{item.mae:.4f}" if item.mae is not None else "n/a",
        ]
        for item in record.fits
    ]
    warnings = "".join(f"\n**Warning:** {warning}.\n" for item in record.fits[:1] if (warning := all_probes_weak(metric, item.to_dict())))
    promoted = record.promoted
    one_probe, second_level, (first, second) = _fidelity_text(record.fidelity, promoted)
    probes = [
        [
            f"`{probe.key}`",
            probe.stage,
            *([second if probe.level else first] if promoted else []),
            f"{probe.measured:.4f}" if probe.ok and probe.measured is not None else f"failed: {probe.error}",
            "" if probe.out_of_fold is None else f"{probe.out_of_fold:.4f}",
            f"{probe.seconds:.1f}",
        ]
        for probe in record.probes
    ]
    text = f"""### `{metric}`

{record.method}. One probe: {one_probe}, scored on the validation split{" by ROC AUC" if record.scored_by_auc else ""}.{second_level}

{markdown_table(["after stage", "probes", "failed", "weak", "Spearman (cross-validated)", "MAE (cross-validated)"], fits)}
{warnings}
![{metric}: predicted vs measured]({metric}.png)

<details><summary>{len(probes)} probes</summary>

{markdown_table(["probe", "stage", *(["fidelity"] if promoted else []), f"measured {metric}", "out-of-fold prediction", "seconds"], probes)}

</details>
"""
    if predictions:
        rows = [
            [
                f"`{row.key}`",
                f"{row.predicted:.4f} ± {row.std or 0:.4f}",
                "n/a" if row.validation is None else f"{row.validation:.4f}",
                "n/a" if row.validation is None else f"{row.validation - row.predicted:+.4f}",
                "n/a" if row.test is None else f"{row.test:.4f}",
            ]
            for row in predictions
        ]
        text += f"""
Realised students: the prediction (a short probe's validation score) against the student's validation score after full training, and its test score, both at the default cut, where probes score (a student ships with the cut tuned on validation: its test scores there are in the results table).

{markdown_table(["student", f"predicted {metric}", "validation (default cut)", "error", "test (default cut)"], rows)}
"""
    return text + "\n"


def learning_section(run: RunDirectory, learning: Sequence[LearningRecord], students: StudentsRecord | None) -> str:
    """The section on every learned metric; draws each one's plot into the run directory."""
    realised = list(students.students) if students else []
    primary = students.primary if students else "f1"
    parts = [LEARNING_HEADING, ""]
    for record in learning:
        predictions = student_predictions([record], realised, primary)
        score = "ROC AUC" if record.scored_by_auc else {"f1": "F1"}.get(primary, primary)
        _plot(run.learned_plot(record.metric), record, predictions, f"{record.metric}: validation {score}")
        parts.append(_section(record, predictions))
    return "\n".join(parts)
