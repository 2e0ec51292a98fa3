"""Near-miss non-clones: a function with a few small changes of meaning (mutation testing's
operators), for the hard built-in clone set.

A mutant reads almost like its function, so a pair of the two is a non-clone that tokens
alone barely tell from a clone (whose views differ by renaming, reordering and formatting).
The changes are drawn from the first half of the function, where a model that reads only its
first tokens can still see them.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable

__all__ = ["mutant"]

Change = Callable[[], None]

_COMPARISONS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_ARITHMETIC = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Add,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mod,
    ast.Mod: ast.FloorDiv,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_LOGIC = {ast.And: ast.Or, ast.Or: ast.And}


def copy_function(function: ast.FunctionDef) -> ast.FunctionDef:
    """A deep copy of ``function`` (through its source), free to change in place."""
    copy = ast.parse(ast.unparse(function)).body[0]
    assert isinstance(copy, ast.FunctionDef)
    return copy


def mutant(function: ast.FunctionDef, generator: random.Random, changes: int = 2) -> ast.FunctionDef | None:
    """A copy of ``function`` with ``changes`` changes of meaning (a flipped comparison,
    arithmetic or boolean operator, a constant off by one, a negated condition, a dropped
    statement), or None when it offers none; ``function`` is left as it is."""
    original = ast.unparse(function)
    copy = copy_function(function)
    sites = _sites(copy)
    if not sites:
        return None
    for site in generator.sample(sites, min(changes, len(sites))):
        site()
    mutated = ast.fix_missing_locations(copy)
    return mutated if ast.unparse(mutated) != original else None


def _sites(function: ast.FunctionDef) -> list[Change]:
    """One closure per possible change in the first half of the function's lines."""
    last = max(getattr(node, "end_lineno", function.lineno) or function.lineno for node in ast.walk(function))
    middle = function.lineno + max(1, (last - function.lineno) // 2)
    sites: list[Change] = []
    for node in ast.walk(function):
        if getattr(node, "lineno", middle + 1) > middle:
            continue
        if isinstance(node, ast.Compare) and type(node.ops[0]) in _COMPARISONS:
            sites.append(_replacing(node.ops, 0, _COMPARISONS[type(node.ops[0])]()))
        elif isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            sites.append(_setting(node, "op", _ARITHMETIC[type(node.op)]()))
        elif isinstance(node, ast.BoolOp):
            sites.append(_setting(node, "op", _LOGIC[type(node.op)]()))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            sites.append(_setting(node, "value", not node.value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, int):
            sites.append(_setting(node, "value", node.value + 1))
        elif isinstance(node, (ast.If, ast.While)):
            negated = node.test.operand if isinstance(node.test, ast.UnaryOp) and isinstance(node.test.op, ast.Not) else ast.UnaryOp(ast.Not(), node.test)
            sites.append(_setting(node, "test", negated))
        for field in ("body", "orelse"):
            body = getattr(node, field, None)
            if isinstance(body, list) and len(body) >= 2:
                sites += [_dropping(body, statement) for statement in body[:-1] if statement.lineno <= middle]
    return sites


def _setting(node: ast.AST, field: str, value: object) -> Change:
    return lambda: setattr(node, field, value)


def _replacing(items: list, index: int, value: object) -> Change:
    return lambda: items.__setitem__(index, value)


def _dropping(body: list[ast.stmt], statement: ast.stmt) -> Change:
    # only a body's statements before its last are offered, each once: a body never empties
    return lambda: body.remove(statement)
