"""Conformance checks for any estimator, built-in or third-party.

Use them in a plugin's own tests::

    from avatar.objectives import Context
    from avatar.objectives.testing import check_estimator

    def test_my_estimator_conforms():
        check_estimator(MyEstimator(), Context(), [{"hidden_size": 64, ...}, ...])

Each check raises ``AssertionError`` with a message saying what the contract requires.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

from ._base import Context, Estimator, Measurement
from ._symbolic import ConstantConfig, to_number

__all__ = [
    "check_estimator",
    "check_declarations",
    "check_pickles",
    "check_evaluate",
    "check_deterministic",
    "check_symbolic_agrees",
]

_KINDS = ("analytic", "measured", "predicted", "learned")


def check_declarations(estimator: Estimator) -> None:
    """Name, unit, direction and kind are declared with allowed values."""
    for attribute in ("name", "unit"):
        value = getattr(estimator, attribute, None)
        assert isinstance(value, str) and value, f"{type(estimator).__name__}.{attribute} must be a non-empty string"
    assert estimator.name.isidentifier(), f"metric name '{estimator.name}' must be usable in expressions"
    assert estimator.direction in ("minimize", "maximize"), f"direction must be 'minimize' or 'maximize', got {estimator.direction!r}"
    assert estimator.kind in _KINDS, f"kind must be one of {_KINDS}, got {estimator.kind!r}"


def check_pickles(estimator: Estimator) -> None:
    """Worker processes receive estimators by pickling: the copy has the same options."""
    copy = pickle.loads(pickle.dumps(estimator))
    assert type(copy) is type(estimator)
    assert repr(copy) == repr(estimator), f"pickling changed the options: {copy!r} != {estimator!r}"


def _value(outcome: Any) -> float:
    return float(outcome.value if isinstance(outcome, Measurement) else outcome)


def check_evaluate(estimator: Estimator, context: Context, configs: Sequence[Mapping[str, Any]]) -> None:
    """``evaluate`` returns a finite number (or a ``Measurement`` of one) for every configuration."""
    for config in configs:
        outcome = estimator.evaluate(context.resolve(config), context)
        assert isinstance(outcome, (int, float, Measurement)), f"evaluate returned {type(outcome).__name__}"
        assert math.isfinite(_value(outcome)), f"evaluate returned {outcome!r} for {config}"


def check_deterministic(estimator: Estimator, context: Context, configs: Sequence[Mapping[str, Any]]) -> None:
    """Analytic estimators give the same value every time."""
    if estimator.kind != "analytic":
        return
    for config in configs:
        first = _value(estimator.evaluate(context.resolve(config), context))
        second = _value(estimator.evaluate(context.resolve(config), context))
        assert first == second, f"{estimator.name} gave {first} then {second} for {config}"


def check_symbolic_agrees(estimator: Estimator, context: Context, configs: Sequence[Mapping[str, Any]], *, relative_tolerance: float = 1e-9) -> None:
    """Substituting a configuration into ``symbolic`` gives ``evaluate`` x (1 + symbolic_margin)."""
    if not estimator.is_symbolic(context):
        return
    for config in configs:
        resolved = context.resolve(config)
        expected = _value(estimator.evaluate(resolved, context)) * (1 + estimator.symbolic_margin)
        term = estimator.symbolic(ConstantConfig(resolved), context)
        assert term is not None, f"{estimator.name}.is_symbolic() is true but symbolic() returned None"
        got = float(to_number(term.node))
        assert math.isclose(got, expected, rel_tol=relative_tolerance, abs_tol=1e-12), f"{estimator.name}: symbolic form gives {got}, evaluate gives {expected} for {config}"


def check_estimator(estimator: Estimator, context: Context, configs: Sequence[Mapping[str, Any]]) -> None:
    """Run every check above."""
    check_declarations(estimator)
    check_pickles(estimator)
    check_evaluate(estimator, context, configs)
    check_deterministic(estimator, context, configs)
    check_symbolic_agrees(estimator, context, configs)
