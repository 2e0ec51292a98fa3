"""The expression language's syntax tree: immutable nodes, and walkers over them.

Nodes carry the column where they start (``offset``) for error messages, outside equality.
``Walker`` visits a tree post-order with an explicit stack (no recursion limit), one
``walk_<Kind>`` method per node kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Generic, TypeVar

__all__ = ["Expr", "Number", "String", "Name", "Unary", "Binary", "Compare", "BoolOp", "Call", "Membership", "ExpressionError", "Walker", "iter_nodes"]


class ExpressionError(Exception):
    """An expression is not in the language. ``offset`` is the 0-based column in its text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Expr:
    """Base of all expression nodes. ``offset`` (0-based column) is not part of equality."""

    offset: int = field(default=0, compare=False, kw_only=True, repr=False)

    @property
    def children(self) -> tuple[Expr, ...]:
        return ()


@dataclass(frozen=True)
class Number(Expr):
    """A numeric literal: ``int`` when written as a whole number, else an exact ``Fraction``."""

    value: int | Fraction


@dataclass(frozen=True)
class String(Expr):
    """A string literal, used to compare against string choices (``tokenizer != "word"``)."""

    value: str


@dataclass(frozen=True)
class Name(Expr):
    """A parameter, constant, derived name or metric."""

    id: str


@dataclass(frozen=True)
class Unary(Expr):
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Expr

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Binary(Expr):
    """An arithmetic operation; for ``**`` the right side is a small whole ``Number``."""

    op: str
    left: Expr
    right: Expr

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Compare(Expr):
    """A comparison chain: ``a < b <= c`` holds ``operators=("<", "<=")``, three operands."""

    operators: tuple[str, ...]
    operands: tuple[Expr, ...]

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.operands


@dataclass(frozen=True)
class BoolOp(Expr):
    """``and`` / ``or`` over two or more operands."""

    op: str
    operands: tuple[Expr, ...]

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.operands


@dataclass(frozen=True)
class Call(Expr):
    """``min``, ``max`` or ``abs``."""

    function: str
    arguments: tuple[Expr, ...]

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.arguments


@dataclass(frozen=True)
class Membership(Expr):
    """``x in [a, b]`` or ``x not in [a, b]``."""

    element: Expr
    options: tuple[Expr, ...]
    negated: bool = False

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self.element, *self.options)


R = TypeVar("R")


class Walker(Generic[R]):
    """Post-order walk with an explicit stack: one ``walk_<Kind>`` method per node kind.

    Each method receives the node and the results of its children, in order. A node kind
    without a method is an explicit error, never a silent default.
    """

    def walk(self, root: Expr) -> R:
        results: list[R] = []
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            children = node.children
            if not expanded:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(children))
                continue
            n_children = len(children)
            arguments = results[len(results) - n_children :] if n_children else []
            del results[len(results) - n_children :]
            results.append(self._method(node)(node, arguments))
        return results[0]

    def _method(self, node: Expr) -> Callable[[Expr, list[R]], R]:
        method = getattr(self, "walk_" + type(node).__name__, None)
        if method is None:
            raise TypeError(f"{type(self).__name__} has no rule for {type(node).__name__} nodes")
        return method  # type: ignore[no-any-return]  # walk_<Kind> methods take (node, children)


def iter_nodes(root: Expr) -> Iterator[Expr]:
    """Every node of a tree, parents before children, left to right."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))
