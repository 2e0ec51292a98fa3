"""Faults of the environment, not of Avatar: a damaged store, a run directory that is a file,
a device, read-only or someone else's folder, a spec that is a pipe or a device, two runs on
one folder, a teacher that cannot be had. Each is a one-line message and exit 2, never
"internal error", and a user's files are never overwritten."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time

import pytest

from avatar.solver.cli import EXIT_INVALID, EXIT_OK, main

from .helpers import SPEC, faulty_spec, solve, start_solve, stored


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished run to damage (copied by each test)."""
    folder = tmp_path_factory.mktemp("finished")
    (folder / "spec.yaml").write_text(SPEC)
    assert main([str(folder / "spec.yaml"), "--out", str(folder / "run"), "-q"]) == EXIT_OK
    return folder


def _resume_copy(tmp_path, capsys, finished, damage) -> tuple[int, str]:
    run = tmp_path / "run"
    shutil.copytree(finished / "run", run)
    for leftover in run.glob("evaluations.sqlite-*"):
        leftover.unlink()
    damage(run / "evaluations.sqlite")
    code = main([str(finished / "spec.yaml"), "--out", str(run), "--resume", "-q"])
    return code, capsys.readouterr().err


def _sql(statement: str):
    def damage(database):
        with sqlite3.connect(database) as connection:
            connection.executescript(statement)

    return damage


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda database: database.write_bytes(database.read_bytes()[:3000]), "the run store cannot be used"),
        (lambda database: database.write_bytes(os.urandom(40_000)), "file is not a database"),
        (_sql("UPDATE evaluations SET config = '[1, 2]' WHERE id = 3"), "a configuration is a list"),
        (_sql("UPDATE evaluations SET config = '{\"vocab_size\": 3}' WHERE id = 3"), "is not a point of this spec's grid"),
        (_sql('UPDATE evaluations SET metrics = \'{"gflops": "x"}\' WHERE id = 3'), "lacks a finite value of an objective"),
        (_sql("UPDATE evaluations SET metrics = 'not json' WHERE id = 3"), "JSONDecodeError"),
        (_sql("UPDATE evaluations SET generation = 'x' WHERE id = 3"), "has generation 'x'"),
        (_sql("UPDATE meta SET value = '{oops'"), "JSONDecodeError"),
        (_sql("DROP TABLE evaluations; CREATE TABLE evaluations (x)"), "no such column"),
    ],
)
def test_a_damaged_store_is_an_error_not_a_bug(tmp_path, capsys, finished, damage, message):
    code, err = _resume_copy(tmp_path, capsys, finished, damage)
    assert code == EXIT_INVALID and message in err and "internal error" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_output_folders_that_are_not_avatars_are_refused(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.md").write_text("my notes")
    (mine / "pareto.json").write_text("{}")
    a_file = tmp_path / "a-file"
    a_file.write_text("keep")
    for out, message in [(mine, "is not empty (pareto.json, report.md) and holds no Avatar run"), (a_file, "is not a folder"),
                         ("/dev/null", "is not a folder"), (a_file / "below", "cannot create or write the run directory"),
                         ("/proc/avatar-run", "cannot create or write the run directory")]:  # fmt: skip
        assert main([str(spec), "--out", str(out), "-q"]) == EXIT_INVALID
        err = capsys.readouterr().err
        assert message in err and "internal error" not in err, err
    assert (mine / "report.md").read_text() == "my notes" and a_file.read_text() == "keep"
    (tmp_path / "empty").mkdir()
    assert main([str(spec), "--out", str(tmp_path / "empty"), "-q"]) == EXIT_OK


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main([str(spec), "--out", str(locked / "run"), "-q"]) == EXIT_INVALID
        assert "cannot create or write the run directory" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_a_spec_that_is_a_pipe_or_a_device_is_refused_without_reading_it(tmp_path, capsys):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")
    for path in (fifo, zero):
        started = time.monotonic()
        assert main([str(path), "--check", "-q"]) == EXIT_INVALID
        assert "is not a regular file" in capsys.readouterr().err and time.monotonic() - started < 10


def test_two_runs_on_one_folder_the_second_refuses(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(faulty_spec("sleep", on=64, seconds=0.3).replace("on: 64", "on: 0"))
    out = tmp_path / "run"
    first = start_solve(str(spec), "--out", str(out), "-q")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not stored(out):
        time.sleep(0.05)
    second = solve(str(spec), "--out", str(out), "-q")
    resumed = solve(str(spec), "--out", str(out), "--resume", "-q")
    first.kill()
    first.wait()
    for other in (second, resumed):
        assert other.returncode == EXIT_INVALID, other.stderr
        assert "internal error" not in other.stderr and "locked" not in other.stderr
    assert "is in use by another solve process" in resumed.stderr
    assert "already holds a run" in second.stderr or "in use" in second.stderr


def test_a_teacher_that_cannot_be_had_is_found_before_the_search(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("data: d}", "data: builtin:python-clones}") + "train: {teacher: no-such-org/no-such-model}\n")
    assert main([str(spec), "--out", str(tmp_path / "run"), "-q"]) == EXIT_INVALID  # HF_HUB_OFFLINE=1 in the tests
    err = capsys.readouterr().err
    assert "train.teacher" in err and "not in the Hugging Face cache" in err, err
    assert not (tmp_path / "run" / "evaluations.sqlite").exists(), "refused before the search"
    assert main([str(spec), "--out", str(tmp_path / "run"), "-q", "--teacher", str(tmp_path)]) == EXIT_INVALID
    assert "holds no config.json" in capsys.readouterr().err


def test_a_damaged_manifest_or_selection_is_an_error_not_a_bug(tmp_path, capsys, finished):
    run = tmp_path / "run"
    shutil.copytree(finished / "run", run)
    spec = str(finished / "spec.yaml")
    for damaged in ("{oops", "[1, 2]"):
        (run / "manifest.json").write_text(damaged)
        assert main([spec, "--out", str(run), "--resume", "-q"]) == EXIT_INVALID
        err = capsys.readouterr().err
        assert "manifest.json is damaged" in err and "internal error" not in err, err
    (run / "manifest.json").unlink()
    assert main([spec, "--out", str(run), "--resume", "-q"]) == EXIT_OK, "a run without its manifest resumes (a new one is written)"
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "config.json").write_text("{}")  # enough for the checks before training
    data = tmp_path / "functions.jsonl"  # read before training: it must fit the spec's defect task
    data.write_text("".join(json.dumps({"func": f"int f{index}() {{ return {index}; }}", "target": index % 2}) + "\n" for index in range(40)))
    for damaged in ("{oops", '{"points": [{"key": "x", "config": {"a": 1}}]}', '{"points": 3}'):
        (run / "selected.json").write_text(damaged)
        assert main([spec, "--out", str(run), "--train-only", "--teacher", str(teacher), "--data", str(data), "-q"]) == EXIT_INVALID
        err = capsys.readouterr().err
        assert "selected.json is damaged" in err and "internal error" not in err, err


def test_a_write_killed_halfway_leaves_the_old_file_whole(tmp_path, monkeypatch):
    from avatar.objectives import write_json_atomically

    path = tmp_path / "metrics.json"
    write_json_atomically(path, {"test": {"f1": 0.5}})

    def killed(document, file, **options):
        file.write('{"test": {"f1"')
        raise KeyboardInterrupt

    monkeypatch.setattr("json.dump", killed)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomically(path, {"test": {"f1": 0.9}})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"test": {"f1": 0.5}} and [item.name for item in tmp_path.iterdir()] == ["metrics.json"]


