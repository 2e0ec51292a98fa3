"""Data in the formats people have: JSON lines, CSV, TSV, Parquet, Arrow, a folder saved by
Hugging Face ``datasets``, an ``hf:`` dataset (a local dataset folder: never the network), mapped
by ``task.fields`` and ``task.labels``; every error names the file, the row and the field."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from avatar.specs import FieldSettings, SpecError, TaskSettings, loads
from avatar.trainer import DataError, load_task_data, read_examples

datasets = pytest.importorskip("datasets")


def _functions(count: int = 60) -> list[dict]:
    """Rows of a defect-like task in other names: code, verdict ('safe'/'bug'), uid."""
    rows = []
    for index in range(count):
        vulnerable = index % 3 == 0
        body = "strcpy(buffer, input);" if vulnerable else "strncpy(buffer, input, 8);"
        rows.append({"code": f"int handler_{index}(char *input) {{ {body} return {index}; }}", "verdict": "bug" if vulnerable else "safe", "uid": f"fn-{index}"})
    return rows


def _write_csv(path: Path, rows: list[dict], delimiter: str = ",") -> Path:
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


MAPPED = dict(labels=("safe", "bug"), fields=FieldSettings(text="code", label="verdict", id="uid"))


def _task(data: Path | str, kind: str = "classify", **options) -> TaskSettings:
    return TaskSettings(kind, str(data), **{**MAPPED, **options})


def _check(examples, count: int = 60) -> None:
    assert len(examples) == count
    by_id = {example.id: example for example in examples}
    assert by_id["fn-3"].label == 1 and by_id["fn-4"].label == 0  # 'bug' is the second label: the positive class
    assert by_id["fn-4"].texts[0].startswith("int handler_4(")


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_one_file_in_each_format_is_read_through_the_field_mapping(tmp_path, suffix):
    rows, path = _functions(), tmp_path / f"functions{suffix}"
    if suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    elif suffix == ".parquet":
        datasets.Dataset.from_list(rows).to_parquet(str(path))
    else:
        _write_csv(path, rows, "\t" if suffix == ".tsv" else ",")
    _check(read_examples(_task(path))["all"])


def test_a_saved_dataset_keeps_its_splits_under_their_usual_or_given_names(tmp_path):
    rows = _functions()
    saved = datasets.DatasetDict({"train": datasets.Dataset.from_list(rows[:40]), "validation": datasets.Dataset.from_list(rows[40:50]), "holdout": datasets.Dataset.from_list(rows[50:])})
    saved.save_to_disk(str(tmp_path / "saved"))
    parts = read_examples(_task(tmp_path / "saved", split_names={"test": "holdout"}))
    assert {name: len(part) for name, part in parts.items()} == {"train": 40, "valid": 10, "test": 10}
    arrow = sorted((tmp_path / "saved" / "train").glob("*.arrow"))[0]  # one Arrow file of it, as a file
    assert len(read_examples(_task(arrow))["all"]) == 40
    with pytest.raises(DataError, match="task.split_names.valid: no split 'dev'") as caught:
        read_examples(_task(tmp_path / "saved", split_names={"valid": "dev"}))
    assert caught.value.field == ("task", "split_names", "valid")


def test_an_hf_dataset_is_loaded_by_datasets_and_a_missing_split_is_carved_out_of_train(tmp_path, monkeypatch):
    """``hf:`` goes through ``datasets.load_dataset``; a local folder laid out like a hub
    repository stands in for the hub, so the test never touches the network."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    rows, hub = _functions(), tmp_path / "hub"
    hub.mkdir()
    datasets.Dataset.from_list(rows[:48]).to_parquet(str(hub / "train.parquet"))
    datasets.Dataset.from_list(rows[48:]).to_parquet(str(hub / "test.parquet"))
    spec = loads(_spec(f"hf:{hub}", "classify", "labels: [safe, bug]\n  fields: {text: code, label: verdict, id: uid}"))
    data = load_task_data(spec)
    assert len(data.test) == 12  # the dataset's own test split
    assert len(data.valid) > 0 and len(data.train) + len(data.valid) == 48  # validation carved out of train
    assert not {example.id for example in data.valid} & {example.id for example in data.train}


