"""The search's results on disk: the front, its plot, the selected points and a report."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import yaml

from avatar.objectives import write_json_atomically
from avatar.specs import Spec

from ..search._pareto import as_minimisation, select_points
from ..search._search import SearchResult
from ..search._store import Evaluation

__all__ = ["student_rows", "select", "write_front", "write_selected", "plot_front", "write_report", "write_students_section", "STUDENTS_HEADING"]

STUDENTS_HEADING = "## Realised students"


def select(result: SearchResult, how: str | int) -> list[tuple[Evaluation, str]]:
    """The front points to realise, each with the reason it was chosen."""
    if not result.front:
        return []
    points = as_minimisation(result.front_points(), result.directions)
    chosen = select_points(points, how, result.objective_names)
    reason = {"knee": "knee of the front (closest to its ideal point, each objective scaled from the front's best to worst)", "all": "every front point"}.get(str(how), f"select: {how}")
    return [(result.front[index], reason) for index in chosen]


def _rows(spec: Spec, result: SearchResult) -> tuple[list[str], list[list[Any]]]:
    metric_names = list(result.objective_names)
    for evaluation in result.front:
        metric_names += [name for name in evaluation.metrics if name not in metric_names]
    metric_names = [name for name in metric_names if name not in spec.parameter_names]  # an objective on a parameter is its column
    header = ["key", *metric_names, *spec.parameter_names]
    rows = [[evaluation.key, *(evaluation.metrics.get(name) for name in metric_names), *(evaluation.config[name] for name in spec.parameter_names)] for evaluation in result.front]
    return header, rows


def write_front(directory: Path, spec: Spec, result: SearchResult) -> None:
    """``pareto.csv`` and ``pareto.json``: the feasible Pareto front."""
    header, rows = _rows(spec, result)
    with open(directory / "pareto.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    document = {
        "objectives": dict(zip(result.objective_names, result.directions)),
        "hypervolume": result.hypervolume,
        "normalisation": None if result.normalisation is None else {"ideal": result.normalisation.ideal, "reference": result.normalisation.reference},
        "evaluations": len(result.evaluations),
        "front": [evaluation.to_dict() for evaluation in result.front],
    }
    write_json_atomically(directory / "pareto.json", document, indent=2)


def write_selected(directory: Path, selected: Sequence[tuple[Evaluation, str]], how: str | int) -> None:
    """``selected.json``: the points the trainer realises."""
    document = {"select": how, "points": [{**evaluation.to_dict(), "reason": reason} for evaluation, reason in selected]}
    write_json_atomically(directory / "selected.json", document, indent=2)


def plot_front(path: Path, result: SearchResult, selected: Sequence[tuple[Evaluation, str]] = ()) -> None:
    """A scatter matrix of the objectives: every successful evaluation, the front highlighted."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = result.objective_names
    evaluated = [evaluation for evaluation in result.evaluations if evaluation.ok]
    values = np.array([[evaluation.metrics[name] for name in names] for evaluation in evaluated], dtype=float).reshape(-1, len(names))
    front = result.front_points()
    chosen = np.array([[evaluation.metrics[name] for name in names] for evaluation, _ in selected], dtype=float).reshape(-1, len(names))
    size = len(names)
    figure, axes = plt.subplots(size, size, figsize=(3.2 * size, 3.2 * size), squeeze=False)
    for row in range(size):
        for column in range(size):
            axis = axes[row][column]
            if row == column:
                edges = np.histogram_bin_edges(values[:, row], bins=30)
                axis.hist(values[:, row], bins=edges, color="0.75")
                axis.hist(front[:, row], bins=edges, color="tab:red", alpha=0.8)
            else:
                axis.scatter(values[:, column], values[:, row], s=6, color="0.7", label="evaluated")
                axis.scatter(front[:, column], front[:, row], s=14, color="tab:red", label="Pareto front")
                if len(chosen):
                    axis.scatter(chosen[:, column], chosen[:, row], s=90, facecolors="none", edgecolors="black", label="selected")
            if row == size - 1:
                axis.set_xlabel(f"{names[column]} ({result.directions[column][:3]})")
            if column == 0:
                axis.set_ylabel(f"{names[row]} ({result.directions[row][:3]})")
    if size > 1:
        axes[0][1].legend(loc="best", fontsize="small")
    figure.suptitle(f"{len(evaluated)} evaluations, {len(front)} on the feasible Pareto front")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.6g}"
        text = str(value).replace("|", "\\|")
        # Spec text (constraint expressions) never turns into HTML tags in report.html.
        return text if text.startswith("`") else text.replace("<", "&lt;").replace(">", "&gt;")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _bounds_cells(check: dict[str, Any], name: str) -> tuple[str, str]:
    """Declared and feasible values of one parameter: a range, or every choice of a string one."""
    choices = check.get("choices", {}).get(name)
    if choices is not None:
        declared = next(item["domain"] for item in check["parameters"] if item["name"] == name)
        return declared, "{" + ", ".join(map(str, choices)) + "}"
    tight = check["bounds"][name]
    return f"[{check['declared'][name][0]}, {check['declared'][name][1]}]", "unknown" if tight is None else f"[{tight[0]}, {tight[1]}]"


