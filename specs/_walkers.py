"""Walkers over the expression tree: names, types, exact evaluation and printing."""

from __future__ import annotations

import enum
import operator as op
from collections.abc import Callable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from ._syntax import (
    Binary,
    BoolOp,
    Call,
    Compare,
    Expr,
    ExpressionError,
    Membership,
    Name,
    Number,
    String,
    Unary,
    Walker,
)

__all__ = ["ValueType", "names_in", "infer_type", "evaluate_expression", "to_text", "degree_of", "MAX_DEGREE"]

# The highest polynomial degree an expression may reach: architecture formulas stay far below
# it (parameters ~ hidden^2 x layers, FLOPs ~ length^2 x hidden x layers); nested powers
# beyond it (``((x ** 8) ** 8) ** 8``) would make the solver and exact arithmetic blow up.
MAX_DEGREE = 64


class ValueType(enum.Enum):
    """What an expression yields. ``INTEGER`` and ``REAL`` are both numbers."""

    INTEGER = "integer"
    REAL = "real"
    STRING = "string"
    BOOLEAN = "condition"

    @property
    def is_number(self) -> bool:
        return self in (ValueType.INTEGER, ValueType.REAL)


class _Names(Walker[frozenset[str]]):
    def _union(self, node: Expr, children: list[frozenset[str]]) -> frozenset[str]:
        return frozenset().union(*children)

    walk_Number = walk_String = walk_Unary = walk_Binary = _union
    walk_Compare = walk_BoolOp = walk_Call = walk_Membership = _union

    def walk_Name(self, node: Name, children: list[Any]) -> frozenset[str]:
        return frozenset({node.id})


def names_in(expression: Expr) -> frozenset[str]:
    """Every name an expression mentions."""
    return _Names().walk(expression)


class _Degree(Walker[int]):
    """A bound on the polynomial degree of each node (a division counts as a product)."""

    def __init__(self, degrees: Mapping[str, int]) -> None:
        self.degrees = degrees

    def walk_Number(self, node: Number, children: list[Any]) -> int:
        return 0

    walk_String = walk_Number

    def walk_Name(self, node: Name, children: list[Any]) -> int:
        return self._checked(node, self.degrees.get(node.id, 1))

    def walk_Unary(self, node: Unary, children: list[int]) -> int:
        return children[0]

    def walk_Binary(self, node: Binary, children: list[int]) -> int:
        if node.op in ("+", "-"):
            return max(children)
        if node.op == "**":
            exponent = node.children[1]
            return self._checked(node, children[0] * int(exponent.value if isinstance(exponent, Number) else 1))
        return self._checked(node, sum(children))

    def _largest(self, node: Expr, children: list[int]) -> int:
        return max(children, default=0)

    walk_Compare = walk_BoolOp = walk_Call = walk_Membership = _largest

    def _checked(self, node: Expr, degree: int) -> int:
        if degree > MAX_DEGREE:
            raise ExpressionError(
                f"'{to_text(node)}' reaches degree {degree} in the parameters, above the limit of {MAX_DEGREE}: "
                "nested powers and long products of parameters make the feasible space impossible to compute; write a lower-degree formula",
                node.offset,
            )
        return degree


def degree_of(expression: Expr, degrees: Mapping[str, int] | None = None) -> int:
    """A bound on ``expression``'s polynomial degree (``degrees`` of derived names; any other
    name counts 1, a constant 0).

    Raises:
        ExpressionError: the degree passes ``MAX_DEGREE`` (at the node where it does).
    """
    return _Degree(degrees or {}).walk(expression)


