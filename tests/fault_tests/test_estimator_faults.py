"""Estimators that raise, return what is not a finite number, hang, swallow the timeout, exit
or kill their worker: each gives a failed evaluation with a clear error, and the run goes on
to a front of successful evaluations only. Evaluations that all fail the same way stop the
run (exit 5), and ``--resume`` continues it once the cause is fixed."""

from __future__ import annotations

import json

import pytest

from avatar.solver.cli import EXIT_FAILING, EXIT_OK, main

from .helpers import faulty_spec, solve, stored

RETURNED = [
    ("raise", "RuntimeError: the estimator broke"),
    ("nan", "returned nan; a metric must be a finite number"),
    ("inf", "returned inf; a metric must be a finite number"),
    ("-inf", "returned -inf"),
    ("string", "returned '12.5' (str); a metric must be a finite number"),
    ("none", "returned None (NoneType)"),
    ("bool", "returned True (bool)"),
    ("huge", "returned inf"),
    ("exit", "raised SystemExit(3); an estimator must raise an exception, never exit or interrupt the process"),
    ("interrupt", "raised KeyboardInterrupt"),
]


def _check_run(directory, expected_error: str, evaluations: int = 40) -> None:
    rows = stored(directory)
    failed = [error for _, status, error in rows if status == "failed"]
    assert len(rows) == evaluations, "the budget is spent: a failure is an evaluation"
    assert failed and all(expected_error in error for error in failed), failed[:3]
    front = json.loads((directory / "pareto.json").read_text())["front"]
    assert front and all(point["status"] == "ok" for point in front)
    assert (directory / "report.md").exists()


@pytest.mark.parametrize(("fault", "expected_error"), RETURNED)
def test_a_bad_result_is_a_failed_evaluation(tmp_path, capsys, fault, expected_error):
    spec = tmp_path / "spec.yaml"
    spec.write_text(faulty_spec(fault))
    assert main([str(spec), "--out", str(tmp_path / "run"), "-q"]) == EXIT_OK, capsys.readouterr().err
    _check_run(tmp_path / "run", expected_error)


@pytest.mark.parametrize("fault", ["sleep", "swallow"])
def test_an_estimator_past_its_timeout_is_stopped(tmp_path, capsys, fault):
    search = "search: {population: 6, evaluations: 14, seed: 3, evaluation_timeout: 1}"
    spec = tmp_path / "spec.yaml"
    spec.write_text(faulty_spec(fault, seconds=120, search=search))
    assert main([str(spec), "--out", str(tmp_path / "run"), "-q"]) == EXIT_OK, capsys.readouterr().err
    _check_run(tmp_path / "run", "timeout", evaluations=14)


def test_an_estimator_that_kills_its_worker_fails_only_its_evaluation(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(faulty_spec("os_exit", search="search: {population: 6, evaluations: 14, seed: 3}"))
    process = solve(str(spec), "--out", str(tmp_path / "run"), "--jobs", "2", "-q")
    assert process.returncode == EXIT_OK, process.stderr
    _check_run(tmp_path / "run", "the worker process died (exit code 7)", evaluations=14)


def test_identical_failures_stop_the_run_and_resume_continues_once_fixed(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(faulty_spec("raise_if_broken", on=0, search="search: {population: 10, evaluations: 40, seed: 3, max_identical_failures: 4}"))
    out = tmp_path / "run"
    broken = solve(str(spec), "--out", str(out), environment={"FAULTY_BROKEN": "1"})
    assert broken.returncode == EXIT_FAILING, broken.stderr
    assert "the last 4 evaluations all failed with the same error: RuntimeError: the estimator broke" in broken.stderr
    assert "Traceback" not in broken.stderr and not [row for row in stored(out) if row[1] == "failed"], "the streak is not kept"
    fixed = solve(str(spec), "--out", str(out), "--resume", "-q")
    assert fixed.returncode == EXIT_OK, fixed.stderr
    assert len(stored(out)) == 40 and all(status == "ok" for _, status, _ in stored(out))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_time_limit_is_a_deadline(tmp_path, jobs):
    """No evaluation starts after ``search.time_limit``: slow evaluations of a population do not
    keep starting, and the run ends within the limit and one evaluation."""
    search = "search: {population: 10, evaluations: 40, seed: 3, time_limit: 2, algorithm: nsga2}"
    spec = tmp_path / "spec.yaml"
    spec.write_text(faulty_spec("sleep", on=0, seconds=1.0, search=search))
    done = solve(str(spec), "--out", str(tmp_path / "run"), "--no-train", "--jobs", jobs, "-q")
    assert done.returncode == EXIT_OK, done.stderr
    rows = stored(tmp_path / "run")
    assert 1 <= len(rows) <= 2 * int(jobs) + 1, rows  # each evaluation takes 1 s: at most the ones started before 2 s
    assert all(status == "ok" for _, status, _ in rows)


def test_the_live_line_counts_failed_evaluations(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(faulty_spec("raise", on=32, search="search: {population: 6, evaluations: 12, seed: 3, max_identical_failures: 100}"))
    done = solve(str(spec), "--out", str(tmp_path / "run"), "--no-train")
    assert done.returncode == EXIT_OK, done.stderr
    failed = sum(1 for _, status, _ in stored(tmp_path / "run") if status == "failed")
    lines = [line for line in done.stdout.splitlines() if "search" in line and "failed" in line]
    assert failed > 0 and lines and lines[-1].rstrip().endswith(f"failed {failed}"), lines
