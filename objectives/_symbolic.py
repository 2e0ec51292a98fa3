"""One formula, two algebras: closed forms written once serve Python numbers and PySMT terms.

A family writes ``4 * h * h + 2 * h * i`` once. Called with ``int`` values it gives the exact
count; called with ``Term`` values it builds the PySMT term that the solver compiles into the
feasible space. Agreement between the two is by construction, and the conformance suite checks
it anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Protocol, runtime_checkable

from pysmt.fnode import FNode
from pysmt.shortcuts import FALSE, TRUE, Int, Ite, Minus, Plus, Real, Times, ToReal

__all__ = ["Term", "SymbolicConfig", "ConstantConfig", "as_node", "as_term", "ite", "to_number"]

Number = int | Fraction


class Term:
    """A PySMT term with ``+``, ``-`` and ``*`` that accept Python numbers on either side.

    Integer and real terms mix as in arithmetic: an integer side is converted to real.
    """

    __slots__ = ("node",)

    def __init__(self, node: FNode) -> None:
        self.node = node

    @property
    def is_real(self) -> bool:
        return self.node.get_type().is_real_type()

    def __add__(self, other: Any) -> Term:
        return Term(Plus(*_aligned(self, other)))

    def __radd__(self, other: Any) -> Term:
        return Term(Plus(*_aligned(other, self)))

    def __sub__(self, other: Any) -> Term:
        return Term(Minus(*_aligned(self, other)))

    def __rsub__(self, other: Any) -> Term:
        return Term(Minus(*_aligned(other, self)))

    def __mul__(self, other: Any) -> Term:
        return Term(Times(*_aligned(self, other)))

    def __rmul__(self, other: Any) -> Term:
        return Term(Times(*_aligned(other, self)))

    def __neg__(self) -> Term:
        return Term(Times(*_aligned(-1, self)))

    def __repr__(self) -> str:
        return f"Term({self.node})"


def as_node(value: Any) -> FNode:
    """A PySMT node for a ``Term``, an ``FNode``, an ``int`` or a decimal number."""
    if isinstance(value, Term):
        return value.node
    if isinstance(value, FNode):
        return value
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers here")
    if isinstance(value, int):
        return Int(value)
    if isinstance(value, float):
        return Real(Fraction(repr(value)))
    if isinstance(value, Fraction):
        return Real(value)
    raise TypeError(f"cannot turn {type(value).__name__} into a PySMT term")


def as_term(value: Any) -> Term:
    """A ``Term`` for a term or a number (formulas over constants give plain numbers)."""
    return value if isinstance(value, Term) else Term(as_node(value))


def _aligned(left: Any, right: Any) -> tuple[FNode, FNode]:
    left_node, right_node = as_node(left), as_node(right)
    left_real = left_node.get_type().is_real_type()
    right_real = right_node.get_type().is_real_type()
    if left_real and not right_real:
        right_node = ToReal(right_node)
    elif right_real and not left_real:
        left_node = ToReal(left_node)
    return left_node, right_node


def ite(condition: FNode, then: Any, otherwise: Any) -> Term:
    """``then`` if ``condition`` else ``otherwise``, as a term."""
    return Term(Ite(condition, *_aligned(then, otherwise)))


def to_number(node: FNode) -> Number:
    """The exact value of a constant term (after simplification)."""
    value = node.simplify()
    if not value.is_constant():
        raise ValueError(f"{node} is not constant")
    constant = value.constant_value()
    return constant if isinstance(constant, int) else Fraction(constant)


@runtime_checkable
class SymbolicConfig(Protocol):
    """A configuration whose values are PySMT terms; estimators read it to build closed forms.

    The solver implements it over its index variables; ``ConstantConfig`` implements it over
    one concrete configuration (to check a closed form against ``evaluate``).
    """

    def has(self, name: str) -> bool:
        """Whether ``name`` is a parameter or constant of the spec."""

    def number(self, name: str) -> Term:
        """The numeric value of ``name``."""

    def is_value(self, name: str, value: str) -> FNode:
        """A Boolean term: the string parameter ``name`` takes ``value``."""

    def floor_div(self, numerator: Any, denominator: Any) -> Term:
        """``numerator // denominator`` for a positive denominator, as an integer term."""


class ConstantConfig:
    """``SymbolicConfig`` over one concrete configuration: every term is a constant."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def has(self, name: str) -> bool:
        return name in self.values

    def number(self, name: str) -> Term:
        return Term(as_node(self.values[name]))

    def is_value(self, name: str, value: str) -> FNode:
        return TRUE() if self.values[name] == value else FALSE()

    def floor_div(self, numerator: Any, denominator: Any) -> Term:
        top, bottom = to_number(as_node(numerator)), to_number(as_node(denominator))
        return Term(Int(int(top // bottom)))
