"""Rows from the files people keep their data in, each with where it came from.

JSON lines, CSV and TSV are read here (so an error names the line); Parquet and Arrow files,
folders saved by Hugging Face ``datasets`` (``save_to_disk``) and ``hf:OWNER/NAME`` datasets
are read with ``datasets``/``pyarrow`` (the ``data`` extra), imported only when such data is
met. A folder holds either one dataset with its own splits (``train``/``valid``/``test``
files, or a saved ``DatasetDict``) or files to pool.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avatar.specs import AvatarError, describe_error

from ._json import JsonProblem, load_json_value

__all__ = ["Row", "DataError", "read_table", "read_tables", "TABLE_SUFFIXES", "HF_PREFIX"]

HF_PREFIX = "hf:"
TABLE_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv", ".parquet", ".arrow")
SPLIT_ALIASES = {"train": ("train",), "valid": ("valid", "validation", "dev"), "test": ("test",)}


class DataError(AvatarError):
    """The task's data cannot be read (a user-fixable problem: missing or malformed files).

    ``field`` is the spec field the problem is about (``("task", "fields", "label")``), so the
    command line points at the line of the spec that names it."""

    def __init__(self, message: str, field: tuple[str, ...] = ("task", "data")) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Row:
    """One record of a table and where it is: line ``number`` of a text file, or row
    ``number`` of a columnar one."""

    values: Mapping[str, Any]
    source: str
    number: int
    columnar: bool = False

    @property
    def where(self) -> str:
        """For messages: ``file:line`` or ``file row N``."""
        return f"{self.source} row {self.number}" if self.columnar else f"{self.source}:{self.number}"

    @property
    def default_id(self) -> str:
        """The example id of a row without an id field: its file's name and line or row."""
        return f"{Path(self.source).name}:{self.number}"


