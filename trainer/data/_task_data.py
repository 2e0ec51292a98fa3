"""Task data: the examples of a task, read from the formats people have, and seeded splits.

* Tables (``_tables``): JSON lines, CSV, TSV, Parquet, Arrow, a folder saved by Hugging Face
  ``datasets`` or an ``hf:`` dataset, mapped to examples by ``task.fields`` and ``task.labels``
  (``_examples``). The CodeXGLUE names are the defaults, so Devign's ``func``/``target``/
  ``idx`` JSON lines need no mapping.
* ``clone``/``pair`` data in the CodeXGLUE BigCloneBench layout: ``data.jsonl`` with ``func``
  and ``idx``, and pair files ``idx1<TAB>idx2<TAB>label``.
* ``builtin:python-clones``, made from the Python standard library.

Data with its own splits (files or splits named train, valid or validation, test) keeps them;
a missing validation or test split is carved out of train, and pooled data is split here,
stratified by label, pairs *by function*: each function goes to one side and a pair crossing
sides is dropped, so no function is seen in training and test.

The training part is then split into a labelled share (fine-tunes the teacher) and an
unlabelled one (distilled on the teacher's outputs). Everything is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from avatar.specs import Spec, SplitSettings, TaskSettings

from ._examples import LabelMap, examples_from_rows, read_functions, unlabelled_examples_from_rows
from ._pair_split import split_pairs
from ._tables import HF_PREFIX, DataError, Row, read_table, read_tables

__all__ = ["Example", "TaskData", "DataError", "load_task_data", "read_examples", "split_examples", "split_task_examples", "BUILTIN_PREFIX"]

BUILTIN_PREFIX = "builtin:"


@dataclass(frozen=True)
class Example:
    """One labelled input: a text (classify, defect) or a pair of texts (pair, clone), its class
    index, and its ``id`` (what a teacher predictions file is keyed by).

    ``groups`` are the function ids the example uses; a split never puts one group on two sides.
    """

    texts: tuple[str, ...]
    label: int
    groups: tuple[str, ...]
    id: str = ""


@dataclass
class TaskData:
    """A task's examples split into labelled, unlabelled, validation and test parts, with where they came from."""

    kind: str
    labeled: list[Example]
    unlabeled: list[Example]
    valid: list[Example]
    test: list[Example]
    source: str
    fingerprint: str = field(default="")
    dropped: int = 0  # pairs whose two functions fell on two sides of the split
    num_labels: int = 2
    label_names: tuple[str, ...] = ()  # task.labels as text, when the spec names them
    augmented: list[Example] = field(default_factory=list)  # rewrites for distillation (train.augment)
    transfer: list[Example] = field(default_factory=list)  # labelled by the teacher: new pairs (train.transfer_pairs), or task.unlabeled's code
    unlabeled_code: list[Example] = field(default_factory=list)  # task.unlabeled, read (the teacher labels it into ``transfer``)

    @property
    def distillation(self) -> list[Example]:
        """What students are distilled on: the unlabelled split, its augmented copies, then the
        transfer pairs (each labelled by the teacher)."""
        return self.unlabeled + self.augmented + self.transfer

    @property
    def distillation_name(self) -> str:
        """The distillation examples' name in the teacher's feature cache."""
        added = ([f"{len(self.augmented)}-augmented"] if self.augmented else []) + ([f"{len(self.transfer)}-transfer"] if self.transfer else [])
        return "+".join(["unlabeled", *added])

    @property
    def train(self) -> list[Example]:
        return self.labeled + self.unlabeled

    def texts(self, examples: Sequence[Example]) -> list[str]:
        return [text for example in examples for text in example.texts]

    def check_unique_ids(self) -> None:
        """Predictions are matched to examples by id, so no two examples may share one.

        Raises:
            DataError: an id given twice (at ``task.fields.id``).
        """
        seen: set[str] = set()
        for example in self.labeled + self.unlabeled + self.valid + self.test:
            if example.id in seen:
                raise DataError(
                    f"{self.source}: the example id {example.id!r} is given twice, so predictions cannot be matched to examples: set task.fields.id to a field with unique ids",
                    ("task", "fields", "id"),
                )
            seen.add(example.id)

    def summary(self) -> dict[str, int]:
        sizes = {"labeled": len(self.labeled), "unlabeled": len(self.unlabeled), "valid": len(self.valid), "test": len(self.test), "dropped": self.dropped}
        return {**sizes, **({"augmented": len(self.augmented)} if self.augmented else {}), **({"transfer": len(self.transfer)} if self.transfer else {})}


