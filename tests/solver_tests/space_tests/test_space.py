"""The feasible space against brute force: counts, bounds, membership, sampling, repair, cores.

The reference evaluates the spec's own expressions point by point with the exact evaluator of
``avatar.specs`` (a division by zero makes a constraint false), independently of the PySMT
formulas that the space compiles.
"""

from __future__ import annotations

import itertools
import random

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avatar import objectives
from avatar.solver import InfeasibleSpecError, Space
from avatar.solver.space import FeasibleGrid
from avatar.specs import ExpressionError, evaluate_expression, load, loads, names_in
from tests.helpers import EXAMPLES

# -- a reference: brute-force enumeration with the spec's exact evaluator ------------------------


def _holds(spec, constraint, values) -> bool:
    """A constraint holds where it evaluates to true; a division by zero in it, or in a derived
    name it uses, makes it false there."""
    if any(values.get(name, 0) is None for name in names_in(constraint.expression)):
        return False
    try:
        return bool(evaluate_expression(constraint.expression, values))
    except ExpressionError:
        return False


def brute_force(spec, metric_values=None) -> list[dict]:
    """Every feasible grid point, evaluating derived names and metrics as needed."""
    names = [parameter.name for parameter in spec.parameters]
    feasible = []
    for combination in itertools.product(*(parameter.values for parameter in spec.parameters)):
        config = dict(zip(names, combination))
        values = {**spec.constant_values, **config, **(metric_values(config) if metric_values else {})}
        for item in spec.derived:
            try:
                undefined = any(values.get(name, 0) is None for name in names_in(item.expression))
                values[item.name] = None if undefined else evaluate_expression(item.expression, values)
            except ExpressionError:
                values[item.name] = None
        if all(_holds(spec, constraint, values) for constraint in spec.constraints):
            feasible.append(config)
    return feasible


# -- random spaces and constraints -----------------------------------------------------------------

PARAMETERS = {
    "a": "{range: [0, 7]}",
    "b": "{range: [1, 12], step: 3}",
    "c": "{choices: [1, 2, 4, 8]}",
    "d": "{range: [0.1, 0.5], step: 0.1}",
    "e": "{choices: [0.25, 0.5, 2.5]}",
    "t": "{choices: [x, y, z]}",
    "w": "{range: [-3, 3]}",
}
INTEGER = ["a", "b", "c", "w", "q"]  # q: a derived name, when the spec has one
REAL = ["d", "e"]


@st.composite
def integer_terms(draw, names, depth=2):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(names + ["2", "3", "5", "0"]))
    left, right = draw(integer_terms(names, depth - 1)), draw(integer_terms(names, depth - 1))
    shape = draw(st.sampled_from(["+", "-", "*", "//", "%", "min", "abs", "**"]))
    if shape == "min":
        return f"min({left}, {right})"
    if shape == "abs":
        return f"abs({left})"
    if shape == "**":
        return f"({left}) ** 2"
    return f"({left} {shape} {right})"


@st.composite
def real_terms(draw, names, reals):
    left = draw(st.one_of(integer_terms(names, 1), st.sampled_from(reals + ["0.3", "1.5"])))
    right = draw(st.one_of(integer_terms(names, 1), st.sampled_from(reals + ["0.2"])))
    return f"({left} {draw(st.sampled_from(['+', '*', '/', '-']))} {right})"


@st.composite
def conditions(draw, names):
    integers = [name for name in names if name in INTEGER]
    reals = [name for name in names if name in REAL]
    kinds = ["integer", "integer", "real", "membership"] + (["text"] if "t" in names else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "text":
        return f"t {draw(st.sampled_from(['==', '!=']))} '{draw(st.sampled_from(['x', 'y', 'z']))}'"
    if kind == "membership" and integers:
        options = draw(st.lists(st.sampled_from(["1", "2", "3", "4", "8"]), min_size=1, max_size=3, unique=True))
        return f"{draw(st.sampled_from(integers))} {draw(st.sampled_from(['in', 'not in']))} [{', '.join(options)}]"
    terms = real_terms(integers, reals) if kind == "real" else integer_terms(integers)
    operator = draw(st.sampled_from(["<=", "<", ">=", ">", "==", "!="]))
    return f"{draw(terms)} {operator} {draw(terms)}"


@st.composite
def random_specs(draw):
    names = draw(st.lists(st.sampled_from(sorted(PARAMETERS)), min_size=2, max_size=4, unique=True))
    if not any(name in INTEGER for name in names):
        names.append("a")
    derived = ""
    usable = list(names)
    if draw(st.booleans()):  # a derived integer name, usable like a parameter
        derived = f'derived:\n  q: "{draw(integer_terms([name for name in names if name in INTEGER]))}"\n'
        usable.append("q")
    constraints = []
    for index in range(draw(st.integers(1, 3))):
        condition = draw(conditions(usable))
        if draw(st.integers(0, 4)) == 0:
            condition = f"{condition} {draw(st.sampled_from(['and', 'or']))} not ({draw(conditions(usable))})"
        constraints.append(f'  c{index}: "{condition}"')
    space = "\n".join(f"  {name}: {PARAMETERS[name]}" for name in names)
    objective = next(name for name in names if name in INTEGER)
    return f"name: random\ntask: {{kind: defect, data: d}}\nspace:\n{space}\n{derived}constraints:\n" + "\n".join(constraints) + f"\nobjectives: {{{objective}: minimize}}\n"


def _load(text):
    return loads(text, metrics=set())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(random_specs())
def test_count_bounds_and_membership_match_brute_force(generated):
    spec = _load(generated)
    space = Space.from_spec(spec)
    feasible = brute_force(spec)
    count = space.count()
    assert count.exact and count.value == len(feasible), generated
    assert space.check().feasible == bool(feasible)
    feasible_keys = {tuple(config.values()) for config in feasible}
    assert {tuple(config.values()) for config in space.enumerate()} == feasible_keys
    for combination in itertools.product(*(parameter.values for parameter in spec.parameters)):
        config = dict(zip(spec.parameter_names, combination))
        assert space.contains(config) == (combination in feasible_keys), config
    if feasible:
        bounds = space.bounds()
        for parameter in spec.parameters:
            positions = sorted(parameter.values.index(config[parameter.name]) for config in feasible)
            expected = (parameter.values[positions[0]], parameter.values[positions[-1]])
            assert bounds[parameter.name].tight == expected, (parameter.name, generated)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_specs(), st.integers(0, 2**16))
