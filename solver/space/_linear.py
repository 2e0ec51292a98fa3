"""One linear comparison of the inner parameter, solved on its grid in closed form.

Each hard conjunct that mentions the inner parameter reads ``slope * x + offset OP 0`` for
fixed values of the other parameters; the grid values ``x`` that satisfy it form an index
interval, found here by binary search (floats), in integer arithmetic (integer grids) or with
fractions (terms that could overflow or round).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from pysmt.fnode import FNode
from pysmt.shortcuts import Div, Int, Ite, Minus, Plus, Real, Times, ToReal

__all__ = ["Atom", "conjuncts", "as_comparison", "bounds", "integer_bounds", "uncertain", "coefficient", "zero_like"]


@dataclass(frozen=True)
class Atom:
    """One conjunct of the hard constraints; comparisons are kept as ``left OP right``."""

    node: FNode
    operator: str | None = None  # "<=", "<", "==" for comparisons usable in closed form
    left: FNode | None = None
    right: FNode | None = None
    inner: bool = False

    def sides(self) -> tuple[str, FNode, FNode]:
        """``(operator, left, right)`` of a comparison atom (every inner atom is one)."""
        assert self.operator is not None and self.left is not None and self.right is not None, "not a comparison"
        return self.operator, self.left, self.right


def conjuncts(formula: FNode) -> list[FNode]:
    """The top-level conjuncts of a formula (``a and (b and c)`` gives ``a, b, c``)."""
    pending, atoms = [formula], []
    while pending:
        node = pending.pop()
        if node.is_and():
            pending.extend(reversed(node.args()))
        else:
            atoms.append(node)
    return atoms


def as_comparison(node: FNode) -> tuple[str, FNode, FNode] | None:
    """A (possibly negated) numeric comparison as ``(operator, left, right)`` with ``<=``, ``<`` or ``==``; ``None`` for anything else."""
    negated = node.is_not()
    body = node.arg(0) if negated else node
    if not (body.is_le() or body.is_lt() or body.is_equals()):
        return None
    left, right = body.arg(0), body.arg(1)
    if not (left.get_type().is_int_type() or left.get_type().is_real_type()):
        return None
    if not negated:
        return ("<=" if body.is_le() else "<" if body.is_lt() else "==", left, right)
    if body.is_equals():
        return None
    return ("<" if body.is_le() else "<=", right, left)  # not (l <= r) is r < l


def bounds(operator: str, slope: np.ndarray, offset: np.ndarray, values: np.ndarray, *, exact: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Index interval ``[low, high)`` of grid values satisfying ``slope * x + offset OP 0``
    (with ``exact``, slope and offset are object arrays and the threshold is a fraction)."""
    n_values = len(values)
    if exact:
        threshold = _exact_threshold(offset, slope)
        values = np.array([Fraction(repr(float(value))) if isinstance(value, (float, np.floating)) else int(value) for value in values], dtype=object)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            threshold = np.where(slope != 0, -offset / np.where(slope != 0, slope, 1), 0.0)
    left = np.searchsorted(values, threshold, side="left")
    right = np.searchsorted(values, threshold, side="right")
    low = np.zeros(len(slope), dtype=np.int64)
    high = np.full(len(slope), n_values, dtype=np.int64)
    positive, negative, flat = slope > 0, slope < 0, slope == 0
    if operator == "==":
        low, high = np.where(flat, 0, left), np.where(flat, n_values, right)
        holds = offset == 0
    else:
        strict = operator == "<"
        high = np.where(positive, left if strict else right, high)
        low = np.where(negative, right if strict else left, low)
        holds = offset < 0 if strict else offset <= 0
    empty = np.asarray(flat & ~holds, dtype=bool)
    return np.where(empty, 0, low).astype(np.int64), np.where(empty, 0, high).astype(np.int64)


_exact_threshold = np.frompyfunc(lambda offset, slope: -Fraction(offset) / slope if slope != 0 else Fraction(0), 2, 1)


def zero_like(node: FNode) -> FNode:
    """Zero of a term's type (Int or Real)."""
    return Real(0) if node.get_type().is_real_type() else Int(0)


