"""The typed, immutable ``Spec`` and its parts.

Locations and the source path are not part of equality, so the YAML and JSON forms of one
spec compare equal. Every record converts to plain JSON data with ``to_dict``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._errors import Location
from ._frozen import FrozenDict
from ._settings import ExecutionSettings, ModelSettings, OutputSettings, SearchSettings, TaskSettings, TrainSettings
from ._syntax import Expr
from ._walkers import ValueType

__all__ = [
    "ParameterKind",
    "Scalar",
    "Parameter",
    "Constant",
    "Derived",
    "Constraint",
    "Objective",
    "EstimatorSettings",
    "NAMED_DATA",
    "Spec",
]

ParameterKind = Literal["integer", "real", "ordinal", "categorical"]
Scalar = int | float | str


@dataclass(frozen=True)
class Parameter:
    """A searched parameter and its finite, ordered list of values.

    ``kind`` is ``integer`` or ``real`` for ranges, ``ordinal`` for numeric choices (kept
    sorted by value) and ``categorical`` for string choices (kept in written order).
    """

    name: str
    kind: ParameterKind
    values: tuple[Scalar, ...]
    declaration: FrozenDict = field(default_factory=FrozenDict)
    location: Location = field(default=Location(), compare=False)

    @property
    def size(self) -> int:
        return len(self.values)

    @property
    def value_type(self) -> ValueType:
        if self.kind == "categorical":
            return ValueType.STRING
        return ValueType.INTEGER if all(type(value) is int for value in self.values) else ValueType.REAL

    @property
    def numbers(self) -> tuple[int | float, ...]:
        """The values of a numeric parameter (ValueError for a categorical one)."""
        numbers = tuple(value for value in self.values if not isinstance(value, str))
        if len(numbers) != len(self.values):
            raise ValueError(f"parameter '{self.name}' is categorical")
        return numbers

    @property
    def is_ordered(self) -> bool:
        """Whether neighbouring values are similar (ranges, numeric choices)."""
        return self.kind != "categorical"

    def describe(self) -> str:
        """A short text of the domain as the user declared it."""
        declaration = self.declaration
        if "choices" in declaration:
            return "{" + ", ".join(str(value) for value in declaration["choices"]) + "}"
        low, high = declaration["range"]
        text = f"[{low}, {high}]"
        if declaration.get("log"):
            text += f" log, {self.size} points"
        elif "step" in declaration:
            text += f" step {declaration['step']}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "size": self.size, "domain": self.describe(), "declaration": dict(self.declaration)}


@dataclass(frozen=True)
class Constant:
    """A named value from the spec's ``constants`` section, usable in every expression."""

    name: str
    value: Scalar
    location: Location = field(default=Location(), compare=False)


@dataclass(frozen=True)
class Derived:
    """A named expression; ``value_type`` is inferred by the loader."""

    name: str
    text: str
    expression: Expr
    value_type: ValueType | None = None
    location: Location = field(default=Location(), compare=False)


@dataclass(frozen=True)
class Constraint:
    """A named condition every solution must meet."""

    name: str
    text: str
    expression: Expr
    location: Location = field(default=Location(), compare=False)


@dataclass(frozen=True)
class Objective:
    """One metric to minimise or maximise (``objectives`` section)."""

    metric: str
    direction: Literal["minimize", "maximize"]
    location: Location = field(default=Location(), compare=False)


@dataclass(frozen=True)
class EstimatorSettings:
    """Spec-level settings of one metric's estimator (``class`` reference and options)."""

    metric: str
    reference: str | None = None
    options: FrozenDict = field(default_factory=FrozenDict)
    location: Location = field(default=Location(), compare=False)


NAMED_DATA = ("builtin:", "hf:")  # data named rather than found on disk


@dataclass(frozen=True)
class Spec:
    """A validated spec. Build it with ``avatar.specs.load``; never mutate it."""

    name: str
    task: TaskSettings
    parameters: tuple[Parameter, ...]
    objectives: tuple[Objective, ...]
    constants: tuple[Constant, ...] = ()
    derived: tuple[Derived, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    estimators: tuple[EstimatorSettings, ...] = ()
    model: ModelSettings = ModelSettings()
    search: SearchSettings = SearchSettings()
    train: TrainSettings = TrainSettings()
    execution: ExecutionSettings = ExecutionSettings()
    output: OutputSettings = OutputSettings()
    description: str = ""
    source: str = field(default="<string>", compare=False)
    data: FrozenDict = field(default_factory=FrozenDict, compare=False, repr=False)
    locations: FrozenDict = field(default_factory=FrozenDict, compare=False, repr=False)

    def locate(self, path: tuple[str | int, ...]) -> Location:
        """Where the field at ``path`` (or its nearest written parent) is in the source file."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.locations:
                location: Location = self.locations[path[:end]]
                return location
        return Location()

    @property
    def grid_size(self) -> int:
        """Number of points in the full grid (the product of the domain sizes)."""
        return math.prod(parameter.size for parameter in self.parameters)

    def parameter(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(parameter.name for parameter in self.parameters)

    def task_data(self, override: str | None = None) -> str:
        """Where the task's data is: ``override`` (e.g. ``--data``) as given, else
        ``task.data`` with a relative path taken from the spec's folder; ``builtin:`` and
        ``hf:`` names are returned unchanged."""
        if override is not None:
            return override if override.startswith(NAMED_DATA) else str(Path(override).expanduser())
        if self.task.data.startswith(NAMED_DATA):
            return self.task.data
        return self.resolve_path(self.task.data)

    def resolve_path(self, value: str) -> str:
        """A path written in the spec: relative ones are taken from the spec's folder."""
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else Path(self.source).parent / path)

    def names_used(self, names: Iterable[str]) -> set[str]:
        """``names`` and every name their derived names use, transitively."""
        from ._walkers import names_in

        derived = {item.name: item.expression for item in self.derived}
        found: set[str] = set()
        pending = list(names)
        while pending:
            name = pending.pop()
            if name in found:
                continue
            found.add(name)
            if name in derived:
                pending += names_in(derived[name])
        return found

    @property
    def constant_values(self) -> dict[str, Scalar]:
        return {constant.name: constant.value for constant in self.constants}

    def to_dict(self) -> dict[str, Any]:
        """The spec as the user wrote it (after validation), as plain JSON data."""
        thawed: dict[str, Any] = _thaw(self.data)
        return thawed


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thaw(item) for item in value]
    return value
