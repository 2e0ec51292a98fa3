"""A teacher given as its predictions: its outputs on every example, computed elsewhere.

The research this follows computes the teacher's soft labels once, on a GPU, and distils from
them; ``train.teacher.predictions`` takes that file, so no teacher model is needed on the
machine that distils. Two formats:

* JSON lines, one example each: ``{"id": "...", "logits": [...]}`` (or ``"probabilities"``);
* a ``.npy`` array with one row per example, and the ids of its rows in a text file (one per
  line; ``prediction_ids``, default the same name with ``.ids.txt``).

``outputs: probabilities`` declares probabilities; they become logits by their logarithm (the
softmax of which gives them back). Every problem names the file, the line and the id.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from avatar.specs import AvatarError

from ..data import TRANSFER_PREFIX, UNLABELLED_PREFIX, JsonProblem, load_json_value

__all__ = ["Predictions", "PredictionsError", "read_predictions", "checked_predictions"]

FLOAT32_MAX = 3.4028234663852886e38  # logits are float32 tensors: a larger value is an infinity there
PROBABILITY_SLACK = 1e-3  # how far from 1 a row of probabilities may sum (float rounding)


class PredictionsError(AvatarError):
    """The teacher's predictions file cannot be used (a user-fixable problem)."""


class Predictions:
    """The teacher's logits by example id, and a fingerprint of the files they came from."""

    def __init__(self, path: Path, logits: dict[str, list[float]], fingerprint: str) -> None:
        self.path = path
        self.logits = logits
        self.fingerprint = fingerprint

    def covers(self, examples: Sequence) -> bool:
        """Whether every one of ``examples`` has a prediction."""
        return all(example.id in self.logits for example in examples)

    def for_examples(self, examples: Sequence) -> torch.Tensor:
        """The logits of ``examples`` in order.

        Raises:
            PredictionsError: examples without a prediction, naming the first ids.
        """
        missing = [example.id for example in examples if example.id not in self.logits]
        if missing and all(identifier.startswith(TRANSFER_PREFIX) for identifier in missing):
            raise PredictionsError(
                f"{self.path}: no prediction for {len(missing)} of the transfer pairs (train.transfer_pairs; the first: {missing[0]!r}): "
                "write the predictions with solve SPEC --write-predictions FILE, which labels them too, or set train.transfer_pairs: 0"
            )
        if missing and all(identifier.startswith(UNLABELLED_PREFIX) for identifier in missing):
            raise PredictionsError(
                f"{self.path}: no prediction for {len(missing)} of the unlabelled functions of task.unlabeled (the first: {missing[0]!r}): "
                "write the predictions with solve SPEC --write-predictions FILE, which labels them too, or remove task.unlabeled"
            )
        if missing:
            shown = ", ".join(repr(identifier) for identifier in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise PredictionsError(
                f"{self.path}: no prediction for example id {shown}{more}: the file needs one line per example of the data "
                "(ids from task.fields.id; without it, the row's file and line, or 'ID1/ID2' for pairs given by ids)"
            )
        return torch.tensor([self.logits[example.id] for example in examples], dtype=torch.float32)


def read_predictions(path: Path, num_labels: int, *, outputs: str = "logits", ids_path: Path | None = None) -> Predictions:
    """Read and check a predictions file.

    Raises:
        PredictionsError: a missing or malformed file, a duplicate id, a row of the wrong width,
            a value that is not finite, or probabilities that are not probabilities.
    """
    if not path.is_file():
        raise PredictionsError(f"{path}: no such file (train.teacher.predictions)")
    digest = hashlib.sha256(f"{outputs}:{num_labels}".encode())
    digest.update(path.read_bytes())
    if path.suffix.lower() == ".npy":
        ids_path = ids_path or path.with_suffix(".ids.txt")
        rows = list(_npy_rows(path, ids_path))
        digest.update(ids_path.read_bytes())
    else:
        try:
            rows = list(_json_rows(path, outputs))
        except UnicodeDecodeError as error:
            raise PredictionsError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    logits: dict[str, list[float]] = {}
    for where, identifier, values in rows:
        if identifier in logits:
            raise PredictionsError(f"{where}: id {identifier!r} is given twice")
        logits[identifier] = _checked(where, identifier, values, num_labels, outputs)
    if not logits:
        raise PredictionsError(f"{path}: no predictions in the file")
    return Predictions(path, logits, digest.hexdigest()[:20])


def checked_predictions(settings: Any, data: Any, *, labeled: bool = False, extra: Sequence = ()) -> Predictions:
    """``settings.predictions`` (a ``TeacherSettings`` with absolute paths) read and checked
    against ``data``: the data's ids are unique, and every example the students will use has a
    prediction (the labelled split's too when ``labeled``: ``hard_labels`` distils on it; and
    ``extra``'s, the transfer pairs).

    Raises:
        DataError: two examples share an id (at ``task.fields.id``).
        PredictionsError: the file is malformed, or an example has no prediction.
    """
    data.check_unique_ids()
    ids_path = Path(settings.prediction_ids) if settings.prediction_ids else None
    predictions = read_predictions(Path(settings.predictions), data.num_labels, outputs=settings.outputs, ids_path=ids_path)
    predictions.for_examples((data.labeled if labeled else []) + data.unlabeled + data.valid + data.test + list(extra))
    return predictions


def _json_rows(path: Path, outputs: str):
    key = "probabilities" if outputs == "probabilities" else "logits"
    with open(path, encoding="utf-8-sig") as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = load_json_value(line, non_finite=True)  # a NaN is refused with its id, below
            except JsonProblem as problem:
                raise PredictionsError(f"{where}: {problem}") from None
            if not isinstance(row, dict) or "id" not in row:
                raise PredictionsError(f'{where}: expected {{"id": ..., "{key}": [...]}}')
            if key not in row:
                other = "logits" if key == "probabilities" else "probabilities"
                hint = f" (it has '{other}': set train.teacher.outputs: {other})" if other in row else ""
                raise PredictionsError(f"{where}: id {str(row['id'])!r} has no '{key}'{hint}")
            if not isinstance(row["id"], (str, int)) or isinstance(row["id"], bool):
                raise PredictionsError(f"{where}: the id must be a string or an integer, not {type(row['id']).__name__}")
            yield where, str(row["id"]), row[key]


def _npy_rows(path: Path, ids_path: Path):
    import numpy

    try:
        array = numpy.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise PredictionsError(f"{path}: not a readable .npy array ({(str(error).splitlines() or [type(error).__name__])[0]})") from None
    if not isinstance(array, numpy.ndarray):  # an .npz archive (numpy.load reads it whatever its name)
        array.close()
        raise PredictionsError(f"{path}: an .npz archive, not one .npy array: save the logits with numpy.save (one 2-D array)")
    if not numpy.issubdtype(array.dtype, numpy.number) or numpy.issubdtype(array.dtype, numpy.complexfloating):
        raise PredictionsError(f"{path}: an array of {array.dtype}, not of real numbers")
    if array.ndim != 2:
        raise PredictionsError(f"{path}: expected a 2-D array (one row per example, one column per label), got shape {array.shape}")
    if not ids_path.is_file():
        raise PredictionsError(f"{ids_path}: no such file: a .npy predictions file needs the ids of its rows, one per line (train.teacher.prediction_ids)")
    try:
        ids = [line.strip() for line in ids_path.read_text(encoding="utf-8-sig").splitlines()]
    except UnicodeDecodeError as error:
        raise PredictionsError(f"{ids_path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    while ids and not ids[-1]:
        ids.pop()
    if len(ids) != len(array):
        raise PredictionsError(f"{ids_path}: {len(ids)} ids for the {len(array)} rows of {path.name}")
    for number, (identifier, values) in enumerate(zip(ids, array.tolist()), 1):
        if not identifier:
            raise PredictionsError(f"{ids_path}:{number}: an empty id")
        yield f"{path} row {number} (id line {ids_path.name}:{number})", identifier, values


def _checked(where: str, identifier: str, values: object, num_labels: int, outputs: str) -> list[float]:
    """``values`` as logits of ``num_labels`` classes."""
    if not isinstance(values, list) or not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        raise PredictionsError(f"{where}: id {identifier!r}: expected a list of numbers, got {str(values)[:60]}")
    if len(values) != num_labels:
        raise PredictionsError(f"{where}: id {identifier!r}: {len(values)} values for the task's {num_labels} labels")
    if not all(math.isfinite(value) and abs(value) <= FLOAT32_MAX for value in values):
        raise PredictionsError(f"{where}: id {identifier!r}: a value that is not finite in float32, as the students train ({str(values)[:80]})")
    if outputs != "probabilities":
        return [float(value) for value in values]
    if any(value < 0 or value > 1 for value in values) or abs(sum(values) - 1) > PROBABILITY_SLACK:
        raise PredictionsError(f"{where}: id {identifier!r}: {values} are not probabilities (each in [0, 1], summing to 1); logits? set train.teacher.outputs: logits")
    return [math.log(max(value, 1e-7)) for value in values]
