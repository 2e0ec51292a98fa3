"""Spec expressions as PySMT terms: numbers, conditions and strings, with exact integer division.

``Translator`` walks an expression's syntax tree (never ``eval``): names resolve to parameter
variables, constants, inlined derived expressions or estimators' closed forms; ``//`` and ``%``
become auxiliary integers with defining side conditions (see ``Auxiliary``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from pysmt.fnode import FNode
from pysmt.shortcuts import (
    FALSE,
    LE,
    LT,
    TRUE,
    And,
    Div,
    Equals,
    Implies,
    Int,
    Ite,
    Not,
    Or,
    Plus,
    Real,
    Symbol,
    Times,
    ToReal,
)
from pysmt.typing import INT

from avatar import objectives
from avatar.objectives import Term, as_node
from avatar.specs import AvatarError, Expr, Spec, Walker, describe_error

from ._compiled import Auxiliary, Variable, constant

__all__ = ["Translator"]


def _align(left: FNode, right: FNode) -> tuple[FNode, FNode]:
    left_real, right_real = left.get_type().is_real_type(), right.get_type().is_real_type()
    if left_real and not right_real:
        return left, ToReal(right)
    if right_real and not left_real:
        return ToReal(left), right
    return left, right


@dataclass(frozen=True)
class _Numeric:
    node: FNode


@dataclass(frozen=True)
class _Condition:
    node: FNode


@dataclass(frozen=True)
class _Text:
    """A string: a literal (``value``) or a string parameter (``parameter``)."""

    value: str | None = None
    parameter: str | None = None


_Compiled = _Numeric | _Condition | _Text


class Translator:
    """Turns spec expressions and estimator closed forms into PySMT terms."""

    def __init__(self, spec: Spec, variables: dict[str, Variable], context: objectives.Context, metrics: Mapping[str, Any]) -> None:
        self.spec = spec
        self.variables = variables
        self.context = context
        self.metrics = metrics
        self.constants = spec.constant_values
        self.derived = {item.name: item for item in spec.derived}
        self.cache: dict[str, tuple[_Compiled, tuple[FNode, ...]]] = {}  # derived names: value, guards
        self.metric_terms: dict[str, FNode] = {}  # estimators' closed forms, by metric
        self.definitions: list[FNode] = []
        self.auxiliaries: dict[FNode, Auxiliary] = {}
        self.counter = itertools.count()
        self.guards: list[FNode] = []

    # -- auxiliary integers --------------------------------------------------------------

    def quotient(self, numerator: FNode, denominator: FNode) -> FNode:
        """``numerator // denominator`` (floor), defined where the denominator is not zero."""
        index = next(self.counter)
        quotient = Symbol(f":quotient:{index}", INT)
        product = Times(denominator, quotient)
        positive = And(LE(product, numerator), LT(numerator, product + denominator))
        negative = And(LE(numerator, product), LT(product + denominator, numerator))
        self.definitions.append(Implies(LT(Int(0), denominator), positive))
        self.definitions.append(Implies(LT(denominator, Int(0)), negative))
        self.auxiliaries[quotient] = Auxiliary(quotient, "quotient", numerator, denominator)
        return quotient

    def remainder(self, numerator: FNode, denominator: FNode) -> FNode:
        quotient = self.quotient(numerator, denominator)
        remainder = Symbol(f":remainder:{next(self.counter)}", INT)
        self.definitions.append(Equals(remainder, numerator - Times(denominator, quotient)))
        self.auxiliaries[remainder] = Auxiliary(remainder, "remainder", numerator, denominator, quotient)
        return remainder

    def nonzero(self, denominator: FNode) -> None:
        if not (denominator.is_constant() and denominator.constant_value() != 0):
            zero = Real(0) if denominator.get_type().is_real_type() else Int(0)
            self.guards.append(Not(Equals(denominator, zero)))

    # -- names -----------------------------------------------------------------------------

    def name(self, name: str) -> _Compiled:
        if name in self.variables:
            variable = self.variables[name]
            return _Text(parameter=name) if variable.is_index else _Numeric(variable.symbol)
        if name in self.constants:
            value = self.constants[name]
            return _Text(value=value) if isinstance(value, str) else _Numeric(constant(value))
        if name in self.derived:
            return self.derived_value(name)
        return _Numeric(self.metric(name))

    def derived_value(self, name: str) -> _Compiled:
        if name not in self.cache:
            outer_guards, self.guards = self.guards, []
            value = _ExpressionCompiler(self).walk(self.derived[name].expression)
            self.cache[name] = (value, tuple(self.guards))
            self.guards = outer_guards
        value, guards = self.cache[name]
        self.guards.extend(guards)
        return value

    def metric(self, name: str) -> FNode:
        if name not in self.metric_terms:
            self.metric_terms[name] = closed_form(name, self.metrics[name], _SolverConfig(self), self.context)
        return self.metric_terms[name]

    def condition(self, expression: Expr) -> FNode:
        """A hard constraint: its body and the definedness of every division in it."""
        self.guards = []
        value = _ExpressionCompiler(self).walk(expression)
        if isinstance(value, _Text):
            raise TypeError("a string is not a condition")  # the spec's type check refuses it first
        return And(*self.guards, value.node) if self.guards else value.node