class _TypeChecker(Walker[ValueType]):
    """Infers the type of each node; raises ``ExpressionError`` on the first mistake."""

    def __init__(self, types: Mapping[str, ValueType], choices: Mapping[str, Sequence[str]]) -> None:
        self.types = types
        self.choices = choices

    def walk_Number(self, node: Number, children: list[Any]) -> ValueType:
        return ValueType.INTEGER if isinstance(node.value, int) else ValueType.REAL

    def walk_String(self, node: String, children: list[Any]) -> ValueType:
        return ValueType.STRING

    def walk_Name(self, node: Name, children: list[Any]) -> ValueType:
        return self.types[node.id]

    def walk_Unary(self, node: Unary, children: list[ValueType]) -> ValueType:
        if node.op == "not":
            self._expect_condition(node.operand, children[0], "not")
            return ValueType.BOOLEAN
        self._expect_number(node.operand, children[0], node.op)
        return children[0]

    def walk_Binary(self, node: Binary, children: list[ValueType]) -> ValueType:
        for operand, operand_type in zip(node.children, children):
            self._expect_number(operand, operand_type, node.op)
        if node.op in ("//", "%"):
            for operand, operand_type in zip(node.children, children):
                if operand_type is not ValueType.INTEGER:
                    raise ExpressionError(f"'{node.op}' needs whole numbers, but '{to_text(operand)}' may be fractional", operand.offset)
            return ValueType.INTEGER
        if node.op == "/":
            return ValueType.REAL
        if node.op == "**":
            return children[0]
        return _numeric_join(children)

    def walk_Compare(self, node: Compare, children: list[ValueType]) -> ValueType:
        for index, operator in enumerate(node.operators):
            left, right = node.operands[index], node.operands[index + 1]
            left_type, right_type = children[index], children[index + 1]
            if operator in ("==", "!="):
                self._expect_comparable(left, left_type, right, right_type, operator)
            else:
                self._expect_number(left, left_type, operator)
                self._expect_number(right, right_type, operator)
        return ValueType.BOOLEAN

    def walk_Membership(self, node: Membership, children: list[ValueType]) -> ValueType:
        element_type = children[0]
        for option, option_type in zip(node.options, children[1:]):
            self._expect_comparable(node.element, element_type, option, option_type, "in")
        return ValueType.BOOLEAN

    def walk_BoolOp(self, node: BoolOp, children: list[ValueType]) -> ValueType:
        for operand, operand_type in zip(node.operands, children):
            self._expect_condition(operand, operand_type, node.op)
        return ValueType.BOOLEAN

    def walk_Call(self, node: Call, children: list[ValueType]) -> ValueType:
        for argument, argument_type in zip(node.arguments, children):
            self._expect_number(argument, argument_type, node.function)
        return _numeric_join(children)

    def _expect_number(self, operand: Expr, operand_type: ValueType, operator: str) -> None:
        if operand_type.is_number:
            return
        what = "a string" if operand_type is ValueType.STRING else "a condition"
        raise ExpressionError(f"'{to_text(operand)}' is {what}; it cannot be used with '{operator}', which needs numbers", operand.offset)

    def _expect_condition(self, operand: Expr, operand_type: ValueType, operator: str) -> None:
        if operand_type is not ValueType.BOOLEAN:
            raise ExpressionError(
                f"'{to_text(operand)}' is {_article(operand_type)}, but '{operator}' needs a condition such as a comparison",
                operand.offset,
            )

    def _expect_comparable(self, left: Expr, left_type: ValueType, right: Expr, right_type: ValueType, operator: str) -> None:
        same_kind = (left_type.is_number and right_type.is_number) or left_type is right_type
        if not same_kind:
            raise ExpressionError(
                f"'{operator}' compares {_article(left_type)} ('{to_text(left)}') with {_article(right_type)} ('{to_text(right)}')",
                right.offset,
            )
        if left_type is ValueType.STRING:
            self._expect_choice(left, right)
            self._expect_choice(right, left)

    def _expect_choice(self, name: Expr, literal: Expr) -> None:
        """A string literal compared with a string choice must be one of its choices."""
        if not (isinstance(name, Name) and isinstance(literal, String) and name.id in self.choices):
            return
        options = self.choices[name.id]
        if literal.value not in options:
            listed = ", ".join(f"'{option}'" for option in options)
            raise ExpressionError(f"'{literal.value}' is not a choice of '{name.id}' (choices: {listed})", literal.offset)


def _numeric_join(types: list[ValueType]) -> ValueType:
    return ValueType.INTEGER if all(item is ValueType.INTEGER for item in types) else ValueType.REAL


def _article(value_type: ValueType) -> str:
    return {"integer": "a number", "real": "a number", "string": "a string", "condition": "a condition"}[value_type.value]


def infer_type(
    expression: Expr,
    types: Mapping[str, ValueType],
    choices: Mapping[str, Sequence[str]] | None = None,
) -> ValueType:
    """The type ``expression`` yields, given the types of its names.

    Raises:
        ExpressionError: a type mistake, such as a string choice used in arithmetic.
    """
    return _TypeChecker(types, choices or {}).walk(expression)


Value = int | Fraction | float | str | bool


class _Evaluator(Walker[Value]):
    """Exact evaluation: whole numbers stay ``int``, decimals become ``Fraction``."""

    def __init__(self, values: Mapping[str, Value]) -> None:
        self.values = values

    def walk_Number(self, node: Number, children: list[Any]) -> Value:
        return node.value

    def walk_String(self, node: String, children: list[Any]) -> Value:
        return node.value

    def walk_Name(self, node: Name, children: list[Any]) -> Value:
        try:
            value = self.values[node.id]
        except KeyError:
            raise ExpressionError(f"no value for '{node.id}'", node.offset) from None
        return Fraction(repr(value)) if isinstance(value, float) else value

    def walk_Unary(self, node: Unary, children: list[Value]) -> Value:
        (operand,) = children
        return _UNARY[node.op](operand)

    def walk_Binary(self, node: Binary, children: list[Value]) -> Value:
        left, right = children
        if node.op in ("/", "//", "%") and right == 0:
            raise ExpressionError(f"division by zero in '{to_text(node)}'", node.offset)
        return _ARITHMETIC[node.op](left, right)

    def walk_Compare(self, node: Compare, children: list[Value]) -> Value:
        return all(_COMPARISONS[operator](children[index], children[index + 1]) for index, operator in enumerate(node.operators))

    def walk_Membership(self, node: Membership, children: list[Value]) -> Value:
        found = children[0] in children[1:]
        return not found if node.negated else found

    def walk_BoolOp(self, node: BoolOp, children: list[Value]) -> Value:
        return all(children) if node.op == "and" else any(children)

    def walk_Call(self, node: Call, children: list[Value]) -> Value:
        return _FUNCTIONS[node.function](*children)


