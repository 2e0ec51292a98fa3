"""``overrides`` (``solve --set``): dotted fields replaced before validation, errors located."""

from __future__ import annotations

import pytest

from avatar.solver.cli import main
from avatar.specs import SpecError, load
from tests.helpers import EXAMPLE_SPECS, EXAMPLES

QUICKSTART = next(path for path in EXAMPLE_SPECS if path.stem == "quickstart")


def test_overrides_replace_fields_and_create_mappings():
    spec = load(QUICKSTART, overrides={"search.evaluations": 7, "estimators.latency_ms.options.mode": "predicted", "space.max_sequence_length": {"choices": [64]}})
    assert spec.search.evaluations == 7
    assert dict(next(item for item in spec.estimators if item.metric == "latency_ms").options) == {"mode": "predicted"}
    assert spec.parameter("max_sequence_length").values == (64,)
    assert spec.to_dict()["search"]["evaluations"] == 7, "the report and manifest show the spec as run"


def test_a_setting_of_a_teacher_given_as_a_string_can_be_overridden():
    spec = load(EXAMPLES / "avatar-devign.yaml", overrides={"train.teacher.accept_weak": True, "train.teacher.epochs": 4})
    assert (spec.train.teacher.model, spec.train.teacher.accept_weak, spec.train.teacher.epochs) == ("microsoft/codebert-base", True, 4)


def test_overridden_values_are_validated_like_the_file():
    with pytest.raises(SpecError, match=r"search\.evaluations: expected a whole number"):
        load(QUICKSTART, overrides={"search.evaluations": "many"})
    with pytest.raises(SpecError, match="not a mapping"):
        load(QUICKSTART, overrides={"name.first": 1})


def test_solve_set_reports_bad_assignments_without_a_traceback(capsys):
    assert main([str(QUICKSTART), "--check", "--set", "search.evaluations"]) == 2
    assert "is not FIELD=VALUE" in capsys.readouterr().err
    assert main([str(QUICKSTART), "--check", "-q", "--set", "search.population=4"]) == 0
