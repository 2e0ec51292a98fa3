"""Compile a spec into PySMT: one variable per parameter, definitions, and named hard constraints.

Numeric parameters are *value* variables (Int, or Real for decimal grids) constrained to their
grid: ``p = lo + step * k`` with ``0 <= k < n`` for evenly spaced grids, a disjunction of values
otherwise. String parameters are index variables ``0 <= i < n``. Constants are substituted,
derived names are inlined, and symbolic metrics come from their estimators' closed forms.

Integer division and modulo (from ``//``, ``%`` and estimators' ``floor_div``) become auxiliary
integer variables with defining side conditions; each is recorded as an ``Auxiliary`` so that
the numeric evaluator computes it directly. A division by an expression that can be zero makes
its constraint false there (a definedness guard), so the SMT formula and exact evaluation agree.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

from pysmt.fnode import FNode
from pysmt.shortcuts import (
    FALSE,
    TRUE,
    And,
    Div,
    Equals,
    Implies,
    Int,
    Ite,
    LE,
    LT,
    Not,
    Or,
    Plus,
    Real,
    Symbol,
    Times,
    ToReal,
)
from pysmt.typing import INT, REAL

from avatar import objectives
from avatar.objectives import Term, as_node
from avatar.specs import Expr, Parameter, Spec, Walker, names_in

__all__ = ["Auxiliary", "Variable", "CompiledSpace", "compile_space", "ConstraintInfo", "parameter_name"]


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
        return _constant(self.parameter.values[position], real=self.symbol.get_type().is_real_type())

    def encode(self, value: Any) -> Any:
        """The symbol's value for a parameter value (its index for string parameters)."""
        return self.parameter.values.index(value) if self.is_index else value


@dataclass(frozen=True)
class ConstraintInfo:
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

    @property
    def constrained(self) -> list[str]:
        """Parameters that appear in some hard constraint, in spec order."""
        return [name for name in self.variables if name not in self.free]


def _constant(value: Any, *, real: bool = False) -> FNode:
    if isinstance(value, bool):
        raise TypeError("booleans are not numbers")
    if isinstance(value, int) and not real:
        return Int(value)
    return Real(Fraction(repr(value)) if isinstance(value, float) else Fraction(value))


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


class _Compiler:
    """Turns spec expressions and estimator closed forms into PySMT terms."""

    def __init__(self, spec: Spec, variables: dict[str, Variable], context: objectives.Context, metrics: Mapping[str, Any]) -> None:
        self.spec = spec
        self.variables = variables
        self.context = context
        self.metrics = metrics
        self.constants = spec.constant_values
        self.derived = {item.name: item for item in spec.derived}
        self.cache: dict[str, tuple[_Compiled, tuple[FNode, ...]]] = {}
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
            return _Text(value=value) if isinstance(value, str) else _Numeric(_constant(value))
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
        key = f"metric:{name}"
        if key not in self.cache:
            term = self.metrics[name].symbolic(_SolverConfig(self), self.context)
            self.cache[key] = (_Numeric(as_node(term)), ())
        return self.cache[key][0].node

    def condition(self, expression: Expr) -> FNode:
        """A hard constraint: its body and the definedness of every division in it."""
        self.guards = []
        value = _ExpressionCompiler(self).walk(expression)
        return And(*self.guards, value.node) if self.guards else value.node


class _SolverConfig:
    """``SymbolicConfig`` over the solver's variables, for estimators' closed forms."""

    def __init__(self, compiler: _Compiler) -> None:
        self.compiler = compiler

    def has(self, name: str) -> bool:
        return name in self.compiler.variables or name in self.compiler.constants

    def number(self, name: str) -> Term:
        value = self.compiler.name(name)
        if not isinstance(value, _Numeric):
            raise TypeError(f"'{name}' is not a number")
        return Term(value.node)

    def is_value(self, name: str, value: str) -> FNode:
        return _equal_texts(self.compiler, self.compiler.name(name), _Text(value=value))

    def floor_div(self, numerator: Any, denominator: Any) -> Term:
        return Term(self.compiler.quotient(as_node(numerator), as_node(denominator)))


def _equal_texts(compiler: _Compiler, left: _Text, right: _Text) -> FNode:
    if left.parameter is None and right.parameter is None:
        return TRUE() if left.value == right.value else FALSE()
    if left.parameter is None:
        left, right = right, left
    variable = compiler.variables[left.parameter]
    choices = variable.parameter.values
    if right.parameter is None:
        return Equals(variable.symbol, Int(choices.index(right.value))) if right.value in choices else FALSE()
    other = compiler.variables[right.parameter]
    pairs = [
        And(Equals(variable.symbol, Int(index)), Equals(other.symbol, Int(other.parameter.values.index(choice))))
        for index, choice in enumerate(choices)
        if choice in other.parameter.values
    ]
    return Or(pairs) if pairs else FALSE()


class _ExpressionCompiler(Walker[_Compiled]):
    def __init__(self, compiler: _Compiler) -> None:
        self.compiler = compiler

    def walk_Number(self, node, children) -> _Compiled:
        return _Numeric(_constant(node.value))

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


