"""Turn a parameter declaration into its finite list of values.

Float grids are computed in decimal arithmetic so that ``range: [0.1, 0.5], step: 0.1``
gives exactly 0.1, 0.2, 0.3, 0.4, 0.5 and not 0.30000000000000004.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ._errors import UNKNOWN_LOCATION, Location
from ._frozen import FrozenDict
from ._model import Parameter, ParameterKind, Scalar

__all__ = ["DomainError", "build_values", "make_parameter", "MAX_DOMAIN_SIZE", "DEFAULT_LOG_POINTS"]

MAX_DOMAIN_SIZE = 1_000_000
DEFAULT_LOG_POINTS = 10
_LOG_DIGITS = 6


class DomainError(Exception):
    """A declaration that passes the schema but cannot give a domain; ``field`` names the key."""

    def __init__(self, message: str, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.hint = hint


def build_values(declaration: Mapping[str, Any]) -> tuple[ParameterKind, tuple[Scalar, ...]]:
    """The kind and the ordered values of a schema-valid parameter declaration.

    Raises:
        DomainError: bounds out of order, a step larger than the range, empty or duplicate
            choices, mixed strings and numbers, or more than ``MAX_DOMAIN_SIZE`` values.
    """
    if "choices" in declaration:
        return _choices(declaration["choices"])
    return _range(declaration)


def _choices(choices: list[Scalar]) -> tuple[ParameterKind, tuple[Scalar, ...]]:
    if not choices:
        raise DomainError("choices is empty; give at least one value", "choices")
    seen: set[Any] = set()
    for index, value in enumerate(choices):
        if value in seen:
            raise DomainError(f"the choice {value!r} is listed twice", "choices", hint=f"item {index}")
        seen.add(value)
    n_strings = sum(isinstance(value, str) for value in choices)
    if n_strings == len(choices):
        return "categorical", tuple(choices)
    if n_strings:
        raise DomainError("choices mix strings and numbers; use all strings or all numbers", "choices")
    for value in choices:
        if isinstance(value, float) and not math.isfinite(value):
            raise DomainError(f"the choice {value!r} is not a finite number", "choices")
    return "ordinal", tuple(sorted(choices))


def _range(declaration: Mapping[str, Any]) -> tuple[ParameterKind, tuple[Scalar, ...]]:
    low, high = declaration["range"]
    if low > high:
        raise DomainError(f"the range is empty: lo {low} is greater than hi {high}", "range", hint=f"did you mean [{high}, {low}]?")
    if declaration.get("log"):
        return _log_grid(declaration, low, high)
    if "num" in declaration:
        raise DomainError("num applies only to a log grid (log: true); use step for a linear grid", "num")
    step = declaration.get("step")
    if step is None:
        if type(low) is not int or type(high) is not int:
            raise DomainError(
                f"the range [{low}, {high}] has decimal bounds but no step",
                "range",
                hint="write whole numbers for an integer range, or add step or log: true",
            )
        step = 1
    if high > low and step > high - low:
        raise DomainError(f"the step {step} is larger than the range width {high - low}", "step")
    if all(type(value) is int for value in (low, high, step)):
        return "integer", _checked(range(low, high + 1, step))
    return "real", _decimal_grid(low, high, step)


def _decimal_grid(low: float, high: float, step: float) -> tuple[float, ...]:
    approximate = (high - low) / step + 1  # checked before the decimal division, which has limits
    _check_size(int(approximate) if math.isfinite(approximate) else MAX_DOMAIN_SIZE + 1)
    low_d, high_d, step_d = (Decimal(repr(value)) for value in (low, high, step))
    n_values = int((high_d - low_d) // step_d) + 1
    _check_size(n_values)
    return tuple(float(low_d + index * step_d) for index in range(n_values))


def _log_grid(declaration: Mapping[str, Any], low: float, high: float) -> tuple[ParameterKind, tuple[Scalar, ...]]:
    if "step" in declaration:
        raise DomainError("use either step or log: true, not both", "step")
    if low <= 0:
        raise DomainError(f"a log grid needs a positive lo, got {low}", "range")
    n_points = declaration.get("num", DEFAULT_LOG_POINTS)
    _check_size(n_points)
    if low == high or n_points == 1:
        points = [float(low)]
    else:
        ratio = math.log(high / low)
        points = [low * math.exp(ratio * index / (n_points - 1)) for index in range(n_points)]
        points[0], points[-1] = float(low), float(high)
    if type(low) is int and type(high) is int:
        return "integer", tuple(sorted({round(point) for point in points}))
    return "real", tuple(sorted({float(f"{point:.{_LOG_DIGITS}g}") for point in points}))


def _check_size(n_values: int) -> None:
    if n_values > MAX_DOMAIN_SIZE:
        raise DomainError(
            f"the parameter has {n_values:,} values; at most {MAX_DOMAIN_SIZE:,} are allowed",
            "range",
            hint="add or enlarge a step",
        )


def _checked(values: range) -> tuple[int, ...]:
    _check_size(len(values))
    return tuple(values)


def make_parameter(name: str, declaration: Mapping[str, Any], location: Location = UNKNOWN_LOCATION) -> Parameter:
    """Build a ``Parameter`` from a schema-valid declaration (raises ``DomainError``)."""
    kind, values = build_values(declaration)
    return Parameter(name, kind, values, FrozenDict(declaration), location)
