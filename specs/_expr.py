"""The spec expression language: a whitelisted syntax tree parsed with Python's ``ast``.

Spec text is never passed to ``eval`` or ``exec``. ``ast.parse`` only builds a syntax tree;
we accept a small set of node kinds, convert them into our own immutable nodes, and reject
everything else with a message that quotes the offending part. Later stages (numeric
evaluation, PySMT compilation, printing) are walkers over these nodes.
"""

from __future__ import annotations

import ast
import warnings
from fractions import Fraction

from ._limits import number_problem
from ._syntax import Binary, BoolOp, Call, Compare, Expr, ExpressionError, Membership, Name, Number, String, Unary

__all__ = ["parse_expression", "FUNCTIONS", "MAX_EXPRESSION_LENGTH", "MAX_DEPTH", "MAX_NODES", "MAX_EXPONENT"]

MAX_EXPRESSION_LENGTH = 4000
MAX_DEPTH = 64
MAX_NODES = 1000
MAX_EXPONENT = 8
FUNCTIONS = ("min", "max", "abs")

_BINARY = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_BOOL = {ast.And: "and", ast.Or: "or"}
_FORBIDDEN_OPERATORS = {
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
    ast.Is: "is",
    ast.IsNot: "is not",
}


def parse_expression(text: str) -> Expr:
    """Parse ``text`` into an expression tree.

    Raises:
        ExpressionError: the text is not in the language, or is too long or too deep.

    >>> parse_expression("hidden_size % num_attention_heads == 0").operators
    ('==',)
    """
    if not isinstance(text, str):
        raise ExpressionError("an expression must be a string")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}")
    _check_bracket_depth(text)
    if not text.strip():
        raise ExpressionError("the expression is empty")
    try:
        with warnings.catch_warnings():  # e.g. "1and 2": a warning is not the user's concern here
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # an invalid escape in a string literal
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        stripped = text.strip()
        # Python reports offset 0 when the text ends too early: point at its end then.
        position = error.offset - 1 if error.offset and error.offset <= len(stripped) else len(stripped)
        offset = position + (len(text) - len(text.lstrip()))
        raise ExpressionError(f"invalid syntax: {error.msg}", offset) from None
    except (ValueError, MemoryError, RecursionError, OverflowError) as error:
        raise ExpressionError(f"the expression cannot be read: {error}") from None
    return _Converter(text.strip(), len(text) - len(text.lstrip())).convert(tree.body)


def _check_bracket_depth(text: str) -> None:
    depth = 0
    for index, character in enumerate(text):
        if character in "([{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionError(f"the expression nests brackets more than {MAX_DEPTH} deep", index)
        elif character in ")]}":
            depth -= 1


