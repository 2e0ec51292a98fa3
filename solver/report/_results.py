"""The search's results on disk: the front (``pareto.csv``, ``pareto.json``), its plot and the
selected points (``selected.json``, a ``Selection`` record)."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from avatar.specs import RunDirectory, SelectedPoint, Selection, Spec, write_json_atomically

from ..search._pareto import as_minimisation, select_points
from ..search._search import SearchResult
from ..search._store import Evaluation

__all__ = ["select", "selection_of", "write_front", "write_selected", "plot_front"]


def select(result: SearchResult, how: str | int) -> list[tuple[Evaluation, str]]:
    """The front points to realise, each with the reason it was chosen."""
    if not result.front:
        return []
    points = as_minimisation(result.front_points(), result.directions)
    chosen = select_points(points, how, result.objective_names)
    reason = {"knee": "knee of the front (closest to its ideal point, each objective scaled from the front's best to worst)", "all": "every front point"}.get(str(how), f"select: {how}")
    return [(result.front[index], reason) for index in chosen]


def front_order(metrics: Mapping[str, Any], key: str, first: str | None) -> tuple[float, str]:
    """Where a front point goes in every table of the front: by its first objective (ascending;
    a point without it last), then by key, so the trade-off reads from one end to the other."""
    value = metrics.get(first) if first is not None else None
    return (float(value) if isinstance(value, (int, float)) else float("inf"), key)


def sorted_front(result: SearchResult) -> list[Evaluation]:
    """The front in ``front_order``."""
    first = result.objective_names[0] if result.objective_names else None
    return sorted(result.front, key=lambda evaluation: front_order(evaluation.metrics, evaluation.key, first))


def _rows(spec: Spec, result: SearchResult) -> tuple[list[str], list[list[Any]]]:
    metric_names = list(result.objective_names)
    for evaluation in result.front:
        metric_names += [name for name in evaluation.metrics if name not in metric_names]
    metric_names = [name for name in metric_names if name not in spec.parameter_names]  # an objective on a parameter is its column
    header = ["key", *metric_names, *spec.parameter_names]
    rows = [[evaluation.key, *(evaluation.metrics.get(name) for name in metric_names), *(evaluation.config[name] for name in spec.parameter_names)] for evaluation in sorted_front(result)]
    return header, rows


def write_front(directory: Path, spec: Spec, result: SearchResult) -> None:
    """``pareto.csv`` and ``pareto.json``: the feasible Pareto front."""
    header, rows = _rows(spec, result)
    with open(directory / RunDirectory.PARETO_CSV, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    document = {
        "objectives": dict(zip(result.objective_names, result.directions)),
        "hypervolume": result.hypervolume,
        "normalisation": None if result.normalisation is None else {"ideal": result.normalisation.ideal, "reference": result.normalisation.reference},
        "evaluations": len(result.evaluations),
        "front": [evaluation.to_dict() for evaluation in sorted_front(result)],
    }
    write_json_atomically(directory / RunDirectory.PARETO_JSON, document, indent=2)


def selection_of(selected: Sequence[tuple[Evaluation, str]], how: str | int) -> Selection:
    """The selected front points as the record the trainer reads."""
    points = tuple(
        SelectedPoint(evaluation.key, evaluation.config, evaluation.metrics, reason, evaluation.status, evaluation.error, evaluation.seconds, evaluation.generation) for evaluation, reason in selected
    )
    return Selection(how, points)


def write_selected(directory: Path, selected: Sequence[tuple[Evaluation, str]], how: str | int) -> None:
    """``selected.json``: the points the trainer realises."""
    RunDirectory(directory).write_selection(selection_of(selected, how))


def axis_labels(spec: Spec, estimators: Mapping[str, Any]) -> dict[str, str]:
    """Each learned objective's axis label with what it really is: ``accuracy`` predicts a
    probe's validation F1, accuracy or ROC AUC, and a plot should say which."""
    labels = {}
    for name, estimator in estimators.items():
        score_name = getattr(estimator, "score_name", None)
        if score_name is not None:
            labels[name] = f"{name}: predicted validation {score_name(spec.task.kind, spec.task.num_labels)}"
    return labels


def plot_front(path: Path, result: SearchResult, selected: Sequence[tuple[Evaluation, str]] = (), labels: Mapping[str, str] | None = None) -> None:
    """A scatter matrix of the objectives: every successful evaluation, the front highlighted;
    ``labels`` names an objective's axis otherwise than by its name (``axis_labels``)."""
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
                axis.set_xlabel(f"{(labels or {}).get(names[column], names[column])} ({result.directions[column][:3]})")
            if column == 0:
                axis.set_ylabel(f"{(labels or {}).get(names[row], names[row])} ({result.directions[row][:3]})")
    if size > 1:
        axes[0][1].legend(loc="best", fontsize="small")
    figure.suptitle(f"{len(evaluated)} evaluations, {len(front)} on the feasible Pareto front")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