def write_report(directory: Path, spec: Spec, check: dict[str, Any], result: SearchResult, selected: Sequence[tuple[Evaluation, str]], manifest: dict[str, Any]) -> None:
    """``report.md``: the spec, its feasible space, the search and the selected points."""
    count = check["count"]
    count_text = f"{count['value']:,} ({check['fraction']:.4%} of the grid, {'exact' if count['exact'] else 'estimated'})"
    failed = sum(1 for evaluation in result.evaluations if not evaluation.ok)
    bounds_rows = [[name, *_bounds_cells(check, name)] for name in check["bounds"]]
    generations = result.generations
    step = max(1, len(generations) // 20)
    history = [[item["generation"], item["evaluations"], item["front_size"], f"{item['hypervolume']:.4f}", f"{item['elapsed']:.1f}"] for item in generations[::step]]
    if generations and generations[-1] not in generations[::step]:
        item = generations[-1]
        history.append([item["generation"], item["evaluations"], item["front_size"], f"{item['hypervolume']:.4f}", f"{item['elapsed']:.1f}"])
    header, rows = _rows(spec, result)
    selected_rows = [[evaluation.key, reason, *(f"{evaluation.metrics[name]:.6g}" for name in result.objective_names)] for evaluation, reason in selected]
    constraints = [[item["name"], item["expression"], "hard" if item["hard"] else "post-evaluation"] for item in check["constraints"]]
    text = f"""# Avatar run: {spec.name}

Spec `{spec.source}`, hash `{manifest['spec']['hash'][:16]}`; search seed {manifest['seeds']['search']}.

<details><summary>The spec as run (command-line overrides applied)</summary>

```yaml
{yaml.safe_dump(spec.to_dict(), sort_keys=False, allow_unicode=True).strip()}
```

</details>

## Feasible space

Grid: {check['grid_size']:,} points. Feasible: {count_text}.

{markdown_table(["parameter", "declared", "feasible"], bounds_rows)}

{markdown_table(["constraint", "condition", "kind"], constraints) if constraints else "No constraints."}

## Search

Algorithm `{spec.search.algorithm}`, population {spec.search.population}; {len(result.evaluations)} distinct configurations evaluated ({failed} failed); stopped: {result.stopped_because or 'done'}.
Objectives: {", ".join(f"{direction} `{name}`" for name, direction in zip(result.objective_names, result.directions))}.
Hypervolume of the feasible front: {result.hypervolume:.4f} (reference point {list(result.normalisation.reference) if result.normalisation else 'n/a'}, ideal {list(result.normalisation.ideal) if result.normalisation else 'n/a'}).

{markdown_table(["generation", "evaluations", "front size", "hypervolume", "seconds"], history)}

![Pareto front](pareto.png)

## Pareto front ({len(result.front)} points)

{markdown_table(header, rows)}

## Selected for training (`select: {spec.train.select}`)

{markdown_table(["key", "why", *result.objective_names], selected_rows) if selected_rows else "Nothing selected: the front is empty."}

## Reproducibility

{markdown_table(["library", "version"], sorted(manifest["libraries"].items()))}
"""
    (directory / "report.md").write_text(text)


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}x" if denominator else "n/a"


STUDENT_VARIANTS = (("onnx", "ONNX Runtime"), ("int8", "int8"))


