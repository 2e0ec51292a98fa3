"""The report: what report.md says about the space and about students."""

from __future__ import annotations

from avatar.solver import Space, check_report, run_search
from avatar.solver.report._results import kept_text
from avatar.specs import loads
from tests.helpers import SEARCH_SPACE


def test_report_lists_every_choice_of_a_string_parameter(tmp_path):
    text = SEARCH_SPACE.replace("  hidden_act:          {choices: [gelu, relu]}", "  hidden_act:          {choices: [gelu, relu, silu]}").replace(
        "under_1mb: size_mb <= 1", "under_1mb: size_mb <= 1\n  no_silu: hidden_act != \"silu\""
    )
    spec = loads(text)
    space = Space.from_spec(spec)
    run_search(spec, space, check_report(spec, space), out=str(tmp_path / "run"))
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| hidden_act | {gelu, relu, silu} | {gelu, relu} |" in report, "declared: every choice, not the first and last"


def test_a_teacher_scoring_zero_gives_a_reason_not_nan():
    assert kept_text(0.5, 0.8, "f1") == "62.5%"
    assert kept_text(0.5, 0.0, "f1") == "n/a: the teacher's f1 is 0 (it predicts one class)"
    assert kept_text(0.5, float("nan"), "accuracy").startswith("n/a: ")