def read_table(path: Path) -> list[Row]:
    """The rows of one data file, by its suffix.

    Raises:
        DataError: an unknown suffix, or a file that does not parse (naming the line).
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".json"):
            return list(_json_lines(path))
        if suffix in (".csv", ".tsv"):
            return list(_delimited(path, "\t" if suffix == ".tsv" else ","))
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start}); save it as UTF-8") from None
    if suffix == ".parquet":
        return _columnar(path, _parquet_rows(path))
    if suffix == ".arrow":
        return _columnar(path, _arrow_rows(path))
    raise DataError(f"{path}: unknown data format '{suffix or path.name}' (read: {', '.join(TABLE_SUFFIXES)})")


def read_tables(location: str, split_names: Mapping[str, str], config: str | None = None, *, exclude: Path | None = None) -> dict[str, list[Row]]:
    """The rows at ``location``: ``{"train": ..., "valid": ..., "test": ...}`` when the data
    has its own splits (``valid`` and ``test`` may be missing), else ``{"all": ...}`` to split
    here. ``exclude`` is a file in the folder that is not examples (the table of functions).

    Raises:
        DataError: nothing readable there, or a file that does not parse.
    """
    if location.startswith(HF_PREFIX):
        return _hub_dataset(location.removeprefix(HF_PREFIX), config, split_names)
    path = Path(location)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder (task.data; override it with --data PATH)")
    if path.is_file():
        return {"all": read_table(path)}
    if (path / "dataset_dict.json").is_file() or (path / "state.json").is_file():
        return _saved_dataset(path, split_names)
    files = sorted(child for child in path.iterdir() if child.is_file() and child.suffix.lower() in TABLE_SUFFIXES and not (exclude and child.resolve() == exclude.resolve()))
    if not files:
        raise DataError(f"{path}: no data file ({', '.join(TABLE_SUFFIXES)}) and no saved Hugging Face dataset")
    by_stem: dict[str, Path] = {}
    for file in files:
        if file.stem.lower() in {stem.lower() for stem in by_stem}:
            other = next(known for stem, known in by_stem.items() if stem.lower() == file.stem.lower())
            raise DataError(f"{path}: {other.name} and {file.name} both hold the split '{file.stem}': keep one of them (Avatar will not guess which)")
        by_stem[file.stem] = file
    named = _named_splits(by_stem, split_names)
    if named is not None:
        return {split: read_table(by_stem[name]) for split, name in named.items()}
    return {"all": [row for file in files for row in read_table(file)]}


def _named_splits(available: Mapping[str, Any], split_names: Mapping[str, str]) -> dict[str, str] | None:
    """Which of the ``available`` names are the data's own splits (``{"train": name, ...}``),
    when it has a train split: the names ``task.split_names`` gives, else the usual ones
    (valid, validation, dev). A missing valid or test split is carved out of train later."""
    chosen = {}
    for split, aliases in SPLIT_ALIASES.items():
        names = (split_names[split],) if split in split_names else aliases
        found = next((name for name in names if name in available), None)
        if found is not None:
            chosen[split] = found
        elif split in split_names:
            raise DataError(f"task.split_names.{split}: no split '{split_names[split]}' (there are: {', '.join(sorted(available))})", ("task", "split_names", split))
    return chosen if "train" in chosen else None


# -- text formats ----------------------------------------------------------------------------------


def _json_lines(path: Path) -> Iterator[Row]:
    with open(path, encoding="utf-8-sig") as file:  # a byte-order mark is not part of the first field
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                values = load_json_value(line)
            except JsonProblem as problem:
                raise DataError(f"{path}:{number}: {problem}") from None
            if not isinstance(values, dict):
                raise DataError(f"{path}:{number}: a JSON line must be an object with named fields, not {type(values).__name__}")
            yield Row(values, str(path), number)


def _delimited(path: Path, delimiter: str) -> Iterator[Row]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # functions can be long
    # strict: a quote that is opened and never closed where a field ends is an error, not a
    # field that swallows every row after it (which would lose those rows silently)
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file, delimiter=delimiter, strict=True)
        start = 2  # the line where the record being read begins (1 is the header)
        try:
            for values in reader:
                if None in values:
                    raise DataError(f"{path}:{reader.line_num}: more values than the header has columns")
                yield Row(values, str(path), start)
                start = reader.line_num + 1
        except csv.Error as error:
            kind = "TSV" if delimiter == chr(9) else "CSV"
            raise DataError(
                f"{path}:{start}: not valid {kind} ({error}): a quote opened in the record at line {start} may never be closed; a field with quotes must be quoted whole, with inner quotes doubled"
            ) from None


# -- columnar formats (pyarrow, datasets) ----------------------------------------------------------


def _needs(module: str, what: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise DataError(f"reading {what} needs the '{module.split('.')[0]}' package: pip install 'avatar-lm[data]'") from None


def _columnar(path: Path, rows: Iterator[Mapping[str, Any]]) -> list[Row]:
    try:
        return [Row(values, str(path), number, columnar=True) for number, values in enumerate(rows, 1)]
    except (OSError, ValueError) as error:  # pyarrow's errors derive from these
        raise DataError(f"{path}: not a readable {path.suffix[1:]} file ({str(error).splitlines()[0]})") from None


def _parquet_rows(path: Path) -> Iterator[Mapping[str, Any]]:
    parquet = _needs("pyarrow.parquet", f"{path.name} (Parquet)")
    yield from parquet.read_table(path).to_pylist()


def _arrow_rows(path: Path) -> Iterator[Mapping[str, Any]]:
    """An Arrow file as ``datasets`` writes it (a stream), or the Arrow file format."""
    ipc = _needs("pyarrow.ipc", f"{path.name} (Arrow)")
    try:
        table = ipc.open_stream(str(path)).read_all()
    except Exception:  # noqa: BLE001 - not a stream: try the random-access file format
        table = ipc.open_file(str(path)).read_all()
    yield from table.to_pylist()


def _dataset_rows(dataset: Any, where: str) -> list[Row]:
    return [Row(values, where, number, columnar=True) for number, values in enumerate(dataset, 1)]


def _saved_dataset(path: Path, split_names: Mapping[str, str]) -> dict[str, list[Row]]:
    """A folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    datasets = _needs("datasets", f"{path} (a saved Hugging Face dataset)")
    datasets.disable_progress_bars()  # the run shows its own progress
    try:
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            return _splits_of(dict(loaded), str(path), split_names)
        return {"all": _dataset_rows(loaded, str(path))}
    except DataError:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged folder fails anywhere inside datasets and pyarrow
        state = next((name for name in ("state.json", "dataset_info.json", "dataset_dict.json") if (path / name).is_file()), None)
        hint = f"; its {state} or data files may be damaged: save it again with save_to_disk" if state else ""
        raise DataError(f"{path}: not a readable saved Hugging Face dataset ({(describe_error(error).splitlines() or ['?'])[0][:200]}){hint}") from None


def _splits_of(splits: Mapping[str, Any], where: str, split_names: Mapping[str, str]) -> dict[str, list[Row]]:
    chosen = _named_splits(splits, split_names)
    if chosen is None:
        if len(splits) == 1:
            name = next(iter(splits))
            return {"all": _dataset_rows(splits[name], f"{where}[{name}]")}
        raise DataError(f"{where}: splits {', '.join(sorted(splits))}: which one is train? Set task.split_names", ("task", "split_names"))
    return {split: _dataset_rows(splits[name], f"{where}[{name}]") for split, name in chosen.items()}


def _hub_dataset(name: str, config: str | None, split_names: Mapping[str, str]) -> dict[str, list[Row]]:
    """A dataset from the Hugging Face hub (or its local cache; a local dataset folder works
    too), by ``datasets.load_dataset``."""
    datasets = _needs("datasets", f"hf:{name}")
    datasets.disable_progress_bars()
    try:
        loaded = datasets.load_dataset(name, config)
    except Exception as error:  # noqa: BLE001 - offline, no such dataset, a missing config: all the user's to fix
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("HF_DATASETS_OFFLINE")
        hint = " (downloads are off: HF_HUB_OFFLINE/HF_DATASETS_OFFLINE; load it once online, or save it with save_to_disk and give the folder)" if offline else ""
        raise DataError(f"hf:{name}{f' ({config})' if config else ''}: cannot load the dataset: {text}{hint}") from None
    return _splits_of(dict(loaded), f"hf:{name}", split_names)