def student_rows(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Each realised student, then its ONNX export and int8 model where they were made, each
    with its own test metrics, size and latency."""
    rows = []
    for student in summary["students"]:
        rows.append((student["key"][:12], student))
        rows.extend((f"{student['key'][:12]} ({label})", student[variant]) for variant, label in STUDENT_VARIANTS if variant in student)
    return rows


def kept_text(student_score: float, teacher_score: float, primary: str) -> str:
    """How much of the teacher's score a student keeps; a teacher scoring 0 has nothing to keep
    (an F1 of 0 means it predicts one class for every example), and the cell says so."""
    if not teacher_score or not math.isfinite(teacher_score):
        return f"n/a: the teacher's {primary} is {teacher_score:g}" + (" (it predicts one class)" if primary == "f1" else "")
    return f"{student_score / teacher_score:.1%}"


def write_students_section(directory: Path, summary: dict[str, Any], primary: str) -> None:
    """Add (or replace) the realised students in ``report.md``: each against the teacher."""
    teacher = summary["teacher"]
    header = ["model", "size MB", "latency ms", "energy J / 1,000 inferences", "carbon g / 1,000 inferences", "accuracy", "F1", "ROC AUC", "smaller", "faster", f"{primary} kept"]
    teacher_scores = [f"{teacher['test']['accuracy']:.4f}", f"{teacher['test']['f1']:.4f}", _optional(teacher["test"].get("auc"))]
    rows = [["teacher " + str(teacher["model"]), f"{teacher['size_mb']:.2f}", f"{teacher['latency_ms']:.2f}", f"{1000 * teacher['energy_j']:.3g}", f"{1000 * teacher['carbon_g']:.3g}", *teacher_scores, "1x", "1x", "100%"]]
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
                _ratio(teacher["size_mb"], student["size_mb"]),
                _ratio(teacher["latency_ms"], student["latency_ms"]),
                kept_text(student["test"][primary], teacher["test"][primary], primary),
            ]
        )
    estimated = any(item.get("energy_estimated") for item in [teacher, *(student for _, student in student_rows(summary))])
    data = summary["data"]
    section = f"""{STUDENTS_HEADING}

Data `{data['source']}`: {data['labeled']} labelled (teacher fine-tuning), {data['unlabeled']} unlabelled (distillation), {data['valid']} validation, {data['test']} test examples. Test metrics; latency at batch 1 on the CPU with the `latency_ms` protocol (PyTorch; the ONNX rows with ONNX Runtime){"; energy estimated from CPU time (no RAPL access)" if estimated else ""}.{_threshold_sentence(summary, primary)}

{markdown_table(header, rows)}
{"".join(f"{chr(10)}**Warning:** {warning}.{chr(10)}" for warning in teacher.get("warnings", []))}
Each student is in `students/<key>/` (model, tokenizer, `metrics.json`, `README.md` with how to load it; `model.onnx` and `model-int8.pt` when `train.onnx` and `train.quantize` are set).
"""
    replace_section(directory / "report.md", STUDENTS_HEADING, section, before="## Reproducibility")


def _optional(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _threshold_sentence(summary: dict[str, Any], primary: str) -> str:
    """How the predictions were cut, when the students' thresholds were tuned (``train.tune_threshold``)."""
    if not any(student.get("threshold", {}).get("tuned") for student in summary["students"]):
        return ""
    teacher = summary["teacher"].get("threshold")
    reference = f" (at a threshold tuned on validation, its {primary} would be {teacher['test_at_validation_tuned'][primary]:.4f})" if teacher else ""
    return (
        f" Students predict at a decision threshold chosen on the validation split for {primary} and folded into their output bias "
        f"(distillation shows them no labels; their {primary} at the default threshold is in `metrics.json`); the teacher at its own, "
        f"fitted to the labelled split by its fine-tuning{reference}."
    )


def replace_section(report: Path, heading: str, section: str, *, before: str) -> None:
    """Put ``section`` (which starts with ``heading``) into the report: in place of an earlier
    version of it, else just above the ``before`` heading, else at the end."""
    text = report.read_text() if report.exists() else ""
    if heading in text:
        start = text.index(heading)
        following = text.find("\n## ", start + len(heading))
        text = text[:start] + section + (text[following + 1 :] if following != -1 else "")
    else:
        text = text.replace(before, section + "\n" + before) if before in text else text + "\n" + section
    report.write_text(text)