def test_an_hf_dataset_that_cannot_be_had_offline_says_so():
    with pytest.raises(DataError, match="hf:nobody/no-such-dataset: cannot load the dataset.*downloads are off"):
        read_examples(_task("hf:nobody/no-such-dataset"))


def test_a_folder_of_train_valid_test_files_keeps_them_as_splits(tmp_path):
    rows = _functions()
    _write_csv(tmp_path / "train.csv", rows[:40])
    _write_csv(tmp_path / "valid.csv", rows[40:50])
    _write_csv(tmp_path / "test.csv", rows[50:])
    parts = read_examples(_task(tmp_path))
    assert {name: len(part) for name, part in parts.items()} == {"train": 40, "valid": 10, "test": 10}


def test_devign_json_lines_need_no_mapping(tmp_path):
    path = tmp_path / "devign.jsonl"
    path.write_text("".join(json.dumps({"func": f"int f{index}() {{ return {index}; }}", "target": index % 2, "idx": 100 + index}) + "\n" for index in range(20)))
    examples = read_examples(TaskSettings("defect", str(path)))["all"]
    assert [example.id for example in examples[:2]] == ["100", "101"] and examples[1].label == 1
    path.write_text('{"func": "int f() { return 0; }", "target": 0}\n')
    assert read_examples(TaskSettings("defect", str(path)))["all"][0].id == "devign.jsonl:1"  # no idx: the file and line


def _pairs(tmp_path: Path) -> tuple[list[dict], list[dict]]:
    functions = _functions(30)
    pairs = [{"left": f"fn-{a}", "right": f"fn-{(a + step) % 30}", "same": int(step % 3 == 0), "pair": f"p{a}-{step}"} for a in range(30) for step in (3, 4)]
    return functions, pairs


def test_pairs_by_two_text_fields_and_by_two_ids_into_a_table_of_functions(tmp_path):
    functions, pairs = _pairs(tmp_path)
    text = {row["uid"]: row["code"] for row in functions}
    _write_csv(tmp_path / "by_text.csv", [{"a": text[pair["left"]], "b": text[pair["right"]], "y": pair["same"]} for pair in pairs])
    by_text = read_examples(TaskSettings("pair", str(tmp_path / "by_text.csv"), fields=FieldSettings(texts=("a", "b"), label="y")))["all"]
    assert len(by_text) == 60 and by_text[0].id == "by_text.csv:2"
    assert by_text[0].groups[0] == by_text[1].groups[0]  # the same text is the same function: a split keeps it on one side

    folder = tmp_path / "by_id"
    folder.mkdir()
    (folder / "functions.jsonl").write_text("".join(json.dumps({"idx": row["uid"], "func": row["code"]}) + "\n" for row in functions))
    _write_csv(folder / "pairs.csv", pairs)
    task = TaskSettings("pair", str(folder), fields=FieldSettings(ids=("left", "right"), label="same", id="pair"), functions=str(folder / "functions.jsonl"))
    by_id = read_examples(task, functions=task.functions)["all"]  # the table in the same folder is not pooled as examples
    assert len(by_id) == 60 and by_id[0].id == "p0-3" and by_id[0].groups == ("fn-0", "fn-3") and by_id[0].label == 1
    _write_csv(folder / "pairs.csv", [*pairs, {"left": "fn-1", "right": "fn-99", "same": 0, "pair": "x"}])
    with pytest.raises(DataError, match=r"pairs.csv:62: function id fn-99 \(field 'right'\) is not in the table"):
        read_examples(task, functions=task.functions)