def _true_division(left: Any, right: Any) -> Value:
    return Fraction(left) / Fraction(right)


# The type checker has accepted the expression before it is evaluated, so operands are numbers
# where arithmetic needs them: the tables take ``Any`` rather than restate that proof.
_UNARY: dict[str, Callable[[Any], Value]] = {"-": op.neg, "+": op.pos, "not": op.not_}
_FUNCTIONS: dict[str, Callable[..., Value]] = {"min": min, "max": max, "abs": abs}
_ARITHMETIC: dict[str, Callable[[Any, Any], Value]] = {
    "+": op.add,
    "-": op.sub,
    "*": op.mul,
    "/": _true_division,
    "//": op.floordiv,
    "%": op.mod,
    "**": op.pow,
}
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": op.eq,
    "!=": op.ne,
    "<": op.lt,
    "<=": op.le,
    ">": op.gt,
    ">=": op.ge,
}


def evaluate_expression(expression: Expr, values: Mapping[str, Value]) -> Value:
    """Evaluate exactly at one point: no rounding, so it agrees with the SMT solver.

    Floats in ``values`` are read as the decimal they print as (``0.1`` is exactly 1/10).

    >>> from avatar.specs import parse_expression
    >>> evaluate_expression(parse_expression("h / a"), {"h": 768, "a": 12})
    Fraction(64, 1)

    Raises:
        ExpressionError: a name has no value, or a division by zero.
    """
    return _Evaluator(values).walk(expression)


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6, "unary": 7, "**": 8, "atom": 9}


class _Printer(Walker[tuple[str, int]]):
    """Canonical text with the fewest parentheses that keep the meaning."""

    def walk_Number(self, node: Number, children: list[Any]) -> tuple[str, int]:
        # Fractions only come from decimal literals, whose float repr reads back exactly.
        text = repr(float(node.value)) if isinstance(node.value, Fraction) else str(node.value)
        return (text, _PRECEDENCE["unary"] if text.startswith("-") else _PRECEDENCE["atom"])

    def walk_String(self, node: String, children: list[Any]) -> tuple[str, int]:
        return (repr(node.value), _PRECEDENCE["atom"])

    def walk_Name(self, node: Name, children: list[Any]) -> tuple[str, int]:
        return (node.id, _PRECEDENCE["atom"])

    def walk_Unary(self, node: Unary, children: list[tuple[str, int]]) -> tuple[str, int]:
        level = _PRECEDENCE["not" if node.op == "not" else "unary"]
        separator = " " if node.op == "not" else ""
        return (f"{node.op}{separator}{_wrap(children[0], level)}", level)

    def walk_Binary(self, node: Binary, children: list[tuple[str, int]]) -> tuple[str, int]:
        level = _PRECEDENCE[node.op]
        if node.op == "**":  # right-associative, binds tighter than a unary minus on its left
            return (f"{_wrap(children[0], level + 1)} ** {children[1][0]}", level)
        return (f"{_wrap(children[0], level)} {node.op} {_wrap(children[1], level + 1)}", level)

    def walk_Compare(self, node: Compare, children: list[tuple[str, int]]) -> tuple[str, int]:
        level = _PRECEDENCE["compare"]
        parts = [_wrap(children[0], level + 1)]
        for operator, child in zip(node.operators, children[1:]):
            parts += [operator, _wrap(child, level + 1)]
        return (" ".join(parts), level)

    def walk_Membership(self, node: Membership, children: list[tuple[str, int]]) -> tuple[str, int]:
        level = _PRECEDENCE["compare"]
        options = ", ".join(text for text, _ in children[1:])
        operator = "not in" if node.negated else "in"
        return (f"{_wrap(children[0], level + 1)} {operator} [{options}]", level)

    def walk_BoolOp(self, node: BoolOp, children: list[tuple[str, int]]) -> tuple[str, int]:
        level = _PRECEDENCE[node.op]
        return (f" {node.op} ".join(_wrap(child, level + 1) for child in children), level)

    def walk_Call(self, node: Call, children: list[tuple[str, int]]) -> tuple[str, int]:
        return (f"{node.function}({', '.join(text for text, _ in children)})", _PRECEDENCE["atom"])


def _wrap(child: tuple[str, int], level: int) -> str:
    text, child_level = child
    return f"({text})" if child_level < level else text


def to_text(expression: Expr) -> str:
    """Print an expression canonically; parsing the result gives an equal tree."""
    return _Printer().walk(expression)[0]