def coefficient(node: FNode, symbol: FNode) -> FNode:
    """The coefficient of ``symbol`` in a term of degree at most 1 in it, reusing subterms."""
    zero = Real(0) if node.get_type().is_real_type() else Int(0)
    if symbol not in node.get_free_variables():
        return zero
    if node == symbol:
        return Real(1) if node.get_type().is_real_type() else Int(1)
    arguments = node.args()
    if node.is_plus():
        parts = [coefficient(argument, symbol) for argument in arguments]
        parts = [part for part in parts if part != zero]
        return Plus(parts) if parts else zero
    if node.is_minus():
        return Minus(coefficient(arguments[0], symbol), coefficient(arguments[1], symbol))
    if node.is_times():
        factors = list(arguments)
        position = next(index for index, factor in enumerate(factors) if symbol in factor.get_free_variables())
        factors[position] = coefficient(factors[position], symbol)
        return Times(factors)
    if node.is_toreal():
        return ToReal(coefficient(arguments[0], symbol))
    if node.is_div():
        return Div(coefficient(arguments[0], symbol), arguments[1])
    if node.is_ite():
        return Ite(arguments[0], coefficient(arguments[1], symbol), coefficient(arguments[2], symbol))
    raise ValueError(f"{node} is not linear in {symbol}")


def integer_bounds(operator: str, slope: np.ndarray, offset: np.ndarray, first: int, step: int, n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact index interval on the grid ``first + step * k`` of ``slope * x + offset OP 0``,
    in integer arithmetic: with ``A = slope * step`` and ``C = -(offset + slope * first)`` the
    condition is ``A * k OP C``. Only the branches that occur are computed. Where these
    products could leave int64 (a large grid start times a large slope), Python integers."""
    if len(slope) and _could_overflow(slope, offset, abs(first) + abs(step) * n_values):
        slope, offset = slope.astype(object), offset.astype(object)
    scaled = slope * step
    target = -(offset + slope * first)
    n_points = len(slope)
    low = np.zeros(n_points, dtype=np.int64)
    high = np.full(n_points, n_values, dtype=np.int64)
    for sign in (1, -1, 0):
        where = np.flatnonzero(scaled > 0 if sign > 0 else scaled < 0 if sign < 0 else scaled == 0)
        if not len(where):
            continue
        size, goal = np.abs(scaled[where]), sign * target[where]
        if sign == 0:
            constant = target[where]  # the condition reads 0 OP C
            holds = {"<=": constant >= 0, "<": constant > 0, "==": constant == 0}[operator]
            high[where] = np.where(holds, n_values, 0)
            continue
        floor_quotient = np.floor_divide(goal, size)
        if operator == "==":
            exact = np.asarray(floor_quotient * size == goal, dtype=bool)
            low[where] = _on_grid(np.where(exact, floor_quotient, n_values), n_values)
            high[where] = _on_grid(np.where(exact, floor_quotient + 1, 0), n_values)
        elif sign > 0:  # k <= C / A  (k < C / A when strict)
            strict = np.asarray((operator == "<") & (floor_quotient * size == goal), dtype=bool).astype(floor_quotient.dtype)
            high[where] = _on_grid(floor_quotient + 1 - strict, n_values)
        else:  # k >= C / A with A < 0, i.e. k >= -C / |A| ... written as  |A| * k >= -C
            ceil_quotient = -np.floor_divide(-goal, size)
            strict = np.asarray((operator == "<") & (ceil_quotient * size == goal), dtype=bool).astype(ceil_quotient.dtype)
            low[where] = _on_grid(ceil_quotient + strict, n_values)
    return np.clip(low, 0, n_values), np.clip(high, 0, n_values)


def _could_overflow(slope: np.ndarray, offset: np.ndarray, reach: int) -> bool:
    """Whether ``slope * x + offset`` with ``|x| <= reach`` could pass 2**62 in int64 arithmetic."""
    if slope.dtype == object and offset.dtype == object:
        return False  # exact already
    largest_slope = int(np.max(np.abs(slope))) if len(slope) else 0
    largest_offset = int(np.max(np.abs(offset))) if len(offset) else 0
    return largest_slope * reach + largest_offset >= 2**62


def _on_grid(positions: np.ndarray, n_values: int) -> np.ndarray:
    """Positions clipped to ``[0, n_values]`` as int64 (exact object arrays may hold huge ones)."""
    return np.minimum(np.maximum(positions, 0), n_values).astype(np.int64)


def uncertain(slope: np.ndarray, offset: np.ndarray, slope_error: np.ndarray, offset_error: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Points where float rounding could change the interval of ``slope * x + offset OP 0``:
    the slope may be zero or of the other sign, or some grid value ``v`` has
    ``|slope * v + offset|`` within the rounding bound ``slope_error * |v| + offset_error``."""
    unsure_slope = np.abs(slope) <= slope_error
    with np.errstate(divide="ignore", invalid="ignore"):
        threshold = np.where(slope != 0, -offset / np.where(slope != 0, slope, 1), 0.0)
    position = np.searchsorted(values, threshold)
    near = np.zeros(len(slope), dtype=bool)
    for shift in (-1, 0):
        candidate = values[np.clip(position + shift, 0, len(values) - 1)]
        residual = np.abs(slope * candidate + offset)
        near |= residual <= slope_error * np.abs(candidate) + offset_error
    return unsure_slope | near
