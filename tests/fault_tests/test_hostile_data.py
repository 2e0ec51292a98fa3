"""Data, predictions and teachers as a hostile or unlucky user has them. Everything JSON allows
but Avatar cannot compute with, rows a format would lose silently, data that cannot be learned
from and a damaged teacher are all found by the checks before the search: exit 2 naming the
file, the line (or id) and the spec field, no traceback, nothing searched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avatar.solver.cli import EXIT_INVALID, main
from avatar.trainer import DataError, PredictionsError, read_examples, read_predictions
from avatar.trainer.data import Example, encode, load_json_value, train_tokenizer
from avatar.trainer.data._json import JsonProblem
from tests.trainer_tests.conftest import write_clone_data

SPEC = """\
name: hostile
task: {{kind: {kind}, data: {data}}}
space:
  vocab_size:          {{choices: [300]}}
  num_hidden_layers:   {{choices: [1]}}
  hidden_size:         {{choices: [16, 32]}}
  num_attention_heads: {{choices: [2]}}
  intermediate_size:   {{choices: [32]}}
  max_sequence_length: {{choices: [64]}}
objectives:
  size_mb: minimize
  gflops: maximize
search: {{population: 4, evaluations: 4, seed: 1}}
train: {{teacher: {{model: {teacher}, epochs: 1, accept_weak: true}}, epochs: 1}}
"""

ROWS = [{"func": f"int f{index}(int a) {{ return a + {index}; }}", "target": index % 2} for index in range(60)]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AVATAR_CACHE", str(tmp_path / "cache"))


def _lines(path: Path, last: str) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS) + last + "\n", encoding="utf-8")
    return path


def _refused(tmp_path: Path, capsys, data: Path | str, teacher: Path, kind: str = "defect", *extra: str) -> str:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(kind=kind, data=data, teacher=teacher))
    code = main([str(spec), "--out", str(tmp_path / "run"), "-q", *extra])
    error = capsys.readouterr().err
    assert code == EXIT_INVALID, error
    assert "Traceback" not in error and "internal error" not in error
    assert not (tmp_path / "run" / "evaluations.sqlite").exists(), "the search ran before the data was checked"
    return error


@pytest.mark.parametrize(
    ("last", "message"),
    [
        ('{"func": "int g() {}", "target": ' + "9" * 5000 + "}", "data.jsonl:61: an integer of 5000 digits"),
        ('{"func": "x", "target": ' + "[" * 50_000 + "]" * 50_000 + "}", "data.jsonl:61: nested deeper than Avatar reads"),
        ('{"func": "x", "target": NaN}', "data.jsonl:61: 'NaN' is not a JSON number"),
        ('{"func": "x", "target": "²"}', "data.jsonl:61: label '²'"),
        ('{"func": "x", "target": "٣"}', "data.jsonl:61: label '٣'"),
        ('{"func": ["int", "f"], "target": 0}', "data.jsonl:61: field 'func' (task.fields.text) holds list"),
        ('{"func": {"a": 1}, "target": 0}', "data.jsonl:61: field 'func' (task.fields.text) holds dict"),
        ('{"func": 12345, "target": 0}', "data.jsonl:61: field 'func' (task.fields.text) holds int"),
    ],
    ids=["huge-integer", "deep-nesting", "nan", "superscript-two", "arabic-three", "list-text", "object-text", "number-text"],
)
def test_numbers_and_values_json_allows_but_avatar_cannot_use(tmp_path, capsys, tiny_teacher, last, message):
    error = _refused(tmp_path, capsys, _lines(tmp_path / "data.jsonl", last), tiny_teacher)
    assert message in error


def test_every_label_the_same_is_refused(tmp_path, capsys, tiny_teacher):
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps({**row, "target": 1}) + "\n" for row in ROWS))
    error = _refused(tmp_path, capsys, path, tiny_teacher)
    assert "task.fields.label" in error and "every example of the data has label 1" in error


def test_a_split_with_one_class_is_refused(tmp_path, capsys, tiny_teacher):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    (folder / "valid.jsonl").write_text("".join(json.dumps({**row, "target": 0}) + "\n" for row in ROWS[:10]))
    (folder / "test.jsonl").write_text("".join(json.dumps(row) + "\n" for row in ROWS[10:30]))
    error = _refused(tmp_path, capsys, folder, tiny_teacher)
    assert "every example of the validation split (10) has label 0" in error


@pytest.mark.parametrize("shares", ["{valid: 0.5, test: 0.5}", "{valid: 0.7, test: 0.6}"])
def test_split_shares_that_leave_nothing_to_train_on_are_refused_by_check(tmp_path, capsys, shares):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(kind="defect", data="d.jsonl", teacher="t").replace("data: d.jsonl}", f"data: d.jsonl, split: {shares}}}"))
    assert main([str(spec), "--check"]) == EXIT_INVALID
    error = capsys.readouterr().err
    assert "spec.yaml:2" in error and "task.split" in error and "nothing is left to train on" in error


CSV_ROWS = "".join(f'"int f{index}() {{ return {index}; }}",{index % 2}\n' for index in range(30))


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("func,target\n" + CSV_ROWS + '"int broken() { return 1; },0\n' + CSV_ROWS, 32),
        ("func,target\n" + CSV_ROWS + '"int broken() { return 1; },0\n' + CSV_ROWS.replace('"', ""), 32),
        ("func,target\n" + '"int broken() { return 1; },0\n' + CSV_ROWS, 2),
    ],
    ids=["quoted-rows-after", "unquoted-rows-after", "first-row"],
)
def test_a_csv_quote_that_is_never_closed_is_refused_with_its_line(tmp_path, capsys, tiny_teacher, text, line):
    path = tmp_path / "data.csv"
    path.write_text(text)
    error = _refused(tmp_path, capsys, path, tiny_teacher)
    assert f"data.csv:{line}: not valid CSV" in error


def test_quotes_inside_code_and_multi_line_fields_still_read(tmp_path):
    from avatar.specs import TaskSettings

    path = tmp_path / "data.csv"
    path.write_text('func,target\nint f() { return "x"; },1\n"int g() {\n  return ""y"";\n}",0\n')
    examples = read_examples(TaskSettings(kind="defect", data=str(path)), str(path))["all"]
    assert [example.texts[0] for example in examples] == ['int f() { return "x"; }', 'int g() {\n  return "y";\n}']


def test_one_split_in_two_formats_is_refused_naming_both(tmp_path, capsys, tiny_teacher):
    folder = tmp_path / "data"
    folder.mkdir()
    _lines(folder / "train.jsonl", json.dumps(ROWS[0]))
    (folder / "train.csv").write_text("func,target\nx,1\n")
    error = _refused(tmp_path, capsys, folder, tiny_teacher)
    assert "train.csv and train.jsonl both hold the split 'train'" in error


def test_non_utf8_bytes_in_a_clone_pairs_file_name_the_file(tmp_path, capsys, tiny_teacher):
    folder = write_clone_data(tmp_path / "clones")
    with open(folder / "pairs.txt", "ab") as file:
        file.write(b"1000\t1001\t\xff\xfe\n")
    error = _refused(tmp_path, capsys, folder, tiny_teacher, "clone")
    assert "pairs.txt: not UTF-8 text" in error


def test_a_saved_dataset_with_a_malformed_state_file_names_the_folder(tmp_path, capsys, tiny_teacher):
    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    folder = tmp_path / "saved"
    datasets.Dataset.from_list(ROWS).save_to_disk(str(folder))
    for broken in ('{"_data_files": 5}', "{ not json"):
        (folder / "state.json").write_text(broken)
        error = _refused(tmp_path, capsys, folder, tiny_teacher)
        assert "saved: not a readable saved Hugging Face dataset" in error


def test_a_truncated_teacher_is_found_before_the_search(tmp_path, capsys, tiny_teacher, defect_file):
    damaged = tmp_path / "teacher"
    shutil.copytree(tiny_teacher, damaged)
    weights = damaged / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    error = _refused(tmp_path, capsys, defect_file, damaged)
    assert "train.teacher" in error and "model.safetensors is damaged or incomplete" in error


# -- predictions files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "logits": [1, ' + "7" * 4400 + "]}", "p.jsonl:1: an integer of 4400 digits"),
        ('{"id": ' + "[" * 50_000 + "]" * 50_000 + ', "logits": [1, 2]}', "p.jsonl:1: nested deeper than Avatar reads"),
        ('{"id": "a", "logits": [1e39, 0.0]}', "p.jsonl:1: id 'a': a value that is not finite in float32"),
        ('{"id": "a", "logits": [-Infinity, 0.0]}', "p.jsonl:1: id 'a': a value that is not finite in float32"),
        ('{"id": {"x": 1}, "logits": [0.0, 1.0]}', "p.jsonl:1: the id must be a string or an integer, not dict"),
    ],
    ids=["huge-integer", "deep-nesting", "float32-overflow", "infinity", "object-id"],
)
def test_predictions_json_allows_but_avatar_cannot_use(tmp_path, line, message):
    (tmp_path / "p.jsonl").write_text(line + "\n")
    with pytest.raises(PredictionsError) as raised:
        read_predictions(tmp_path / "p.jsonl", 2)
    assert message in str(raised.value)


def test_an_npz_archive_named_npy_is_refused(tmp_path):
    with open(tmp_path / "p.npy", "wb") as file:
        numpy.savez(file, logits=numpy.zeros((3, 2)))
    (tmp_path / "p.ids.txt").write_text("a\nb\nc\n")
    with pytest.raises(PredictionsError, match="an .npz archive, not one .npy array"):
        read_predictions(tmp_path / "p.npy", 2)


def test_npy_values_beyond_float32_are_refused(tmp_path):
    numpy.save(tmp_path / "p.npy", numpy.array([[1e39, 0.0], [0.0, 1.0]]))
    (tmp_path / "p.ids.txt").write_text("a\nb\n")
    with pytest.raises(PredictionsError, match="row 1 .*not finite in float32"):
        read_predictions(tmp_path / "p.npy", 2)


# -- the readers, fuzzed -------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.text(max_size=60), JSON_VALUES.map(lambda value: json.dumps(value, allow_nan=True))), min_size=1, max_size=6))
def test_the_data_reader_raises_only_data_errors(tmp_path, lines):
    from avatar.specs import TaskSettings

    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines) + "\n", encoding="utf-8")
    try:
        read_examples(TaskSettings(kind="defect", data=str(path)), str(path))
    except DataError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.fixed_dictionaries({"id": JSON_VALUES, "logits": JSON_VALUES}), min_size=1, max_size=5))
def test_the_predictions_reader_raises_only_predictions_errors(tmp_path, rows):
    path = tmp_path / "fuzz.jsonl"
    path.write_text("".join(json.dumps(row, allow_nan=True) + "\n" for row in rows))
    try:
        predictions = read_predictions(path, 2)
    except PredictionsError:
        return
    assert all(len(values) == 2 and all(abs(value) < 3.5e38 for value in values) for values in predictions.logits.values())


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_json_values_from_any_bytes_are_values_or_problems(data):
    try:
        load_json_value(data.decode("utf-8", errors="replace"))
    except JsonProblem:
        pass


def test_a_huge_one_line_function_is_cut_before_tokenizing():
    tokenizer = train_tokenizer("bpe", 300, ["int f(int a) { return a + 1; }"] * 20, 64)
    huge = "x = 1; " * 4_000_000  # 28 MB on one line
    encoded = encode([Example((huge,), 0, ("a",), "a")], tokenizer, 64)
    assert len(encoded.ids[0][0]) == 64