class _SolverConfig:
    """``SymbolicConfig`` over the solver's variables, for estimators' closed forms."""

    def __init__(self, compiler: Translator) -> None:
        self.compiler = compiler

    def has(self, name: str) -> bool:
        return name in self.compiler.variables or name in self.compiler.constants

    def number(self, name: str) -> Term:
        value = self.compiler.name(name)
        if not isinstance(value, _Numeric):
            raise TypeError(f"'{name}' is not a number")
        return Term(value.node)

    def is_value(self, name: str, value: str) -> FNode:
        return _equal_texts(self.compiler, _as_text(self.compiler.name(name)), _Text(value=value))

    def floor_div(self, numerator: Any, denominator: Any) -> Term:
        return Term(self.compiler.quotient(as_node(numerator), as_node(denominator)))


def _as_text(value: _Compiled) -> _Text:
    """``value`` as a string: the spec's type check compares strings only with strings."""
    if not isinstance(value, _Text):
        raise TypeError("a string compared with a number")
    return value


def _equal_texts(compiler: Translator, left: _Text, right: _Text) -> FNode:
    if left.parameter is None and right.parameter is None:
        return TRUE() if left.value == right.value else FALSE()
    if left.parameter is None:
        left, right = right, left
    assert left.parameter is not None  # not two literals (above)
    variable = compiler.variables[left.parameter]
    choices = variable.parameter.values
    if right.parameter is None:
        return Equals(variable.symbol, Int(choices.index(right.value))) if right.value in choices else FALSE()
    other = compiler.variables[right.parameter]
    pairs = [And(Equals(variable.symbol, Int(index)), Equals(other.symbol, Int(other.parameter.values.index(choice)))) for index, choice in enumerate(choices) if choice in other.parameter.values]
    return Or(pairs) if pairs else FALSE()


class _ExpressionCompiler(Walker[_Compiled]):
    def __init__(self, compiler: Translator) -> None:
        self.compiler = compiler

    def walk_Number(self, node, children) -> _Compiled:
        return _Numeric(constant(node.value))

    def walk_String(self, node, children) -> _Compiled:
        return _Text(value=node.value)

    def walk_Name(self, node, children) -> _Compiled:
        return self.compiler.name(node.id)

    def walk_Unary(self, node, children) -> _Compiled:
        (operand,) = children
        if node.op == "not":
            return _Condition(Not(operand.node))
        return _Numeric(operand.node if node.op == "+" else as_node(-Term(operand.node)))

    def walk_Binary(self, node, children) -> _Compiled:
        left, right = children[0].node, children[1].node
        if node.op in ("+", "-", "*"):
            term = {"+": Term.__add__, "-": Term.__sub__, "*": Term.__mul__}[node.op](Term(left), right)
            return _Numeric(term.node)
        if node.op == "**":
            exponent = right.constant_value()
            if exponent == 0:
                return _Numeric(Real(1) if left.get_type().is_real_type() else Int(1))
            return _Numeric(Times([left] * exponent) if exponent > 1 else left)
        self.compiler.nonzero(right)
        if node.op == "/":
            if right.is_constant() and right.constant_value() == 0:
                return _Numeric(Real(0))  # the guard added above makes the constraint false
            if right.is_constant():
                return _Numeric(as_node(Term(left) * (1 / Fraction(right.constant_value()))))
            real_left = left if left.get_type().is_real_type() else ToReal(left)
            real_right = right if right.get_type().is_real_type() else ToReal(right)
            return _Numeric(Div(real_left, real_right))
        if node.op == "//":
            return _Numeric(self.compiler.quotient(left, right))
        return _Numeric(self.compiler.remainder(left, right))

    def walk_Compare(self, node, children) -> _Compiled:
        parts = [_comparison(self.compiler, operator, children[index], children[index + 1]) for index, operator in enumerate(node.operators)]
        return _Condition(And(parts) if len(parts) > 1 else parts[0])

    def walk_Membership(self, node, children) -> _Compiled:
        found = Or([_comparison(self.compiler, "==", children[0], option) for option in children[1:]])
        return _Condition(Not(found) if node.negated else found)

    def walk_BoolOp(self, node, children) -> _Compiled:
        nodes = [child.node for child in children]
        return _Condition(And(nodes) if node.op == "and" else Or(nodes))

    def walk_Call(self, node, children) -> _Compiled:
        nodes = [child.node for child in children]
        if node.function == "abs":
            (value,) = nodes
            zero = Real(0) if value.get_type().is_real_type() else Int(0)
            return _Numeric(Ite(LT(value, zero), as_node(-Term(value)), value))
        result = nodes[0]
        for value in nodes[1:]:
            result, value = _align(result, value)
            pick_new = LT(value, result) if node.function == "min" else LT(result, value)
            result = Ite(pick_new, value, result)
        return _Numeric(result)


