"""What is reported feasible is feasible: a plugin's closed form is checked against its
evaluated value on every evaluated point, so a wrong ``symbolic`` cannot put a point that
breaks a hard constraint on the front."""

from __future__ import annotations

from avatar.solver import Space
from avatar.solver.search._failures import CLOSED_FORM_WRONG
from avatar.solver.search._search import Search
from avatar.solver.search._store import RunStore
from avatar.specs import loads
from tests.fault_tests.helpers import SPEC, solve

WRONG = SPEC.replace(
    "objectives:\n  gflops: maximize\n  size_mb: minimize\n",
    "estimators:\n  wrong_size: {class: 'tests.fault_tests.faulty:WrongClosedFormSizeEstimator', options: {shrink: SHRINK}}\nobjectives:\n  gflops: maximize\n  wrong_size: minimize\n",
).replace("under_1mb: size_mb <= 1", "under_1mb: wrong_size <= 1")


def _run(tmp_path, shrink: float):
    spec = loads(WRONG.replace("SHRINK", repr(shrink)))
    search = Search(Space.from_spec(spec), RunStore(tmp_path / f"run-{shrink}" / "evaluations.sqlite"))
    return search.run()


def test_a_wrong_closed_form_fails_the_points_it_misjudged(tmp_path, monkeypatch):
    monkeypatch.setenv("AVATAR_ALLOW_PLUGINS", "tests")
    result = _run(tmp_path, shrink=10.0)
    assert result.evaluations
    assert all(evaluation.ok and evaluation.metrics["wrong_size"] <= 1 for evaluation in result.front)
    failed = [evaluation for evaluation in result.evaluations if not evaluation.ok]
    assert failed and all(CLOSED_FORM_WRONG in evaluation.error and "wrong_size" in evaluation.error for evaluation in failed)
    assert "WrongClosedFormSizeEstimator" in failed[0].error
    assert not any(evaluation.ok for evaluation in result.evaluations)  # every point disagrees by a factor of 10


def test_a_right_closed_form_passes_the_check(tmp_path, monkeypatch):
    monkeypatch.setenv("AVATAR_ALLOW_PLUGINS", "tests")
    result = _run(tmp_path, shrink=1.0)
    assert result.evaluations and all(evaluation.ok for evaluation in result.evaluations)


def test_the_report_says_the_closed_form_is_wrong(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(WRONG.replace("SHRINK", "10.0"))
    done = solve(str(spec), "--no-train", "--quiet", "--out", str(tmp_path / "run"), environment={"AVATAR_ALLOW_PLUGINS": "tests"})
    assert "Traceback" not in done.stderr
    report = (tmp_path / "run" / "report.md").read_text()
    assert CLOSED_FORM_WRONG in report and "wrong_size" in report
