"""``RunDirectory``: the one owner of a run directory's file names, and of reading and writing
its records.

The solver writes the space report, the manifest, the front and the selection; the trainer
reads the selection and writes the students; the report is rendered from all of them. Records
are written whole or not at all (a temporary file and a rename), and a file that cannot be read
back raises ``RunFileError`` naming it and saying what to do.

>>> import tempfile
>>> run = RunDirectory(tempfile.mkdtemp())
>>> run.write_selection(Selection("knee", ()))
>>> run.selection().how, run.selected.name
('knee', 'selected.json')
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ._errors import AvatarError
from ._files import write_json_atomically
from ._records import LearningRecord, Manifest, Selection, SpaceReport
from ._students_records import StudentsRecord

__all__ = ["RunDirectory", "RunFileError"]

_Record = TypeVar("_Record")


class RunFileError(AvatarError):
    """A file of a run directory is missing, damaged, or holds another run's data."""


class RunDirectory:
    """A run's folder and the names of everything in it."""

    STORE = "evaluations.sqlite"
    LOCK = ".avatar.lock"
    SPACE = "space.json"
    MANIFEST = "manifest.json"
    PARETO_CSV = "pareto.csv"
    PARETO_JSON = "pareto.json"
    PARETO_PNG = "pareto.png"
    SELECTED = "selected.json"
    LEARNING = "learning.json"
    STUDENTS = "students.json"
    STUDENTS_FOLDER = "students"
    STUDENT_METRICS = "metrics.json"  # in each student's folder
    REPORT_MD = "report.md"
    REPORT_HTML = "report.html"
    RESULTS = (REPORT_MD, REPORT_HTML, PARETO_CSV, PARETO_JSON, PARETO_PNG, SELECTED, STORE, MANIFEST, SPACE, LEARNING, STUDENTS)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r})"

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    # -- paths -------------------------------------------------------------------------------

    @property
    def store(self) -> Path:
        return self.path / self.STORE

    @property
    def lock(self) -> Path:
        return self.path / self.LOCK

    @property
    def selected(self) -> Path:
        return self.path / self.SELECTED

    @property
    def students_file(self) -> Path:
        return self.path / self.STUDENTS

    @property
    def report_md(self) -> Path:
        return self.path / self.REPORT_MD

    @property
    def report_html(self) -> Path:
        return self.path / self.REPORT_HTML

    def student_folder(self, key: str) -> Path:
        """Where the student of front point ``key`` is saved (model, tokenizer, metrics, card)."""
        return self.path / self.STUDENTS_FOLDER / key

    def student_metrics(self, key: str) -> Path:
        """The ``metrics.json`` of the student of front point ``key`` (a ``StudentRecord``)."""
        return self.student_folder(key) / self.STUDENT_METRICS

    def learned_plot(self, metric: str) -> Path:
        """The predicted-against-measured plot of a learned metric."""
        return self.path / f"{metric}.png"

    def results(self) -> list[str]:
        """The result files present, in the order docs/search.md lists them (``students/`` last)."""
        names = [name for name in self.RESULTS if (self.path / name).exists()]
        names += [path.name for path in sorted(self.path.glob("*.png")) if path.name not in names]
        return names + ([f"{self.STUDENTS_FOLDER}/"] if (self.path / self.STUDENTS_FOLDER).is_dir() else [])

    # -- records -----------------------------------------------------------------------------

    def write_selection(self, selection: Selection) -> None:
        self._write(self.SELECTED, selection.to_dict())

    def selection(self) -> Selection:
        """Raises ``RunFileError``: missing (no search ran) or damaged."""
        return self._read(self.SELECTED, Selection.from_dict, "run the search first (solve SPEC, without --train-only)", "run the search again (solve SPEC --resume) to rewrite it")

    def write_students(self, students: StudentsRecord) -> None:
        self._write(self.STUDENTS, students.to_dict())

    def students(self) -> StudentsRecord | None:
        """The realised students, or ``None`` before training."""
        if not self.students_file.exists():
            return None
        return self._read(self.STUDENTS, StudentsRecord.from_dict, "", "train again (solve SPEC --train-only) to rewrite it")

    def write_learning(self, records: list[LearningRecord]) -> None:
        self._write(self.LEARNING, [record.to_dict() for record in records])

    def learning(self) -> list[LearningRecord]:
        """The learned metrics of the run (none when no objective was learned)."""
        if not (self.path / self.LEARNING).exists():
            return []
        return self._read(self.LEARNING, _learning_records, "", "run the search again (solve SPEC --resume) to rewrite it")

    def write_space_report(self, report: SpaceReport) -> None:
        self._write(self.SPACE, report.to_dict())

    def space_report(self) -> SpaceReport:
        return self._read(self.SPACE, SpaceReport.from_dict, "run the search first", "run the search again (solve SPEC --resume) to rewrite it")

    def write_manifest(self, manifest: Manifest) -> None:
        self._write(self.MANIFEST, manifest.to_dict())

    def manifest(self) -> Manifest | None:
        """The manifest, or ``None`` in a directory no run has written yet."""
        if not (self.path / self.MANIFEST).exists():
            return None
        return self._read(self.MANIFEST, Manifest.from_dict, "", "move it away to continue the run (a new one records the sessions from now on)")

    def _write(self, name: str, document: Any) -> None:
        write_json_atomically(self.path / name, document, indent=2, default=str)

    def _read(self, name: str, parse: Callable[[Any], _Record], missing: str, damaged: str) -> _Record:
        path = self.path / name
        try:
            return parse(json.loads(path.read_text()))
        except FileNotFoundError:
            raise RunFileError(f"{self.path} has no {name}: {missing}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise RunFileError(f"{path} cannot be read: {error}") from None
        except (ValueError, TypeError, KeyError) as error:
            raise RunFileError(f"{path} is damaged or holds another run's data ({error}): {damaged}") from None


def _learning_records(data: Any) -> list[LearningRecord]:
    if not isinstance(data, list):
        raise ValueError(f"the document is a {type(data).__name__}, not a list")
    return [LearningRecord.from_dict(item) for item in data]
