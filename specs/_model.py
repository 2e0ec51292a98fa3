"""The typed, immutable ``Spec`` and its parts.

Locations and the source path are not part of equality, so the YAML and JSON forms of one
spec compare equal. Every record converts to plain JSON data with ``to_dict``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from ._errors import Location
from ._syntax import Expr
from ._walkers import ValueType

__all__ = [
    "FrozenDict",
    "Parameter",
    "Constant",
    "Derived",
    "Constraint",
    "Objective",
    "EstimatorSettings",
    "SplitSettings",
    "FieldSettings",
    "PAIR_KINDS",
    "NAMED_DATA",
    "TaskSettings",
    "ModelSettings",
    "SearchSettings",
    "TeacherSettings",
    "TrainSettings",
    "ExecutionSettings",
    "OutputSettings",
    "Spec",
]

ParameterKind = Literal["integer", "real", "ordinal", "categorical"]
Scalar = int | float | str


class FrozenDict(Mapping[Any, Any]):
    """A read-only, hashable, picklable mapping for option tables inside a frozen spec."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[Any, Any] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, key: Any) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(repr(sorted(self._items.items(), key=lambda item: item[0])))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        return f"FrozenDict({self._items!r})"

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[Any, Any]]]:
        return (FrozenDict, (self._items,))


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


@dataclass(frozen=True)
class SplitSettings:
    """How the data is split: shares of validation, test and labelled examples, and the seed."""

    valid: float = 0.1
    test: float = 0.2
    labeled: float = 0.5
    seed: int = 42


PAIR_KINDS = ("pair", "clone")


@dataclass(frozen=True)
class FieldSettings:
    """Which field of a row holds what (``task.fields``); the defaults are CodeXGLUE's names."""

    text: str = "func"
    texts: tuple[str, str] | None = None
    ids: tuple[str, str] | None = None
    label: str = "target"
    id: str | None = None
    function_id: str = "idx"
    function_text: str = "func"


@dataclass(frozen=True)
class TaskSettings:
    """The task (``classify`` one text or a ``pair`` of texts; ``defect`` and ``clone`` are their
    CodeXGLUE presets), its classes, its data (location, fields, splits) and an optional cap on
    examples."""

    kind: Literal["defect", "clone", "classify", "pair"]
    data: str
    split: SplitSettings = SplitSettings()
    max_examples: int | None = None
    labels: tuple[str | int, ...] | None = None
    fields: FieldSettings = FieldSettings()
    functions: str | None = None
    unlabeled: str | None = None  # classify/defect: unlabelled code the teacher labels (a table)
    config: str | None = None
    split_names: FrozenDict = field(default_factory=FrozenDict)

    @property
    def is_pair(self) -> bool:
        """Whether an example is two texts (``pair``, ``clone``) rather than one."""
        return self.kind in PAIR_KINDS

    @property
    def num_labels(self) -> int:
        return len(self.labels) if self.labels else 2

    @property
    def fields_given(self) -> bool:
        """Whether ``task.fields`` maps the data (else the CodeXGLUE layouts and names apply)."""
        return self.fields != FieldSettings()


@dataclass(frozen=True)
class ModelSettings:
    """The student's model family and how it is measured: dtype, device and CPU threads."""

    family: str = "roberta"
    dtype: Literal["fp32", "fp16", "int8"] = "fp32"
    device: str = "cpu"
    threads: int = 1


@dataclass(frozen=True)
class SearchSettings:
    """The search: algorithm, population, budget, time limits, failure limit and seed."""

    algorithm: str = "auto"
    population: int = 20
    evaluations: int = 1000
    time_limit: float | None = None
    evaluation_timeout: float | None = None
    max_identical_failures: int = 10
    seed: int = 42


@dataclass(frozen=True)
class TeacherSettings:
    """The teacher model (a Hugging Face id or folder), how it is fine-tuned (up to ``epochs``,
    stopping after ``patience`` epochs without a better validation ROC AUC), and whether a teacher
    that predicts (almost) one class may still be distilled from (``accept_weak``). ``finetune``:
    ``auto`` uses a classifier that already has the task's labels as it is, ``always`` fine-tunes
    every teacher, ``never`` refuses one without such a head."""

    model: str | None = None
    epochs: int = 10
    patience: int = 3
    learning_rate: float = 2e-5
    batch_size: int = 16
    max_length: int = 256
    accept_weak: bool = False
    finetune: str = "auto"
    # Not in the repr, which keys the fine-tuned teachers' cache: they do not shape fine-tuning.
    predictions: str | None = field(default=None, repr=False)
    prediction_ids: str | None = field(default=None, repr=False)
    outputs: str = field(default="logits", repr=False)
    size_mb: float | None = field(default=None, repr=False)
    latency_ms: float | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """How the teacher is called in messages and reports: its model, else its predictions file."""
        return self.model or f"predictions {self.predictions}"


@dataclass(frozen=True)
class TrainSettings:
    """How selected points are realised: teacher, selection, distillation and export options."""

    teacher: TeacherSettings | None = None
    select: str | int = "knee"
    epochs: int = 10
    patience: int = 3
    temperature: float = 2.0
    distill: FrozenDict | None = None  # {method: weight}; None: the default, which the teacher decides (``default_methods``)
    augment: int = 0  # rewrites per training function added to the distillation split
    transfer_pairs: int = 0  # pair tasks: new pairs of the distillation split's functions, labelled by the teacher
    pretrain_epochs: int | str = 0  # masked-token pretraining of each student's encoder on the task's code (0: from scratch; "auto"; ``pretraining_epochs``)
    hard_label_weight: float = 0.0
    tune_threshold: bool = True
    restarts: int = 1
    seed: int = 42
    onnx: bool = False
    quantize: bool = False

    def pretraining_epochs(self, *, probe: bool) -> int:
        """The masked-token pretraining epochs of a realised student's encoder, or (``probe``) of
        a probe's: ``auto`` pretrains students (``AUTO_PRETRAIN_EPOCHS``) and not probes, which
        it would make several times dearer; a number applies to both. Not the default: it
        raised the AUC kept above chance on BigCloneBench and the hard set, and lowered it on
        the quick start's set (bench/README, ``transfer.py``)."""
        if self.pretrain_epochs == "auto":
            return 0 if probe else AUTO_PRETRAIN_EPOCHS
        return int(self.pretrain_epochs)


AUTO_PRETRAIN_EPOCHS = 3


@dataclass(frozen=True)
class ExecutionSettings:
    """Where evaluations run: local worker processes (``jobs``) or a Dask scheduler."""

    jobs: int = 1
    scheduler: str | None = None


@dataclass(frozen=True)
class OutputSettings:
    """Where the run directory goes (``output.dir``; ``--out`` overrides it)."""

    dir: str | None = None


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


SettingsT = TypeVar("SettingsT")


def settings_from(cls: type[SettingsT], values: Mapping[str, Any]) -> SettingsT:
    """Build a settings dataclass from a validated mapping, ignoring unknown keys."""
    names = {item.name for item in dataclasses.fields(cls)}  # type: ignore[arg-type]  # every settings class is a dataclass
    return cls(**{key: value for key, value in values.items() if key in names})
