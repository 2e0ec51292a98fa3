"""What compiling a spec produces: its variables, auxiliary integers, constraints and formulas.

A parameter's PySMT symbol carries its name (``name:real`` for a decimal grid, see
``parameter_name``); Avatar's own symbols (quotients, grid positions) hold a ':' that a
parameter name cannot, so the two never meet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from pysmt.fnode import FNode
from pysmt.shortcuts import Int, Real

from avatar.specs import Parameter, Spec

__all__ = ["Auxiliary", "Variable", "ConstraintInfo", "CompiledSpace", "constant", "parameter_name", "symbol_name"]


@dataclass(frozen=True)
class Auxiliary:
    """An integer introduced for ``numerator // denominator`` (``kind="quotient"``) or ``%``."""

    symbol: FNode
    kind: str
    numerator: FNode
    denominator: FNode
    quotient: FNode | None = None


@dataclass(frozen=True)
class Variable:
    """The SMT variable of one parameter. ``symbol`` holds the value, or the index for strings."""

    parameter: Parameter
    symbol: FNode
    is_index: bool
    step: tuple[Any, Any] | None = None  # (lo, step) of an evenly spaced grid

    @property
    def name(self) -> str:
        return self.parameter.name

    def value_term(self, position: int) -> FNode:
        """The term of the value at ``position`` in the parameter's value list."""
        if self.is_index:
            return Int(position)
        return constant(self.parameter.values[position], real=self.symbol.get_type().is_real_type())

    def encode(self, value: Any) -> Any:
        """The symbol's value for a parameter value (its index for string parameters)."""
        return self.parameter.values.index(value) if self.is_index else value


@dataclass(frozen=True)
class ConstraintInfo:
    """A spec constraint as compiled: hard (in the SMT formula) or checked after evaluation, and why."""

    name: str
    text: str
    line: int | None
    hard: bool
    reason: str = ""


@dataclass
class CompiledSpace:
    """The spec as PySMT formulas, ready for Z3 and for exact or vectorised evaluation."""

    spec: Spec
    variables: dict[str, Variable]
    domains: dict[str, FNode]
    definitions: list[FNode]
    auxiliaries: dict[FNode, Auxiliary]
    hard: dict[str, FNode]
    constraints: list[ConstraintInfo]
    free: list[str] = field(default_factory=list)
    metric_terms: dict[str, FNode] = field(default_factory=dict)  # closed forms the hard constraints use

    @property
    def constrained(self) -> list[str]:
        """Parameters that appear in some hard constraint, in spec order."""
        return [name for name in self.variables if name not in self.free]


def symbol_name(name: str, *, real: bool) -> str:
    """PySMT keeps one symbol per name for the whole process, with one type: a parameter that is
    real in one spec and whole in another needs two names. Avatar's own symbols (quotients,
    grid positions) hold a ':', which a parameter name cannot, so they never meet one."""
    return f"{name}:real" if real else name


def parameter_name(symbol: FNode) -> str:
    """The parameter a variable's symbol stands for (Avatar's own symbols start with ':')."""
    return symbol.symbol_name().removesuffix(":real")


def constant(value: Any, *, real: bool = False) -> FNode:
    """A number as a PySMT constant: an Int, or an exact Real (floats by their shortest decimal form)."""
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers")
    if isinstance(value, int) and not real:
        return Int(value)
    return Real(Fraction(repr(value)) if isinstance(value, float) else Fraction(value))
