"""The report's Markdown, section by section, each rendered from the run's records.

Every function here is pure (records in, text out), so the same model gives ``report.md``
and, through it, ``report.html``; ``_report`` assembles the sections in order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from avatar.specs import Manifest, Selection, SpaceReport, Spec, StudentsRecord, TeacherRecord

if TYPE_CHECKING:
    from ._report import SearchSummary

__all__ = [
    "markdown_table",
    "kept_text",
    "ratio_text",
    "figure_text",
    "student_rows",
    "header_section",
    "space_section",
    "search_section",
    "selected_section",
    "students_section",
    "reproducibility_section",
    "STUDENTS_HEADING",
]

STUDENTS_HEADING = "## Realised students"
FRONT_ROWS = 50  # the most front points the report lists (all are in pareto.csv and pareto.json)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; floats in 6 significant digits, text escaped so it never becomes HTML."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.6g}"
        text = str(value).replace("|", "\\|")
        # Spec text (constraint expressions) never turns into HTML tags in report.html.
        return text if text.startswith("`") else text.replace("<", "&lt;").replace(">", "&gt;")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio_text(numerator: float | None, denominator: float, digits: int = 1) -> str:
    """How many times ``numerator`` is ``denominator``; a dash when the teacher's figure is not
    known (a teacher given only as its predictions)."""
    if numerator is None:
        return "—"
    return f"{numerator / denominator:.{digits}f}x" if denominator else "n/a"


def figure_text(value: float | None, form: str, scale: float = 1.0) -> str:
    """``value`` (times ``scale``) in ``form``; a dash when it is not known."""
    return "—" if value is None else format(scale * value, form)


def kept_text(student_score: float, teacher_score: float | None, primary: str) -> str:
    """How much of the teacher's score a student keeps; a teacher scoring 0 has nothing to keep
    (an F1 of 0 means it predicts one class for every example), and the cell says so."""
    if teacher_score is None:
        return f"n/a: the teacher's {primary} is unknown"
    if not teacher_score or not math.isfinite(teacher_score):
        return f"n/a: the teacher's {primary} is {teacher_score:g}" + (" (it predicts one class)" if primary == "f1" else "")
    return f"{student_score / teacher_score:.1%}"


def auc_kept_text(student_auc: float | None, teacher_auc: float | None) -> str:
    """How much of the teacher's ROC AUC above chance a student keeps, ``(AUC_s - 0.5) /
    (AUC_t - 0.5)``: a coin flip keeps 0%, whatever its F1 on a balanced set."""
    if student_auc is None or teacher_auc is None or not math.isfinite(teacher_auc) or teacher_auc <= 0.5:
        return "n/a: the teacher's ROC AUC is not above chance" if teacher_auc is not None else "n/a"
    return f"{(student_auc - 0.5) / (teacher_auc - 0.5):.1%}"


def has_auc_kept(summary: StudentsRecord) -> bool:
    """Binary and pair tasks lead with the ROC AUC kept above chance (N labels: the primary kept)."""
    return int(summary.data.get("num_labels", 2)) == 2 and summary.teacher.test.get("auc") is not None


def weak_text(student: Mapping[str, Any]) -> str:
    """The cell that flags a weak student (see ``weak_warnings`` for why)."""
    return "WEAK" if student.get("weak") else ""


def weak_warnings(summary: StudentsRecord) -> list[str]:
    """One sentence per weak student: it learned (almost) nothing, and why it is called weak."""
    return [f"student {student.key} is weak: {'; '.join(student.weak)}" for student in summary.students if student.is_weak]


def student_rows(summary: StudentsRecord) -> list[tuple[str, Mapping[str, Any]]]:
    """Each realised student, then its ONNX export and int8 model where they were made, each
    with its own test metrics, size and costs (and the student's weakness: a variant is the
    same model)."""
    rows: list[tuple[str, Mapping[str, Any]]] = []
    for student in summary.students:
        rows.append((student.key, student.to_dict()))
        rows.extend((f"{student.key} ({label})", {**variant, "weak": list(student.weak)}) for label, variant in student.variants())
    return rows


def header_section(spec: Spec, manifest: Manifest | None) -> str:
    """The title, what was run (the spec as run, overrides applied) and from which seed."""
    digest = manifest.spec.get("hash", "")[:16] if manifest else "unknown"
    seed = manifest.seeds.get("search", spec.search.seed) if manifest else spec.search.seed
    return f"""# Avatar run: {spec.name}

