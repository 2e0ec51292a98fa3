"""What ``solve --check`` reports about a spec, as data (for ``--json``) and as rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from avatar import objectives
from avatar.specs import Spec

__all__ = ["spec_summary", "render_spec_summary"]


def spec_summary(spec: Spec) -> dict[str, Any]:
    """The spec's parameters, grid, constraints and objectives as plain JSON data."""
    return {
        "name": spec.name,
        "file": spec.source,
        "parameters": [parameter.to_dict() | {"line": parameter.location.line} for parameter in spec.parameters],
        "grid_size": spec.grid_size,
        "constants": {constant.name: constant.value for constant in spec.constants},
        "derived": {item.name: item.text for item in spec.derived},
        "constraints": [
            {"name": constraint.name, "expression": constraint.text, "line": constraint.location.line}
            for constraint in spec.constraints
        ],
        "objectives": {objective.metric: objective.direction for objective in spec.objectives},
        "estimators": _estimators(spec),
    }


def _estimators(spec: Spec) -> list[dict[str, Any]]:
    """How each metric the spec uses is obtained (exact, measured, predicted, estimated)."""
    context = objectives.Context.from_spec(spec)
    rows = []
    for metric, estimator in objectives.estimators_for(spec).items():
        rows.append(
            {
                "metric": metric,
                "unit": estimator.unit,
                "kind": estimator.kind,
                "symbolic": estimator.is_symbolic(context),
                "method": estimator.method(context),
            }
        )
    return rows


def render_spec_summary(summary: dict[str, Any], console: Console) -> None:
    """Print the summary as tables."""
    console.print(f"[bold]{summary['name']}[/bold]  ({summary['file']})")
    table = Table(title="Search space", title_justify="left")
    table.add_column("parameter", no_wrap=True)
    table.add_column("kind")
    table.add_column("domain", overflow="fold")
    table.add_column("size", justify="right")
    for parameter in summary["parameters"]:
        table.add_row(parameter["name"], parameter["kind"], parameter["domain"], f"{parameter['size']:,}")
    table.add_section()
    table.add_row("[bold]grid[/bold]", "", "", f"[bold]{summary['grid_size']:,}[/bold]")
    console.print(table)
    if summary["constants"] or summary["derived"]:
        names = Table(title="Constants and derived names", title_justify="left")
        names.add_column("name")
        names.add_column("value")
        for name, value in summary["constants"].items():
            names.add_row(name, repr(value))
        for name, text in summary["derived"].items():
            names.add_row(name, text)
        console.print(names)
    constraints = Table(title="Constraints", title_justify="left")
    constraints.add_column("name")
    constraints.add_column("condition")
    constraints.add_column("line", justify="right")
    for constraint in summary["constraints"]:
        constraints.add_row(constraint["name"], constraint["expression"], str(constraint["line"] or ""))
    if summary["constraints"]:
        console.print(constraints)
    estimators = Table(title="Metrics", title_justify="left")
    for column in ("metric", "unit", "kind", "how it is obtained"):
        estimators.add_column(column, overflow="fold")
    for row in summary["estimators"]:
        estimators.add_row(row["metric"], row["unit"], row["kind"], row["method"])
    console.print(estimators)
    goals = ", ".join(f"{direction} {metric}" for metric, direction in summary["objectives"].items())
    console.print(f"Objectives: {goals}")
