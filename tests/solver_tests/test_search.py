"""The search: feasible and new configurations only, durable, resumable, and parallel."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from avatar import objectives
from avatar.solver import Space
from avatar.solver._execution import DaskExecutor, PoolExecutor
from avatar.solver._pareto import Normalisation, hypervolume, nondominated, select_points
from avatar.solver._search import ALGORITHMS, Search, objective_limits
from avatar.solver._store import RunStore
from avatar.solver._violation import violation
from avatar.specs import loads, parse_expression
from tests.helpers import REPOSITORY, SEARCH_SPACE
from tests.solver_tests.instrumented import RecordingSizeEstimator

def make_search(tmp_path, text=SEARCH_SPACE, name="run", **options):
    spec = loads(text)
    space = Space.from_spec(spec)
    store = RunStore(tmp_path / name / "evaluations.sqlite")
    return Search(spec, space, store, **options), spec, space, store


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_only_feasible_new_configurations_are_evaluated(tmp_path, algorithm):
    RecordingSizeEstimator.seen = []
    spec = loads(SEARCH_SPACE)
    estimators = {**objectives.estimators_for(spec), "size_mb": RecordingSizeEstimator()}
    search, _, space, store = make_search(tmp_path, estimators=estimators, algorithm=algorithm)
    result = search.run()
    seen = RecordingSizeEstimator.seen
    assert len(seen) == len(result.evaluations) == spec.search.evaluations
    assert all(space.contains(config) for config in seen), "an infeasible configuration was evaluated"
    keys = [tuple(sorted(config.items())) for config in seen]
    assert len(set(keys)) == len(keys), "a configuration was evaluated twice"
    assert store.count() == len(seen)
    assert result.front and result.hypervolume > 0


def test_search_is_deterministic_for_a_seed(tmp_path):
    first = make_search(tmp_path, name="a")[0].run()
    second = make_search(tmp_path, name="b")[0].run()
    assert [evaluation.key for evaluation in first.front] == [evaluation.key for evaluation in second.front]
    third = make_search(tmp_path, name="c", seed=99)[0].run()
    assert {evaluation.key for evaluation in third.evaluations} != {evaluation.key for evaluation in first.evaluations}


def test_failing_and_hanging_evaluations_are_recorded_and_the_search_goes_on(tmp_path):
    text = SEARCH_SPACE.replace(
        "objectives:\n  gflops: maximize\n  size_mb: minimize\n",
        "estimators:\n  flaky_size: {class: 'tests.solver_tests.instrumented:FlakySizeEstimator', options: {fail_below: 96, hang_above: 200, hang_seconds: 5}}\n"
        "objectives:\n  gflops: maximize\n  flaky_size: minimize\n",
    ).replace("search: {population: 10, evaluations: 60, seed: 3}", "search: {population: 10, evaluations: 40, seed: 3, evaluation_timeout: 0.5, max_identical_failures: 0}")
    search, spec, space, store = make_search(tmp_path, text)
    result = search.run()
    failed = [evaluation for evaluation in result.evaluations if not evaluation.ok]
    assert len(result.evaluations) == 40 and failed
    assert any("cannot size hidden_size" in evaluation.error for evaluation in failed)
    assert all(evaluation.ok for evaluation in result.front)
    rows = sqlite3.connect(store.path).execute("SELECT status, error FROM evaluations WHERE status = 'failed'").fetchall()
    assert len(rows) == len(failed) and all(error for _, error in rows)
    if any(evaluation.config["hidden_size"] > 200 for evaluation in result.evaluations):
        assert any("timeout" in (evaluation.error or "") for evaluation in failed)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_post_constraints_keep_violating_points_off_the_front(tmp_path, algorithm):
    text = SEARCH_SPACE.replace("  under_1mb: size_mb <= 1\n", "  under_1mb: size_mb <= 1\n  cheap: gflops <= 0.05\n")
    spec = loads(text)
    # make gflops "measured" for this test: a post-evaluation constraint
    flops = objectives.get("gflops")
    flops.is_symbolic = lambda context: False
    space = Space.from_spec(spec, estimators={**objectives.estimators_for(spec), "gflops": flops})
    assert [item.name for item in space.post_constraints] == ["cheap"]
    store = RunStore(tmp_path / "evaluations.sqlite")
    result = Search(spec, space, store, algorithm=algorithm).run()
    assert result.front and all(evaluation.metrics["gflops"] <= 0.05 for evaluation in result.front)
    assert any(evaluation.metrics["gflops"] > 0.05 for evaluation in result.evaluations)


def test_resume_continues_without_reevaluating(tmp_path):
    search, spec, space, store = make_search(tmp_path, evaluations=30)
    search.run()
    store.close()
    RecordingSizeEstimator.seen = []
    estimators = {**objectives.estimators_for(spec), "size_mb": RecordingSizeEstimator()}
    resumed = Search(spec, space, RunStore(tmp_path / "run" / "evaluations.sqlite"), estimators=estimators)
    result = resumed.run()
    assert len(result.evaluations) == 60 and len(RecordingSizeEstimator.seen) == 30
    uninterrupted = make_search(tmp_path, name="whole")[0].run()
    assert [evaluation.key for evaluation in result.front] == [evaluation.key for evaluation in uninterrupted.front]


def _run_solve(spec_path: Path, out: Path, *extra: str) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "avatar.solver.cli", str(spec_path), "--out", str(out), "-q", *extra]
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_and_resume_ends_with_the_uninterrupted_front(tmp_path):
    text = SEARCH_SPACE.replace(
        "objectives:\n  gflops: maximize\n  size_mb: minimize\n",
        "estimators:\n  slow_size: {class: 'tests.solver_tests.instrumented:SlowSizeEstimator', options: {delay: 0.05}}\n"
        "objectives:\n  gflops: maximize\n  slow_size: minimize\n",
    )
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(text)
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    process = _run_solve(spec_path, killed)
    database = killed / "evaluations.sqlite"
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline:
        if database.exists():
            try:
                stored = sqlite3.connect(database).execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
            except sqlite3.Error:
                stored = 0
            if stored >= 25:
                break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 25 <= stored < 60, "the run must be killed in the middle of the search"
    before = sqlite3.connect(database).execute("SELECT key FROM evaluations").fetchall()
    resumed = _run_solve(spec_path, killed, "--resume")
    assert resumed.wait(timeout=120) == 0, resumed.stderr.read()
    after = sqlite3.connect(database).execute("SELECT key FROM evaluations").fetchall()
    assert set(before) <= set(after) and len(after) == 60, "no finished evaluation is lost or repeated"
    complete = _run_solve(spec_path, whole)
    assert complete.wait(timeout=120) == 0, complete.stderr.read()
    front = lambda directory: [point["key"] for point in json.loads((directory / "pareto.json").read_text())["front"]]  # noqa: E731
    assert front(killed) == front(whole)
    assert not _run_solve(spec_path, whole).wait(timeout=60) == 0, "an existing run is not overwritten without --resume"


def test_resume_refuses_a_changed_search(tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(SEARCH_SPACE.replace("evaluations: 60", "evaluations: 20"))
    assert _run_solve(spec_path, tmp_path / "run").wait(timeout=120) == 0
    spec_path.write_text(SEARCH_SPACE.replace("evaluations: 60", "evaluations: 30"))  # a bigger budget is fine
    assert _run_solve(spec_path, tmp_path / "run", "--resume").wait(timeout=120) == 0
    spec_path.write_text(SEARCH_SPACE.replace("seed: 3", "seed: 4"))
    process = _run_solve(spec_path, tmp_path / "run", "--resume")
    assert process.wait(timeout=120) == 2 and "different search" in process.stderr.read()


def test_process_pool_gives_the_serial_front(tmp_path):
    serial = make_search(tmp_path, name="serial", evaluations=30)[0].run()
    pool = PoolExecutor(2)
    try:
        pooled = make_search(tmp_path, name="pool", evaluations=30, executor=pool)[0].run()
    finally:
        pool.shutdown()
    assert [evaluation.key for evaluation in pooled.front] == [evaluation.key for evaluation in serial.front]


def test_dask_local_cluster_gives_the_serial_front(tmp_path):
    distributed = pytest.importorskip("distributed")
    serial = make_search(tmp_path, name="serial", evaluations=30)[0].run()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            executor = DaskExecutor(client=client)
            assert executor.workers == 2
            remote = make_search(tmp_path, name="dask", evaluations=30, executor=executor)[0].run()
    assert [evaluation.key for evaluation in remote.front] == [evaluation.key for evaluation in serial.front]


# -- the pieces ------------------------------------------------------------------------------------


def test_nondominated_and_hypervolume():
    points = np.array([[1.0, 4.0], [2.0, 2.0], [4.0, 1.0], [3.0, 3.0], [2.0, 2.0]])
    assert list(nondominated(points)) == [0, 1, 2]
    box = Normalisation((0.0, 0.0), (5.0, 5.0))
    # union of the rectangles up to (5, 5), in units of 25
    assert hypervolume(points, box) == pytest.approx((4 * 1 + 3 * 2 + 1 * 1) / 25)
    cube = Normalisation((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    assert hypervolume(np.array([[0.5, 0.5, 0.5]]), cube) == pytest.approx(0.125)
    assert hypervolume(np.array([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]), cube) == pytest.approx(0.75)
    assert hypervolume(np.array([[2.0, 2.0, 2.0]]), cube) == 0.0


def test_selection():
    points = np.array([[0.0, 1.0], [0.4, 0.4], [1.0, 0.0], [0.6, 0.3]])
    assert select_points(points, "knee", ["a", "b"]) == [1]
    assert select_points(points, "best:b", ["a", "b"]) == [2]
    assert sorted(select_points(points, 3, ["a", "b"])) == [0, 1, 2]
    assert select_points(points, "all", ["a", "b"]) == [0, 1, 2, 3]


def test_the_knee_is_taken_in_the_fronts_own_scale():
    """A front found far beyond the first evaluations' ideal (and far inside a hard limit) still
    has its knee in the middle: each objective runs from the front's best to its worst value."""
    # minimisation form: (-accuracy, size MB); sizes far below a 3 MB limit
    front = np.array([[-0.90, 0.30], [-0.80, 0.10], [-0.85, 0.20], [-0.70, 0.05]])
    assert select_points(front, "knee", ["accuracy", "size_mb"]) == [1]
    for scale in (1e-3, 1.0, 1e3):  # the knee does not depend on units
        assert select_points(front * np.array([1.0, scale]), "knee", ["accuracy", "size_mb"]) == [1]


