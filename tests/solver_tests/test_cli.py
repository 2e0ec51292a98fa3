"""``solve`` as users run it: a subprocess, its exit code and its output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from avatar.solver.cli import main
from tests.helpers import EXAMPLES

SOLVE = [sys.executable, "-m", "avatar.solver.cli"]


def run(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SOLVE, *arguments], capture_output=True, text=True, timeout=120)


def test_valid_spec_exits_0():
    result = run(str(EXAMPLES / "quickstart.yaml"), "--check")
    assert result.returncode == 0, result.stderr
    assert "grid" in result.stdout and "is valid" in result.stdout
    assert "Traceback" not in result.stderr


def test_invalid_spec_exits_2_with_located_message(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text((EXAMPLES / "quickstart.yaml").read_text().replace("kind: clone", "kind: klone"))
    result = run(str(path), "--check")
    assert result.returncode == 2
    line = next(number for number, text in enumerate(path.read_text().splitlines(), 1) if "klone" in text)
    assert f"{path}:{line}:" in result.stderr and "task.kind" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2(tmp_path):
    result = run(str(tmp_path / "nope.yaml"), "--check")
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_exits_2():
    assert run("--no-such-flag").returncode == 2


def test_json_output_is_one_document():
    result = run(str(EXAMPLES / "avatar-devign.yaml"), "--check", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["grid_size"] == 6_091_407_360_000
    assert {parameter["name"] for parameter in document["parameters"]} >= {"hidden_size", "tokenizer"}
    assert [constraint["name"] for constraint in document["constraints"]] == ["heads_divide_hidden", "fits_3mb"]


def test_internal_error_exits_1_and_shows_traceback_only_with_verbose(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("avatar.solver.cli.load", broken)
    assert main([str(EXAMPLES / "quickstart.yaml"), "--check"]) == 1
    quiet_error = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in quiet_error and "Traceback" not in quiet_error
    assert main([str(EXAMPLES / "quickstart.yaml"), "--check", "-v"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_interrupt_exits_130(monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("avatar.solver.cli.load", interrupted)
    assert main([str(EXAMPLES / "quickstart.yaml"), "--check"]) == 130


@pytest.mark.parametrize("flags", [["-q"], []])
def test_quiet_prints_less(flags, capsys):
    assert main([str(EXAMPLES / "quickstart.yaml"), "--check", *flags]) == 0
    output = capsys.readouterr().out
    assert ("grid" in output) == (not flags)
