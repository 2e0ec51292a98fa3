"""``solve`` as users run it: a subprocess, its exit code and its output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from avatar.solver.cli import main
from tests.helpers import EXAMPLES
from tests.solver_tests.space_tests.test_space import CORE_SPACE

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
    assert document["feasible"] is True
    assert document["grid_size"] == 6_091_407_360_000
    assert document["count"] == {"value": 35_771_749_200, "exact": True}
    assert document["bounds"]["hidden_size"] == [16, 272] and document["bounds"]["vocab_size"] == [1000, 46000]
    assert document["core"] == []
    assert document["hard"] == ["heads_divide_hidden", "fits_3mb"] and document["post"] == []
    assert {parameter["name"] for parameter in document["parameters"]} >= {"hidden_size", "tokenizer"}


INFEASIBLE = CORE_SPACE + ("  wide: hidden_size >= 192\n  tiny: size_mb <= 0.5\n  fast: latency_ms <= 5\n  irrelevant: vocab_size <= 3000\nobjectives: {size_mb: minimize}\n")


def test_infeasible_spec_exits_3_naming_the_conflict(tmp_path):
    path = tmp_path / "infeasible.yaml"
    path.write_text(INFEASIBLE)
    result = run(str(path), "--check")
    assert result.returncode == 3, result.stderr
    assert "the spec is infeasible" in result.stderr
    assert "'wide' (line 11: hidden_size >= 192)" in result.stderr and "'tiny' (line 12: size_mb <= 0.5)" in result.stderr
    assert "irrelevant" not in result.stderr and "Traceback" not in result.stderr
    document = json.loads(run(str(path), "--check", "--json").stdout)
    assert document["feasible"] is False and document["core"] == ["wide", "tiny"]
    assert document["hard"] == ["wide", "tiny", "irrelevant"] and document["post"] == ["fast"]


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


def test_version_prints_avatar_and_its_libraries_one_a_line(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("avatar-lm ") and any(line.strip().startswith("torch ") for line in lines[1:])


def test_check_warns_that_a_spec_which_trains_has_no_data_there(tmp_path, capsys):
    assert main([str(EXAMPLES / "quickstart.yaml"), "--check", "--data", str(tmp_path / "missing.jsonl")]) == 0  # the spec is valid
    captured = capsys.readouterr()
    assert "is valid and feasible" in captured.out
    assert f"warning: task.data {tmp_path / 'missing.jsonl'} does not exist; training and the probes will need it: get the data, or pass --data PATH" in captured.err.replace("\n", "")
    assert main([str(EXAMPLES / "quickstart.yaml"), "--check"]) == 0  # builtin: data is always there
    assert "warning" not in capsys.readouterr().err


def test_a_search_without_training_goes_on_without_the_data_and_says_so(tmp_path, capsys):
    spec = EXAMPLES / "avatar-devign.yaml"  # closed forms and measured latency: no probe needs the data
    arguments = ["--no-train", "--out", str(tmp_path / "run"), "--data", str(tmp_path / "missing"), "--set", "search.evaluations=2", "--set", "search.population=2", "-q"]
    assert main([str(spec), *arguments]) == 0
    said = capsys.readouterr().err.replace("\n", "")
    assert f"warning: task.data {tmp_path / 'missing'} does not exist (the search goes on without it: --no-train needs none); training will need it" in said
    assert (tmp_path / "run" / "pareto.csv").exists()


def test_a_learned_estimator_that_nothing_reads_is_named_and_not_learned(tmp_path, capsys):
    """Options for ``accuracy`` with no objective reading it: no probe, no teacher needed, and
    the user hears why, in case the objective was forgotten."""
    text = (EXAMPLES / "quickstart.yaml").read_text()
    text = text.replace("  accuracy: maximize      # learned from short distillations (probes), see estimators below\n", "  gflops: maximize\n")
    spec = tmp_path / "unread.yaml"
    spec.write_text(text[: text.index("train:")])  # no teacher: reading accuracy would need one
    assert main([str(spec), "--check"]) == 0
    said = capsys.readouterr()
    line = next(number for number, row in enumerate(text.splitlines(), 1) if row.startswith("  accuracy: {options"))
    assert f"unread.yaml:{line}:3: warning: estimators.accuracy is set, but no objective or constraint reads 'accuracy': it is not learned" in said.err.replace("\n", "")
    assert "probes of 3 epoch" not in said.out.replace("\n", "")  # the check's table does not offer it as learned