def test_objective_limits_come_from_hard_limits():
    spec = loads(SEARCH_SPACE.replace("  under_1mb: size_mb <= 1\n", "  under_1mb: size_mb <= 1\n  enough: 0.01 <= gflops\n"))
    assert objective_limits(spec, ["gflops", "size_mb"]) == [-0.01, 1.0]


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("latency_ms <= 20", {"latency_ms": 30.0}, 10 / 30),
        ("latency_ms <= 20", {"latency_ms": 10.0}, 0.0),
        ("a >= 4 and b <= 1", {"a": 2, "b": 2}, 0.5 + 0.5),
        ("a >= 4 or b <= 1", {"a": 2, "b": 2}, 0.5),
        ("t == 'x'", {"t": "y"}, 1.0),
        ("a in [4, 8]", {"a": 2}, 0.5),
    ],
)
def test_violations_are_relative(text, values, expected):
    assert violation(parse_expression(text), values) == pytest.approx(expected)


@pytest.mark.parametrize("dimensions", [2, 3, 4])
def test_hypervolume_matches_inclusion_exclusion(dimensions):
    import itertools

    generator = np.random.default_rng(dimensions)
    box = Normalisation(tuple([0.0] * dimensions), tuple([1.0] * dimensions))
    for _ in range(10):
        points = generator.random((6, dimensions))
        exact = sum(
            (-1) ** (size + 1) * np.prod(1 - points[list(subset)].max(axis=0))
            for size in range(1, len(points) + 1)
            for subset in itertools.combinations(range(len(points)), size)
        )
        assert hypervolume(points, box) == pytest.approx(exact, abs=1e-12)


def test_report_lists_every_choice_of_a_string_parameter(tmp_path):
    from avatar.solver import run_search
    from avatar.solver._summary import check_report

    text = SEARCH_SPACE.replace("  hidden_act:          {choices: [gelu, relu]}", "  hidden_act:          {choices: [gelu, relu, silu]}").replace(
        "under_1mb: size_mb <= 1", "under_1mb: size_mb <= 1\n  no_silu: hidden_act != \"silu\""
    )
    spec = loads(text)
    space = Space.from_spec(spec)
    run_search(spec, space, check_report(spec, space), out=str(tmp_path / "run"))
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| hidden_act | {gelu, relu, silu} | {gelu, relu} |" in report, "declared: every choice, not the first and last"


def test_a_teacher_scoring_zero_gives_a_reason_not_nan():
    from avatar.solver._results import kept_text

    assert kept_text(0.5, 0.8, "f1") == "62.5%"
    assert kept_text(0.5, 0.0, "f1") == "n/a: the teacher's f1 is 0 (it predicts one class)"
    assert kept_text(0.5, float("nan"), "accuracy").startswith("n/a: ")
