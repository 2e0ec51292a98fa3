"""Reading the fields of a run file's JSON document: each check names the field it refuses.

``from_dict`` of every record (``_records``, ``_students_records``) reads through these, so a
damaged or hand-edited file is refused with the first field that is missing or of the wrong
type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["get_field", "kind_name", "as_object", "rest_of", "texts_of", "is_number", "scores_of", "numbers_of", "optional_number", "optional_int", "optional_flag", "without_none"]


def get_field(data: Mapping[str, Any], key: str, kinds: type | tuple[type, ...], *, optional: bool = False) -> Any:
    """``data[key]`` checked against ``kinds`` (``None`` allowed when ``optional``); bools are
    not numbers."""
    if key not in data:
        if optional:
            return None
        raise ValueError(f"'{key}' is missing")
    value = data[key]
    if value is None and optional:
        return None
    numeric = kinds == (int, float)
    if isinstance(value, bool) and kinds is not bool and not (isinstance(kinds, tuple) and bool in kinds):
        raise ValueError(f"'{key}' is {value!r}, not a {kind_name(kinds)}")
    if numeric and isinstance(value, int):
        return float(value)
    if not isinstance(value, kinds):
        raise ValueError(f"'{key}' is {type(value).__name__} {str(value)[:40]!r}, not a {kind_name(kinds)}")
    return value


def kind_name(kinds: type | tuple[type, ...]) -> str:
    """What a JSON reader calls ``kinds`` (a mapping, a whole number, ...)."""
    names = {dict: "mapping", list: "list", str: "string", int: "whole number", float: "number", bool: "boolean"}
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    return " or ".join(dict.fromkeys(names.get(kind, kind.__name__) for kind in kinds))


def as_object(data: Any, what: str) -> Mapping[str, Any]:
    """``data`` when it is a JSON object; ``what`` names it otherwise."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} is a {type(data).__name__}, not a JSON object")
    return data


def rest_of(data: Mapping[str, Any], known: Sequence[str]) -> dict[str, Any]:
    """The fields of ``data`` a record does not type (its ``extra``, written back as read)."""
    return {key: value for key, value in data.items() if key not in known}


def texts_of(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """An optional list of strings (missing in records written before it existed: empty)."""
    values = data.get(key, [])
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"'{key}' is {values!r}, not a list of texts")
    return tuple(values)


def is_number(value: Any) -> bool:
    """A JSON number (a bool is not one)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def scores_of(data: Mapping[str, Any], key: str) -> dict[str, float | None]:
    """``data[key]``: a mapping of metric names to numbers (or ``None``: not measured)."""
    return numbers_of(get_field(data, key, dict), key)


def numbers_of(data: Any, what: str) -> dict[str, float | None]:
    """A JSON object of numbers (or ``None``) by name."""
    data = as_object(data, what)
    for name, value in data.items():
        if value is not None and not is_number(value):
            raise ValueError(f"'{what}.{name}' is {value!r}, not a number")
    return dict(data)


def optional_number(data: Mapping[str, Any], key: str) -> float | None:
    """``data[key]`` as a float, or ``None`` when it is absent or null."""
    value = get_field(data, key, (int, float), optional=True)
    return None if value is None else float(value)


def optional_int(data: Mapping[str, Any], key: str) -> int | None:
    """``data[key]`` as a whole number, or ``None`` when it is absent or null."""
    value = get_field(data, key, int, optional=True)
    return None if value is None else int(value)


def optional_flag(data: Mapping[str, Any], key: str) -> bool | None:
    """``data[key]`` as a flag (written as a boolean or as 0 and 1), or ``None`` when it is absent or null."""
    value = get_field(data, key, (int, float, bool), optional=True)
    return None if value is None else bool(value)


def without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` without the entries that are ``None``: optional parts a record leaves out."""
    return {key: value for key, value in values.items() if value is not None}
