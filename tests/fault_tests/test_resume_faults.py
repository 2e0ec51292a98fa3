"""A run interrupted anywhere and resumed ends exactly as an uninterrupted one: the same
evaluated configurations and the same front; a raised budget is spent. In this process an
interruption is a KeyboardInterrupt raised after the N-th stored evaluation (what Ctrl-C does);
the slow tests kill ``solve`` with SIGKILL early, midway and late."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest

from avatar.solver import Space
from avatar.solver.search._search import Search, SearchHooks
from avatar.solver.search._store import RunStore
from avatar.specs import loads

from .helpers import SPEC, front_keys, solve, start_solve, stored

BUDGET = 40


class InterruptAfter(SearchHooks):
    """Ctrl-C after the ``n``-th evaluation of this session is stored."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    def evaluation(self, search, evaluation) -> None:
        self.seen += 1
        if self.seen == self.n:
            raise KeyboardInterrupt


def _search(directory, text: str, algorithm: str, hooks=(), evaluations: int | None = None):
    spec = loads(text)
    store = RunStore(directory / "evaluations.sqlite")
    return Search(Space.from_spec(spec), store, algorithm=algorithm, hooks=list(hooks), evaluations=evaluations), store


def _outcome(result) -> tuple[set[str], list[str]]:
    return {evaluation.key for evaluation in result.evaluations}, sorted(evaluation.key for evaluation in result.front)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The reference runs: each algorithm, BUDGET and 2 x BUDGET evaluations."""
    cache = {}

    def run(algorithm: str, evaluations: int = BUDGET):
        if (algorithm, evaluations) not in cache:
            search, store = _search(tmp_path_factory.mktemp(f"{algorithm}{evaluations}"), SPEC, algorithm, evaluations=evaluations)
            cache[algorithm, evaluations] = _outcome(search.run())
            store.close()
        return cache[algorithm, evaluations]

    return run


@pytest.mark.parametrize("algorithm", ["nsga2", "ibea", "moead", "spea2", "surrogate", "auto"])
@pytest.mark.parametrize("killed_after", [1, 9, 23, 39])
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, uninterrupted, algorithm, killed_after):
    search, store = _search(tmp_path, SPEC, algorithm, hooks=[InterruptAfter(killed_after)])
    with pytest.raises(KeyboardInterrupt):
        search.run()
    store.close()
    assert len(RunStore(tmp_path / "evaluations.sqlite").evaluations()) == killed_after, "every finished evaluation is stored"
    resumed, store = _search(tmp_path, SPEC, algorithm)
    assert _outcome(resumed.run()) == uninterrupted(algorithm)
    store.close()


def test_interrupted_twice_and_resumed_equals_uninterrupted(tmp_path, uninterrupted):
    for killed_after in (7, 12):
        search, store = _search(tmp_path, SPEC, "nsga2", hooks=[InterruptAfter(killed_after)])
        with pytest.raises(KeyboardInterrupt):
            search.run()
        store.close()
    resumed, store = _search(tmp_path, SPEC, "nsga2")
    assert _outcome(resumed.run()) == uninterrupted("nsga2")


@pytest.mark.parametrize("algorithm", ["nsga2", "epsmoea", "surrogate"])
def test_a_raised_budget_is_spent_and_equals_a_longer_run(tmp_path, uninterrupted, algorithm):
    search, store = _search(tmp_path, SPEC, algorithm)
    search.run()
    store.close()
    longer, store = _search(tmp_path, SPEC, algorithm, evaluations=2 * BUDGET)
    result = longer.run()
    assert len(result.evaluations) == 2 * BUDGET, "the raised budget is spent, not reported as an exhausted space"
    assert _outcome(result) == uninterrupted(algorithm, 2 * BUDGET)


def _slow_spec(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        SPEC.replace(
            "objectives:\n  gflops: maximize\n  size_mb: minimize\n",
            "estimators:\n  slow_size: {class: 'tests.solver_tests.instrumented:SlowSizeEstimator', options: {delay: 0.1}}\nobjectives:\n  gflops: maximize\n  slow_size: minimize\n",
        ).replace("evaluations: 40", "evaluations: 60")
    )
    return path


def _kill_after(spec, out, n: int) -> int:
    process = start_solve(str(spec), "--out", str(out), "-q")
    database, deadline, count = out / "evaluations.sqlite", time.monotonic() + 120, 0
    while time.monotonic() < deadline and process.poll() is None:
        if database.exists():
            try:
                count = sqlite3.connect(database).execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
            except sqlite3.Error:
                count = 0
            if count >= n:
                break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return len(stored(out))


@pytest.mark.slow
@pytest.mark.parametrize("killed_after", [2, 30, 57])
def test_sigkill_then_resume_equals_uninterrupted(tmp_path, killed_after):
    spec = _slow_spec(tmp_path)
    whole = solve(str(spec), "--out", str(tmp_path / "whole"), "-q")
    assert whole.returncode == 0, whole.stderr
    killed = tmp_path / "killed"
    done = _kill_after(spec, killed, killed_after)
    assert killed_after <= done < 60, "killed part-way"
    before = {key for key, _, _ in stored(killed)}
    resumed = solve(str(spec), "--out", str(killed), "--resume", "-q")
    assert resumed.returncode == 0, resumed.stderr
    after = {key for key, _, _ in stored(killed)}
    assert before <= after and after == {key for key, _, _ in stored(tmp_path / "whole")}
    assert front_keys(killed) == front_keys(tmp_path / "whole")


@pytest.mark.parametrize("drop_hash", [True, False], ids=["hash-deleted", "hash-kept"])
def test_resume_never_replays_points_a_tightened_constraint_forbids(tmp_path, drop_hash):
    """A store whose spec hash is gone (deleted by hand) is not trusted: every stored point is
    checked against the current spec's hard constraints, and a run that would put forbidden
    points on the front is refused with the constraint named."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "run"
    assert solve(str(spec), "--no-train", "--quiet", "--out", str(out)).returncode == 0
    if drop_hash:
        connection = sqlite3.connect(out / "evaluations.sqlite")
        with connection:
            connection.execute("DELETE FROM meta WHERE key = 'search_hash'")
        connection.close()
    spec.write_text(SPEC.replace("under_1mb: size_mb <= 1", "under_1mb: size_mb <= 0.2"))
    done = solve(str(spec), "--no-train", "--quiet", "--resume", "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert ("under_1mb" in done.stderr) if drop_hash else ("different search" in done.stderr)
    front = json.loads((out / "pareto.json").read_text())["front"]
    assert front and all(point["metrics"]["size_mb"] <= 1 for point in front)  # the first run's front, untouched


def test_a_large_run_interrupted_and_resumed_equals_uninterrupted(tmp_path):
    """Thousands of closed-form evaluations (the Devign example's space, its 3 MB limit
    compiled in): the replay of a long stored history leads to the same run."""
    from pathlib import Path

    import yaml

    document = yaml.safe_load((Path(__file__).resolve().parents[2] / "specs" / "examples" / "avatar-devign.yaml").read_text())
    document.pop("train", None)
    document["objectives"] = {"gflops": "maximize", "size_mb": "minimize", "max_sequence_length": "maximize"}
    document["search"] = {"algorithm": "nsga2", "population": 20, "evaluations": 2000, "seed": 5}
    text = yaml.safe_dump(document)
    (tmp_path / "whole").mkdir()
    whole, store = _search(tmp_path / "whole", text, "nsga2")
    expected = _outcome(whole.run())
    store.close()
    (tmp_path / "killed").mkdir()
    for killed_after in (1100, 600):  # killed twice, the second time 600 evaluations into the resumed run
        search, store = _search(tmp_path / "killed", text, "nsga2", hooks=[InterruptAfter(killed_after)])
        with pytest.raises(KeyboardInterrupt):
            search.run()
        store.close()
    assert len(RunStore(tmp_path / "killed" / "evaluations.sqlite").evaluations()) == 1700
    resumed, store = _search(tmp_path / "killed", text, "nsga2")
    assert _outcome(resumed.run()) == expected and len(expected[0]) == 2000
    store.close()
