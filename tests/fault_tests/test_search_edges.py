"""Search at the edges: a population larger than the feasible set, and a space with one
feasible point. Every algorithm (and what ``auto`` picks) evaluates what there is and ends well."""

from __future__ import annotations

import pytest

from avatar.solver import Space
from avatar.solver.search._search import ALGORITHMS, Search
from avatar.solver.search._store import RunStore
from avatar.specs import loads
from tests.fault_tests.helpers import solve

EDGE_SPACE = """\
name: edges
task: {{kind: defect, data: d}}
space:
  vocab_size:          {{range: [1000, 2000], step: 1000}}
  num_hidden_layers:   {{range: [1, 2]}}
  hidden_size:         {{choices: [32, 64]}}
  num_attention_heads: {{choices: [1, 2]}}
  intermediate_size:   {{choices: [64, 128]}}
  max_sequence_length: {{choices: [128]}}
constraints:
  narrow: {constraint}
objectives:
  gflops: maximize
  size_mb: minimize
search: {{population: {population}, evaluations: 40, seed: {seed}, algorithm: {algorithm}}}
"""
ONE_POINT = "vocab_size == 1000 and num_hidden_layers == 1 and hidden_size == 32 and num_attention_heads == 1 and intermediate_size == 64"
EIGHT_POINTS = "vocab_size == 1000 and num_hidden_layers == 1"
FOURTEEN_POINTS = "vocab_size == 1000 and not (hidden_size == 64 and num_hidden_layers == 2 and intermediate_size == 128)"


def _search(tmp_path, constraint: str, algorithm: str, population: int = 10, seed: int = 3) -> tuple[Search, Space]:
    spec = loads(EDGE_SPACE.format(constraint=constraint, algorithm=algorithm, population=population, seed=seed))
    space = Space.from_spec(spec)
    return Search(space, RunStore(tmp_path / algorithm / "evaluations.sqlite")), space


@pytest.mark.parametrize("algorithm", [*ALGORITHMS, "auto"])
@pytest.mark.parametrize("constraint, feasible", [(ONE_POINT, 1), (EIGHT_POINTS, 8)], ids=["one-point", "eight-points"])
def test_a_population_larger_than_the_feasible_set_evaluates_the_set(tmp_path, algorithm, constraint, feasible):
    search, space = _search(tmp_path, constraint, algorithm)
    result = search.run()
    assert len(result.evaluations) == feasible
    assert all(space.contains(evaluation.config) for evaluation in result.evaluations)
    assert result.stopped_because == f"every feasible configuration evaluated ({feasible})"
    assert result.front


@pytest.mark.parametrize("algorithm", [name for name in ALGORITHMS if name not in ("random", "surrogate")])
@pytest.mark.parametrize("seed", [3, 11])
def test_evolution_on_a_set_a_little_larger_than_its_population_ends_when_it_is_exhausted(tmp_path, algorithm, seed):
    search, space = _search(tmp_path, FOURTEEN_POINTS, algorithm, population=10, seed=seed)
    result = search.run()
    assert all(space.contains(evaluation.config) for evaluation in result.evaluations)
    assert len({evaluation.key for evaluation in result.evaluations}) == len(result.evaluations) <= 14


def test_solve_on_a_one_point_space_exits_0_with_the_default_algorithm(tmp_path):
    spec = tmp_path / "one.yaml"
    spec.write_text(EDGE_SPACE.format(constraint=ONE_POINT, algorithm="auto", population=20, seed=1).replace(", algorithm: auto", ""))
    done = solve(str(spec), "--no-train", "--quiet", "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
