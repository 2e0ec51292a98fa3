"""Transfer pairs (``train.transfer_pairs``): new pairs of the distillation split's functions,
labelled by the teacher. They never cross splits (a property test), are the same for the same
data and seed, join what students and probes distil on, and a teacher given as predictions
must cover them (``--write-predictions`` writes them); ``auto``, the default, draws them where the
teacher can label them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from avatar.specs import SpecError, loads
from avatar.specs._settings import AUTO_TRANSFER_PAIRS
from avatar.trainer import DistillationProber, preflight, prepare_distillation, write_teacher_predictions
from avatar.trainer.data import Example, TaskData, sample_transfer, transfer_pairs
from tests.trainer_tests.conftest import student_spec, write_clone_data


def _function(number: int) -> str:
    return f"int f{number}(int {'ab'[number % 2]}) {{ return {'ab'[number % 2]} + {number}; }}"


def _pair(first: int, second: int, label: int = 0) -> Example:
    return Example((_function(first), _function(second)), label, (f"f{first}", f"f{second}"), f"f{first}/f{second}")


pairs = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)).filter(lambda pair: pair[0] != pair[1]), max_size=60)


@settings(max_examples=60, deadline=None)
@given(distillation=pairs, held_out=pairs, count=st.integers(0, 200), seed=st.integers(0, 3))
def test_transfer_pairs_never_cross_splits_nor_repeat_a_pair(distillation, held_out, count, seed):
    distillation_examples = [_pair(*pair) for pair in distillation]
    held_out_examples = [_pair(*pair) for pair in held_out]
    drawn = transfer_pairs(distillation_examples, held_out_examples, count, seed)
    allowed = {group for example in distillation_examples for group in example.groups} - {group for example in held_out_examples for group in example.groups}
    existing = {frozenset(example.groups) for example in distillation_examples + held_out_examples}
    keys = [frozenset(example.groups) for example in drawn]
    assert len(drawn) <= count
    assert all(set(example.groups) <= allowed and len(set(example.groups)) == 2 for example in drawn)
    assert not set(keys) & existing and len(set(keys)) == len(keys)
    assert len({example.id for example in drawn}) == len(drawn)
    texts = {group: text for example in distillation_examples for group, text in zip(example.groups, example.texts)}
    assert all(example.texts == (texts[example.groups[0]], texts[example.groups[1]]) for example in drawn)
    assert transfer_pairs(distillation_examples, held_out_examples, count, seed) == drawn  # the same data and seed: the same pairs


def test_half_the_pairs_join_lexical_neighbours_and_enough_functions_give_the_count():
    # Two families of functions: lexical neighbours share their family's identifiers.
    examples = [Example((f"int alpha_{i}(int alpha) {{ return alpha; }}", f"void beta_{i}(char* beta) {{ beta++; }}"), 0, (f"a{i}", f"b{i}"), str(i)) for i in range(30)]
    drawn = transfer_pairs(examples, [], 40, 0)
    assert len(drawn) == 40
    same_family = [example for example in drawn if example.groups[0][0] == example.groups[1][0]]
    assert len(same_family) >= 20  # the neighbour half, at least; random pairs of 60 functions give ~half more


def test_transfer_pairs_are_a_spec_error_for_a_task_of_single_inputs(defect_file):
    with pytest.raises(SpecError, match="train.transfer_pairs: transfer_pairs pairs the functions of a pair task anew"):
        loads(student_spec("defect", defect_file, "unused", transfer_pairs=100))
    with pytest.raises(SpecError, match="transfer_pairs"):
        loads(student_spec("clone", defect_file, "unused", transfer_pairs=-1))


def test_the_teacher_labels_the_transfer_pairs_and_students_and_probes_distil_on_them(tmp_path, clone_folder, tiny_teacher):
    spec = loads(student_spec("clone", clone_folder, tiny_teacher, transfer_pairs=50))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    data = distillation.data
    assert len(data.transfer) == 50 and data.distillation[-50:] == data.transfer
    assert len(distillation.outputs) == len(data.distillation)
    assert [example.label for example in data.transfer] == distillation.outputs.unlabeled[-50:].argmax(dim=1).tolist()
    assert data.summary()["transfer"] == 50
    held_out = {group for example in data.valid + data.test for group in example.groups}
    assert not any(set(example.groups) & held_out for example in data.transfer)
    assert list((tmp_path / "cache" / "logits").glob("*-transfer-50-*.pt"))  # cached: a rerun does not label them again
    without = prepare_distillation(loads(student_spec("clone", clone_folder, tiny_teacher, transfer_pairs=0)), cache_dir=tmp_path / "cache", device="cpu")
    assert DistillationProber(distillation).source != DistillationProber(without).source  # a probe of the other set is never reused
    assert len(DistillationProber(distillation).data.distillation) == len(data.distillation)


def test_a_predictions_teacher_must_cover_the_transfer_pairs_and_write_predictions_writes_them(tmp_path, tiny_teacher):
    clone_folder = write_clone_data(tmp_path / "clones")  # predictions are keyed by id: each pair once
    lines = (clone_folder / "pairs.txt").read_text().splitlines()
    (clone_folder / "pairs.txt").write_text("".join(line + "\n" for index, line in enumerate(lines) if line.split("\t")[:2] not in [other.split("\t")[:2] for other in lines[:index]]))
    with_model = loads(student_spec("clone", clone_folder, tiny_teacher, transfer_pairs=30))
    written = tmp_path / "predictions.jsonl"
    count = write_teacher_predictions(with_model, written, cache_dir=tmp_path / "cache", device="cpu")
    ids = [json.loads(line)["id"] for line in written.read_text().splitlines()]
    assert count == len(ids) and sum(identifier.startswith("transfer/") for identifier in ids) == 30
    text = student_spec("clone", clone_folder, "unused", transfer_pairs=30).replace(
        'teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}', f'teacher: {{predictions: "{written}", accept_weak: true}}'
    )
    spec = loads(text)
    data = preflight(spec)
    assert isinstance(data, TaskData)
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    assert [example.id for example in distillation.data.transfer] == [example.id for example in sample_transfer(data, 30, spec.train.seed)]
    lacking = tmp_path / "lacking.jsonl"
    lacking.write_text("".join(line + "\n" for line in written.read_text().splitlines() if not line.startswith('{"id": "transfer/')))
    with pytest.raises(SpecError, match="no prediction for 30 of the transfer pairs.*--write-predictions"):
        preflight(loads(text.replace(str(written), str(lacking))))


def test_auto_draws_transfer_pairs_where_the_teacher_can_label_them(tmp_path, clone_folder, defect_file, tiny_teacher):
    """The default: a pair task's model teacher labels ``AUTO_TRANSFER_PAIRS`` new pairs (as many
    as the functions make); a task of single inputs gets none, and no error."""
    spec = loads(student_spec("clone", clone_folder, tiny_teacher, transfer_pairs="auto"))
    assert spec.train.transfer_pairs == "auto" and loads(student_spec("clone", clone_folder, tiny_teacher).replace(", transfer_pairs: 0", "")).train.transfer_pairs == "auto", "the default"
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    assert distillation.transfer_pairs == AUTO_TRANSFER_PAIRS == 2000
    assert distillation.data.transfer and [example.id for example in distillation.data.transfer] == [example.id for example in sample_transfer(distillation.data, 2000, spec.train.seed)]
    explicit = prepare_distillation(loads(student_spec("clone", clone_folder, tiny_teacher, transfer_pairs=2000)), cache_dir=tmp_path / "cache", device="cpu")
    assert DistillationProber(explicit).source == DistillationProber(distillation).source, "auto's probes are 2,000 pairs' probes"
    defect = prepare_distillation(loads(student_spec("defect", defect_file, tiny_teacher, transfer_pairs="auto")), cache_dir=tmp_path / "cache", device="cpu")
    assert defect.transfer_pairs == 0 and not defect.data.transfer


def test_auto_with_a_predictions_file_uses_its_transfer_pairs_or_says_it_has_none(tmp_path, tiny_teacher):
    clone_folder = write_clone_data(tmp_path / "clones")
    lines = (clone_folder / "pairs.txt").read_text().splitlines()
    (clone_folder / "pairs.txt").write_text("".join(line + "\n" for index, line in enumerate(lines) if line.split("\t")[:2] not in [other.split("\t")[:2] for other in lines[:index]]))
    written = tmp_path / "predictions.jsonl"
    write_teacher_predictions(loads(student_spec("clone", clone_folder, tiny_teacher, transfer_pairs="auto")), written, cache_dir=tmp_path / "cache", device="cpu")  # auto: a model labels them
    assert any(line.startswith('{"id": "transfer/') for line in written.read_text().splitlines())
    text = student_spec("clone", clone_folder, "unused", transfer_pairs="auto").replace(
        'teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}', f'teacher: {{predictions: "{written}", accept_weak: true}}'
    )
    covered = prepare_distillation(loads(text), cache_dir=tmp_path / "cache", device="cpu")
    assert covered.transfer_pairs == 2000 and covered.data.transfer
    lacking = tmp_path / "lacking.jsonl"
    lacking.write_text("".join(line + "\n" for line in written.read_text().splitlines() if not line.startswith('{"id": "transfer/')))
    spec = loads(text.replace(str(written), str(lacking)))
    assert isinstance(preflight(spec), TaskData), "auto asks for no pair the file lacks"
    console = Console(record=True, width=400)
    bare = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu", console=console)
    assert bare.transfer_pairs == 0 and not bare.data.transfer
    assert "train.transfer_pairs: auto distils on 2000 transfer pairs where the teacher labels them" in console.export_text()


# -- classify tasks: task.unlabeled -----------------------------------------------------------------


def _with_unlabeled(text: str, path) -> str:
    return text.replace("split: {valid: 0.2", f'unlabeled: "{path}", split: {{valid: 0.2')


def test_unlabelled_code_is_labelled_by_the_teacher_and_code_of_the_held_out_splits_is_left_out(tmp_path, defect_file, tiny_teacher):
    functions = [json.loads(line)["func"] for line in defect_file.read_text().splitlines()]
    new = [f"int extra_{index}(int x) {{ return x * {index}; }}" for index in range(25)]
    unlabeled = tmp_path / "unlabeled.jsonl"
    unlabeled.write_text("".join(json.dumps({"func": text}) + "\n" for text in new + functions + new[:3]))  # the data's own code and repeats too
    spec = loads(_with_unlabeled(student_spec("defect", defect_file, tiny_teacher), unlabeled))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    data = distillation.data
    held_out = {example.texts[0] for example in data.valid + data.test}
    transfer_texts = [example.texts[0] for example in data.transfer]
    assert not set(transfer_texts) & held_out and len(set(transfer_texts)) == len(transfer_texts)
    assert set(new) <= set(transfer_texts) and all(example.id.startswith("unlabeled/") for example in data.transfer)
    assert data.distillation[-len(data.transfer) :] == data.transfer and len(distillation.outputs) == len(data.distillation)
    assert [example.label for example in data.transfer] == distillation.outputs.unlabeled[-len(data.transfer) :].argmax(dim=1).tolist()
    plain = prepare_distillation(loads(student_spec("defect", defect_file, tiny_teacher)), cache_dir=tmp_path / "cache", device="cpu")
    assert plain.data.fingerprint != data.fingerprint and not plain.data.transfer  # cached teacher outputs never mix the two


def test_task_unlabeled_problems_name_the_field(tmp_path, defect_file, clone_folder):
    with pytest.raises(SpecError, match=r"task.unlabeled: .*train.transfer_pairs, auto by default\), not task.unlabeled"):
        loads(_with_unlabeled(student_spec("clone", clone_folder, "unused"), tmp_path / "x.jsonl"))
    missing = loads(_with_unlabeled(student_spec("defect", defect_file, "unused"), tmp_path / "missing.jsonl"))
    with pytest.raises(SpecError, match="task.unlabeled: .*missing.jsonl: no such file or folder"):
        preflight(missing)
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps({"code": "int f() { return 1; }"}) + "\n")
    with pytest.raises(SpecError, match="no field 'func' \\(task.fields.text"):
        preflight(loads(_with_unlabeled(student_spec("defect", defect_file, "unused"), wrong)))
