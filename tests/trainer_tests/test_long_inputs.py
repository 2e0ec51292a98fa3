"""``train.teacher.long_inputs``: a function longer than the teacher's window is read by its
first tokens (``truncate``, the default) or by its first and last (``head_tail``), in the
teacher's fine-tuning, inference and cache key alike."""

from __future__ import annotations

import dataclasses

import pytest
from transformers import AutoTokenizer

from avatar.specs import SpecError, loads
from avatar.trainer import Example, load_task_data, prepare_teacher
from avatar.trainer.data import encode, encode_text_pairs
from avatar.trainer.data._encode import JOIN_MARGIN
from tests.trainer_tests.conftest import student_spec

LONG = "int first_call(int a) {\n" + "    total = total + a;\n" * 200 + "    return last_value;\n}"
SHORT = "int small(int a) { return a; }"


@pytest.fixture(scope="module")
def tokenizer(tiny_teacher):
    return AutoTokenizer.from_pretrained(tiny_teacher)


def _tokens(tokenizer, ids: list[int]) -> list[str]:
    return tokenizer.convert_ids_to_tokens(ids)


def _text(tokenizer, ids: list[int]) -> str:
    """What the ids say, spaces aside (the tiny tokenizer splits words into pieces)."""
    return tokenizer.decode(ids).replace(" ", "").replace("##", "")


def test_head_tail_keeps_a_long_functions_first_and_last_tokens(tokenizer):
    examples = [Example((LONG,), 1, ("a",)), Example((SHORT,), 0, ("b",))]
    truncated, both_ends = encode(examples, tokenizer, 32), encode(examples, tokenizer, 32, "head_tail")
    long_truncated, long_ends = _tokens(tokenizer, truncated.ids[0][0]), _tokens(tokenizer, both_ends.ids[0][0])
    assert len(long_truncated) == 32 and 32 - JOIN_MARGIN <= len(long_ends) <= 32
    assert long_ends[0] == "[CLS]" and long_ends[-1] == "[SEP]" and long_ends[:14] == long_truncated[:14]
    assert "last_value" in _text(tokenizer, both_ends.ids[0][0]) and "last_value" not in _text(tokenizer, truncated.ids[0][0])
    assert both_ends.ids[1] == truncated.ids[1], "a function that fits is read whole either way"


def test_head_tail_text_pairs_share_the_window_and_keep_both_ends(tokenizer):
    examples = [Example((LONG, LONG.replace("first_call", "second_call")), 1, ("a", "b")), Example((SHORT, LONG), 0, ("c", "a"))]
    truncated, both_ends = encode_text_pairs(examples, tokenizer, 48), encode_text_pairs(examples, tokenizer, 48, "head_tail")
    for row in range(2):
        ids = both_ends.ids[row][0]
        assert 48 - 2 * JOIN_MARGIN <= len(ids) <= 48 and both_ends.type_ids is not None and len(both_ends.type_ids[row][0]) == len(ids)
    text = _text(tokenizer, both_ends.ids[0][0])
    assert text.count("last_value") == 2 and "second_call" in text, "both functions' heads and tails"
    assert _text(tokenizer, truncated.ids[0][0]).count("last_value") == 0
    short_first = _text(tokenizer, both_ends.ids[1][0])
    assert "small" in short_first and "returna;}" in short_first and "last_value" in short_first, "the short function is kept whole; the long one gives way"


def test_the_setting_is_validated_and_keys_the_teachers_cache(tmp_path, defect_file, tiny_teacher):
    text = student_spec("defect", defect_file, tiny_teacher)
    with pytest.raises(SpecError, match="long_inputs"):
        loads(text.replace("accept_weak: true}", "accept_weak: true, long_inputs: middle}"), filename=str(tmp_path / "spec.yaml"))
    spec = loads(text.replace("accept_weak: true}", "accept_weak: true, long_inputs: head_tail}"), filename=str(tmp_path / "spec.yaml"))
    settings = spec.train.teacher
    assert settings.long_inputs == "head_tail"
    assert repr(settings) == repr(dataclasses.replace(settings, long_inputs="truncate")), "the default leaves earlier teachers' cache keys as they were"
    data = load_task_data(spec)
    both_ends = prepare_teacher(dataclasses.replace(settings, epochs=1), data, tmp_path / "cache", seed=1, device="cpu")
    truncated = prepare_teacher(dataclasses.replace(settings, epochs=1, long_inputs="truncate"), data, tmp_path / "cache", seed=1, device="cpu")
    assert both_ends.folder != truncated.folder and both_ends.fingerprint != truncated.fingerprint
    assert both_ends.reference().long_inputs == "head_tail", "workers read as the run does"
