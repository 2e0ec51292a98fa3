"""The search: feasible and new configurations only, durable, resumable, and parallel."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avatar import objectives
from avatar.solver import Space
from avatar.solver.search._execution import DaskExecutor, PoolExecutor
from avatar.solver.search._search import ALGORITHMS, Search, SearchHooks
from avatar.solver.search._store import RunStore
from avatar.specs import loads
from tests.helpers import REPOSITORY, SEARCH_SPACE
from tests.solver_tests.instrumented import RecordingSizeEstimator


class CountEvaluations(SearchHooks):
    """Counts the evaluations a run makes (not the ones it reads from its store)."""

    def __init__(self) -> None:
        self.n = 0

    def evaluation(self, search, evaluation) -> None:
        self.n += 1


def make_search(tmp_path, text=SEARCH_SPACE, name="run", estimators=None, **options):
    spec = loads(text)
    space = Space.from_spec(spec)
    if estimators is not None:  # instrumented objects computing the same metrics
        space = space.with_estimators(estimators)
    store = RunStore(tmp_path / name / "evaluations.sqlite")
    return Search(space, store, **options), spec, space, store


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_only_feasible_new_configurations_are_evaluated(tmp_path, algorithm):
    RecordingSizeEstimator.seen = []
    spec = loads(SEARCH_SPACE)
    estimators = {**objectives.estimators_for(spec), "size_mb": RecordingSizeEstimator()}
    search, _, space, store = make_search(tmp_path, estimators=estimators, algorithm=algorithm)
    result = search.run()
    seen = RecordingSizeEstimator.seen
    evaluated = [evaluation.config for evaluation in result.evaluations]
    assert len(evaluated) == store.count() == spec.search.evaluations
    if algorithm != "surrogate":  # the model-based search also computes size_mb for its candidates
        assert len(seen) == len(evaluated)
    assert all(space.contains(config) for config in seen), "an infeasible configuration was evaluated"
    keys = [tuple(sorted(config.items())) for config in evaluated]
    assert len(set(keys)) == len(keys), "a configuration was evaluated twice"
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
    result = Search(space, store, algorithm=algorithm).run()
    assert result.front and all(evaluation.metrics["gflops"] <= 0.05 for evaluation in result.front)
    assert any(evaluation.metrics["gflops"] > 0.05 for evaluation in result.evaluations)


@pytest.mark.parametrize("algorithm", ["nsga2", "surrogate"])
def test_resume_continues_without_reevaluating(tmp_path, algorithm):
    search, spec, space, store = make_search(tmp_path, evaluations=30, algorithm=algorithm)
    search.run()
    store.close()
    counted = CountEvaluations()
    resumed = Search(space, RunStore(tmp_path / "run" / "evaluations.sqlite"), algorithm=algorithm, hooks=[counted])
    result = resumed.run()
    assert len(result.evaluations) == 60 and counted.n == 30, "only the 30 new configurations are evaluated"
    uninterrupted = make_search(tmp_path, name="whole", algorithm=algorithm)[0].run()
    assert [evaluation.key for evaluation in result.front] == [evaluation.key for evaluation in uninterrupted.front]


def _run_solve(spec_path: Path, out: Path, *extra: str) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "avatar.solver.cli", str(spec_path), "--out", str(out), "-q", *extra]
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_and_resume_ends_with_the_uninterrupted_front(tmp_path):
    text = SEARCH_SPACE.replace(
        "objectives:\n  gflops: maximize\n  size_mb: minimize\n",
        "estimators:\n  slow_size: {class: 'tests.solver_tests.instrumented:SlowSizeEstimator', options: {delay: 0.05}}\nobjectives:\n  gflops: maximize\n  slow_size: minimize\n",
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
    document = json.loads((whole / "pareto.json").read_text())
    first = next(iter(document["objectives"]))
    values = [point["metrics"][first] for point in document["front"]]
    assert values == sorted(values), "the front is listed by its first objective, in pareto.json as in every table"
    with open(whole / "pareto.csv") as file:
        rows = list(csv.DictReader(file))
    assert [row["key"] for row in rows] == front(whole)
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


@pytest.mark.parametrize("algorithm", ["nsga2", "auto"])
def test_process_pool_gives_the_serial_front(tmp_path, algorithm):
    # the model-based search (auto's choice here) gives each worker one point of a batch: the
    # serial run it equals is the one with that batch
    serial = make_search(tmp_path, name="serial", evaluations=30, algorithm=algorithm, batch=2)[0].run()
    pool = PoolExecutor(2)
    try:
        pooled = make_search(tmp_path, name="pool", evaluations=30, executor=pool, algorithm=algorithm)[0].run()
    finally:
        pool.shutdown()
    assert [evaluation.key for evaluation in pooled.front] == [evaluation.key for evaluation in serial.front]


def test_dask_local_cluster_gives_the_serial_front(tmp_path):
    distributed = pytest.importorskip("distributed")
    serial = make_search(tmp_path, name="serial", evaluations=30, batch=2)[0].run()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            executor = DaskExecutor(client=client)
            assert executor.workers == 2
            remote = make_search(tmp_path, name="dask", evaluations=30, executor=executor)[0].run()
    assert [evaluation.key for evaluation in remote.front] == [evaluation.key for evaluation in serial.front]


def test_the_constructor_only_stores_and_run_replays(tmp_path, monkeypatch):
    search, _, _, store = make_search(tmp_path, evaluations=20)
    replays = []
    original = store.evaluations
    monkeypatch.setattr(store, "evaluations", lambda: replays.append(1) or original())
    again = Search(search.space, store)
    assert not replays and not hasattr(again, "problem"), "a Search costs nothing until it is used"
    result = again.run()
    assert replays == [1] and len(result.evaluations) == again.budget


def test_ibea_takes_an_objective_that_one_value_fills(tmp_path):
    """Platypus' IBEA stopped with "objective with empty range" when every solution of a
    population had one value in an objective (here: the only sequence length)."""
    text = SEARCH_SPACE.replace("max_sequence_length: {choices: [128, 256]}", "max_sequence_length: {choices: [128]}").replace(
        "  size_mb: minimize\n", "  size_mb: minimize\n  max_sequence_length: maximize\n"
    )
    result = make_search(tmp_path, text, algorithm="ibea", evaluations=30)[0].run()
    assert len(result.evaluations) == 30 and result.front
