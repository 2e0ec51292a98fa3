"""Examples from table rows, through the spec's ``task.fields`` and ``task.labels``.

A row gives one text (``classify``, ``defect``) or two (``pair``, ``clone``: two text fields,
or two ids into a table of functions), a label and an id. Labels are matched by value
(``'vulnerable'``) and, as integers, by position. Every problem names the row (file and line
or row number) and the spec field that maps it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from avatar.specs import TaskSettings

from ._tables import DataError, Row, read_table

__all__ = ["LabelMap", "examples_from_rows", "unlabelled_examples_from_rows", "read_functions", "UNLABELLED_PREFIX"]

UNLABELLED_PREFIX = "unlabeled/"  # the ids of task.unlabeled's examples (a predictions file keys them so)

_ASCII_INTEGER = re.compile(r"-?[0-9]{1,18}")


class LabelMap:
    """How a label value in the data becomes a class index: by name (``task.labels``), else as
    an integer position (``0 .. N-1``)."""

    def __init__(self, labels: Sequence[str | int] | None, num_labels: int) -> None:
        self.labels = tuple(labels) if labels else None
        self.num_labels = num_labels
        self._by_name = {str(name): index for index, name in enumerate(self.labels or ())}

    def index(self, value: Any, row: Row, field: str) -> int:
        """The class index of ``value``.

        Raises:
            DataError: a value that is no label of the task, naming the row and the field.
        """
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip() if value is not None else ""
        if text in self._by_name:
            return self._by_name[text]
        if _ASCII_INTEGER.fullmatch(text) and 0 <= int(text) < self.num_labels:  # "²" and "٣" are digits to isdigit, not to int
            return int(text)
        known = ", ".join(repr(name) for name in self.labels) if self.labels else f"0 .. {self.num_labels - 1}"
        hint = "name the classes in task.labels" if not self.labels else "add it to task.labels, or fix the row"
        raise DataError(f"{row.where}: label {value!r} (field '{field}') is not one of the task's labels ({known}): {hint}", ("task", "labels"))


def _field(row: Row, name: str, key: str) -> Any:
    if name not in row.values:
        columns = ", ".join(sorted(map(str, row.values)))[:200]
        raise DataError(f"{row.where}: no field '{name}' (task.fields.{key}; this row has: {columns})", ("task", "fields", key))
    return row.values[name]


def _text(row: Row, name: str, key: str) -> str:
    value = _field(row, name, key)
    if not isinstance(value, str):
        raise DataError(f"{row.where}: field '{name}' (task.fields.{key}) holds {type(value).__name__} {str(value)[:40]!r}, not a text", ("task", "fields", key))
    return value


def _digest(text: str) -> str:
    """A function's identity when the data gives only its text: equal texts are one function."""
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def read_functions(path: Path, task: TaskSettings) -> dict[str, str]:
    """The table of functions that pair ids point into: ``{id: text}``.

    Raises:
        DataError: a missing file or field, or an id given twice.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file (task.functions)", ("task", "functions"))
    fields = task.fields
    functions: dict[str, str] = {}
    for row in read_table(path):
        identifier = str(_field(row, fields.function_id, "function_id"))
        if identifier in functions:
            raise DataError(f"{row.where}: function id {identifier} appears twice in the table of functions", ("task", "functions"))
        functions[identifier] = _text(row, fields.function_text, "function_text")
    return functions


def examples_from_rows(rows: Sequence[Row], task: TaskSettings, functions: Mapping[str, str] | None = None) -> list:
    """One ``Example`` per row: its text(s), class index, groups (function identities, which a
    split keeps on one side) and id.

    Raises:
        DataError: a missing or malformed field, an unknown label, an id not in the table.
    """
    from ._task_data import Example  # _data reads through this module

    fields, labels = task.fields, LabelMap(task.labels, task.num_labels)
    examples = []
    for row in rows:
        label = labels.index(_field(row, fields.label, "label"), row, fields.label)
        given_id = _given_id(row, fields.id)
        if task.is_pair and fields.ids:
            keys = tuple(str(_field(row, name, "ids")) for name in fields.ids)
            for key, name in zip(keys, fields.ids):
                if functions is None or key not in functions:
                    raise DataError(f"{row.where}: function id {key} (field '{name}') is not in the table of functions (task.functions)", ("task", "fields", "ids"))
            assert functions is not None  # every key was looked up in it just above
            examples.append(Example(tuple(functions[key] for key in keys), label, keys, given_id or "/".join(keys)))
        elif task.is_pair:
            if not fields.texts:
                raise DataError(f"{row.where}: a pair task needs task.fields.texts (two text fields) or task.fields.ids (two ids into task.functions)", ("task", "fields"))
            texts = tuple(_text(row, name, "texts") for name in fields.texts)
            examples.append(Example(texts, label, tuple(_digest(text) for text in texts), given_id or row.default_id))
        else:
            identifier = given_id or row.default_id
            examples.append(Example((_text(row, fields.text, "text"),), label, (identifier,), identifier))
    return examples


def unlabelled_examples_from_rows(rows: Sequence[Row], task: TaskSettings) -> list:
    """One ``Example`` per row of ``task.unlabeled``: its text (``task.fields.text``) and id
    (``unlabeled/`` and the row's id); the label is the first class until the teacher labels it.

    Raises:
        DataError: a row without the text field, or one whose text is not a text.
    """
    from ._task_data import Example

    examples = []
    for row in rows:
        text = _text(row, task.fields.text, "text")
        identifier = _given_id(row, task.fields.id) or row.default_id
        examples.append(Example((text,), 0, (identifier,), f"{UNLABELLED_PREFIX}{identifier}"))
    return examples


def _given_id(row: Row, field: str | None) -> str | None:
    """The row's id: the ``task.fields.id`` field, else CodeXGLUE's ``idx`` when there is one."""
    if field is not None:
        return str(_field(row, field, "id"))
    value = row.values.get("idx")
    return None if value is None else str(value)