@pytest.mark.parametrize(
    "row, message, field",
    [
        ({"code": "x", "verdict": "maybe", "uid": "u"}, r"bad.jsonl:2: label 'maybe' \(field 'verdict'\) is not one of the task's labels \('safe', 'bug'\)", ("task", "labels")),
        ({"kode": "x", "verdict": "bug", "uid": "u"}, r"bad.jsonl:2: no field 'code' \(task.fields.text; this row has: kode, uid, verdict\)", ("task", "fields", "text")),
        ({"code": "x", "verdict": "bug"}, r"bad.jsonl:2: no field 'uid' \(task.fields.id", ("task", "fields", "id")),
        ({"code": 7, "verdict": "bug", "uid": "u"}, r"bad.jsonl:2: field 'code' \(task.fields.text\) holds int '7', not a text", ("task", "fields", "text")),
    ],
)
def test_a_bad_row_names_the_file_the_line_and_the_field(tmp_path, row, message, field):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"code": "int f() { return 0; }", "verdict": "safe", "uid": "a"}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError, match=message) as caught:
        read_examples(_task(path))
    assert caught.value.field == field


def test_a_row_with_more_values_than_the_header_is_an_error(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("code,verdict,uid\nint f();,safe,a\nint g();,bug,b,extra\n")
    with pytest.raises(DataError, match="ragged.csv:3: more values than the header has columns"):
        read_examples(_task(path))


def _spec(data: str, kind: str, task_extra: str = "") -> str:
    return f"""\
name: mapped
task:
  kind: {kind}
  data: "{data}"
  {task_extra}
  split: {{valid: 0.2, test: 0.2, seed: 1}}
space:
  hidden_size: {{choices: [32]}}
  num_hidden_layers: {{choices: [1]}}
  num_attention_heads: {{choices: [2]}}
  intermediate_size: {{choices: [64]}}
  vocab_size: {{choices: [500]}}
  max_sequence_length: {{choices: [64]}}
objectives: {{size_mb: minimize}}
"""


@pytest.mark.parametrize(
    "kind, extra, field, message",
    [
        ("pair", "fields: {text: code}", ("task", "fields", "text"), "a pair has two texts"),
        ("classify", "fields: {texts: [a, b]}", ("task", "fields", "texts"), "reads one text per example"),
        ("pair", "fields: {ids: [a, b]}", ("task", "fields", "ids"), "set task.functions"),
    ],
)
def test_fields_that_do_not_fit_the_kind_are_spec_errors(kind, extra, field, message):
    with pytest.raises(SpecError) as caught:
        loads(_spec("d.csv", kind, extra), filename="spec.yaml")
    problem = caught.value.problems[0]
    assert problem.path == field and message in problem.message and problem.location.line == 5


def test_solve_points_a_data_error_at_the_spec_line_that_maps_the_field_before_the_search(tmp_path, capsys):
    from avatar.solver.cli import EXIT_INVALID, main

    _write_csv(tmp_path / "data.csv", _functions())
    spec = tmp_path / "spec.yaml"
    spec.write_text(_spec("data.csv", "classify", "fields: {text: source, label: verdict}\n  labels: [safe, bug]") + "train: {teacher: no-such-teacher-folder-here}\n")
    code = main([str(spec), "--out", str(tmp_path / "run"), "-q"])
    error = capsys.readouterr().err
    assert code == EXIT_INVALID
    assert "spec.yaml:5" in error and "task.fields.text" in error and "data.csv:2: no field 'source'" in error
    assert not (tmp_path / "run" / "evaluations.sqlite").exists()  # refused before any evaluation


def test_a_byte_order_mark_is_not_part_of_the_first_field_and_other_encodings_are_named(tmp_path):
    (tmp_path / "bom.csv").write_text("\ufeffcode,verdict,uid\nint f();,bug,a\n", encoding="utf-8")
    assert read_examples(_task(tmp_path / "bom.csv"))["all"][0].label == 1
    (tmp_path / "latin.csv").write_bytes(b"code,verdict,uid\n\xe9t\xe9,bug,a\n")
    with pytest.raises(DataError, match=r"latin.csv: not UTF-8 text .* save it as UTF-8"):
        read_examples(_task(tmp_path / "latin.csv"))
