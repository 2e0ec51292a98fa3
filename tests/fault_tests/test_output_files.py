"""Files Avatar writes never replace a user's file, and get the user's umask.

``--write-predictions`` refuses the spec, the data, a file the spec reads and any existing
file (unless ``--overwrite``), before a teacher is loaded; what it writes has mode 0666 less
the umask, not a temporary file's 0600."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from avatar.solver.cli import EXIT_INVALID, EXIT_OK, main
from avatar.specs import file_mode, write_atomically, write_json_atomically
from tests.helpers import EXAMPLES

SPEC = EXAMPLES / "own-teacher-devign.yaml"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AVATAR_CACHE", str(tmp_path / "cache"))


def _write(target: Path, *extra: str, data: Path, teacher: Path | str = "never-loaded") -> int:
    return main([str(SPEC), "--write-predictions", str(target), "--data", str(data), "--teacher", str(teacher), "-q", *extra])


def test_the_data_is_never_replaced_even_with_overwrite(tmp_path, defect_file, capsys):
    before = defect_file.read_bytes()
    for extra in ((), ("--overwrite",)):
        assert _write(defect_file, *extra, data=defect_file) == EXIT_INVALID
        assert "the task's data" in capsys.readouterr().err
    assert defect_file.read_bytes() == before


def test_a_file_inside_a_data_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "dataset"
    folder.mkdir()
    (folder / "train.jsonl").write_text('{"func": "int f() {}", "target": 0}\n')
    assert _write(folder / "train.jsonl", "--overwrite", data=folder) == EXIT_INVALID
    assert "the task's data" in capsys.readouterr().err


def test_the_spec_is_never_replaced(tmp_path, defect_file, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.read_text())
    before = spec.read_bytes()
    code = main([str(spec), "--write-predictions", str(spec), "--data", str(defect_file), "--teacher", "x", "--overwrite", "-q"])
    assert code == EXIT_INVALID and "the spec" in capsys.readouterr().err
    assert spec.read_bytes() == before


def test_an_unrelated_existing_file_needs_overwrite(tmp_path, defect_file, tiny_classifier, capsys):
    target = tmp_path / "notes.txt"
    target.write_text("my notes\n")
    assert _write(target, data=defect_file, teacher=tiny_classifier) == EXIT_INVALID
    error = capsys.readouterr().err
    assert "--overwrite" in error and "Traceback" not in error
    assert target.read_text() == "my notes\n"
    assert _write(target, "--overwrite", data=defect_file, teacher=tiny_classifier) == EXIT_OK
    assert len(target.read_text().splitlines()) == 120 and json.loads(target.read_text().splitlines()[0])["logits"]


def test_a_folder_is_refused(tmp_path, defect_file, capsys):
    assert _write(tmp_path, data=defect_file) == EXIT_INVALID
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_atomic_writes_take_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        assert file_mode() == 0o666 & ~umask
        write_json_atomically(tmp_path / "a.json", {"x": 1})
        write_atomically(tmp_path / "b.bin", lambda file: file.write(b"x"), binary=True)
    finally:
        os.umask(previous)
    for name in ("a.json", "b.bin"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o666 & ~umask
