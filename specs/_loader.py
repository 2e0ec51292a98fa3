"""``load``: read a spec file, validate it completely, and build the typed ``Spec``.

Validation collects every problem before raising, so a user fixes a file in one pass:
schema violations first, then what a schema cannot say (bounds, steps, names, cycles,
types). A part with a schema violation is skipped by the later checks, so one mistake is
not reported three times.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._builder import SpecBuilder
from ._document import MAX_FILE_BYTES, Document, DocumentError, parse_document
from ._errors import Location, Problem, SpecError
from ._metrics import registered_metric_names
from ._model import Spec

__all__ = ["load", "loads", "parse_override", "FORMATS"]

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
# Fields a spec may give as one string standing for a mapping: an override of one of their
# settings (``--set train.teacher.accept_weak=true``) expands the string first.
_SHORTHANDS: dict[tuple[str | int, ...], str] = {("train", "teacher"): "model"}


def load(path: str | os.PathLike[str], *, metrics: Iterable[str] | None = None, overrides: Mapping[str, Any] | None = None) -> Spec:
    """Load and validate a spec file (``.yaml``, ``.yml`` or ``.json``).

    Args:
        path: the spec file.
        metrics: metric names that expressions may use; by default the names registered
            in the ``avatar.objectives`` entry-point group (built-ins and installed plugins).
        overrides: values that replace the file's, by dotted field path
            (``{"search.evaluations": 20}``), validated like the rest (``solve --set``).

    Raises:
        SpecError: the file is missing, unreadable or invalid; lists every problem found.
    """
    filename = os.fspath(path)
    fmt = FORMATS.get(Path(filename).suffix.lower())
    if fmt is None:
        raise SpecError([Problem(filename, Location(), (), f"unsupported file type '{Path(filename).suffix}'; use .yaml, .yml or .json")])
    try:
        text = _read_spec_text(Path(filename))
    except FileNotFoundError:
        raise SpecError([Problem(filename, Location(), (), "no such file")]) from None
    except IsADirectoryError:
        raise SpecError([Problem(filename, Location(), (), "is a directory, not a spec file")]) from None
    except UnicodeDecodeError as error:
        raise SpecError([Problem(filename, Location(), (), f"is not UTF-8 text ({error.reason} at byte {error.start})")]) from None
    except OSError as error:
        raise SpecError([Problem(filename, Location(), (), f"cannot be read: {error.strerror}")]) from None
    except ValueError as error:
        raise SpecError([Problem(filename, Location(), (), str(error))]) from None
    return loads(text, format=fmt, filename=filename, metrics=metrics, overrides=overrides)


def _read_spec_text(path: Path) -> str:
    """The file's text; a FIFO, a device (``/dev/zero``) or a huge file is refused before it
    is read, so that reading can neither block nor fill the memory."""
    status = path.stat()
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(path)
    if not stat.S_ISREG(status.st_mode):
        raise ValueError("is not a regular file (a pipe, a device or a socket cannot be a spec)")
    with path.open("rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"the file is larger than the {MAX_FILE_BYTES // 1_000_000} MB a spec may have")
    return data.decode("utf-8-sig")  # a byte-order mark (editors on Windows write one) is not text


def parse_override(assignment: str) -> tuple[str, Any]:
    """``FIELD=VALUE`` (``solve --set``) as a field path and a value read like the spec file:
    YAML 1.2 rules (``yes`` is a string, ``1e3`` a number), the same limits on numbers, no
    NaN or infinity, no tags, no alias expansion beyond the spec's own limit.

    Raises:
        SpecError: naming ``--set`` and the field.
    """
    field, separator, text = assignment.partition("=")
    if not separator or not field.strip():
        raise SpecError([Problem("--set", Location(), (), f"'{assignment}' is not FIELD=VALUE (for example search.evaluations=50)")])
    field = field.strip()
    try:
        return field, parse_document(text, "yaml").data
    except DocumentError as error:
        raise SpecError([Problem("--set", Location(), tuple(field.split(".")), f"the value '{text[:40]}': {error.message}")]) from None


def loads(
    text: str,
    *,
    format: str = "yaml",
    filename: str = "<string>",
    metrics: Iterable[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Spec:
    """Validate spec text; ``filename`` is only used in messages. See ``load``."""
    try:
        document = parse_document(text, format)
    except DocumentError as error:
        raise SpecError([Problem(filename, error.location, error.path, error.message)]) from None
    for dotted, value in (overrides or {}).items():
        _override(document, filename, dotted, value)
    known_metrics = frozenset(registered_metric_names() if metrics is None else metrics)
    return SpecBuilder(document, filename, known_metrics).build()


def _override(document: Document, filename: str, dotted: str, value: Any) -> None:
    """Set one field by dotted path, creating the mappings on the way."""
    path = tuple(part for part in dotted.split("."))
    if not all(path) or not isinstance(document.data, dict):
        raise SpecError([Problem(filename, Location(), path, f"override '{dotted}': not a dotted field path such as search.evaluations")])
    target = document.data
    for depth, part in enumerate(path[:-1]):
        child = target.get(part)
        if child is None:
            child = target[part] = {}
        if isinstance(child, str) and path[: depth + 1] in _SHORTHANDS:  # `teacher: ID` is `teacher: {model: ID}`
            child = target[part] = {_SHORTHANDS[path[: depth + 1]]: child}
        if not isinstance(child, dict):
            raise SpecError([Problem(filename, document.locate(path[: depth + 1]), path[: depth + 1], f"override '{dotted}': this field is not a mapping")])
        target = child
    target[path[-1]] = value
