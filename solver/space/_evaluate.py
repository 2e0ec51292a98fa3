"""Evaluate compiled formulas without a solver: exactly at one point, or vectorised on a grid.

Both modes walk the same PySMT formulas that Z3 receives, so a point is feasible here exactly
when it is feasible for Z3. Exact mode uses Python integers and fractions. Vectorised mode
uses numpy (int64 for integer terms, float64 for real terms), except for the terms whose
bounds say int64 could overflow or float64 could reach infinity (``_magnitude``): those use
object arrays of Python integers and fractions. Callers that need exactness on real terms
re-check points close to a boundary in exact mode.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
from pysmt.fnode import FNode

from ._compiled import Auxiliary

__all__ = ["evaluate_exact", "evaluate_vectorised", "VectorEvaluator"]


def _constant(node: FNode, exact: bool) -> Any:
    value = node.constant_value()
    if node.is_bool_constant():
        return bool(value)
    if node.is_real_constant():
        fraction = Fraction(value)
        return fraction if exact else float(fraction)
    return int(value)


def _exact_number(value: Any) -> Any:
    """A Python int or the ``Fraction`` a float was written as (``0.1`` is 1/10)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return Fraction(repr(float(value)))
    return value


_as_exact_numbers = np.frompyfunc(_exact_number, 1, 1)
_exact_quotient = np.frompyfunc(lambda numerator, denominator: Fraction(numerator) / denominator if denominator != 0 else Fraction(0), 2, 1)
_exact_floor_quotient = np.frompyfunc(lambda numerator, denominator: numerator // denominator if denominator != 0 else 0, 2, 1)
_as_fraction = np.frompyfunc(Fraction, 1, 1)


class _Evaluator:
    """Post-order walk of a formula DAG with an explicit stack and memoisation.

    In vectorised mode, the nodes in ``exact_nodes`` (see ``_magnitude``) are computed on
    object arrays of Python integers and fractions instead of int64 and float64.
    """

    def __init__(self, bindings: Mapping[FNode, Any], auxiliaries: Mapping[FNode, Auxiliary], exact: bool, exact_nodes: frozenset[FNode] = frozenset()) -> None:
        self.values: dict[FNode, Any] = dict(bindings)
        self.auxiliaries = auxiliaries
        self.exact = exact
        self.exact_nodes = exact_nodes

    def evaluate(self, root: FNode) -> Any:
        stack: list[tuple[FNode, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in self.values:
                continue
            children = self._children(node)
            if not expanded:
                stack.append((node, True))
                stack.extend((child, False) for child in children if child not in self.values)
                continue
            arguments = [self.values[child] for child in children]
            if not self.exact and node in self.exact_nodes:
                self.values[node] = self._apply_exact_vector(node, [_as_exact_numbers(argument) for argument in arguments])
            else:
                self.values[node] = self._apply(node, arguments)
        return self.values[root]

    def _apply_exact_vector(self, node: FNode, arguments: list[Any]) -> Any:
        """``_apply`` on object arrays: the same operations, in Python's exact arithmetic."""
        if node.is_constant():
            return _constant(node, exact=True)
        if node.is_symbol():
            auxiliary = self.auxiliaries[node]
            quotient = _exact_floor_quotient(arguments[0], arguments[1])
            return quotient if auxiliary.kind != "remainder" else arguments[0] - arguments[1] * arguments[2]
        if node.is_div():
            return _exact_quotient(arguments[0], arguments[1])
        if node.is_toreal():
            return _as_fraction(arguments[0])
        if node.is_ite():
            return np.where(np.asarray(arguments[0], dtype=bool), arguments[1], arguments[2])
        return self._apply(node, arguments)

    def _children(self, node: FNode) -> tuple[FNode, ...]:
        if node.is_symbol():
            auxiliary = self.auxiliaries.get(node)
            if auxiliary is None:
                raise KeyError(f"no value bound for {node}")
            parts = (auxiliary.numerator, auxiliary.denominator)
            return parts + ((auxiliary.quotient,) if auxiliary.quotient is not None else ())
        return node.args()

    def _apply(self, node: FNode, arguments: list[Any]) -> Any:
        if node.is_constant():
            return _constant(node, self.exact)
        if node.is_symbol():
            return self._auxiliary(self.auxiliaries[node], arguments)
        if node.is_plus():
            total = arguments[0]
            for argument in arguments[1:]:
                total = total + argument
            return total
        if node.is_minus():
            return arguments[0] - arguments[1]
        if node.is_times():
            product = arguments[0]
            for argument in arguments[1:]:
                product = product * argument
            return product
        if node.is_div():
            return self._divide(*arguments)
        if node.is_toreal():
            value = arguments[0]
            if self.exact:
                return Fraction(value)
            return value.astype(np.float64) if isinstance(value, np.ndarray) else float(value)
        if node.is_ite():
            condition, then, otherwise = arguments
            return (then if condition else otherwise) if self.exact else np.where(condition, then, otherwise)
        return self._logic(node, arguments)

    def _logic(self, node: FNode, arguments: list[Any]) -> Any:
        if node.is_equals() or node.is_iff():
            return arguments[0] == arguments[1]
        if node.is_le():
            return arguments[0] <= arguments[1]
        if node.is_lt():
            return arguments[0] < arguments[1]
        if node.is_not():
            return (not arguments[0]) if self.exact else np.logical_not(arguments[0])
        if node.is_and():
            return all(arguments) if self.exact else functools.reduce(np.logical_and, arguments, True)
        if node.is_or():
            return any(arguments) if self.exact else functools.reduce(np.logical_or, arguments, False)
        if node.is_implies():
            return ((not arguments[0]) or arguments[1]) if self.exact else np.logical_or(np.logical_not(arguments[0]), arguments[1])
        raise TypeError(f"cannot evaluate {node.node_type()} nodes: {node}")

    def _divide(self, numerator: Any, denominator: Any) -> Any:
        if self.exact:
            return Fraction(numerator) / denominator if denominator != 0 else Fraction(0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.asarray(denominator) != 0, np.divide(numerator, np.where(np.asarray(denominator) != 0, denominator, 1)), 0.0)

    def _auxiliary(self, auxiliary: Auxiliary, arguments: list[Any]) -> Any:
        numerator, denominator = arguments[0], arguments[1]
        if auxiliary.kind == "remainder":
            return numerator - denominator * arguments[2]
        if self.exact:
            return numerator // denominator if denominator != 0 else 0
        safe = np.where(np.asarray(denominator) != 0, denominator, 1)
        return np.where(np.asarray(denominator) != 0, np.floor_divide(numerator, safe), 0)


def evaluate_exact(node: FNode, bindings: Mapping[FNode, Any], auxiliaries: Mapping[FNode, Auxiliary]) -> Any:
    """Exact value of ``node`` (ints, ``Fraction`` for reals, bools) for scalar ``bindings``."""
    exact_bindings = {symbol: Fraction(repr(value)) if isinstance(value, float) else value for symbol, value in bindings.items()}
    return _Evaluator(exact_bindings, auxiliaries, exact=True).evaluate(node)


def evaluate_vectorised(nodes: list[FNode], bindings: Mapping[FNode, Any], auxiliaries: Mapping[FNode, Auxiliary]) -> list[Any]:
    """Values of ``nodes`` for numpy-array ``bindings``, sharing the work of common subterms."""
    evaluator = _Evaluator(bindings, auxiliaries, exact=False)
    return [evaluator.evaluate(node) for node in nodes]


class VectorEvaluator:
    """Vectorised evaluation that keeps its memo, so a rebinding recomputes only what changed.

    ``magnitude(node)`` bounds the rounding error of a real term: it evaluates the term with
    every constant, variable and intermediate replaced by its absolute value, which bounds
    the float error of evaluating it by a small multiple of the machine epsilon times that
    magnitude. Comparisons closer to a tie than that are re-checked exactly by the caller.
    """

    def __init__(self, bindings: Mapping[FNode, Any], auxiliaries: Mapping[FNode, Auxiliary], exact_nodes: frozenset[FNode] = frozenset()) -> None:
        self._evaluator = _Evaluator(bindings, auxiliaries, exact=False, exact_nodes=exact_nodes)
        self._magnitudes: dict[FNode, Any] = {}
        self.exact_nodes = exact_nodes

    def __call__(self, node: FNode) -> Any:
        return self._evaluator.evaluate(node)

    def rebind(self, symbol: FNode, value: Any, dependent: set[FNode]) -> None:
        """Give ``symbol`` a new value; ``dependent`` are the nodes whose value depends on it."""
        values = self._evaluator.values
        for node in dependent:
            values.pop(node, None)
            self._magnitudes.pop(node, None)
        values[symbol] = value
        self._magnitudes.pop(symbol, None)

    def magnitude(self, root: FNode) -> Any:
        memo = self._magnitudes
        stack: list[tuple[FNode, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in memo:
                continue
            leaf = node.is_constant() or node.is_symbol()
            if not leaf and not expanded:
                stack.append((node, True))
                stack.extend((child, False) for child in node.args() if child not in memo)
                continue
            memo[node] = self._magnitude(node)
        return memo[root]

    def _magnitude(self, node: FNode) -> Any:
        if node.is_constant() or node.is_symbol():
            return np.abs(self(node))
        parts = [self._magnitudes[child] for child in node.args()]
        if node.is_plus() or node.is_minus():
            return functools.reduce(np.add, parts)
        if node.is_times():
            return functools.reduce(np.multiply, parts)
        if node.is_toreal():
            return parts[0]
        if node.is_div():
            denominator = np.abs(self(node.arg(1)))
            safe = np.where(denominator != 0, denominator, 1)
            return (parts[0] + np.abs(self(node)) * parts[1]) / safe
        if node.is_ite():
            return np.where(self(node.arg(0)), parts[1], parts[2])
        return np.abs(self(node))
