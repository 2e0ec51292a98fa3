"""The report: what report.md says about the space and about students."""

from __future__ import annotations

import re

from avatar.solver import Space, check_report, run_search
from avatar.solver.report._markdown import kept_text
from avatar.specs import loads
from tests.helpers import SEARCH_SPACE


def test_report_lists_every_choice_of_a_string_parameter(tmp_path):
    text = SEARCH_SPACE.replace("  hidden_act:          {choices: [gelu, relu]}", "  hidden_act:          {choices: [gelu, relu, silu]}").replace(
        "under_1mb: size_mb <= 1", 'under_1mb: size_mb <= 1\n  no_silu: hidden_act != "silu"'
    )
    spec = loads(text)
    space = Space.from_spec(spec)
    run_search(space, check_report(space), out=str(tmp_path / "run"))
    report = (tmp_path / "run" / "report.md").read_text()
    assert "| hidden_act | {gelu, relu, silu} | {gelu, relu} |" in report, "declared: every choice, not the first and last"
    assert "| num_attention_heads | {1, 2, 4, 8} | {" in report, "a numeric choice set is a set, not a range"
    assert "| vocab_size | [1000, 8000] step 1000 | [" in report, "a range keeps its step"
    table = report.split("## Pareto front")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| key")]
    gflops = [float(row.split("|")[2]) for row in rows]
    assert gflops == sorted(gflops), "the Pareto table is sorted by the first objective"


def test_a_teacher_scoring_zero_gives_a_reason_not_nan():
    assert kept_text(0.5, 0.8, "f1") == "62.5%"
    assert kept_text(0.5, 0.0, "f1") == "n/a: the teacher's f1 is 0 (it predicts one class)"
    assert kept_text(0.5, float("nan"), "accuracy").startswith("n/a: ")


def test_the_report_is_rendered_from_the_records_alone(tmp_path):
    from avatar.solver import write_report
    from avatar.specs import RunDirectory

    spec = loads(SEARCH_SPACE)
    run = RunDirectory(tmp_path / "run")
    run_search(Space.from_spec(spec), out=str(run.path), report=False)
    assert not run.report_md.exists() and run.selected.exists(), "rendering waits for the end of the run"
    first = write_report(run, spec).read_text()
    assert write_report(run, spec).read_text() == first, "rendering is a pure function of the records"
    for heading in ("## Feasible space", "## Search", "## Pareto front", "## Selected for training", "## Reproducibility"):
        assert first.count(heading) == 1, heading
    assert "## Realised students" not in first and run.report_html.exists()


def test_the_report_and_the_terminal_say_which_algorithm_auto_chose_and_why(tmp_path):
    from io import StringIO

    from rich.console import Console

    spec = loads(SEARCH_SPACE)  # no search.algorithm: auto
    out = StringIO()
    run_search(Space.from_spec(spec), out=str(tmp_path / "run"), console=Console(file=out, width=300))
    report = (tmp_path / "run" / "report.md").read_text()
    assert "Algorithm `nsga2` (chosen by `auto`: 2 objectives, 60 evaluations, 1 worker, every metric a closed form:" in report
    assert re.search(r"Time: [0-9.]+ s in all; the evaluations took [0-9.]+ s, the search.s own work [0-9.]+ s \([0-9.]+ ms per evaluation\)", report)
    assert "search algorithm: nsga2 (auto: 2 objectives, 60 evaluations, 1 worker, every metric a closed form" in out.getvalue()
    explicit = loads(SEARCH_SPACE.replace("seed: 3}", "seed: 3, algorithm: nsga2}"))
    run_search(Space.from_spec(explicit), out=str(tmp_path / "explicit"))
    assert "Algorithm `nsga2`, population 10;" in (tmp_path / "explicit" / "report.md").read_text()


def test_a_large_front_is_listed_by_an_even_spread_of_its_points_with_both_ends(monkeypatch):
    from avatar.solver.report import _markdown

    monkeypatch.setattr(_markdown, "FRONT_ROWS", 5)
    header, rows = ["key", "gflops"], [[f"k{index}", index / 10] for index in range(23)]
    table = _markdown._front_table(header, rows)
    listed = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| k") and not line.startswith("| key")]
    assert listed == ["k0", "k6", "k11", "k16", "k22"]
    assert table.startswith("5 of the 23 points") and "every point is in `pareto.csv` and `pareto.json`" in table
    assert "of the" not in _markdown._front_table(header, rows[:5])  # a small front is listed whole


def test_f1_kept_sets_a_tuned_student_against_the_teacher_cut_the_same_way():
    """A teacher whose own cut is badly placed (F1 0.32 at it, 0.70 at a cut tuned on
    validation) does not make a student with a tuned cut keep 225% of it; a student cut at the
    default is still set against the teacher at its own cut."""
    from rich.console import Console

    from avatar.solver.report._students_section import students_section
    from avatar.solver.report._tables import students_table
    from avatar.specs import StudentsRecord
    from tests.specs_tests.test_records import DATA, STUDENT, TEACHER

    teacher = {**TEACHER, "test": {"accuracy": 0.6, "f1": 0.32, "auc": 0.83}, "threshold": {"metric": "f1", "validation_tuned_margin": -1.0, "test_at_validation_tuned": {"accuracy": 0.7, "f1": 0.7}}}
    tuned = {key: value for key, value in STUDENT.items() if key not in ("onnx", "int8")} | {"test": {"accuracy": 0.7, "f1": 0.72, "auc": 0.8}}
    untuned = tuned | {"key": "untuned", "test": {"accuracy": 0.6, "f1": 0.3, "auc": 0.8}, "threshold": {**STUDENT["threshold"], "tuned": False}}
    summary = StudentsRecord.from_dict({"primary": "f1", "data": DATA, "teacher": teacher, "students": [tuned, untuned], "device": "cpu", "seconds": {}})
    console = Console(record=True, width=300)
    console.print(students_table(summary))
    for text in (students_section(summary), console.export_text()):
        assert f"{0.72 / 0.7:.1%}" in text and f"{0.72 / 0.32:.1%}" not in text, "like with like"
        assert f"{0.3 / 0.32:.1%}" in text, "a student at the default cut against the teacher at its own"
    assert "the teacher cut the same way" in students_section(summary)