class _Converter:
    """Checks each ``ast`` node against the whitelist and builds our nodes, iteratively."""

    def __init__(self, text: str, indent: int) -> None:
        self.text = text
        self.indent = indent
        self.n_nodes = 0

    def convert(self, root: ast.expr) -> Expr:
        results: list[Expr] = []
        stack: list[tuple[ast.expr, int, bool]] = [(root, 1, False)]
        while stack:
            node, depth, expanded = stack.pop()
            if not expanded:
                children = self._check(node, depth)
                stack.append((node, depth, True))
                stack.extend((child, depth + 1, False) for child in reversed(children))
                continue
            n_children = len(self._children(node))
            arguments = results[len(results) - n_children :] if n_children else []
            del results[len(results) - n_children :]
            results.append(self._build(node, arguments))
        return results[0]

    def _fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, getattr(node, "col_offset", 0) + self.indent)

    def _quote(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.text, node) or ast.unparse(node)
        return segment if len(segment) <= 60 else segment[:57] + "..."

    def _children(self, node: ast.expr) -> list[ast.expr]:
        if isinstance(node, ast.UnaryOp):
            return [node.operand]
        if isinstance(node, ast.BinOp):
            return [node.left] if isinstance(node.op, ast.Pow) else [node.left, node.right]
        if isinstance(node, ast.BoolOp):
            return list(node.values)
        if isinstance(node, ast.Compare):
            if isinstance(node.ops[0], (ast.In, ast.NotIn)):
                options = node.comparators[0]
                return [node.left, *(options.elts if isinstance(options, (ast.List, ast.Tuple)) else [options])]
            return [node.left, *node.comparators]
        if isinstance(node, ast.Call):
            return list(node.args)
        return []

    def _check(self, node: ast.expr, depth: int) -> list[ast.expr]:
        """Reject what is outside the language; return the children to convert."""
        self.n_nodes += 1
        if self.n_nodes > MAX_NODES:
            raise self._fail(node, f"the expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise self._fail(node, f"the expression nests more than {MAX_DEPTH} operations deep")
        if isinstance(node, ast.Constant):
            self._check_constant(node)
        elif isinstance(node, ast.Name):
            if node.id.startswith("__"):
                raise self._fail(node, f"the name '{node.id}' is not allowed (names may not start with '__')")
        elif isinstance(node, (ast.UnaryOp, ast.BinOp)):
            self._check_operator(node)
        elif isinstance(node, ast.Compare):
            self._check_compare(node)
        elif isinstance(node, ast.Call):
            self._check_call(node)
        elif not isinstance(node, ast.BoolOp):
            raise self._fail(node, f"{_describe(node)} '{self._quote(node)}' is not allowed in an expression")
        return self._children(node)

    def _check_constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)):
            raise self._fail(node, f"the literal '{self._quote(node)}' is not allowed; use numbers or quoted strings")
        problem = None if isinstance(value, str) else number_problem(value, self._quote(node))
        if problem is not None:
            raise self._fail(node, problem)

    def _check_operator(self, node: ast.UnaryOp | ast.BinOp) -> None:
        table = _UNARY if isinstance(node, ast.UnaryOp) else _BINARY
        if type(node.op) not in table:
            symbol = _FORBIDDEN_OPERATORS.get(type(node.op), type(node.op).__name__)
            raise self._fail(node, f"the operator '{symbol}' in '{self._quote(node)}' is not allowed")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = node.right
            if not (isinstance(exponent, ast.Constant) and type(exponent.value) is int and 0 <= exponent.value <= MAX_EXPONENT):
                raise self._fail(
                    node.right,
                    f"the exponent in '{self._quote(node)}' must be a whole number from 0 to {MAX_EXPONENT}",
                )

    def _check_compare(self, node: ast.Compare) -> None:
        for operator in node.ops:
            if type(operator) in _FORBIDDEN_OPERATORS:
                raise self._fail(node, f"the operator '{_FORBIDDEN_OPERATORS[type(operator)]}' in '{self._quote(node)}' is not allowed")
        has_membership = any(isinstance(operator, (ast.In, ast.NotIn)) for operator in node.ops)
        if not has_membership:
            return
        if len(node.ops) > 1:
            raise self._fail(node, f"'in' cannot be chained with other comparisons in '{self._quote(node)}'")
        options = node.comparators[0]
        if not isinstance(options, (ast.List, ast.Tuple)):
            raise self._fail(options, f"'in' needs a bracketed list such as [1, 2], got {_describe(options)} '{self._quote(options)}'")
        if not options.elts:
            raise self._fail(options, "'in' needs a non-empty list")

    def _check_call(self, node: ast.Call) -> None:
        function = node.func
        if not isinstance(function, ast.Name) or function.id not in FUNCTIONS:
            raise self._fail(node, f"the call '{self._quote(node)}' is not allowed; the only functions are min, max and abs")
        if node.keywords or any(isinstance(argument, ast.Starred) for argument in node.args):
            raise self._fail(node, f"'{self._quote(node)}' may only take plain positional arguments")
        if function.id == "abs" and len(node.args) != 1:
            raise self._fail(node, f"abs takes exactly one argument, got {len(node.args)} in '{self._quote(node)}'")
        if function.id != "abs" and not node.args:
            raise self._fail(node, f"{function.id} needs at least one argument")

    def _build(self, node: ast.expr, arguments: list[Expr]) -> Expr:
        offset = node.col_offset + self.indent
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return String(node.value, offset=offset)
            if isinstance(node.value, int):
                return Number(node.value, offset=offset)
            return Number(Fraction(repr(node.value)), offset=offset)
        if isinstance(node, ast.Name):
            return Name(node.id, offset=offset)
        if isinstance(node, ast.UnaryOp):
            return Unary(_UNARY[type(node.op)], arguments[0], offset=offset)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                assert isinstance(node.right, ast.Constant) and isinstance(node.right.value, int)  # _check_operator let only a whole constant through
                exponent = Number(node.right.value, offset=node.right.col_offset + self.indent)
                return Binary("**", arguments[0], exponent, offset=offset)
            return Binary(_BINARY[type(node.op)], arguments[0], arguments[1], offset=offset)
        if isinstance(node, ast.BoolOp):
            return BoolOp(_BOOL[type(node.op)], tuple(arguments), offset=offset)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)  # _check_call let only min, max and abs through
            return Call(node.func.id, tuple(arguments), offset=offset)
        assert isinstance(node, ast.Compare), f"{type(node).__name__} passed the whitelist"
        if isinstance(node.ops[0], (ast.In, ast.NotIn)):
            negated = isinstance(node.ops[0], ast.NotIn)
            return Membership(arguments[0], tuple(arguments[1:]), negated, offset=offset)
        operators = tuple(_COMPARE[type(operator)] for operator in node.ops)
        return Compare(operators, tuple(arguments), offset=offset)


_DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.IfExp: "a conditional expression",
    ast.NamedExpr: "an assignment expression",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Starred: "unpacking",
    ast.List: "a list (lists are allowed only after 'in')",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Slice: "a slice",
    ast.Name: "the name",
    ast.Constant: "the literal",
}


def _describe(node: ast.AST) -> str:
    return _DESCRIPTIONS.get(type(node), "the expression")
