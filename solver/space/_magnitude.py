"""Which terms the vectorised evaluator must compute exactly: bounds from the parameters' ranges.

Vectorised evaluation uses int64 for integer terms and float64 for real ones. Both can be
wrong silently: int64 wraps around past 2**63 (``hidden_size ** 4 * intermediate_size ** 4``
over [1000, 32000] does), and float64 becomes ``inf`` past 1.8e308. An upper bound of each
term's magnitude over the whole grid, computed once from the parameters' ranges, says which
terms could; those are evaluated on numpy object arrays of Python integers and fractions
(exact, about fifty times slower), the rest as before.

Bounds: a symbol's largest absolute grid value; sums add bounds, products multiply them; an
integer quotient is bounded by its numerator; a remainder by its divisor; a real quotient by
the numerator's bound over the smallest nonzero magnitude its denominator can take (unknown,
hence unbounded, unless the denominator is a constant, a parameter or a product of those).
Real terms below an exact term are exact too: a rounded float must not enter an exact result.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from pysmt.fnode import FNode

from ._compiled import Auxiliary, Variable

__all__ = ["exact_nodes", "INT64_SAFE", "FLOAT_SAFE"]

INT64_SAFE = 2**62  # headroom for one more addition of two safe terms
FLOAT_SAFE = 2**1000  # float64 ends near 2**1024


class _Bounds:
    """``upper[node]`` bounds ``|value|``; ``lower[node]`` bounds ``|value|`` where it is not 0."""

    def __init__(self, variables: Mapping[str, Variable], auxiliaries: Mapping[FNode, Auxiliary]) -> None:
        self.auxiliaries = auxiliaries
        self.upper: dict[FNode, Any] = {}
        self.lower: dict[FNode, Any] = {}
        for variable in variables.values():
            self.upper[variable.symbol], self.lower[variable.symbol] = _symbol_bounds(variable)

    def of(self, root: FNode) -> None:
        stack: list[tuple[FNode, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in self.upper:
                continue
            children = self._children(node)
            if not expanded:
                stack.append((node, True))
                stack.extend((child, False) for child in children if child not in self.upper)
                continue
            self.upper[node], self.lower[node] = self._bound(node, children)

    def _children(self, node: FNode) -> tuple[FNode, ...]:
        auxiliary = self.auxiliaries.get(node) if node.is_symbol() else None
        if auxiliary is not None:
            return (auxiliary.numerator, auxiliary.denominator) + ((auxiliary.quotient,) if auxiliary.quotient is not None else ())
        return node.args()

    def _bound(self, node: FNode, children: tuple[FNode, ...]) -> tuple[Any, Any]:
        upper = [self.upper[child] for child in children]
        lower = [self.lower[child] for child in children]
        integer = node.get_type().is_int_type()
        if node.is_constant():
            if node.is_bool_constant():
                return Fraction(1), Fraction(1)
            value = abs(Fraction(node.constant_value()))
            return value, value
        if node.is_symbol():  # an auxiliary integer: a quotient, or a remainder
            auxiliary = self.auxiliaries[node]
            return (upper[0] if auxiliary.kind != "remainder" else upper[1]), Fraction(1)
        if node.is_plus() or node.is_minus():
            return sum(upper), Fraction(1) if integer else Fraction(0)
        if node.is_times():
            return math.prod(upper), math.prod(lower)
        if node.is_toreal():
            return upper[0], lower[0]
        if node.is_div():
            if not lower[1]:
                return math.inf, Fraction(0)
            return upper[0] / lower[1], (lower[0] / upper[1] if upper[1] not in (0, math.inf) else Fraction(0))
        if node.is_ite():
            return max(upper[1:]), min(lower[1:])
        return Fraction(1), Fraction(1)  # comparisons and logic: booleans


def _symbol_bounds(variable: Variable) -> tuple[Fraction, Fraction]:
    """Largest magnitude of a parameter's grid, and its smallest nonzero one (numeric values
    are sorted, so both lie at the ends or next to zero)."""
    if variable.is_index:
        return Fraction(variable.parameter.size - 1), Fraction(1)
    values = variable.parameter.values
    exact = lambda value: Fraction(repr(value)) if isinstance(value, float) else Fraction(value)  # noqa: E731
    last_negative, first_positive = bisect.bisect_left(values, 0) - 1, bisect.bisect_right(values, 0)
    nearest = [values[index] for index in (last_negative, first_positive) if 0 <= index < len(values)]
    nonzero = [abs(exact(value)) for value in nearest]
    return max(abs(exact(values[0])), abs(exact(values[-1]))), min(nonzero, default=Fraction(0))


def exact_nodes(roots: Iterable[FNode], variables: Mapping[str, Variable], auxiliaries: Mapping[FNode, Auxiliary]) -> frozenset[FNode]:
    """The nodes under ``roots`` that vectorised evaluation must compute with exact numbers."""
    bounds = _Bounds(variables, auxiliaries)
    roots = list(roots)
    for root in roots:
        bounds.of(root)
    risky = {
        node
        for node, upper in bounds.upper.items()
        if not node.is_bool_constant() and (node.get_type().is_int_type() and upper >= INT64_SAFE or node.get_type().is_real_type() and upper >= FLOAT_SAFE)
    }
    exact = set(risky)
    pending = list(risky)
    while pending:  # real descendants of an exact term are exact too
        node = pending.pop()
        for child in bounds._children(node):
            if child not in exact and child.get_type().is_real_type() and not child.is_symbol():
                exact.add(child)
                pending.append(child)
    return frozenset(exact)
