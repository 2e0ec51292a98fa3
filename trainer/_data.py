"""Task data: CodeXGLUE layouts on disk, the built-in ``python-clones`` set, and seeded splits.

* ``defect`` (CodeXGLUE Defect-detection / Devign): JSON lines with ``func`` and ``target``.
  A folder with ``train.jsonl`` and ``valid.jsonl`` (and ``test.jsonl``) keeps its splits;
  otherwise every ``*.jsonl`` is pooled and split here, stratified by label.
* ``clone`` (CodeXGLUE BigCloneBench): ``data.jsonl`` with ``func`` and ``idx``, and pair files
  ``idx1<TAB>idx2<TAB>label``. ``train.txt`` and ``valid.txt`` (and ``test.txt``) are kept as
  splits; otherwise all pair files are pooled and split here *by method*: each method goes to
  one side, and a pair crossing sides is dropped, so no method is seen in training and test.

The training part is then split into a labelled share (fine-tunes the teacher) and an
unlabelled one (distilled on the teacher's outputs). Everything is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from avatar.specs import AvatarError, Spec, SplitSettings

from ._pair_split import split_pairs

__all__ = ["Example", "TaskData", "DataError", "load_task_data", "read_examples", "split_examples", "split_task_examples", "BUILTIN_PREFIX"]

BUILTIN_PREFIX = "builtin:"


class DataError(AvatarError):
    """The task's data cannot be read (a user-fixable problem: missing or malformed files)."""


@dataclass(frozen=True)
class Example:
    """One labelled input: a function (defect) or a pair of functions (clone).

    ``groups`` are the method ids the example uses; a split never puts one group on two sides.
    """

    texts: tuple[str, ...]
    label: int
    groups: tuple[str, ...]


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

    @property
    def train(self) -> list[Example]:
        return self.labeled + self.unlabeled

    def texts(self, examples: Sequence[Example]) -> list[str]:
        return [text for example in examples for text in example.texts]

    def summary(self) -> dict[str, int]:
        return {"labeled": len(self.labeled), "unlabeled": len(self.unlabeled), "valid": len(self.valid), "test": len(self.test), "dropped": self.dropped}


