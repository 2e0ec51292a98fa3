"""Reading YAML and JSON: YAML 1.2 scalars, positions, and what a spec may not use."""

from __future__ import annotations

import pytest

from avatar.specs._document import DocumentError, parse_document


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", 0.001),
        ("1.0e-3", 0.001),
        ("5", 5),
        ("-7", -7),
        ("0x10", 16),
        ("yes", "yes"),
        ("on", "on"),
        ("true", True),
        ("~", None),
        ("2024-01-01", "2024-01-01"),
        ("'12'", "12"),
        ('"1e-3"', "1e-3"),
        ("bpe", "bpe"),
    ],
)
def test_yaml_scalars_follow_yaml_1_2(text, value):
    assert parse_document(f"x: {text}\n", "yaml").data == {"x": value}


def test_positions_of_keys_and_values():
    document = parse_document("a:\n  b: [1, 2]\n  c: {d: x}\n", "yaml")
    assert str(document.locate(("a", "b", 1))) == "2:10"
    assert str(document.locate(("a", "c"), key=True)) == "3:3"
    assert str(document.locate(("a", "c", "d"))) == "3:10"
    assert str(document.locate(("a", "missing", 3))) == "2:3"


def test_text_start_accounts_for_quotes():
    document = parse_document("a: 'x + y'\nb: x + y\n", "yaml")
    assert str(document.locate_in_text(("a",), 4)) == "1:9"
    assert str(document.locate_in_text(("b",), 4)) == "2:8"


def test_json_positions_come_from_the_text():
    document = parse_document('{\n\t"a": {\n\t\t"b": [1, 2]\n\t}\n}\n', "json")
    assert document.data == {"a": {"b": [1, 2]}}
    assert document.locate(("a", "b", 1)).line == 3


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ('{"a": 1, "a": 2}', "json", "duplicate key 'a'"),
        ('{"a": NaN}', "json", "not a number"),
        ("a: 1\na: 2\n", "yaml", "duplicate key 'a'"),
        ("? [a]\n: 1\n", "yaml", "a key must be a plain name"),
        ("a: !custom 1\n", "yaml", "YAML tag '!custom' is not supported"),
        ("a: .nan\n", "yaml", "not a number a spec may use"),
        ("a: " + "9" * 200 + "\n", "yaml", "too many digits"),
    ],
)
def test_rejected_documents(text, fmt, message):
    with pytest.raises(DocumentError, match=message):
        parse_document(text, fmt)
