"""Read YAML or JSON into plain data while remembering where every value was written.

PyYAML's composer keeps a mark on each node; we build the Python values ourselves from the
node graph so that every field path maps to a line and column. Plain YAML scalars are
resolved with YAML 1.2 core-schema rules, so ``1e-3`` is a number (PyYAML's YAML 1.1 rules
read it as a string) and ``yes``/``on`` stay strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ._errors import UNKNOWN_LOCATION, Location
from ._limits import MAX_DIGITS, number_problem

__all__ = ["Document", "DocumentError", "parse_document", "MAX_FILE_BYTES"]

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 100_000
MAX_DEPTH = 100

Path = tuple[str | int, ...]

_INT = re.compile(r"[-+]?[0-9]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_OCT = re.compile(r"0o[0-7]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}
_YAML_TAG = "tag:yaml.org,2002:"
_COLLECTION_TAGS = {_YAML_TAG + "seq", _YAML_TAG + "map"}
_TAGGED = re.compile(r"(&\S+\s+)?!")  # an explicit tag, after an anchor if any (``!!map`` resolves like no tag)
_PLAIN_TAGS = {_YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "value", "yaml")}


class DocumentError(Exception):
    """The text is not a readable document; carries where the reader stopped."""

    def __init__(self, message: str, location: Location = UNKNOWN_LOCATION, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.path = path


@dataclass
class Document:
    """Plain data plus the location of each value and of each mapping key, by field path."""

    data: Any
    value_locations: dict[Path, Location] = field(default_factory=dict)
    key_locations: dict[Path, Location] = field(default_factory=dict)
    text_starts: dict[Path, Location] = field(default_factory=dict)

    def locate_in_text(self, path: Path, offset: int) -> Location:
        """Where character ``offset`` of a one-line string value was written."""
        start = self.text_starts.get(path)
        if start is None:
            return self.locate(path)
        return Location(start.line, (start.column or 1) + offset)

    def locate(self, path: Path, *, key: bool = False) -> Location:
        """Where ``path`` was written; falls back to the nearest written ancestor."""
        table = self.key_locations if key else self.value_locations
        if path in table:
            return table[path]
        for end in range(len(path) - 1, -1, -1):
            if path[:end] in self.value_locations:
                return self.value_locations[path[:end]]
        return Location()


def parse_document(text: str, fmt: str) -> Document:
    """Parse ``text`` as ``fmt`` ("yaml" or "json").

    Raises:
        DocumentError: the text is not valid YAML/JSON, is too large or too deep, or uses
            YAML features a spec must not use (tags, duplicate keys, complex keys).
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise DocumentError(f"the file is larger than the {MAX_FILE_BYTES // 1_000_000} MB a spec may have")
    if fmt == "json":
        return _parse_json(text)
    return _compose(text, strict=True)


def _parse_json(text: str) -> Document:
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_BadNumber.constant, parse_int=_json_int, parse_float=_json_float)
    except json.JSONDecodeError as error:
        raise DocumentError(f"invalid JSON: {error.msg}", Location(error.lineno, error.colno)) from None
    except _DuplicateKey as error:
        raise DocumentError(f"duplicate key '{error.key}'") from None
    except (ValueError, RecursionError) as error:
        raise DocumentError(f"invalid JSON: {error}") from None
    try:
        # Only the positions are taken from YAML; JSON is valid YAML once tabs (which JSON
        # allows as whitespace and which never occur unescaped in JSON strings) are spaces.
        positions = _compose(text.replace("\t", " "), strict=False)
    except DocumentError:
        positions = Document(None)
    for path, bad in _bad_numbers(data):
        raise DocumentError(bad.message, positions.locate(path), path)
    return Document(data, positions.value_locations, positions.key_locations, positions.text_starts)


class _BadNumber:
    """A JSON number a spec may not hold, kept in place until its line is known."""

    def __init__(self, message: str) -> None:
        self.message = message

    @classmethod
    def constant(cls, name: str) -> _BadNumber:
        return cls(f"'{name}' is not a number a spec may use")


def _json_int(text: str) -> int | _BadNumber:
    digits = text.lstrip("-")
    if len(digits) > MAX_DIGITS:
        return _BadNumber(f"the number {text[:20]}... has too many digits")
    value = int(text)
    problem = number_problem(value, text)
    return value if problem is None else _BadNumber(problem)


def _json_float(text: str) -> float | _BadNumber:
    value = float(text)
    problem = number_problem(value, text)
    return value if problem is None else _BadNumber(problem)