def _comparison(compiler: _Compiler, operator: str, left: _Compiled, right: _Compiled) -> FNode:
    if isinstance(left, _Text):
        equal = _equal_texts(compiler, left, right)
        return equal if operator == "==" else Not(equal)
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
        parts = [_linear_form(argument) for argument in node.args()]
        if any(part is None for part in parts):
            return None
        total: dict[FNode | None, Fraction] = {}
        for index, part in enumerate(parts):
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


def _symbol_name(name: str, *, real: bool) -> str:
    """PySMT keeps one symbol per name for the whole process, with one type: a parameter that is
    real in one spec and whole in another needs two names. Avatar's own symbols (quotients,
    grid positions) hold a ':', which a parameter name cannot, so they never meet one."""
    return f"{name}:real" if real else name


def parameter_name(symbol: FNode) -> str:
    """The parameter a variable's symbol stands for (Avatar's own symbols start with ':')."""
    return symbol.symbol_name().removesuffix(":real")


def _variable(parameter: Parameter) -> tuple[Variable, FNode]:
    """The variable of a parameter and the formula restricting it to its grid."""
    if parameter.kind == "categorical":
        symbol = Symbol(_symbol_name(parameter.name, real=False), INT)
        return Variable(parameter, symbol, True), And(LE(Int(0), symbol), LT(symbol, Int(parameter.size)))
    real = any(isinstance(value, float) for value in parameter.values)
    symbol = Symbol(_symbol_name(parameter.name, real=real), REAL if real else INT)
    exact = parameter.values if not real else [Fraction(repr(value)) if isinstance(value, float) else Fraction(value) for value in parameter.values]
    steps = {exact[index + 1] - exact[index] for index in range(len(exact) - 1)}  # plain ints when it can: ranges have a million values
    if len(steps) == 1 and len(exact) > 2:
        step = Fraction(steps.pop())
        position = Symbol(f":position:{parameter.name}", INT)
        offset = Term(ToReal(position)) * step if real else Term(position) * int(step)
        grid = Equals(symbol, as_node(offset + _constant(parameter.values[0], real=real)))
        bounds = And(LE(Int(0), position), LT(position, Int(parameter.size)))
        return Variable(parameter, symbol, False, (Fraction(exact[0]), step)), And(bounds, grid)
    return Variable(parameter, symbol, False), Or([Equals(symbol, _constant(value, real=real)) for value in parameter.values])


def compile_space(
    spec: Spec,
    context: objectives.Context | None = None,
    estimators: Mapping[str, Any] | None = None,
    *,
    exclude: frozenset[str] = frozenset(),
) -> CompiledSpace:
    """Compile ``spec``; constraints on metrics without a closed form (or named in
    ``exclude``) are left as post-evaluation constraints."""
    context = context or objectives.Context.from_spec(spec)
    metrics = dict(estimators) if estimators is not None else objectives.estimators_for(spec)
    variables: dict[str, Variable] = {}
    domains: dict[str, FNode] = {}
    for parameter in spec.parameters:
        variables[parameter.name], domains[parameter.name] = _variable(parameter)
    compiler = _Compiler(spec, variables, context, metrics)
    symbolic = {name for name, estimator in metrics.items() if estimator.is_symbolic(context) and name not in exclude}
    hard: dict[str, FNode] = {}
    infos: list[ConstraintInfo] = []
    mentioned: set[str] = set()
    for constraint in spec.constraints:
        used = spec.names_used(names_in(constraint.expression))
        measured = sorted(name for name in used if name in metrics and name not in symbolic)
        line = constraint.location.line
        if measured:
            reason = f"uses {', '.join(measured)}, which has no closed form: checked after evaluation"
            infos.append(ConstraintInfo(constraint.name, constraint.text, line, False, reason))
            continue
        hard[constraint.name] = compiler.condition(constraint.expression)
        infos.append(ConstraintInfo(constraint.name, constraint.text, line, True))
        mentioned |= used
    for formula in hard.values():
        mentioned |= {parameter_name(symbol) for symbol in formula.get_free_variables()}
    mentioned |= _aux_dependencies(compiler.auxiliaries, set(hard.values()))
    free = [name for name in variables if name not in mentioned]
    return CompiledSpace(spec, variables, domains, compiler.definitions, compiler.auxiliaries, hard, infos, free)


def _aux_dependencies(auxiliaries: dict[FNode, Auxiliary], formulas: set[FNode]) -> set[str]:
    """Parameter names reached through auxiliary integers used by the hard constraints."""
    names: set[str] = set()
    pending = [symbol for formula in formulas for symbol in formula.get_free_variables()]
    seen: set[FNode] = set()
    while pending:
        symbol = pending.pop()
        if symbol in seen:
            continue
        seen.add(symbol)
        auxiliary = auxiliaries.get(symbol)
        if auxiliary is None:
            names.add(parameter_name(symbol))
            continue
        for part in (auxiliary.numerator, auxiliary.denominator):
            pending += list(part.get_free_variables())
    return names