def _fingerprint(examples: Sequence[Example], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for example in examples:
        digest.update(json.dumps([example.texts, example.label, example.groups]).encode())
    return digest.hexdigest()[:20]


# -- reading ---------------------------------------------------------------------------------------


def _read_pairs(path: Path, functions: dict[str, str], labels: LabelMap) -> list[Example]:
    try:
        return _pairs(path, functions, labels)
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8") from None


def _pairs(path: Path, functions: dict[str, str], labels: LabelMap) -> list[Example]:
    examples = []
    with open(path, encoding="utf-8-sig") as file:
        for number, line in enumerate(file, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 3:
                raise DataError(f"{path}:{number}: expected 'idx1<TAB>idx2<TAB>label'")
            first, second, label = parts
            if first not in functions or second not in functions:
                missing = first if first not in functions else second
                raise DataError(f"{path}:{number}: method {missing} is not in data.jsonl")
            index = labels.index(label, Row({}, str(path), number), "the third column")
            examples.append(Example((functions[first], functions[second]), index, (first, second), f"{first}/{second}"))
    return examples


def _is_codexglue_clone(path: Path) -> bool:
    return path.is_dir() and (path / "data.jsonl").is_file() and any(path.glob("*.txt"))


def _read_clone(path: Path, task: TaskSettings) -> dict[str, list[Example]]:
    """The CodeXGLUE BigCloneBench layout (pair files are kept as splits when named so)."""
    labels = LabelMap(task.labels, task.num_labels)
    functions = {}
    for row in read_table(path / "data.jsonl"):
        if "func" not in row.values or "idx" not in row.values:
            raise DataError(f"{row.where}: every row needs 'func' and 'idx' (the BigCloneBench layout)")
        functions[str(row.values["idx"])] = row.values["func"]
    named = {name: path / f"{name}.txt" for name in ("train", "valid", "test")}
    if named["train"].exists():
        return {name: _read_pairs(file, functions, labels) for name, file in named.items() if file.exists()}
    return {"all": [example for file in sorted(path.glob("*.txt")) for example in _read_pairs(file, functions, labels)]}


# -- splitting -------------------------------------------------------------------------------------


def _stratified(examples: Sequence[Example], fractions: Sequence[float], generator: random.Random) -> list[list[Example]]:
    """Split each label's examples by ``fractions`` (the last part takes the rest)."""
    parts: list[list[Example]] = [[] for _ in fractions]
    for label in sorted({example.label for example in examples}):
        members = [example for example in examples if example.label == label]
        generator.shuffle(members)
        start = 0
        for index, fraction in enumerate(fractions):
            end = len(members) if index == len(fractions) - 1 else start + round(fraction * len(members))
            parts[index].extend(members[start:end])
            start = end
    for part in parts:
        generator.shuffle(part)
    return parts


def split_examples(task: TaskSettings, parts: dict[str, list[Example]]) -> tuple[list[Example], ...]:
    """``(labeled, unlabeled, valid, test)`` from the read parts, seeded by ``task.split.seed``."""
    return split_task_examples(task, parts)[:4]


def split_task_examples(task: TaskSettings, parts: dict[str, list[Example]]) -> tuple[list[Example], list[Example], list[Example], list[Example], int]:
    """``split_examples`` and the number of pairs dropped because their functions fell on two
    sides (pairs split here only: see ``_pair_split``)."""
    split, max_examples = task.split, task.max_examples
    generator = random.Random(split.seed)

    def divide(examples: list[Example], fractions: tuple[float, ...]) -> tuple[list[list[Example]], int]:
        if task.is_pair:
            pairs = split_pairs(examples, fractions, generator)
            return list(pairs.parts), pairs.dropped
        return _stratified(examples, fractions, generator), 0

    if "all" in parts:
        examples = list(parts["all"])
        if max_examples is not None and len(examples) > max_examples:
            examples = generator.sample(examples, max_examples)
        (train, valid, test), dropped = divide(examples, (1.0 - split.valid - split.test, split.valid, split.test))
    else:
        train, valid, test = (list(parts.get(name, [])) for name in ("train", "valid", "test"))
        if max_examples is not None and len(train) + len(valid) + len(test) > max_examples:
            scale = max_examples / (len(train) + len(valid) + len(test))
            train, valid, test = (generator.sample(part, max(1, round(scale * len(part)))) if part else part for part in (train, valid, test))
        train, valid, test, dropped = _carve_missing(train, valid, test, split, divide)
    labeled, unlabeled = _stratified(train, (split.labeled, 1.0 - split.labeled), generator)
    return labeled, unlabeled, valid, test, dropped


def _carve_missing(train: list[Example], valid: list[Example], test: list[Example], split: SplitSettings, divide: Callable) -> tuple[list[Example], list[Example], list[Example], int]:
    """Data with a train split but no validation or test split: the missing ones are taken out
    of train by their ``task.split`` shares (as if train were the whole)."""
    missing = [name for name, part in (("valid", valid), ("test", test)) if not part]
    if not missing:
        return train, valid, test, 0
    shares = [getattr(split, name) for name in missing]
    (train, *carved), dropped = divide(train, (1.0 - sum(shares), *shares))
    parts = {"valid": valid, "test": test, **dict(zip(missing, carved))}
    return train, parts["valid"], parts["test"], dropped


def read_examples(task: TaskSettings, location: str | None = None, functions: str | None = None) -> dict[str, list[Example]]:
    """The examples at ``location`` (default ``task.data``) before splitting: ``{"all": [...]}``
    for pooled data, or the splits the data keeps (``train``, and ``valid``, ``test`` when it
    has them). ``functions`` is the table that pair ids point into (``task.functions``).

    Raises:
        DataError: missing or malformed files or rows, or an unknown built-in dataset.
    """
    location = task.data if location is None else location
    if location.startswith(BUILTIN_PREFIX):
        from ._python_clones import builtin_dataset
        from ._python_packages import python_packages

        name = location.removeprefix(BUILTIN_PREFIX)
        return python_packages(task) if name == "python-packages" else builtin_dataset(name, task)
    path = Path(location)
    if task.is_pair and not task.fields_given and _is_codexglue_clone(path):
        return _read_clone(path, task)
    if task.is_pair and not (task.fields.texts or task.fields.ids):
        if path.exists() or location.startswith(HF_PREFIX):
            raise DataError(
                f"{location}: not the BigCloneBench layout (data.jsonl and idx1<TAB>idx2<TAB>label pair files); map other pair data with task.fields (texts, or ids into task.functions)",
                ("task", "fields"),
            )
    table = Path(functions) if functions else None
    function_texts = read_functions(table, task) if table is not None and task.fields.ids else None
    tables = read_tables(location, task.split_names, task.config, exclude=table)
    return {name: examples_from_rows(rows, task, function_texts) for name, rows in tables.items()}


def load_task_data(spec: Spec, data: str | None = None) -> TaskData:
    """Read and split the spec's task data.

    Raises:
        DataError: missing or malformed files, or an unknown built-in dataset.
    """
    location = spec.task_data(data)
    functions = spec.resolve_path(spec.task.functions) if spec.task.functions else None
    parts = read_examples(spec.task, location, functions)
    labeled, unlabeled, valid, test, dropped = split_task_examples(spec.task, parts)
    if not labeled or not unlabeled or not valid or not test:
        sizes = {"labeled": len(labeled), "unlabeled": len(unlabeled), "valid": len(valid), "test": len(test)}
        raise DataError(f"{location}: too little data for the splits {sizes}; use more examples or change task.split")
    names = tuple(str(label) for label in spec.task.labels or ())
    _check_learnable(location, {"labelled": labeled, "validation": valid, "test": test}, names)
    code = _unlabelled_code(spec, valid + test)
    data_out = TaskData(spec.task.kind, labeled, unlabeled, valid, test, location, dropped=dropped, num_labels=spec.task.num_labels, label_names=names, unlabeled_code=code)
    data_out.fingerprint = _fingerprint(labeled + unlabeled + valid + test + code, _fingerprint_key(spec.task))  # without task.unlabeled, as before
    return data_out


def _unlabelled_code(spec: Spec, held_out: Sequence[Example]) -> list[Example]:
    """``task.unlabeled``'s examples, minus any whose text is in the validation or test split
    (students are scored there) and any repeated.

    Raises:
        DataError: the file is missing or malformed (at ``task.unlabeled``).
    """
    if not spec.task.unlabeled:
        return []
    location = spec.resolve_path(spec.task.unlabeled)
    try:
        tables = read_tables(location, {})
    except DataError as error:
        raise DataError(f"{error} (task.unlabeled)", ("task", "unlabeled")) from None
    seen = {text for example in held_out for text in example.texts}
    code = []
    for example in unlabelled_examples_from_rows([row for rows in tables.values() for row in rows], spec.task):
        if example.texts[0] not in seen:
            seen.add(example.texts[0])
            code.append(example)
    if not code:
        raise DataError(f"{location}: no unlabelled code left (every row's text is empty of new code, or in the validation or test split) (task.unlabeled)", ("task", "unlabeled"))
    return code


def _check_learnable(location: str, splits: dict[str, list[Example]], names: Sequence[str]) -> None:
    """Each split a teacher learns from or is scored on holds two classes at least: one class
    teaches nothing, and leaves ROC AUC undefined (no number is then better than a false one).

    Raises:
        DataError: naming the split and its one label (at ``task.fields.label``).
    """
    for name, part in splits.items():
        labels = {example.label for example in part}
        if len(labels) < 2:
            (label,) = labels
            shown = repr(names[label]) if label < len(names) else str(label)
            everywhere = all({example.label for example in other} == labels for other in splits.values())
            where = "every example of the data" if everywhere else f"every example of the {name} split ({len(part)})"
            raise DataError(
                f"{location}: {where} has label {shown}: nothing can be learned or scored from one class; "
                "check task.fields.label, or use more examples (or other task.split shares) so each split holds every class",
                ("task", "fields", "label"),
            )


def _fingerprint_key(task: TaskSettings) -> str:
    """What besides the examples makes the data: the kind and split (as before), and the
    classes when named."""
    key = f"{task.kind}:{task.split}"
    return key + f":{list(task.labels)}" if task.labels else key
