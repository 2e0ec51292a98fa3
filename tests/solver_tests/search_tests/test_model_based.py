"""The model-based search (``surrogate``) and ``auto``: what is modelled and what is computed,
better fronts than uniform sampling for few evaluations, the choice recorded and kept on resume,
and a batch per worker that a Dask cluster evaluates like a serial run."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from avatar import objectives
from avatar.solver import Normalisation, Space, hypervolume, objective_limits
from avatar.solver.search._choice import choose_algorithm
from avatar.solver.search._execution import DaskExecutor, SerialExecutor
from avatar.solver.search._model_based import DESCRIPTOR_FLOOR, ModelBasedProposer
from avatar.solver.search._search import Search
from avatar.solver.search._store import RunStore
from avatar.specs import loads
from tests.helpers import SEARCH_SPACE

MEASURED = SEARCH_SPACE.replace(
    "objectives:\n  gflops: maximize\n",
    "estimators:\n  measured_gflops: {class: 'tests.solver_tests.instrumented:MeasuredFlopsEstimator'}\nobjectives:\n  measured_gflops: maximize\n",
)


def _search(tmp_path, text=MEASURED, name="run", **options):
    spec = loads(text)
    store = RunStore(tmp_path / name / "evaluations.sqlite")
    return Search(Space.from_spec(spec), store, **options), store


def test_closed_forms_are_computed_and_measured_metrics_modelled(tmp_path):
    search, store = _search(tmp_path, algorithm="surrogate", evaluations=12)
    search.run()
    proposer = ModelBasedProposer(search.space, search.problem, search.metrics, search.objective_names, search.directions, search.post, 0)
    assert proposer.modelled == ["measured_gflops"] and proposer.exact == ["size_mb"]
    batch = proposer.propose(search.result().evaluations, lambda key: key in search.cache, 3)
    assert len(batch) == 3 and proposer.fits == 1, "a fitted model chose the batch"
    assert all(search.space.contains(config) for config in batch)
    assert not {tuple(search.problem.positions(config)) for config in batch} & set(search.cache), "known points are never proposed"
    store.close()


class _Undefined(objectives.Estimator):
    """A cheap closed form that no point can take."""

    name, unit, direction, kind, cheap = "undefined", "", "minimize", "analytic", True

    def evaluate(self, config, context):
        raise ValueError("undefined here")


def test_the_models_are_given_the_closed_forms_of_each_configuration(tmp_path):
    search, store = _search(tmp_path, algorithm="surrogate", evaluations=12)
    search.run()
    proposer = ModelBasedProposer(search.space, search.problem, search.metrics, search.objective_names, search.directions, search.post, 0)
    assert list(proposer.descriptors) == ["params", "gflops", "size_mb"], "the built-in closed forms (size_mb is also an exact metric here)"
    config = search.space.sample(1, seed=3)[0]
    row = proposer._encoded(["one"], [config])[0]
    exact = objectives.evaluate(search.space.spec, config, ["params", "gflops", "size_mb"], context=search.space.context)
    width = len(proposer.encoder.columns)
    assert len(row) == width + 3
    assert row[width:] == pytest.approx([math.log(exact[name]) for name in ("params", "gflops", "size_mb")])
    proposer.descriptors["undefined"] = _Undefined()
    assert proposer._described(config)[-1] == math.log(DESCRIPTOR_FLOOR), "an undefined descriptor is a value of its own, not an error"
    store.close()


def test_with_nothing_to_model_no_closed_form_is_described(tmp_path):
    search, store = _search(tmp_path, SEARCH_SPACE, algorithm="surrogate", evaluations=5)
    search.run()
    proposer = ModelBasedProposer(search.space, search.problem, search.metrics, search.objective_names, search.directions, search.post, 0)
    assert proposer.descriptors == {}
    store.close()


def test_every_metric_closed_form_needs_no_initial_design(tmp_path):
    search, store = _search(tmp_path, SEARCH_SPACE, algorithm="surrogate", evaluations=5)
    result = search.run()
    proposer = ModelBasedProposer(search.space, search.problem, search.metrics, search.objective_names, search.directions, search.post, 0)
    assert not proposer.modelled, "every metric here is a cheap closed form: nothing to model, no initial design"
    assert len(result.evaluations) == 5 and len(result.front) >= 2, "with exact metrics the first points already lie on the pool's front"
    store.close()


def test_for_a_small_budget_it_beats_uniform_sampling(tmp_path):
    """40 evaluations, 3 seeds, one normalisation: the model-based median front is larger."""
    volumes: dict[str, list[float]] = {"surrogate": [], "random": []}
    fronts = {}
    for algorithm in volumes:
        for seed in range(3):
            search, store = _search(tmp_path, name=f"{algorithm}{seed}", algorithm=algorithm, evaluations=40, seed=seed)
            fronts[algorithm, seed] = search.run()
            store.close()
    spec = loads(MEASURED)
    points = np.vstack([_points(result) for result in fronts.values()])
    normalisation = Normalisation.from_points(points, objective_limits(spec, ["measured_gflops", "size_mb"]))
    for (algorithm, _), result in fronts.items():
        volumes[algorithm].append(hypervolume(_points(result), normalisation))
    assert statistics.median(volumes["surrogate"]) > statistics.median(volumes["random"])


def _points(result) -> np.ndarray:
    signs = np.array([-1.0 if direction == "maximize" else 1.0 for direction in result.directions])
    return np.array([[evaluation.metrics[name] for name in result.objective_names] for evaluation in result.front]) * signs


def test_post_evaluation_limits_on_modelled_metrics_are_met_by_the_front(tmp_path):
    text = MEASURED.replace("  under_1mb: size_mb <= 1\n", "  under_1mb: size_mb <= 1\n  capped: measured_gflops <= 0.05\n")
    search, store = _search(tmp_path, text, algorithm="surrogate", evaluations=30)
    result = search.run()
    assert search.post and result.front
    assert all(evaluation.metrics["measured_gflops"] <= 0.05 for evaluation in result.front)
    store.close()


def test_auto_is_resolved_recorded_and_kept_on_resume(tmp_path):
    search, store = _search(tmp_path, evaluations=20)
    assert search.requested_algorithm == "auto"
    search.run()
    assert search.algorithm_name == "surrogate" and "evaluations" in search.choice.reason
    assert store.get_meta("algorithm") == search.choice.to_dict() and store.get_meta("batch") == 1
    store.close()
    wider = SerialExecutor()
    wider.workers = 4  # a resumed run with more workers keeps the run's algorithm and batch
    resumed, store = _search(tmp_path, evaluations=30, executor=wider)
    resumed.run()
    assert resumed.algorithm_name == "surrogate" and resumed.batch == 1
    store.close()


@pytest.mark.parametrize(
    ("objectives", "budget", "workers", "expected"),
    [(2, 100, 1, "surrogate"), (3, 500, 4, "surrogate"), (3, 1000, 1, "surrogate"), (3, 1001, 1, "ibea"), (2, 5000, 1, "ibea"), (2, 200, 64, "nsga2"), (3, 200, 64, "ibea")],
)
def test_auto_chooses_by_objectives_budget_and_workers(objectives, budget, workers, expected):
    choice = choose_algorithm(objectives=objectives, budget=budget, workers=workers, post_constraints=0)
    assert choice.name == expected and f"{budget:,} evaluations" in choice.reason


def test_dask_workers_get_one_batch_each_like_a_serial_run_of_that_batch(tmp_path):
    distributed = pytest.importorskip("distributed")
    serial, store = _search(tmp_path, name="serial", algorithm="surrogate", evaluations=24, batch=2)
    expected = [evaluation.key for evaluation in serial.run().front]
    store.close()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            remote, store = _search(tmp_path, name="dask", algorithm="surrogate", evaluations=24, executor=DaskExecutor(client=client))
            result = remote.run()
            store.close()
    assert remote.batch == 2
    assert [evaluation.key for evaluation in result.front] == expected


def test_auto_leaves_spaces_counted_only_approximately_to_the_evolutionary_algorithms():
    choice = choose_algorithm(objectives=2, budget=100, workers=1, post_constraints=0, exactly_counted=False)
    assert choice.name == "nsga2" and "count exactly" in choice.reason


@pytest.mark.parametrize(
    ("objectives", "costly", "expected"),
    [(2, [], "nsga2"), (3, [], "nsga2"), (4, [], "surrogate"), (3, ["accuracy"], "surrogate"), (2, ["latency_ms"], "surrogate"), (3, None, "surrogate")],
)
def test_auto_weighs_what_each_metric_costs(objectives, costly, expected):
    choice = choose_algorithm(objectives=objectives, budget=500, workers=1, post_constraints=0, costly=costly)
    assert choice.name == expected
    if expected == "nsga2":
        assert "every metric a closed form" in choice.reason and "equal wall time" in choice.reason


def test_a_search_tells_auto_which_metrics_are_costly(tmp_path):
    closed, store = _search(tmp_path, SEARCH_SPACE, name="closed", algorithm="auto", evaluations=12)
    closed.run()
    store.close()
    assert closed.algorithm_name == "nsga2" and "closed form" in closed.choice.reason
    measured, store = _search(tmp_path, name="measured", algorithm="auto", evaluations=12)
    measured.run()
    store.close()
    assert measured.algorithm_name == "surrogate"
