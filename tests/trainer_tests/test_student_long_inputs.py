"""``train.long_inputs``: students (and probes) read a function longer than their
``max_sequence_length`` by its first tokens (``truncate``, the default) or by its first and last
(``head_tail``), in distillation, validation and test; the model card shows how to give such a
student its inputs, and the probes' and super-student's caches are keyed by it."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from transformers import AutoTokenizer

from avatar.specs import SpecError, loads
from avatar.trainer import Example, train_selected
from avatar.trainer.data import encode
from avatar.trainer.students._variants import _reading_card
from avatar.trainer.supernet._training import _truncated
from tests.trainer_tests.conftest import student_spec
from tests.trainer_tests.test_trainer import CONFIG, _select

LONG = "int first_call(int a) {\n" + "    total = total + a;\n" * 60 + "    return last_value;\n}"


def test_the_setting_is_validated(tmp_path, clone_folder, tiny_teacher):
    with pytest.raises(SpecError, match="train.long_inputs"):
        loads(student_spec("clone", clone_folder, tiny_teacher, long_inputs="chunks"), filename=str(tmp_path / "spec.yaml"))
    assert loads(student_spec("clone", clone_folder, tiny_teacher), filename=str(tmp_path / "spec.yaml")).train.long_inputs == "truncate"


@pytest.mark.parametrize("length", [16, 32, 33])
def test_the_cards_helper_reads_a_function_as_the_student_was_distilled(tiny_teacher, length):
    tokenizer = AutoTokenizer.from_pretrained(tiny_teacher)
    card = _reading_card({"train": {"long_inputs": "head_tail"}, "config": {"max_sequence_length": length}})
    (helper,) = re.findall(r"```python\n(.*?)```", card, flags=re.S)
    scope: dict = {}
    exec(compile(helper, "card", "exec"), scope)  # the card's own text, as a user pastes it
    for code in (LONG, "int small(int a) { return a; }", LONG[: len(LONG) // 3]):
        as_distilled = encode([Example((code,), 0, ("a",))], tokenizer, length, "head_tail").ids[0][0]
        assert tokenizer(scope["head_and_tail"](code, tokenizer), truncation=True, max_length=length)["input_ids"] == as_distilled
    assert _reading_card({"train": {"long_inputs": "truncate"}, "config": {"max_sequence_length": length}}) == ""


def test_the_super_student_cuts_a_head_and_tail_window_in_its_middle(tiny_teacher):
    tokenizer = AutoTokenizer.from_pretrained(tiny_teacher)
    long = encode([Example((LONG,), 0, ("a",))], tokenizer, 64, "head_tail")
    cut = _truncated(long, 24, keep_tail=True).ids[0][0]
    text = tokenizer.decode(cut, skip_special_tokens=True).replace(" ", "").replace("##", "")
    assert len(cut) == 24 and cut[0] == long.ids[0][0][0] and cut[-1] == long.ids[0][0][-1]
    assert "first_call" in text and "last_value" in text
    assert "last_value" not in tokenizer.decode(_truncated(long, 24).ids[0][0]).replace(" ", "")


def test_a_student_distilled_reading_head_and_tail_records_it_and_its_card_says_how(tmp_path, defect_file, tiny_teacher, monkeypatch):
    from avatar.trainer import _realise
    from avatar.trainer.distill import _distil

    readings = []
    for module in (_distil, _realise):
        monkeypatch.setattr(module, "encode", lambda *arguments, _encode=module.encode: readings.append(arguments[3]) or _encode(*arguments))
    spec = loads(student_spec("defect", defect_file, tiny_teacher, pretrain_epochs=0, epochs=1, long_inputs="head_tail"), filename=str(tmp_path / "spec.yaml"))
    run = tmp_path / "run"
    _select(run, spec, {**CONFIG, "max_sequence_length": 16})
    student = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu").students[0].to_dict()
    folder = run / "students" / student["key"]
    assert json.loads((folder / "metrics.json").read_text())["train"]["long_inputs"] == "head_tail"
    assert "def head_and_tail(code, tokenizer, length=16)" in (folder / "README.md").read_text()
    assert len(readings) >= 3 and set(readings) == {"head_tail"}, "distillation, validation and test all read both ends"


def test_probes_are_keyed_by_how_students_read_and_truncate_keeps_the_key_it_had(tmp_path, defect_file, tiny_teacher):
    from avatar.trainer import DistillationProber, prepare_distillation

    distillation = prepare_distillation(loads(student_spec("defect", defect_file, tiny_teacher)), cache_dir=tmp_path / "cache", device="cpu")
    both_ends = loads(student_spec("defect", defect_file, tiny_teacher, long_inputs="head_tail"))
    explicit = loads(student_spec("defect", defect_file, tiny_teacher, long_inputs="truncate"))
    source = DistillationProber(distillation).source
    assert DistillationProber(dataclasses.replace(distillation, spec=both_ends)).source != source
    assert DistillationProber(dataclasses.replace(distillation, spec=explicit)).source == source
