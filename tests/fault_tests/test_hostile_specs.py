"""Hostile and broken specs: each gets exit 2 with FILE:LINE:COL and the field, never an
internal error, never a hang, never code run from outside Avatar, never escape bytes or Rich
markup interpreted in the terminal."""

from __future__ import annotations

import json
import re
import sys
import time

import pytest
import yaml

from avatar.solver.cli import EXIT_INVALID, EXIT_OK, main

from .helpers import SPEC

LOCATED = re.compile(r"^spec\.(yaml|json):\d+:\d+: ", re.MULTILINE)


def _solve(tmp_path, capsys, text: str, *arguments: str, suffix: str = "yaml") -> tuple[int, str]:
    path = tmp_path / f"spec.{suffix}"
    path.write_text(text)
    code = main([str(path), "--check", "-q", *arguments])
    return code, capsys.readouterr().err.replace(str(tmp_path) + "/", "")


def _as_json(text: str, field: str, raw_value: str) -> str:
    """``text`` as JSON with ``field`` (dotted) set to the raw JSON number ``raw_value``."""
    data = yaml.safe_load(text)
    target = data
    *parents, last = field.split(".")
    for part in parents:
        target = target[part]
    target[last] = "@@"
    return json.dumps(data, indent=2).replace('"@@"', raw_value)


@pytest.mark.parametrize("number", ["1e400", "-1e999", "1" * 400, "1e-400"])
def test_json_numbers_out_of_range_are_located(tmp_path, capsys, number):
    code, err = _solve(tmp_path, capsys, _as_json(SPEC, "search.evaluations", number), suffix="json")
    assert code == EXIT_INVALID and LOCATED.search(err) and "search.evaluations" in err, err
    assert "decimal bounds" not in err and "internal error" not in err


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("evaluations: 40", "evaluations: " + "9" * 400, "search.evaluations"),
        ("evaluations: 40", "evaluations: 0x" + "f" * 400, "search.evaluations"),
        ("evaluations: 40", "evaluations: 0o" + "7" * 400, "search.evaluations"),
        ("size_mb <= 1", "size_mb <= " + "9" * 400, "constraints.under_1mb"),
        ("size_mb <= 1", "size_mb <= 1e400", "constraints.under_1mb"),
        ("size_mb <= 1", "size_mb * 1e-300 <= 1", "constraints.under_1mb"),
        ("  max_sequence_length: {choices: [128, 256]}", "  max_sequence_length: {choices: [128, 256]}\n  lr: {range: [1.0e-5, 1e300], log: true}", "space.lr.range"),
        ("  max_sequence_length: {choices: [128, 256]}", "  max_sequence_length: {choices: [128, 256]}\n  lr: {range: [1.0e-300, 1.0e-5], log: true, num: 1000000}", "space.lr.range"),
        ("  max_sequence_length: {choices: [128, 256]}", "  max_sequence_length: {choices: [128, 256]}\n  drop: {range: [0.1, 0.3], step: 5e-324}", "space.drop.step"),
        ("objectives:\n", "constants: {k: 3}\nobjectives:\n  k: minimize\n", "objectives.k"),
        ("search: {", "search: !!map {", "search"),
        ("choices: [128, 256]", "choices: !!seq [128, 256]", "space.max_sequence_length.choices"),
        ("choices: [128, 256]", "choices: !custom [128, 256]", "space.max_sequence_length.choices"),
        ("search: {", "deep: &a [*a]\nsearch: {", "deep"),
        ("search: {", "bomb: &a [x, x, x, x, x, x, x, x, x, x]\nb2: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         "b3: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nb4: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
         "b5: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nb6: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nsearch: {", ""),
    ],
)  # fmt: skip
def test_hostile_yaml_is_a_located_spec_error(tmp_path, capsys, old, new, field):
    assert old in SPEC
    started = time.monotonic()
    code, err = _solve(tmp_path, capsys, SPEC.replace(old, new, 1))
    assert code == EXIT_INVALID and "internal error" not in err, err
    assert LOCATED.search(err) and field in err, err
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("search.seed=.nan", "is not a number a spec may use"),
        ("search.seed=.inf", "is not a number a spec may use"),
        ("search.evaluations=" + "9" * 400, "too many digits"),
        ("search.seed=&a [*a, *a]", "nested more than"),
        ("description=[&a [x,x,x,x,x,x,x,x,x,x], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], "
         "&d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]]", "more than 100000 values"),
        ("search.seed=!!python/object:os.system ls", "is not supported"),
        ("search.evaluations=yes", "expected"),
    ],
)  # fmt: skip
def test_set_values_follow_the_file_rules(tmp_path, capsys, assignment, message):
    started = time.monotonic()
    code, err = _solve(tmp_path, capsys, SPEC, "--set", assignment)
    assert code == EXIT_INVALID and message in err and "internal error" not in err, err
    assert time.monotonic() - started < 30


