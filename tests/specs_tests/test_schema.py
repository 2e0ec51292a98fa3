"""The JSON Schema is valid, documented for editors, and agrees with the typed defaults."""

from __future__ import annotations

import dataclasses

import pytest
from jsonschema import Draft202012Validator

from avatar.specs import (
    ExecutionSettings,
    ModelSettings,
    SearchSettings,
    SplitSettings,
    TeacherSettings,
    TrainSettings,
    schema,
)


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _properties(node, path=()):
    """Every named property in the schema, with its path."""
    if isinstance(node, dict):
        for name, child in node.get("properties", {}).items():
            yield path + (name,), child
        for key, child in node.items():
            yield from _properties(child, path + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _properties(child, path + (index,))


def test_every_property_has_a_description():
    missing = [".".join(map(str, path)) for path, child in _properties(schema()) if "description" not in child]
    assert not missing


@pytest.mark.parametrize(
    ("section", "cls"),
    [
        (("model",), ModelSettings),
        (("search",), SearchSettings),
        (("train",), TrainSettings),
        (("execution",), ExecutionSettings),
        (("task", "split"), SplitSettings),
        (("train", "teacher"), TeacherSettings),
    ],
    ids=lambda value: ".".join(value) if isinstance(value, tuple) else value.__name__,
)
def test_schema_defaults_match_dataclass_defaults(section, cls):
    node = schema()
    for key in section:
        node = node["properties"][key]
    defaults = {field.name: field.default for field in dataclasses.fields(cls) if field.default is not dataclasses.MISSING}
    for name, child in node["properties"].items():
        if "default" in child:
            assert defaults[name] == child["default"], name
