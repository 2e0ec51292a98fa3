"""The spec's JSON Schema, and its errors phrased for people.

jsonschema's own messages name Python reprs and schema keywords; ours say what was
expected and what was got, where, with a "did you mean" hint for misspelt names.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

__all__ = ["SCHEMA_PATH", "schema", "SchemaIssue", "schema_issues", "did_you_mean", "describe_value"]

SCHEMA_PATH = Path(__file__).with_name("schema.json")

_TYPE_NAMES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "null": "nothing",
}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The spec's JSON Schema (draft 2020-12) as a dict."""
    document: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return document


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation; ``at_key`` means the location is the key, not its value."""

    path: tuple[str | int, ...]
    message: str
    hint: str | None = None
    at_key: bool = False


def schema_issues(data: Any) -> list[SchemaIssue]:
    """Every schema violation in ``data``, phrased for people."""
    issues: list[SchemaIssue] = []
    for error in _validator().iter_errors(data):
        for issue in _explain(error):
            if issue not in issues:
                issues.append(issue)
    return issues


def did_you_mean(word: str, candidates: Any) -> str | None:
    """A hint naming the closest candidate, if one is close."""
    matches = difflib.get_close_matches(str(word), [str(candidate) for candidate in candidates], n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def describe_value(value: Any) -> str:
    """How a value reads in a message: ``the string 'abc'``, ``the number 3``, ``a list``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string '{shown}'"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return "a mapping"


def _expected(error: ValidationError, default: str) -> str:
    return error.schema.get("x-expected", default) if isinstance(error.schema, dict) else default


def _explain(error: ValidationError) -> Iterator[SchemaIssue]:
    path = tuple(error.absolute_path)
    keyword = error.validator
    value = error.validator_value
    instance = error.instance
    if "propertyNames" in error.schema_path:
        yield SchemaIssue(path + (instance,), f"'{instance}' is not a valid name: expected {_expected(error, 'a name')}", at_key=True)
    elif keyword == "additionalProperties":
        yield from _unknown_fields(error, path)
    elif keyword == "required":
        field = re.match(r"'([^']*)'", error.message)
        name = field.group(1) if field else error.message
        yield SchemaIssue(path + (name,), f"missing required field '{name}'")
    elif keyword == "type":
        types = value if isinstance(value, list) else [value]
        wanted = " or ".join(_TYPE_NAMES.get(item, str(item)) for item in types)
        yield SchemaIssue(path, f"expected {wanted}, got {describe_value(instance)}")
    elif keyword == "enum":
        options = ", ".join(str(option) for option in value)
        yield SchemaIssue(path, f"expected one of {options}; got {describe_value(instance)}", did_you_mean(instance, value))
    elif keyword in _BOUNDS:
        yield SchemaIssue(path, f"expected a value {_BOUNDS[keyword]} {value}, got {instance}")
    elif keyword in ("minItems", "maxItems"):
        yield SchemaIssue(path, f"expected {_expected(error, f'{value} items')}, got {describe_value(instance)}")
    elif keyword == "minProperties":
        yield SchemaIssue(path, "expected at least one entry, got none")
    elif keyword == "minLength":
        yield SchemaIssue(path, "must not be empty")
    elif keyword == "pattern":
        yield SchemaIssue(path, f"expected {_expected(error, 'text matching ' + value)}, got {describe_value(instance)}")
    elif keyword in ("anyOf", "oneOf"):
        yield SchemaIssue(path, f"expected {_expected(error, 'a valid value')}, got {describe_value(instance)}")
    else:
        yield SchemaIssue(path, error.message)


_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


def _unknown_fields(error: ValidationError, path: tuple[str | int, ...]) -> Iterator[SchemaIssue]:
    known = list(error.schema.get("properties", {}))
    for key in error.instance:
        if key not in known:
            yield SchemaIssue(
                path + (key,),
                f"unknown field '{key}'",
                did_you_mean(key, known) or (f"expected one of {', '.join(known)}" if known else None),
                at_key=True,
            )
