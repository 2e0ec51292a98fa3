"""The report's section on the realised students: each against the teacher and the lexical
baseline (size, costs, test scores, what each keeps), with the data and the methods they were
distilled by, per-class scores for many labels, and every weak student named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from avatar.specs import DataRecord, StudentsRecord, TeacherRecord, TeacherValidation

from ._markdown import STUDENTS_HEADING, auc_kept_text, figure_text, has_auc_kept, kept_text, markdown_table, ratio_text, student_rows, teacher_at_like_cut, weak_text, weak_warnings
from ._training_energy import training_energy_text

__all__ = ["students_section"]


def students_section(summary: StudentsRecord) -> str:
    """The realised students against the teacher: size, latency, energy, carbon and test scores."""
    teacher, primary = summary.teacher, summary.primary
    many = summary.data.num_labels > 2
    auc = has_auc_kept(summary)
    header = [
        "model",
        "size MB",
        "latency ms",
        "energy J / 1,000 inferences",
        "carbon g / 1,000 inferences",
        "accuracy",
        "macro-F1" if many else "F1",
        "ROC AUC",
        "smaller",
        "faster",
        *(["ROC AUC kept above chance"] if auc else []),
        f"{primary} kept",
        "weak",
    ]
    teacher_scores = [f"{teacher.test['accuracy']:.4f}", f"{teacher.test['f1']:.4f}", _optional(teacher.test.get("auc"))]
    measured = [figure_text(teacher.size_mb, ".2f"), figure_text(teacher.latency_ms, ".2f"), figure_text(teacher.energy_j, ".3g", 1000), figure_text(teacher.carbon_g, ".3g", 1000)]
    rows = [["teacher " + teacher.model, *measured, *teacher_scores, "1x", "1x", *(["100%"] if auc else []), "100%", ""]]
    if summary.baseline is not None:  # the reference point: what TF-IDF and a logistic regression reach
        base = summary.baseline.test
        base_primary = base.get(primary)
        rows.append(
            [
                f"baseline: {summary.baseline.name}",
                *[""] * 4,
                _optional(base.get("accuracy")),
                _optional(base.get("f1")),
                _optional(base.get("auc")),
                "",
                "",
                *([auc_kept_text(base.get("auc"), teacher.test.get("auc"))] if auc else []),
                kept_text(base_primary, teacher.test.get(primary), primary),
                "",
            ]
        )
    for row in student_rows(summary):
        rows.append(
            [
                f"student `{row.name}`",
                f"{row.size_mb:.3f}",
                f"{row.latency_ms:.2f}",
                f"{1000 * row.energy_j:.3g}",
                f"{1000 * row.carbon_g:.3g}",
                _optional(row.test.get("accuracy")),
                _optional(row.test.get("f1")),
                _optional(row.test.get("auc")),
                ratio_text(teacher.size_mb, row.size_mb),
                ratio_text(teacher.latency_ms, row.latency_ms),
                *([auc_kept_text(row.test.get("auc"), teacher.test.get("auc"))] if auc else []),
                kept_text(row.test.get(primary), teacher_at_like_cut(summary, row.tuned), primary),
                weak_text(row),
            ]
        )
    estimated = teacher.energy_estimated or any(row.energy_estimated for row in student_rows(summary))
    data = summary.data
    warnings = "".join(f"\n**Warning:** {warning}.\n" for warning in [*teacher.warnings, *weak_warnings(summary)])
    warnings += _kept_sentence(summary)
    energy = training_energy_text(summary)
    warnings += f"\n{energy}\n" if energy else ""
    return f"""{STUDENTS_HEADING}

Data `{data.source}`: {data.labeled} labelled (teacher fine-tuning), {data.unlabeled} unlabelled (distillation{_augmented_text(data.augmented)}{_transfer_text(data.transfer)}), {data.valid} validation, {data.test} test examples{_dropped_text(data.dropped)}.{_teacher_sentence(teacher.validation, teacher.path)}{_unmeasured_sentence(teacher)}{_labels_sentence(data)}{_methods_sentence(summary)} Test metrics; latency at batch 1 on the CPU with the `latency_ms` protocol (PyTorch; the ONNX rows with ONNX Runtime){"; energy estimated from CPU time (no RAPL access)" if estimated else ""}.{_threshold_sentence(summary, primary)}

{markdown_table(header, rows)}
{_per_class_table(summary) if many else ""}{warnings}
Each student is in `students/<key>/` (model, tokenizer, `metrics.json`, `README.md` with how to load it; `model.onnx` and `model-int8.pt` when `train.onnx` and `train.quantize` are set).
"""


def _transfer_text(transfer: int | None) -> str:
    return f", with {transfer} new pairs of their functions labelled by the teacher: `train.transfer_pairs`" if transfer else ""


def _augmented_text(augmented: int | None) -> str:
    return f", with {augmented} rewrites of training functions labelled by the teacher: `train.augment`" if augmented else ""


def _dropped_text(dropped: int | None) -> str:
    return f" ({dropped} pairs dropped: their two functions fell on two sides of the split, and no function may be on two)" if dropped else ""


def _methods_sentence(summary: StudentsRecord) -> str:
    """How the students learned from the teacher, when not by logits alone (``train.distill``
    or a searched ``distill_method``), and the disk the teacher's cached features take."""
    used = sorted({" + ".join(f"{method}" if weight == 1 else f"{weight:g} {method}" for method, weight in (student.distill or {}).items()) for student in summary.students} - {"", "logits"})
    if not used:
        return ""
    cache = summary.teacher.features_mb
    features = f"; the teacher's cached features take {cache:.1f} MB" if cache else ""
    return f" Students were distilled with {', '.join(used)} (`train.distill`, or the configuration's `distill_method`){features}."