def test_set_values_are_yaml_1_2(tmp_path, capsys):
    code, err = _solve(tmp_path, capsys, SPEC, "--set", "search.evaluations=1e3", "--set", "description=yes", "--json")
    assert code == EXIT_OK, err
    from avatar.specs import load, parse_override

    assert parse_override("description=yes") == ("description", "yes")
    assert parse_override("search.evaluations=1e3") == ("search.evaluations", 1000.0)
    assert load(tmp_path / "spec.yaml", overrides=dict([parse_override("search.evaluations=1e3")])).search.evaluations == 1000


@pytest.mark.parametrize(
    "reference",
    ["antigravity:x", "this:x", "venv.__main__:x", "os:system", "avatar.solver.__main__:main", "subprocess:Popen", "evilplugin:Estimator"],
)
def test_a_spec_cannot_import_code_from_outside_avatar(tmp_path, capsys, monkeypatch, reference):
    marker = tmp_path / "imported"
    (tmp_path / "evilplugin.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Estimator: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    text = SPEC.replace("objectives:\n", f"estimators:\n  size_mb: {{class: '{reference}'}}\nobjectives:\n")
    code, err = _solve(tmp_path, capsys, text)
    assert code == EXIT_INVALID and LOCATED.search(err) and "estimators.size_mb" in err, err
    assert not marker.exists() and reference.split(":")[0] not in set(sys.modules) - before


def test_allowed_plugin_packages_are_imported(tmp_path, capsys, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evilplugin.py").write_text(f"open({str(marker)!r}, 'w').close()\nclass Estimator: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AVATAR_ALLOW_PLUGINS", "tests")
    monkeypatch.setattr("avatar.objectives._plugins._allowed", set())  # what --allow-plugin adds stays in this test
    text = SPEC.replace("objectives:\n", "estimators:\n  size_mb: {class: 'evilplugin:Estimator'}\nobjectives:\n")
    code, err = _solve(tmp_path, capsys, text, "--allow-plugin", "evilplugin")
    assert code == EXIT_INVALID and "is not an estimator" in err and marker.exists(), err
    sys.modules.pop("evilplugin", None)


def test_spec_text_is_shown_as_written_in_the_terminal(tmp_path, capsys):
    text = SPEC.replace(
        "  max_sequence_length: {choices: [128, 256]}",
        '  max_sequence_length: {choices: [128, 256]}\n  tok: {choices: ["[bold]bpe[/bold]", "\\e[2Jclear", "[link=http://x]y[/link]"]}',
    ).replace("size_mb <= 1", 'size_mb <= 1 or tok == "[link=http://x]y[/link]"')
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    assert main([str(path), "--check"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "[bold]bpe[/bold" in out and "\\x1b[2Jclear" in out and "[link=http://x]y" in out
    bad = SPEC.replace("size_mb <= 1", 'size_mb <= "\\e[2J[bold]x"')
    path.write_text(bad)
    assert main([str(path), "--check"]) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "\x1b" not in err and "[bold]x" in err


def test_control_characters_are_located_and_a_byte_order_mark_is_accepted(tmp_path, capsys):
    code, err = _solve(tmp_path, capsys, SPEC.replace("name: faults", "name: fau\x00lts"))
    assert code == EXIT_INVALID and err.startswith("spec.yaml:1:10: invalid YAML: the control character U+0000"), err
    path = tmp_path / "spec.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(yaml.safe_load(SPEC)).encode())
    assert main([str(path), "--check", "-q"]) == EXIT_OK, capsys.readouterr().err