def _fingerprint(examples: Sequence[Example], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for example in examples:
        digest.update(json.dumps([example.texts, example.label, example.groups]).encode())
    return digest.hexdigest()[:20]


# -- reading ---------------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise DataError(f"{path}:{number}: not a JSON line ({error.msg})") from None
    return rows


def _defect_examples(path: Path, rows: list[dict]) -> list[Example]:
    examples = []
    for number, row in enumerate(rows, 1):
        if "func" not in row or "target" not in row:
            raise DataError(f"{path}: row {number} lacks 'func' or 'target' (the Defect-detection format)")
        identifier = str(row.get("idx", f"{path.name}:{number}"))
        examples.append(Example((row["func"],), int(row["target"]), (identifier,)))
    return examples


def _read_defect(path: Path) -> dict[str, list[Example]]:
    if path.is_file():
        return {"all": _defect_examples(path, _read_jsonl(path))}
    named = {name: path / f"{name}.jsonl" for name in ("train", "valid", "test")}
    if named["train"].exists() and named["valid"].exists():
        return {name: _defect_examples(file, _read_jsonl(file)) for name, file in named.items() if file.exists()}
    files = sorted(path.glob("*.jsonl"))
    if not files:
        raise DataError(f"{path}: no *.jsonl file (expected CodeXGLUE Defect-detection JSON lines with 'func' and 'target')")
    return {"all": [example for file in files for example in _defect_examples(file, _read_jsonl(file))]}


def _read_pairs(path: Path, functions: dict[str, str]) -> list[Example]:
    examples = []
    with open(path, encoding="utf-8") as file:
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
            examples.append(Example((functions[first], functions[second]), int(label), (first, second)))
    return examples


def _read_clone(path: Path) -> dict[str, list[Example]]:
    if not path.is_dir():
        raise DataError(f"{path}: a clone dataset is a folder with data.jsonl and pair files")
    data = path / "data.jsonl"
    if not data.exists():
        raise DataError(f"{path}: no data.jsonl (expected the CodeXGLUE BigCloneBench layout)")
    functions = {}
    for row in _read_jsonl(data):
        if "func" not in row or "idx" not in row:
            raise DataError(f"{data}: every row needs 'func' and 'idx'")
        functions[str(row["idx"])] = row["func"]
    named = {name: path / f"{name}.txt" for name in ("train", "valid", "test")}
    if named["train"].exists() and named["valid"].exists():
        return {name: _read_pairs(file, functions) for name, file in named.items() if file.exists()}
    files = sorted(path.glob("*.txt"))
    if not files:
        raise DataError(f"{path}: no pair file (*.txt lines 'idx1<TAB>idx2<TAB>label')")
    return {"all": [example for file in files for example in _read_pairs(file, functions)]}


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


def split_examples(kind: str, parts: dict[str, list[Example]], split: SplitSettings, max_examples: int | None = None) -> tuple[list[Example], ...]:
    """``(labeled, unlabeled, valid, test)`` from the read parts, seeded by ``split.seed``."""
    return split_task_examples(kind, parts, split, max_examples)[:4]


def split_task_examples(kind: str, parts: dict[str, list[Example]], split: SplitSettings, max_examples: int | None = None) -> tuple[list[Example], list[Example], list[Example], list[Example], int]:
    """``split_examples`` and the number of pairs dropped because their functions fell on two
    sides (pooled pair data only: see ``_pair_split``)."""
    generator = random.Random(split.seed)
    dropped = 0
    if "all" in parts:
        examples = list(parts["all"])
        if max_examples is not None and len(examples) > max_examples:
            examples = generator.sample(examples, max_examples)
        fractions = (1.0 - split.valid - split.test, split.valid, split.test)
        if kind == "clone":
            pairs = split_pairs(examples, fractions, generator)
            (train, valid, test), dropped = pairs.parts, pairs.dropped
        else:
            train, valid, test = _stratified(examples, fractions, generator)
    else:
        train, valid = list(parts["train"]), list(parts["valid"])
        test = list(parts.get("test", []))
        if max_examples is not None and len(train) + len(valid) + len(test) > max_examples:
            scale = max_examples / (len(train) + len(valid) + len(test))
            train, valid, test = (generator.sample(part, max(1, round(scale * len(part)))) for part in (train, valid, test))
    labeled, unlabeled = _stratified(train, (split.labeled, 1.0 - split.labeled), generator)
    return labeled, unlabeled, valid, test, dropped


def read_examples(kind: str, location: str, split: SplitSettings) -> dict[str, list[Example]]:
    """The examples at ``location`` before splitting: ``{"all": [...]}`` for pooled data, or
    the splits a folder (or the built-in set) keeps (``train``, ``valid``, ``test``).

    Raises:
        DataError: missing or malformed files, or an unknown built-in dataset.
    """
    if location.startswith(BUILTIN_PREFIX):
        from ._python_clones import builtin_dataset

        return builtin_dataset(location.removeprefix(BUILTIN_PREFIX), kind, split=split)
    path = Path(location)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (task.data; override it with --data PATH)")
    return _read_clone(path) if kind == "clone" else _read_defect(path)


def load_task_data(spec: Spec, data: str | None = None) -> TaskData:
    """Read and split the spec's task data.

    Raises:
        DataError: missing or malformed files, or an unknown built-in dataset.
    """
    location = spec.task_data(data)
    parts = read_examples(spec.task.kind, location, spec.task.split)
    labeled, unlabeled, valid, test, dropped = split_task_examples(spec.task.kind, parts, spec.task.split, spec.task.max_examples)
    if not labeled or not unlabeled or not valid or not test:
        sizes = {"labeled": len(labeled), "unlabeled": len(unlabeled), "valid": len(valid), "test": len(test)}
        raise DataError(f"{location}: too little data for the splits {sizes}; use more examples or change task.split")
    data_out = TaskData(spec.task.kind, labeled, unlabeled, valid, test, location, dropped=dropped)
    data_out.fingerprint = _fingerprint(labeled + unlabeled + valid + test, f"{spec.task.kind}:{spec.task.split}")
    return data_out
