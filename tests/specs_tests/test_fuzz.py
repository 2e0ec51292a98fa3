"""Property-based: whatever the input, ``load`` returns a ``Spec`` or raises ``SpecError``."""

from __future__ import annotations

import copy
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avatar.specs import Spec, SpecError, load, loads
from tests.helpers import EXAMPLE_SPECS

VALID = [load(path).to_dict() for path in EXAMPLE_SPECS]

_JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=30),
        st.sampled_from(["hidden_size * 2 <= 3", "size_mb <= 3", "a.b", "(((", "1 ** 99", "x in y", "minimize"]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=10,
)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, prefix + (index,))


@st.composite
def mutated_specs(draw):
    data = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [path for path in _paths(data) if path]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(_JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(_JSON_VALUES)
    return data


def _assert_spec_or_spec_error(text: str, fmt: str) -> None:
    try:
        result = loads(text, format=fmt, filename="fuzz")
    except SpecError as error:
        assert error.problems and all(problem.file == "fuzz" for problem in error.problems)
        str(error)
    else:
        assert isinstance(result, Spec)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs(), st.sampled_from(["yaml", "json"]))
def test_mutated_specs_load_or_raise_spec_error(data, fmt):
    text = json.dumps(data) if fmt == "json" else yaml.safe_dump(data, allow_unicode=True)
    _assert_spec_or_spec_error(text, fmt)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["yaml", "json"]))
def test_random_text_loads_or_raises_spec_error(text, fmt):
    _assert_spec_or_spec_error(text, fmt)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab01 +-*/%()<=>!,.[]'\"_andornotinmaxabs")), max_size=60))
def test_random_expressions_load_or_raise_spec_error(expression):
    data = copy.deepcopy(VALID[0])
    data["constraints"] = {"fuzzed": expression}
    _assert_spec_or_spec_error(json.dumps(data), "json")