def _comparison(compiler: Translator, operator: str, left: _Compiled, right: _Compiled) -> FNode:
    if isinstance(left, _Text):
        equal = _equal_texts(compiler, left, _as_text(right))
        return equal if operator == "==" else Not(equal)
    if isinstance(right, _Text):
        raise TypeError("a number compared with a string")  # the spec's type check refuses it first
    left_node, right_node = _integerize(*_align(left.node, right.node))
    if operator == "==":
        return Equals(left_node, right_node)
    if operator == "!=":
        return Not(Equals(left_node, right_node))
    if operator == "<=":
        return LE(left_node, right_node)
    if operator == "<":
        return LT(left_node, right_node)
    if operator == ">=":
        return LE(right_node, left_node)
    return LT(right_node, left_node)


_MAX_SCALE = 10**12


def _linear_form(node: FNode) -> dict[FNode | None, Fraction] | None:
    """``node`` as sum of rational coefficient x integer term (key ``None``: the constant)."""
    if node.is_toreal():
        inner = node.arg(0)
        return {None: Fraction(inner.constant_value())} if inner.is_constant() else {inner: Fraction(1)}
    if node.is_real_constant():
        return {None: Fraction(node.constant_value())}
    if node.is_plus() or node.is_minus():
        total: dict[FNode | None, Fraction] = {}
        for index, argument in enumerate(node.args()):
            part = _linear_form(argument)
            if part is None:
                return None
            sign = -1 if node.is_minus() and index > 0 else 1
            for key, value in part.items():
                total[key] = total.get(key, Fraction(0)) + sign * value
        return total
    if node.is_times() and len(node.args()) == 2:
        left, right = node.args()
        if right.is_real_constant():
            left, right = right, left
        if left.is_real_constant():
            part = _linear_form(right)
            factor = Fraction(left.constant_value())
            return None if part is None else {key: factor * value for key, value in part.items()}
    return None


def _integerize(left: FNode, right: FNode) -> tuple[FNode, FNode]:
    """Rewrite a comparison of real terms with rational coefficients over integers as one over
    integers (``4 * params / 10**6 <= 3`` becomes ``4 * params <= 3000000``): exact in every
    evaluation and much easier for Z3. Other comparisons are returned unchanged."""
    if not left.get_type().is_real_type():
        return left, right
    left_form, right_form = _linear_form(left), _linear_form(right)
    if left_form is None or right_form is None:
        return left, right
    difference = dict(left_form)
    for key, value in right_form.items():
        difference[key] = difference.get(key, Fraction(0)) - value
    scale = math.lcm(*(value.denominator for value in difference.values()))
    if scale > _MAX_SCALE or max((abs(value) * scale for value in difference.values()), default=0) > _MAX_SCALE:
        return left, right
    terms = [key if value * scale == 1 else Times(Int(int(value * scale)), key) for key, value in difference.items() if key is not None and value != 0]
    constant = -difference.get(None, Fraction(0)) * scale
    return (Plus(terms) if terms else Int(0)), Int(int(constant))


def closed_form(name: str, estimator: Any, config: Any, context: objectives.Context) -> FNode:
    """``estimator.symbolic(config)`` as a numeric PySMT node.

    Raises:
        EstimatorError: ``symbolic`` raised, or gave something that is not a numeric term (a
            plugin's bug, named so its author can find it; ``solve`` exits 2).
    """
    owner = type(estimator).__qualname__
    try:
        node = as_node(estimator.symbolic(config, context))
    except (AvatarError, RecursionError, MemoryError):
        raise
    except Exception as error:  # noqa: BLE001 - plugin code may raise anything
        raise objectives.EstimatorError(f"estimator '{name}' ({owner}): its closed form (symbolic) failed: {describe_error(error)}", name) from None
    if not (node.get_type().is_int_type() or node.get_type().is_real_type()):
        raise objectives.EstimatorError(f"estimator '{name}' ({owner}): its closed form (symbolic) is a {node.get_type()} term, not a number", name)
    return node