Spec {inline_code(spec.source)}, hash `{digest}`; search seed {seed}.

<details><summary>The spec as run (command-line overrides applied)</summary>

{fenced(yaml.safe_dump(spec.to_dict(), sort_keys=False, allow_unicode=True).strip(), "yaml")}

</details>
"""


def fenced(text: str, info: str = "") -> str:
    """``text`` as a fenced code block whose fence is longer than any run of backticks in it,
    so no text of a spec can end the block and turn into live Markdown or HTML."""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def inline_code(text: str) -> str:
    """``text`` as inline code, delimited by more backticks than any run in it."""
    longest = _longest_backtick_run(text)
    ticks = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") or longest else text
    return f"{ticks}{padded}{ticks}"


def space_section(space: SpaceReport) -> str:
    """The feasible space: its count, each parameter's declared and feasible values, the constraints."""
    count = space.count
    count_text = f"{count['value']:,} ({space.fraction:.4%} of the grid, {'exact' if count['exact'] else 'estimated'})"
    bounds_rows = [[name, *space.bounds_cells(name)] for name in space.bounds]
    constraints = [[item["name"], item["expression"], "hard" if item["hard"] else "post-evaluation"] for item in space.constraints]
    return f"""## Feasible space

Grid: {space.grid_size:,} points. Feasible: {count_text}.

{markdown_table(["parameter", "declared", "feasible"], bounds_rows)}

{markdown_table(["constraint", "condition", "kind"], constraints) if constraints else "No constraints."}
"""


def _algorithm_text(spec: Spec, search: SearchSummary) -> str:
    """The algorithm that ran, and why when ``auto`` chose it (older runs recorded no choice)."""
    choice = search.algorithm or {"name": spec.search.algorithm, "reason": ""}
    text = f"`{choice['name']}`"
    if spec.search.algorithm == "auto" and choice.get("reason"):
        text += f" (chosen by `auto`: {choice['reason']})"
    if choice["name"] == "surrogate":
        return text
    return f"{text}, population {spec.search.population}"


def _time_text(search: SearchSummary) -> str:
    """The search's own time beside its evaluations' (issue 34): where evaluations are closed
    forms, the search's own time is the cost."""
    if not search.generations or search.evaluation_seconds is None:
        return ""
    wall, evaluating = float(search.generations[-1]["elapsed"]), search.evaluation_seconds
    text = f" Time: {wall:.1f} s in all; the evaluations took {evaluating:.1f} s"
    if evaluating <= wall and search.evaluations:
        own = wall - evaluating
        return text + f", the search's own work {own:.1f} s ({1000 * own / search.evaluations:.1f} ms per evaluation)."
    return text + " (summed over the workers, which ran at once)."


