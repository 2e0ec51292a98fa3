"""What the search checks before it trusts a number: an evaluated point against the closed forms
that decided its feasibility, and a stored evaluation against the spec it is replayed under."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..space import Space
from ._failures import closed_form_message
from ._store import Evaluation

__all__ = ["CLOSED_FORM_TOLERANCE", "closed_form_disagreement", "stored_problem", "finite_number"]

CLOSED_FORM_TOLERANCE = 1e-6  # relative: float rounding of an exact closed form is far below it


def closed_form_disagreement(space: Space, estimators: Mapping[str, Any], config: Mapping[str, Any], metrics: Mapping[str, Any]) -> str | None:
    """Why an evaluation cannot be trusted: an estimator's closed form, which the space used to
    decide feasibility, disagrees with what it evaluated here (a plugin's ``symbolic`` that is
    wrong). The point may then break a hard constraint, so it fails, naming both values."""
    checked = [name for name in space.compiled.metric_terms if finite_number(metrics.get(name))]
    if not checked:
        return None
    closed = space.closed_forms(config)
    for name in checked:
        margin = estimators[name].symbolic_margin
        expected, evaluated = float(closed[name]) / (1.0 + margin), float(metrics[name])
        if not math.isclose(evaluated, expected, rel_tol=CLOSED_FORM_TOLERANCE, abs_tol=1e-12):
            return closed_form_message(name, type(estimators[name]).__qualname__, evaluated, expected)
    return None


def stored_problem(space: Space, evaluation: Evaluation, objective_names: Sequence[str], metrics: Sequence[str]) -> str | None:
    """Why a stored evaluation cannot be replayed (``None``: it can). It must be a feasible
    point of this spec's grid with finite objective values: a store edited or damaged by hand,
    or one whose spec changed, must not crash the search halfway or put forbidden points on
    the front."""
    if not space.on_grid(evaluation.config):
        return "its configuration is not a point of this spec's grid"
    if broken := space.broken_constraints(evaluation.config):
        return f"its configuration breaks the hard constraint(s) {', '.join(broken)} of this spec (the spec changed since the run stored it)"
    if evaluation.ok and not all(finite_number(evaluation.metrics.get(name)) for name in objective_names):
        return "it lacks a finite value of an objective"
    if evaluation.ok and not set(metrics) <= set(evaluation.metrics):
        return f"it lacks the metrics {sorted(set(metrics) - set(evaluation.metrics))}"
    return None


def finite_number(value: Any) -> bool:
    """A real number (not a bool) that is finite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
