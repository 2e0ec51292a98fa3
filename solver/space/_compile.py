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

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from pysmt.fnode import FNode
from pysmt.shortcuts import LE, LT, And, Equals, Int, Or, Symbol, ToReal
from pysmt.typing import INT, REAL

from avatar import objectives
from avatar.objectives import Term, as_node
from avatar.specs import AvatarError, Parameter, Spec, describe_error, names_in

from ._compiled import Auxiliary, CompiledSpace, ConstraintInfo, Variable, constant, parameter_name, symbol_name
from ._translate import Translator

__all__ = ["compile_space"]


def _variable(parameter: Parameter) -> tuple[Variable, FNode]:
    """The variable of a parameter and the formula restricting it to its grid."""
    if parameter.kind == "categorical":
        symbol = Symbol(symbol_name(parameter.name, real=False), INT)
        return Variable(parameter, symbol, True), And(LE(Int(0), symbol), LT(symbol, Int(parameter.size)))
    real = any(isinstance(value, float) for value in parameter.values)
    symbol = Symbol(symbol_name(parameter.name, real=real), REAL if real else INT)
    exact = parameter.numbers if not real else [Fraction(repr(value)) if isinstance(value, float) else Fraction(value) for value in parameter.numbers]
    steps = {exact[index + 1] - exact[index] for index in range(len(exact) - 1)}  # plain ints when it can: ranges have a million values
    if len(steps) == 1 and len(exact) > 2:
        step = Fraction(steps.pop())
        position = Symbol(f":position:{parameter.name}", INT)
        offset = Term(ToReal(position)) * step if real else Term(position) * int(step)
        grid = Equals(symbol, as_node(offset + constant(parameter.values[0], real=real)))
        bounds = And(LE(Int(0), position), LT(position, Int(parameter.size)))
        return Variable(parameter, symbol, False, (Fraction(exact[0]), step)), And(bounds, grid)
    return Variable(parameter, symbol, False), Or([Equals(symbol, constant(value, real=real)) for value in parameter.values])


def compile_space(
    spec: Spec,
    context: objectives.Context,
    estimators: Mapping[str, Any],
    *,
    exclude: frozenset[str] = frozenset(),
) -> CompiledSpace:
    """Compile ``spec``; constraints on metrics without a closed form (or named in
    ``exclude``) are left as post-evaluation constraints."""
    metrics = dict(estimators)
    variables: dict[str, Variable] = {}
    domains: dict[str, FNode] = {}
    for parameter in spec.parameters:
        variables[parameter.name], domains[parameter.name] = _variable(parameter)
    compiler = Translator(spec, variables, context, metrics)
    symbolic = {name for name, estimator in metrics.items() if _is_symbolic(name, estimator, context) and name not in exclude}
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
    terms = dict(compiler.metric_terms)
    return CompiledSpace(spec, variables, domains, compiler.definitions, compiler.auxiliaries, hard, infos, free, terms)


def _is_symbolic(name: str, estimator: Any, context: objectives.Context) -> bool:
    """Whether ``estimator`` has a closed form; a plugin's ``is_symbolic`` that raises is named."""
    try:
        return bool(estimator.is_symbolic(context))
    except (AvatarError, RecursionError, MemoryError):
        raise
    except Exception as error:  # noqa: BLE001 - plugin code may raise anything
        raise objectives.EstimatorError(f"estimator '{name}' ({type(estimator).__qualname__}): is_symbolic failed: {describe_error(error)}", name) from None


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
