"""The expression language: what parses, what it means, and how it prints."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from avatar.specs import (
    Binary,
    Compare,
    ExpressionError,
    Membership,
    Name,
    Number,
    ValueType,
    evaluate_expression,
    infer_type,
    names_in,
    parse_expression,
    to_text,
)

VALUES = {"h": 768, "a": 12, "d": 0.1, "t": "bpe", "n": 3}
TYPES = {"h": ValueType.INTEGER, "a": ValueType.INTEGER, "d": ValueType.REAL, "t": ValueType.STRING, "n": ValueType.INTEGER}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("h % a == 0", True),
        ("h / a", Fraction(64)),
        ("h // 10", 76),
        ("h % 100", 68),
        ("-h + 2 * a", -744),
        ("n ** 3", 27),
        ("n ** 0", 1),
        ("1 < n <= 3 < h", True),
        ("1 < n < 3", False),
        ("t != 'word' and t == \"bpe\"", True),
        ("not (t == 'bpe') or n > 2", True),
        ("t in ['bpe', 'wordpiece']", True),
        ("n not in [1, 2]", True),
        ("min(h, a, n)", 3),
        ("max(d, 0.05)", Fraction(1, 10)),
        ("abs(n - h)", 765),
        ("d * 3 == 0.3", True),  # exact decimals: 0.1 * 3 is 0.3
        ("h * 4 / 1e6 <= 3", True),
    ],
)
def test_evaluation_is_exact(text, expected):
    assert evaluate_expression(parse_expression(text), VALUES) == expected


def test_names_and_structure():
    expression = parse_expression("hidden_size % num_attention_heads == 0")
    assert isinstance(expression, Compare) and expression.operators == ("==",)
    assert isinstance(expression.operands[0], Binary)
    assert names_in(expression) == {"hidden_size", "num_attention_heads"}


def test_power_keeps_a_number_exponent():
    expression = parse_expression("h ** 2")
    assert expression == Binary("**", Name("h"), Number(2))


def test_membership_node():
    assert parse_expression("t in ['a', 'b']") == parse_expression('t in ("a", "b")')
    assert isinstance(parse_expression("t not in ['a']"), Membership)


def test_decimal_literals_are_exact_fractions():
    assert parse_expression("0.2") == Number(Fraction(1, 5))
    assert parse_expression("1e-3") == Number(Fraction(1, 1000))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("h + a", ValueType.INTEGER),
        ("h / a", ValueType.REAL),
        ("h * d", ValueType.REAL),
        ("h // a", ValueType.INTEGER),
        ("min(h, a)", ValueType.INTEGER),
        ("max(h, d)", ValueType.REAL),
        ("abs(d)", ValueType.REAL),
        ("h > 3", ValueType.BOOLEAN),
        ("t == 'bpe'", ValueType.BOOLEAN),
        ("t", ValueType.STRING),
        ("n ** 2", ValueType.INTEGER),
    ],
)
def test_types(text, expected):
    assert infer_type(parse_expression(text), TYPES, {"t": ("bpe", "word")}) is expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t + 1", "'t' is a string"),
        ("h // d", "'//' needs whole numbers"),
        ("not h", "'not' needs a condition"),
        ("h > 1 + (a > 2)", "'a > 2' is a condition"),
        ("t == 'unigram'", "'unigram' is not a choice of 't'"),
        ("t in ['bpe', 'x']", "'x' is not a choice of 't'"),
        ("t == h", "compares a string ('t') with a number ('h')"),
    ],
)
def test_type_errors(text, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        infer_type(parse_expression(text), TYPES, {"t": ("bpe", "word")})


@pytest.mark.parametrize(
    "text",
    [
        "x.y", "x[0]", "f(x)", "lambda: 1", "[x for x in y]", "f'{x}'", "x if y else z",
        "(x := 1)", "__x", "x ** y", "x ** -1", "x ** 2.0", "x ** 9", "~x", "x @ y", "x | y",
        "x is y", "{1: 2}", "{1}", "(1, 2)", "True", "None", "b'x'", "1j", "*x", "...",
        "min(*x)", "abs(x, y)", "max()", "x in y", "x in []", "1 < x in [1]", "", "   ",
        "x = 1", "import os", "x;y",
    ],
)  # fmt: skip
def test_rejected_syntax(text):
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_rejection_quotes_the_offending_part():
    with pytest.raises(ExpressionError) as raised:
        parse_expression("hidden_size > 2 and os.system('rm -rf /') == 0")
    assert "'os.system('rm -rf /')'" in raised.value.message
    assert raised.value.offset == len("hidden_size > 2 and ")


def test_division_by_zero_is_an_expression_error():
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate_expression(parse_expression("h / (a - 12)"), VALUES)


def test_walkers_do_not_recurse():
    # 60 nested operations are allowed; walkers use an explicit stack either way.
    text = "(" * 60 + "h" + " + 1)" * 60
    assert evaluate_expression(parse_expression(text), VALUES) == 768 + 60


_NAMES = st.sampled_from(["h", "a", "n"])
_NUMBERS = st.one_of(st.integers(0, 50), st.sampled_from(["0.5", "1.25", "2e-1"]))


def _terms() -> st.SearchStrategy[str]:
    leaf = st.one_of(_NAMES, _NUMBERS.map(str))
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
            inner.map(lambda t: f"-{t}"),
            st.tuples(inner, inner).map(lambda t: f"min({t[0]}, {t[1]})"),
            inner.map(lambda t: f"abs({t})"),
        ),
        max_leaves=8,
    )


@settings(max_examples=150, deadline=None)
@given(_terms(), st.sampled_from(["<", "<=", "==", "!=", ">", ">="]), _terms())
def test_printing_round_trips_and_preserves_meaning(left, operator, right):
    expression = parse_expression(f"{left} {operator} {right}")
    printed = to_text(expression)
    assert parse_expression(printed) == expression
    assert evaluate_expression(parse_expression(printed), VALUES) == evaluate_expression(expression, VALUES)
