"""What ``solve --check`` reports, as data (for ``--json``) and as rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from avatar.specs import SpaceReport

from ..space import Space
from ._terminal import plain

__all__ = ["check_report", "render_check_report"]


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) else str(value)


def check_report(space: Space) -> SpaceReport:
    """Everything ``--check`` knows about the spec and its feasible space (``space.json``;
    ``solve --check --json`` prints its ``to_dict()``)."""
    spec = space.spec
    feasibility = space.check()
    report: dict[str, Any] = {
        "name": spec.name,
        "file": spec.source,
        "feasible": feasibility.feasible,
        "grid_size": space.grid_size,
        "parameters": [parameter.to_dict() | {"line": parameter.location.line} for parameter in spec.parameters],
        "constants": {constant.name: constant.value for constant in spec.constants},
        "derived": {item.name: item.text for item in spec.derived},
        "constraints": [{"name": item.name, "expression": item.text, "line": item.line, "hard": item.hard, "note": item.reason} for item in space.compiled.constraints],
        "hard": [item.name for item in space.hard_constraints],
        "post": [item.name for item in space.post_constraints],
        "core": [item.name for item in feasibility.core] if feasibility.feasible is False else [],
        "core_bounds": list(feasibility.core_bounds) if feasibility.feasible is False else [],
        "core_is_minimal": feasibility.core_is_minimal,
        "objectives": {objective.metric: objective.direction for objective in spec.objectives},
        "estimators": _estimators(space),
    }
    if feasibility.feasible is False:
        report.update(count={"value": 0, "exact": True}, fraction=0.0, bounds={}, declared={})
        return SpaceReport.from_dict(report)
    if feasibility.feasible is None:  # Z3 gave up and sampling found no point: say so, claim nothing
        count = space.count()
        report.update(count=count.to_dict(), fraction=count.value / space.grid_size, bounds={}, declared={}, smt_timeout=space.smt_timeout)
        return SpaceReport.from_dict(report)
    count = space.count()
    bounds = space.bounds()
    report.update(
        count=count.to_dict(),
        fraction=count.value / space.grid_size,
        bounds={name: [_plain(bound.tight[0]), _plain(bound.tight[1])] if bound.tight else None for name, bound in bounds.items()},
        declared={name: [_plain(bound.declared[0]), _plain(bound.declared[1])] for name, bound in bounds.items()},
        choices={name: list(bound.choices) for name, bound in bounds.items() if bound.choices is not None},
        seconds={"check": round(feasibility.seconds, 3), "count": round(count.seconds, 3), "bounds": round(space.bounds_seconds, 3)},
    )
    return SpaceReport.from_dict(report)


def _estimators(space: Space) -> list[dict[str, Any]]:
    """How each metric the spec uses is obtained (exact, measured, predicted, estimated)."""
    context = space.context
    rows = []
    for metric, estimator in space.estimators.items():
        rows.append({"metric": metric, "unit": estimator.unit, "kind": estimator.kind, "symbolic": estimator.is_symbolic(context), "method": estimator.method(context)})
    return rows


def _count_text(report: dict[str, Any]) -> str:
    count = report["count"]
    fraction = f"{report['fraction']:.4%}" if report["fraction"] >= 1e-4 else f"{report['fraction']:.2e}"
    if count["exact"]:
        return f"{count['value']:,} points ({fraction} of the grid, exact count)"
    return f"about {count['value']:,} points ({fraction} of the grid; estimate, 95% interval {count['low']:,} to {count['high']:,} from {count['samples']:,} samples)"


def render_check_report(space_report: SpaceReport, console: Console) -> None:
    """Print the report as tables."""
    report = space_report.to_dict()
    console.print(Text.assemble((report["name"], "bold"), "  (", plain(report["file"]), ")"))
    table = Table(title="Search space", title_justify="left")
    table.add_column("parameter", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("declared", overflow="fold", ratio=2)
    table.add_column("size", justify="right", no_wrap=True)
    table.add_column("feasible", overflow="fold", ratio=1)
    bounds = report.get("bounds", {})
    for parameter in report["parameters"]:
        name = parameter["name"]
        tight = _tight_text(report, name) if name in bounds else ""
        table.add_row(name, parameter["kind"], plain(parameter["domain"]), f"{parameter['size']:,}", plain(tight))
    table.add_section()
    table.add_row("[bold]grid[/bold]", "", "", f"[bold]{report['grid_size']:,}[/bold]", "")
    console.print(table)
    if report["feasible"] is True:
        console.print(f"Feasible: {_count_text(report)}")
    elif report["feasible"] is None:
        console.print(f"Feasible: undecided (Z3 gave up; sampling estimate {_count_text(report)})")
    if report["constants"] or report["derived"]:
        names = Table(title="Constants and derived names", title_justify="left")
        names.add_column("name")
        names.add_column("value")
        for name, value in report["constants"].items():
            names.add_row(name, plain(repr(value)))
        for name, text in report["derived"].items():
            names.add_row(name, plain(text))
        console.print(names)
    if report["constraints"]:
        constraints = Table(title="Constraints", title_justify="left")
        for column in ("name", "condition", "line", "kind"):
            constraints.add_column(column, overflow="fold")
        for item in report["constraints"]:
            kind = "hard (in the space)" if item["hard"] else f"post-evaluation: {item['note']}"
            constraints.add_row(item["name"], plain(item["expression"]), str(item["line"] or ""), plain(kind))
        console.print(constraints)
    estimators = Table(title="Metrics", title_justify="left")
    for column in ("metric", "unit", "kind", "how it is obtained"):
        estimators.add_column(column, overflow="fold")
    for row in report["estimators"]:
        estimators.add_row(row["metric"], plain(row["unit"]), row["kind"], plain(row["method"]))
    console.print(estimators)
    goals = ", ".join(f"{direction} {metric}" for metric, direction in report["objectives"].items())
    console.print(plain(f"Objectives: {goals}"))


def _tight_text(report: dict[str, Any], name: str) -> str:
    tight, declared = report["bounds"][name], report["declared"][name]
    if tight is None:
        return "unknown (solver timed out)"
    parameter = next(item for item in report["parameters"] if item["name"] == name)
    if name in report.get("choices", {}):
        choices = report["choices"][name]
        return "all" if len(choices) == parameter["size"] else ", ".join(map(str, choices))
    if tight == declared:
        return "all"
    return f"[{tight[0]}, {tight[1]}]"


def infeasible_message(space_report: SpaceReport) -> str:
    """One paragraph naming the conflicting constraints with their lines."""
    report = space_report.to_dict()
    lines = {item["name"]: item for item in report["constraints"]}
    parts = ", ".join(f"'{name}' (line {lines[name]['line']}: {lines[name]['expression']})" for name in report["core"])
    text = f"{report['file']}: the spec is infeasible: no point of the grid satisfies all of {parts}"
    if report["core_bounds"]:
        text += f" within the declared ranges of {', '.join(report['core_bounds'])}"
    if not report["core_is_minimal"]:
        text += " (the solver could not narrow this set down further)"
    return text