def test_a_student_whose_metrics_file_was_cut_short_is_trained_again(tmp_path):
    from avatar.trainer._pipeline import _finished_student

    path = tmp_path / "metrics.json"
    assert _finished_student(path) is None
    path.write_text('{"test": {"f1"')  # what a kill during a plain write left (before atomic writes)
    assert _finished_student(path) is None
    whole = {"key": "k", "config": {}, "test": {"f1": 0.5}, "size_mb": 1.0, "latency_ms": 2.0, "energy_j": 0.1, "carbon_g": 0.01}
    path.write_text(json.dumps({k: v for k, v in whole.items() if k != "latency_ms"}))
    assert _finished_student(path) is None, "a student without its measurements is trained again"
    path.write_text(json.dumps(whole))
    assert _finished_student(path) == whole


@pytest.mark.parametrize("resume", [False, True])
def test_a_store_that_is_a_folder_is_refused(tmp_path, capsys, resume):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    (tmp_path / "run" / "evaluations.sqlite").mkdir(parents=True)
    code = main([str(spec), "--out", str(tmp_path / "run"), "--no-train", "-q", *(["--resume"] if resume else [])])
    err = capsys.readouterr().err
    assert code == EXIT_INVALID and "is a folder, not a run store" in err and "internal error" not in err


def test_a_full_disk_says_so_and_resume_continues_once_there_is_room(tmp_path):
    """A write refused for room (here: a file-size limit the search's store outgrows) is told as
    such, never as a damaged store; the store is intact and --resume finishes the run."""
    import resource
    import signal
    import subprocess
    import sys

    from tests.helpers import REPOSITORY, SEARCH_SPACE

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))  # the write-ahead log outgrows it after a few evaluations

    spec = tmp_path / "spec.yaml"
    spec.write_text(SEARCH_SPACE.replace("evaluations: 60", "evaluations: 400"))
    command = [sys.executable, "-m", "avatar.solver.cli", str(spec), "--no-train", "--out", str(tmp_path / "run"), "-q"]
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    full = subprocess.run(command, preexec_fn=small_files, env=environment, capture_output=True, text=True, timeout=300)
    assert full.returncode == EXIT_INVALID, full.stderr
    assert "no space left on device" in full.stderr and "--resume" in full.stderr
    assert "damaged" not in full.stderr and "move it away" not in full.stderr and "Traceback" not in full.stderr
    before = len(stored(tmp_path / "run"))
    assert 0 < before < 400
    resumed = subprocess.run([*command, "--resume"], env=environment, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == EXIT_OK, resumed.stderr
    assert len(stored(tmp_path / "run")) == 400