def test_sample_repair_and_smt_agree_with_contains(generated, seed):
    spec = _load(generated)
    space = Space.from_spec(spec)
    if not space.count().value:
        with pytest.raises(InfeasibleSpecError):
            space.sample(3, seed=seed)
        return
    samples = space.sample(5, seed=seed)
    assert len({tuple(config.values()) for config in samples}) == len(samples) == min(5, space.count().value)
    assert all(space.contains(config) for config in samples)
    generator = random.Random(seed)
    for _ in range(3):
        config = {parameter.name: generator.choice(parameter.values) for parameter in spec.parameters}
        repaired = space.repair(config, seed=seed)
        assert space.contains(repaired)
        if space.contains(config):
            assert repaired == config
        assert _smt_says(space, config) == space.contains(config)


def _smt_says(space, config) -> bool:
    """Z3's verdict on one point: the hard constraints with every parameter fixed."""
    solver = z3.Solver()
    solver.add(*space.smt.definitions, *space.smt.hard.values())
    for name, value in config.items():
        if name in space.compiled.free:
            continue
        variable = space.compiled.variables[name]
        encoded = variable.encode(value)
        symbol = space.smt.symbols[name]
        solver.add(symbol == (z3.RealVal(repr(encoded)) if isinstance(encoded, float) else encoded))
    return solver.check() == z3.sat


# -- the roberta size formula ----------------------------------------------------------------------

SIZE_SPACE = """\
name: sized
task: {kind: clone, data: d}
space:
  vocab_size:              {range: [100, 900], step: 200}
  hidden_size:             {range: [16, 64], step: 16}
  num_hidden_layers:       {range: [1, 3]}
  num_attention_heads:     {choices: [1, 2, 3, 4]}
  intermediate_size:       {range: [32, 256], step: 32}
  max_sequence_length:     {choices: [16, 64]}
  position_embedding_type: {choices: [absolute, relative_key, relative_key_query]}
  hidden_act:              {choices: [gelu, relu]}
constraints:
  divides: hidden_size % num_attention_heads == 0
  small: size_mb <= 0.2
  quick: gflops < 0.002
objectives: {size_mb: minimize}
"""


@pytest.mark.parametrize("dtype", ["fp32", "int8"])
def test_count_with_estimator_closed_forms_matches_brute_force(dtype):
    spec = loads(SIZE_SPACE.replace("objectives:", f"model: {{dtype: {dtype}}}\nobjectives:"))
    space = Space.from_spec(spec)
    context = objectives.Context.from_spec(spec, cache_dir=None)
    size, flops = objectives.get("size_mb"), objectives.get("gflops")

    def metrics(config):
        if config["hidden_size"] % config["num_attention_heads"]:
            return {"size_mb": 1e9, "gflops": 1e9}
        return {"size_mb": size.evaluate(config, context), "gflops": flops.evaluate(config, context)}

    feasible = brute_force(spec, metrics)
    assert 0 < len(feasible) < spec.grid_size
    assert space.count().value == len(feasible)
    assert space.grid.inner is not None, "a closed-form inner count is used"
    assert all(space.contains(config) for config in space.sample(50, seed=1))


# -- cores -------------------------------------------------------------------------------------------

CORE_SPACE = """\
name: cores
task: {kind: defect, data: d}
space:
  vocab_size: {range: [1000, 5000], step: 1000}
  hidden_size: {range: [64, 256], step: 64}
  num_hidden_layers: {range: [1, 4]}
  num_attention_heads: {choices: [1, 2, 4]}
  intermediate_size: {range: [64, 512], step: 64}
  max_sequence_length: {choices: [128, 256]}
constraints:
"""