def search_section(spec: Spec, search: SearchSummary) -> str:
    """How the search went (budget, failures, hypervolume by generation) and its front."""
    generations = list(search.generations)
    step = max(1, len(generations) // 20)
    shown = generations[::step]
    if generations and generations[-1] not in shown:
        shown.append(generations[-1])
    history = [[item["generation"], item["evaluations"], item["front_size"], f"{item['hypervolume']:.4f}", f"{item['elapsed']:.1f}"] for item in shown]
    normalisation = search.normalisation
    reference = list(normalisation["reference"]) if normalisation else "n/a"
    ideal = list(normalisation["ideal"]) if normalisation else "n/a"
    header, rows = search.front_rows(spec)
    objectives = ", ".join(f"{direction} `{name}`" for name, direction in search.objectives.items())
    return f"""## Search

Algorithm {_algorithm_text(spec, search)}; {search.evaluations} distinct configurations evaluated ({search.failed} failed); stopped: {search.stopped_because or "done"}.{_time_text(search)}
Objectives: {objectives}.
Hypervolume of the feasible front: {search.hypervolume:.4f} (reference point {reference}, ideal {ideal}).

{markdown_table(["generation", "evaluations", "front size", "hypervolume", "seconds"], history)}
{_failures_text(search)}
![Pareto front](pareto.png)

## Pareto front ({len(search.front)} points)

{_front_table(header, rows)}
"""


def _front_table(header: list[str], rows: list[list[Any]]) -> str:
    """The front's table, or on a large front ``FRONT_ROWS`` of its points evenly spaced in the
    front's order (the ends included), saying where the rest is: a report of a 100,000-evaluation
    run stays readable."""
    if len(rows) <= FRONT_ROWS:
        return markdown_table(header, rows)
    picked = sorted({round(index * (len(rows) - 1) / (FRONT_ROWS - 1)) for index in range(FRONT_ROWS)})
    return f"{FRONT_ROWS} of the {len(rows)} points, evenly spaced along the front in this order (the ends included); every point is in `pareto.csv` and `pareto.json`.\n\n{markdown_table(header, [rows[index] for index in picked])}"


def _failures_text(search: SearchSummary) -> str:
    """Why evaluations failed, commonest kind first (empty when none did)."""
    if not search.failures:
        return ""
    rows = [[count, kind, example if example != kind else ""] for kind, count, example in search.failures]
    return f"\n### Failed evaluations\n\n{markdown_table(['count', 'why', 'example'], rows)}\n"


def selected_section(spec: Spec, selection: Selection | None, objective_names: Sequence[str]) -> str:
    """The points chosen for training, and why."""
    points = selection.points if selection else ()
    rows = [[point.key, point.reason, *(_number(point.metrics.get(name)) for name in objective_names)] for point in points]
    table = markdown_table(["key", "why", *objective_names], rows) if rows else "Nothing selected: the front is empty."
    return f"""## Selected for training (`select: {spec.train.select}`)

{table}
"""


def students_section(summary: StudentsRecord) -> str:
    """The realised students against the teacher: size, latency, energy, carbon and test scores."""
    teacher, primary = summary.teacher, summary.primary
    many = int(summary.data.get("num_labels", 2)) > 2
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
                kept_text(base_primary, teacher.test[primary], primary) if base_primary is not None else "n/a",
                "",
            ]
        )
    for name, student in student_rows(summary):
        rows.append(
            [
                f"student `{name}`",
                f"{student['size_mb']:.3f}",
                f"{student['latency_ms']:.2f}",
                f"{1000 * student['energy_j']:.3g}",
                f"{1000 * student['carbon_g']:.3g}",
                f"{student['test']['accuracy']:.4f}",
                f"{student['test']['f1']:.4f}",
                _optional(student["test"].get("auc")),
                ratio_text(teacher.size_mb, student["size_mb"]),
                ratio_text(teacher.latency_ms, student["latency_ms"]),
                *([auc_kept_text(student["test"].get("auc"), teacher.test.get("auc"))] if auc else []),
                kept_text(student["test"][primary], teacher.test[primary], primary),
                weak_text(student),
            ]
        )
    estimated = teacher.extra.get("energy_estimated") or any(student.get("energy_estimated") for _, student in student_rows(summary))
    data = summary.data
    warnings = "".join(f"\n**Warning:** {warning}.\n" for warning in [*teacher.warnings, *weak_warnings(summary)])
    warnings += _kept_sentence(summary)
    return f"""{STUDENTS_HEADING}

Data `{data["source"]}`: {data["labeled"]} labelled (teacher fine-tuning), {data["unlabeled"]} unlabelled (distillation{_augmented_text(data.get("augmented"))}{_transfer_text(data.get("transfer"))}), {data["valid"]} validation, {data["test"]} test examples{_dropped_text(data.get("dropped"))}.{_teacher_sentence(teacher.extra.get("validation"), teacher.extra.get("path"))}{_unmeasured_sentence(teacher)}{_labels_sentence(summary.data)}{_methods_sentence(summary)} Test metrics; latency at batch 1 on the CPU with the `latency_ms` protocol (PyTorch; the ONNX rows with ONNX Runtime){"; energy estimated from CPU time (no RAPL access)" if estimated else ""}.{_threshold_sentence(summary, primary)}

{markdown_table(header, rows)}
{_per_class_table(summary) if many else ""}{warnings}
Each student is in `students/<key>/` (model, tokenizer, `metrics.json`, `README.md` with how to load it; `model.onnx` and `model-int8.pt` when `train.onnx` and `train.quantize` are set).
"""


