"""How far a measured configuration is from meeting a post-evaluation constraint.

Violations are relative: ``latency_ms <= 20`` at 30 ms is violated by 10 / 30 (the excess over
the larger side), not by 10 ms, so constraints in milliseconds, megabytes and joules weigh
alike when the search ranks infeasible points. A satisfied constraint has violation 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from avatar.specs import Expr, Walker, evaluate_expression, names_in

__all__ = ["violation", "violations_at"]

_UNMEASURABLE = 1.0


def _relative(difference: float, left: float, right: float) -> float:
    return difference / max(abs(left), abs(right), 1e-12)


def _pair(operator: str, left: Any, right: Any) -> float:
    if isinstance(left, str) or isinstance(right, str):
        equal = left == right
        return 0.0 if equal == (operator == "==") else _UNMEASURABLE
    left, right = float(left), float(right)
    if operator == "<=":
        return max(0.0, _relative(left - right, left, right))
    if operator == "<":
        return 0.0 if left < right else _relative(left - right, left, right) + 1e-9
    if operator == ">=":
        return max(0.0, _relative(right - left, left, right))
    if operator == ">":
        return 0.0 if left > right else _relative(right - left, left, right) + 1e-9
    if operator == "==":
        return _relative(abs(left - right), left, right)
    return 0.0 if left != right else _UNMEASURABLE


class _Violation(Walker[tuple[Any, float]]):
    """Each node gives ``(value, violation)``; values come from exact evaluation."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def _leaf(self, node: Expr, children: list) -> tuple[Any, float]:
        return evaluate_expression(node, self.values), 0.0

    walk_Number = walk_String = walk_Name = _leaf

    def _value(self, node: Expr, children: list[tuple[Any, float]]) -> tuple[Any, float]:
        value = evaluate_expression(node, self.values)
        return value, (0.0 if value else _UNMEASURABLE) if isinstance(value, bool) else 0.0

    walk_Binary = walk_Call = _value

    def walk_Unary(self, node, children: list[tuple[Any, float]]) -> tuple[Any, float]:
        if node.op != "not":
            return self._value(node, children)
        value = not children[0][0]
        return value, 0.0 if value else _UNMEASURABLE

    def walk_Compare(self, node, children: list[tuple[Any, float]]) -> tuple[Any, float]:
        operands = [value for value, _ in children]
        total = sum(_pair(operator, operands[index], operands[index + 1]) for index, operator in enumerate(node.operators))
        return total == 0.0, total

    def walk_Membership(self, node, children: list[tuple[Any, float]]) -> tuple[Any, float]:
        element, options = children[0][0], [value for value, _ in children[1:]]
        found = element in options
        if node.negated:
            return not found, 0.0 if not found else _UNMEASURABLE
        if found:
            return True, 0.0
        if isinstance(element, str):
            return False, _UNMEASURABLE
        return False, min(_pair("==", element, option) for option in options)

    def walk_BoolOp(self, node, children: list[tuple[Any, float]]) -> tuple[Any, float]:
        violations = [amount for _, amount in children]
        if node.op == "and":
            total = sum(violations)
            return total == 0.0, total
        best = min(violations)
        return best == 0.0, best


def violation(expression: Expr, values: Mapping[str, Any]) -> float:
    """The relative violation of a condition at ``values`` (0 when it holds; a division by
    zero counts as one full violation)."""
    # only the names the condition uses: each float becomes an exact fraction, and ``values``
    # may hold a whole resolved configuration
    used = names_in(expression)
    exact = {name: Fraction(repr(value)) if isinstance(value, float) else value for name, value in values.items() if name in used}
    try:
        return float(_Violation(exact).walk(expression)[1])
    except Exception:  # noqa: BLE001 - an undefined value cannot satisfy a constraint
        return _UNMEASURABLE


def violations_at(constraints: Sequence[Any], context: Any, config: Mapping[str, Any], metrics: Mapping[str, Any]) -> list[float]:
    """The violation of each constraint at a configuration (resolved by ``context``) with
    these metric values: measured ones for the search, predicted ones for its candidates."""
    values = {**context.resolve(config), **metrics}
    return [violation(constraint.expression, values) for constraint in constraints]
