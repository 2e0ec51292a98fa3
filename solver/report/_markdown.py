"""The report's Markdown, section by section, each rendered from the run's records.

Every function here is pure (records in, text out), so the same model gives ``report.md``
and, through it, ``report.html``; ``_report`` assembles the sections in order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from avatar.specs import Manifest, Selection, SpaceReport, Spec, StudentRecord, StudentsRecord, VariantRecord

if TYPE_CHECKING:
    from ._report import SearchSummary

__all__ = [
    "markdown_table",
    "kept_text",
    "teacher_at_like_cut",
    "ratio_text",
    "figure_text",
    "student_rows",
    "ModelRow",
    "header_section",
    "space_section",
    "search_section",
    "selected_section",
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


def kept_text(student_score: float | None, teacher_score: float | None, primary: str) -> str:
    """How much of the teacher's score a student keeps; a teacher scoring 0 has nothing to keep
    (an F1 of 0 means it predicts one class for every example), and the cell says so."""
    if student_score is None:
        return "n/a"
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
    return summary.data.num_labels == 2 and summary.teacher.test.get("auc") is not None


def weak_text(row: ModelRow) -> str:
    """The cell that flags a weak student (see ``weak_warnings`` for why)."""
    return "WEAK" if row.weak else ""


def weak_warnings(summary: StudentsRecord) -> list[str]:
    """One sentence per weak student: it learned (almost) nothing, and why it is called weak."""
    return [f"student {student.key} is weak: {'; '.join(student.weak)}" for student in summary.students if student.is_weak]


@dataclass(frozen=True)
class ModelRow:
    """A row of the students' tables: a realised student or one of its exported variants, with
    its test scores, size and costs, and the student's weakness (a variant is the same model)."""

    name: str
    test: Mapping[str, float | None]
    size_mb: float
    latency_ms: float
    energy_j: float
    carbon_g: float
    energy_estimated: bool
    weak: tuple[str, ...]
    tuned: bool = False  # cut at a threshold tuned on validation

    @classmethod
    def of(cls, name: str, model: StudentRecord | VariantRecord, student: StudentRecord) -> ModelRow:
        tuned = student.threshold is not None and student.threshold.tuned
        return cls(name, model.test, model.size_mb, model.latency_ms, model.energy_j, model.carbon_g, bool(model.energy_estimated), student.weak, tuned)


def student_rows(summary: StudentsRecord) -> list[ModelRow]:
    """Each realised student, then its ONNX export and int8 model where they were made."""
    rows: list[ModelRow] = []
    for student in summary.students:
        rows.append(ModelRow.of(student.key, student, student))
        rows.extend(ModelRow.of(f"{student.key} ({label})", variant, student) for label, variant in student.variants())
    return rows


def teacher_at_like_cut(summary: StudentsRecord, tuned: bool) -> float | None:
    """The teacher's primary score a model's is kept against: cut on validation, as the model's
    is, when the model's cut was tuned there. The teacher's own cut is fitted to the labelled
    split and may sit far from its best: a teacher fine-tuned for one epoch scored F1 0.32 at it
    while it ranked well (ROC AUC 0.83), and students with tuned cuts "kept" 225% of it."""
    teacher = summary.teacher
    if tuned and teacher.threshold is not None and teacher.threshold.test_at_validation_tuned.get(summary.primary) is not None:
        return teacher.threshold.test_at_validation_tuned[summary.primary]
    return teacher.test.get(summary.primary)


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


def reproducibility_section(manifest: Manifest | None) -> str:
    """The library versions the run used (from its manifest)."""
    libraries = sorted(manifest.libraries.items()) if manifest else []
    return f"""## Reproducibility

{markdown_table(["library", "version"], libraries)}
"""


def _number(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "n/a"
