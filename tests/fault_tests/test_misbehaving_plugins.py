"""Plugins that misbehave: an exception whose message cannot be had is a failed evaluation
named by its type, with 1 job or several; a constructor that raises, and a closed form that
raises or is not a number, are spec errors naming the estimator (exit 2); a plugin that ends
its process fails one evaluation, not the run, even with one job (third-party estimators run
in a worker process)."""

from __future__ import annotations

import json

import pytest

from avatar.solver.cli import EXIT_INVALID, EXIT_OK

from .helpers import SPEC, faulty_spec, solve, stored

PLUGINS = {"AVATAR_ALLOW_PLUGINS": "tests"}


def _spec(fault: str, *, hard: bool = False, search: str = "search: {population: 6, evaluations: 12, seed: 3}") -> str:
    text = SPEC.replace(
        "objectives:\n  gflops: maximize\n  size_mb: minimize\n",
        f"estimators:\n  misbehaving_size: {{class: 'tests.fault_tests.faulty:MisbehavingSizeEstimator', options: {{fault: {fault}}}}}\n"
        "objectives:\n  gflops: maximize\n  misbehaving_size: minimize\n",
    ).replace("search: {population: 10, evaluations: 40, seed: 3}", search)
    return text.replace("under_1mb: size_mb <= 1", "under_1mb: misbehaving_size <= 1") if hard else text


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_exception_without_a_message_is_a_failed_evaluation(tmp_path, jobs):
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec("unprintable"))
    done = solve(str(spec), "--out", str(tmp_path / "run"), "--jobs", jobs, "-q", environment=PLUGINS)
    assert done.returncode == EXIT_OK, done.stderr
    assert "Traceback" not in done.stderr
    failed = [error for _, status, error in stored(tmp_path / "run") if status == "failed"]
    assert failed and all(error == "UnprintableError" for error in failed), failed
    assert json.loads((tmp_path / "run" / "pareto.json").read_text())["front"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("init", "failed to start: LookupError: the plugin cannot find its model file"),
        ("symbolic", "its closed form (symbolic) failed: TypeError"),
        ("symbolic_raises", "its closed form (symbolic) failed: ZeroDivisionError: closed form divides by zero"),
        ("boolean", "is a Bool term, not a number"),
    ],
)
def test_a_broken_constructor_or_closed_form_is_exit_2_naming_the_estimator(tmp_path, fault, expected):
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec(fault, hard=True))
    for extra in (("--check",), ("--no-train",)):
        done = solve(str(spec), "--out", str(tmp_path / "run"), "-q", *extra, environment=PLUGINS)
        assert done.returncode == EXIT_INVALID, done.stderr
        assert "misbehaving_size" in done.stderr and expected in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_a_plugin_that_ends_its_process_fails_one_evaluation_with_one_job(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(faulty_spec("os_exit", search="search: {population: 6, evaluations: 14, seed: 3}"))
    done = solve(str(spec), "--out", str(tmp_path / "run"), "--jobs", "1", "-q", environment=PLUGINS)
    assert done.returncode == EXIT_OK, done.stderr
    rows = stored(tmp_path / "run")
    assert len(rows) == 14
    failed = [error for _, status, error in rows if status == "failed"]
    assert failed and all("the worker process died (exit code 7)" in error for error in failed)