def reproducibility_section(manifest: Manifest | None) -> str:
    """The library versions the run used (from its manifest)."""
    libraries = sorted(manifest.libraries.items()) if manifest else []
    return f"""## Reproducibility

{markdown_table(["library", "version"], libraries)}
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
    used = sorted({" + ".join(f"{method}" if weight == 1 else f"{weight:g} {method}" for method, weight in student.extra.get("distill", {}).items()) for student in summary.students} - {"", "logits"})
    if not used:
        return ""
    cache = summary.teacher.extra.get("features_mb")
    features = f"; the teacher's cached features take {cache:.1f} MB" if cache else ""
    return f" Students were distilled with {', '.join(used)} (`train.distill`, or the configuration's `distill_method`){features}."


def _labels_sentence(data: Mapping[str, Any]) -> str:
    """What the scores mean for a task of more than two labels."""
    count = int(data.get("num_labels", 2))
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
        "whatever its F1. A student is *weak* when it predicts one class for 98% or more of a split, or when the 95% bootstrap "
        "interval of its validation ROC AUC holds 0.5.\n"
    )


def _per_class_table(summary: StudentsRecord) -> str:
    """Each class's test F1, for the teacher and every student (tasks of more than two labels)."""
    count = int(summary.data.get("num_labels", 2))
    names = [str(name) for name in summary.data.get("labels", [])] or [str(label) for label in range(count)]
    header = ["model", *(f"F1 `{name}`" for name in names)]

    def cells(test: Mapping[str, Any]) -> list[str]:
        return [_optional(test.get(f"f1_class_{label}")) for label in range(count)]

    rows = [["teacher " + summary.teacher.model, *cells(summary.teacher.test)]]
    rows += [[f"student `{name}`", *cells(student["test"])] for name, student in student_rows(summary)]
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


def _teacher_sentence(validation: Mapping[str, Any] | None, path: str | None = None) -> str:
    """Where the teacher came from: used as it is, given as predictions, or fine-tuned here (and
    how that went)."""
    auc = f": validation {validation.get('metric', 'auc')} {validation['value']:.4f}" if validation and "value" in validation else ""
    if path == "as-is":
        return f" The teacher was used as it is (its own classification head, tokenizer and input length; not fine-tuned here){auc}."
    if path == "predictions":
        return f" The teacher was given as its predictions on the data (train.teacher.predictions; no teacher model ran here){auc}."
    if not validation or "value" not in validation or "epochs" not in validation:
        return ""
    best = f", best at epoch {validation['best_epoch']}" if "best_epoch" in validation else ""
    limit = f" of at most {validation['max_epochs']}" if "max_epochs" in validation else ""
    return f" The teacher was fine-tuned for {validation['epochs']} epoch(s){limit}{best}: validation {validation.get('metric', 'auc')} {validation['value']:.4f}."


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "n/a"


def _optional(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _threshold_sentence(summary: StudentsRecord, primary: str) -> str:
    """How the predictions were cut, when the students' thresholds were tuned (``train.tune_threshold``)."""
    if not any(student.extra.get("threshold", {}).get("tuned") for student in summary.students):
        return ""
    teacher = summary.teacher.extra.get("threshold")
    reference = f" (at a threshold tuned on validation, its {primary} would be {teacher['test_at_validation_tuned'][primary]:.4f})" if teacher else ""
    return (
        f" Students predict at a decision threshold chosen on the validation split for {primary} and folded into their output bias "
        f"(distillation shows them no labels; their {primary} at the default threshold is in `metrics.json`); the teacher at its own, "
        f"fitted to the labelled split by its fine-tuning{reference}."
    )