@pytest.mark.parametrize(
    ("constraints", "core", "bounds"),
    [
        ({"low": "num_hidden_layers >= 3", "high": "num_hidden_layers <= 2", "other": "vocab_size <= 3000"}, ["low", "high"], []),
        ({"huge": "hidden_size >= 1000", "other": "vocab_size <= 3000"}, ["huge"], ["hidden_size"]),
        # {wide, tiny} is the only conflict: tiny holds with 64 wide layers, deep ones included.
        (
            {"wide": "hidden_size >= 192", "tiny": "size_mb <= 1", "deep": "num_hidden_layers >= 2", "irrelevant": "vocab_size <= 3000"},
            ["wide", "tiny"],
            ["vocab_size", "num_hidden_layers", "intermediate_size", "max_sequence_length"],
        ),
    ],
)
def test_unsat_specs_name_exactly_the_conflicting_constraints(constraints, core, bounds):
    text = CORE_SPACE + "".join(f"  {name}: {expression}\n" for name, expression in constraints.items()) + "objectives: {size_mb: minimize}\n"
    spec = loads(text, filename="cores.yaml")
    space = Space.from_spec(spec)
    feasibility = space.check()
    assert feasibility.feasible is False
    assert [item.name for item in feasibility.core] == core
    assert sorted(feasibility.core_bounds) == sorted(bounds)
    assert all(item.line == 11 + list(constraints).index(item.name) for item in feasibility.core)
    with pytest.raises(InfeasibleSpecError, match="infeasible"):
        space.require_feasible()


# -- the examples ------------------------------------------------------------------------------------


def test_measured_metrics_make_post_constraints():
    spec = load(EXAMPLES / "quickstart.yaml")
    text = (EXAMPLES / "quickstart.yaml").read_text().replace("  under_1mb: size_mb <= 1\n", "  under_1mb: size_mb <= 1\n  fast: latency_ms <= 5\n")
    spec = loads(text)
    space = Space.from_spec(spec)
    assert [item.name for item in space.post_constraints] == ["fast"]
    assert "latency_ms" in space.post_constraints[0].reason
    assert "fast" not in space.compiled.hard


def test_quickstart_space_queries():
    space = Space.from_spec(load(EXAMPLES / "quickstart.yaml"))
    assert space.check().feasible
    count = space.count()
    assert count.exact and 0 < count.value < space.grid_size
    first = list(space.enumerate(limit=5))
    assert len(first) == 5 and all(space.contains(config) for config in first)
    assert space.sample(10, seed=3) == space.sample(10, seed=3)
    assert space.sample(10, seed=3) != space.sample(10, seed=4)


def test_contains_rejects_values_off_the_grid():
    space = Space.from_spec(load(EXAMPLES / "quickstart.yaml"))
    config = space.sample(1, seed=0)[0]
    assert not space.contains({**config, "hidden_size": 33})
    assert not space.contains({**config, "tokenizer": "unigram"})
    with pytest.raises(KeyError):
        space.contains({key: value for key, value in config.items() if key != "hidden_size"})


def test_estimated_count_when_the_grid_is_too_large():
    spec = load(EXAMPLES / "avatar-devign.yaml")
    space = Space.from_spec(spec)
    exact = space.count()
    estimate = FeasibleGrid(space.compiled, space.parameters, seed=1).count(exact_limit=1000, time_budget=3.0)
    assert not estimate.exact and estimate.low <= exact.value <= estimate.high
    assert abs(estimate.value - exact.value) / exact.value < 0.05


def test_marginals_match_enumeration():
    spec = loads(SIZE_SPACE)
    space = Space.from_spec(spec)
    marginals = space.marginals()
    points = list(space.enumerate())
    for parameter in spec.parameters:
        expected = [sum(config[parameter.name] == value for config in points) for value in parameter.values]
        assert list(marginals[parameter.name]) == expected, parameter.name


def test_a_name_can_be_whole_in_one_spec_and_real_in_another():
    """PySMT keeps one symbol per name per process: two specs in one session (a notebook, the
    test suite) may still give one name two types, or names like Avatar's own symbols."""
    template = (
        "name: typed\ntask: {kind: defect, data: d}\nspace:\n  d: DOMAIN\n  _quotient_0: {range: [1, 3]}\n"
        "constants: {vocab_size: 1000, num_hidden_layers: 1, num_attention_heads: 1, intermediate_size: 64, hidden_size: 32, max_sequence_length: 64}\n"
        "constraints:\n  c: d + _quotient_0 // 2 >= 2\nobjectives: {size_mb: minimize}\n"
    )
    whole = Space.from_spec(loads(template.replace("DOMAIN", "{range: [0, 4]}")))
    real = Space.from_spec(loads(template.replace("DOMAIN", "{range: [0.5, 2.5], step: 0.5}")))
    assert whole.count().value == sum(1 for d in range(5) for q in range(1, 4) if d + q // 2 >= 2)
    assert real.count().value == sum(1 for d in (0.5, 1.0, 1.5, 2.0, 2.5) for q in range(1, 4) if d + q // 2 >= 2)