def _labels_sentence(data: DataRecord) -> str:
    """What the scores mean for a task of more than two labels."""
    count = data.num_labels
    if count <= 2:
        return ""
    return (
        f" The task has {count} labels: F1 is macro-F1 (the mean of each class's F1, in the table below the main one) and ROC AUC the mean"
        " of each class against the rest; students predict the class of the largest logit (no decision threshold is tuned)."
    )


def _kept_sentence(summary: StudentsRecord) -> str:
    """What the kept columns mean (two labels): the F1 of a model that calls every pair one
    class is far from 0 on a balanced set, its ROC AUC above chance is 0."""
    if not has_auc_kept(summary):
        return ""
    return (
        "\n*ROC AUC kept above chance* is (AUC of the student - 0.5) / (AUC of the teacher - 0.5): a student that guesses keeps 0%, "
        f"whatever its F1. *{summary.primary} kept* sets a student cut at a threshold tuned on validation against the teacher cut the same way, "
        "so a teacher's badly placed cut does not inflate it. A student is *weak* when it predicts one class for 98% or more of a split, "
        "or when the 95% bootstrap interval of its validation ROC AUC holds 0.5.\n"
    )


def _per_class_table(summary: StudentsRecord) -> str:
    """Each class's test F1, for the teacher and every student (tasks of more than two labels)."""
    count = summary.data.num_labels
    names = [str(name) for name in summary.data.labels or ()] or [str(label) for label in range(count)]
    header = ["model", *(f"F1 `{name}`" for name in names)]

    def cells(test: Mapping[str, Any]) -> list[str]:
        return [_optional(test.get(f"f1_class_{label}")) for label in range(count)]

    rows = [["teacher " + summary.teacher.model, *cells(summary.teacher.test)]]
    rows += [[f"student `{row.name}`", *cells(row.test)] for row in student_rows(summary)]
    return "\n" + markdown_table(header, rows)


def _unmeasured_sentence(teacher: TeacherRecord) -> str:
    """Why a teacher's costs are missing: it was given only as its predictions."""
    unknown = [name for name, value in (("size", teacher.size_mb), ("latency", teacher.latency_ms), ("energy and carbon", teacher.energy_j)) if value is None]
    if not unknown:
        return ""
    return (
        f" The teacher's {', '.join(unknown)} are not known: it was given as its predictions, without train.teacher.model to measure"
        " (declare train.teacher.size_mb and latency_ms, or name the model), so those columns and ratios are left out."
    )


def _teacher_sentence(validation: TeacherValidation | None, path: str | None = None) -> str:
    """Where the teacher came from: used as it is, given as predictions, or fine-tuned here (and
    how that went)."""
    auc = f": validation {validation.metric or 'auc'} {validation.value:.4f}" if validation and validation.value is not None else ""
    if path == "as-is":
        return f" The teacher was used as it is (its own classification head, tokenizer and input length; not fine-tuned here){auc}."
    if path == "predictions":
        return f" The teacher was given as its predictions on the data (train.teacher.predictions; no teacher model ran here){auc}."
    if not validation or validation.value is None or validation.epochs is None:
        return ""
    best = f", best at epoch {validation.best_epoch}" if validation.best_epoch is not None else ""
    limit = f" of at most {validation.max_epochs}" if validation.max_epochs is not None else ""
    return f" The teacher was fine-tuned for {validation.epochs} epoch(s){limit}{best}: validation {validation.metric or 'auc'} {validation.value:.4f}.{_rate_sentence(validation)}"


def _rate_sentence(validation: TeacherValidation) -> str:
    """The learning rate a short trial chose (``train.teacher.learning_rate: auto``), and why."""
    if validation.learning_rate is None or not validation.learning_rate_trial:
        return ""
    tried = ", ".join(f"{rate} {_optional(score)}" for rate, score in validation.learning_rate_trial.items())
    return f" Its learning rate, {validation.learning_rate:g}, was chosen by a short trial on a share of an epoch (validation ROC AUC by rate: {tried})."


def _optional(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _threshold_sentence(summary: StudentsRecord, primary: str) -> str:
    """How the predictions were cut, when the students' thresholds were tuned (``train.tune_threshold``)."""
    if not any(student.threshold is not None and student.threshold.tuned for student in summary.students):
        return ""
    teacher = summary.teacher.threshold
    tuned = teacher.test_at_validation_tuned.get(primary) if teacher is not None else None
    reference = f" (at a threshold tuned on validation, its {primary} would be {tuned:.4f})" if tuned is not None else ""
    return (
        f" Students predict at a decision threshold chosen on the validation split for {primary} and folded into their output bias "
        f"(distillation shows them no labels; their {primary} at the default threshold is in `metrics.json`); the teacher at its own, "
        f"fitted to the labelled split by its fine-tuning{reference}."
    )