def _bad_numbers(data: Any) -> list[tuple[Path, _BadNumber]]:
    """Every refused number in parsed JSON, with its field path, in document order."""
    found: list[tuple[Path, _BadNumber]] = []
    stack: list[tuple[Path, Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _BadNumber):
            found.append((path, value))
        elif isinstance(value, dict):
            stack.extend((path + (key,), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((path + (index,), item) for index, item in reversed(list(enumerate(value))))
    return found


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _mark(mark: Any) -> Location:
    return Location(mark.line + 1, mark.column + 1)


def _compose(text: str, *, strict: bool) -> Document:
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        location = _mark(mark) if mark else Location()
        raise DocumentError(f"invalid YAML: {error.problem or error.context}", location) from None
    except yaml.reader.ReaderError as error:  # a character YAML forbids, e.g. NUL
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise DocumentError(f"invalid YAML: the control character U+{code:04X} is not allowed in a spec", Location(line, column)) from None
    except yaml.YAMLError as error:
        raise DocumentError(f"invalid YAML: {error}") from None
    except RecursionError:
        raise DocumentError("the document is nested too deeply") from None
    if len(nodes) > 1:
        raise DocumentError("the file holds more than one YAML document", _mark(nodes[1].start_mark))
    if not nodes:
        return Document(None)
    return _Builder(strict, text).build(nodes[0])


class _Builder:
    """Turns a composed node graph into data, iteratively (no recursion limit to hit)."""

    def __init__(self, strict: bool, text: str = "") -> None:
        self.strict = strict
        self.text = text
        self.document = Document(None)
        self.n_nodes = 0

    def build(self, root: yaml.Node) -> Document:
        holder: list[Any] = [None]
        stack: list[tuple[yaml.Node, Path, Any, Any]] = [(root, (), holder, 0)]
        while stack:
            node, path, container, slot = stack.pop()
            self.n_nodes += 1
            if self.n_nodes > MAX_NODES:
                raise DocumentError(f"the document has more than {MAX_NODES} values (are aliases expanding?)", _mark(node.start_mark), path[:1])
            if len(path) > MAX_DEPTH:  # also stops an alias that contains itself
                raise DocumentError(f"the document is nested more than {MAX_DEPTH} levels deep (does an alias contain itself?)", _mark(node.start_mark))
            self.document.value_locations[path] = _mark(node.start_mark)
            container[slot] = self._value(node, path, stack)
        self.document.data = holder[0]
        return self.document

    def _value(self, node: yaml.Node, path: Path, stack: list[tuple[yaml.Node, Path, Any, Any]]) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if self.strict and (node.tag not in _COLLECTION_TAGS or _TAGGED.match(self.text, node.start_mark.index)):
            tag = node.tag.replace(_YAML_TAG, "!!")
            raise DocumentError(f"YAML tag '{tag}' is not supported in a spec (write the list or mapping without a tag)", _mark(node.start_mark), path)
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = [None] * len(node.value)
            for index in reversed(range(len(node.value))):
                stack.append((node.value[index], path + (index,), items, index))
            return items
        return self._mapping(node, path, stack)

    def _mapping(self, node: yaml.MappingNode, path: Path, stack: list[tuple[yaml.Node, Path, Any, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        entries = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise DocumentError("a key must be a plain name, not a list or mapping", _mark(key_node.start_mark), path)
            if key_node.tag == _YAML_TAG + "merge":
                raise DocumentError("YAML merge keys ('<<') are not supported in a spec", _mark(key_node.start_mark), path)
            key = key_node.value if key_node.style else str(self._scalar(key_node, path))
            if key in result:
                raise DocumentError(f"duplicate key '{key}'", _mark(key_node.start_mark), path)
            result[key] = None
            self.document.key_locations[path + (key,)] = _mark(key_node.start_mark)
            entries.append((value_node, path + (key,), key))
        for value_node, child_path, key in reversed(entries):
            stack.append((value_node, child_path, result, key))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        if node.tag not in _PLAIN_TAGS:
            if self.strict:
                raise DocumentError(f"YAML tag '{node.tag.replace(_YAML_TAG, '!!')}' is not supported in a spec", _mark(node.start_mark), path)
            return node.value
        if node.start_mark.line == node.end_mark.line and node.style in (None, "'", '"'):
            quote_width = 0 if node.style is None else 1
            self.document.text_starts[path] = Location(node.start_mark.line + 1, node.start_mark.column + 1 + quote_width)
        if node.style is not None:  # quoted or block scalar: always a string
            return node.value
        if not self.strict:  # positions only (of a JSON text): its numbers were judged by the JSON reader
            return node.value
        return _resolve_plain(node.value, _mark(node.start_mark), path)


def _resolve_plain(text: str, location: Location, path: Path) -> Any:
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    for pattern, convert in ((_INT, int), (_HEX, lambda digits: int(digits, 16)), (_OCT, lambda digits: int(digits, 8)), (_FLOAT, float)):
        if pattern.fullmatch(text):
            if convert is not float and len(text) > MAX_DIGITS:
                raise DocumentError(f"the number {text[:20]}... has too many digits", location, path)
            value = convert(text)
            problem = number_problem(value, text)
            if problem is not None:
                raise DocumentError(problem, location, path)
            return value
    if text.lower() in {".inf", "+.inf", "-.inf", ".nan"}:
        raise DocumentError(f"'{text}' is not a number a spec may use", location, path)
    return text
