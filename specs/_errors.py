"""Structured spec errors: every problem knows its file, line, column and field path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AvatarError", "Location", "UNKNOWN_LOCATION", "Problem", "SpecError", "format_path", "describe_error"]


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based line and column in a spec file; ``line`` is ``None`` when unknown."""

    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return ""
        return f"{self.line}:{self.column or 1}"


UNKNOWN_LOCATION = Location()  # where a place in the file is not known


def format_path(path: Iterable[str | int]) -> str:
    """Render a field path the way users write it: ``space.hidden_size.range[1]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a spec, phrased as one sentence a user can act on."""

    file: str
    location: Location
    path: tuple[str | int, ...]
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.location.line is not None:
            where += f":{self.location}"
        field_path = format_path(self.path)
        text = f"{where}: {field_path}: {self.message}" if field_path else f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.location.line or 0, self.location.column or 0)


class AvatarError(Exception):
    """Base of every error Avatar reports to its user rather than as a bug: an invalid spec, an
    infeasible or undecided space, a run that cannot start or go on, a broken plugin, data or a
    teacher that cannot be used. ``except AvatarError`` catches all of them and nothing else.
    ``exit_code`` is what ``solve`` exits with when one ends a run (2 unless a kind says otherwise)."""

    exit_code: int = 2


@dataclass
class SpecError(AvatarError):
    """A spec is invalid. Holds every problem found, in line order.

    ``str(error)`` gives one line per problem, each reading
    ``FILE:LINE:COL: FIELD.PATH: message (hint)``.
    """

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.problems = sorted(self.problems, key=lambda problem: problem.sort_key)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)

    def __reduce__(self) -> tuple[type[SpecError], tuple[list[Problem]]]:
        return (type(self), (self.problems,))


def describe_error(error: BaseException, *, with_arguments: bool = False) -> str:
    """``Type: message`` (or ``Type(arguments)``), or the type's name alone when the message is
    empty or cannot be had: plugin code may raise an exception whose ``__str__`` itself raises,
    and a message about it must never raise in turn."""
    name = getattr(type(error), "__name__", "an exception")
    if with_arguments:
        arguments = getattr(error, "args", ())
        shown = ", ".join(_safe_text(repr, argument) or "?" for argument in (arguments if isinstance(arguments, tuple) else ()))
        return f"{name}({shown})"
    text = _safe_text(str, error)
    return f"{name}: {text}" if text else name


def _safe_text(render: Any, value: Any) -> str:
    try:
        text = render(value)
    except Exception:  # noqa: BLE001 - rendering a plugin's object runs the plugin's code
        return ""
    return text if isinstance(text, str) else ""
