"""``train.teacher.long_inputs: chunks``: a function longer than the teacher's window is read
whole, window after window, and the teacher pools its windows (a pair teacher its tokens over
all of them, a sequence classifier its logits), in fine-tuning, inference and on workers alike."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from avatar.objectives import mean_pool
from avatar.specs import Spec, loads
from avatar.trainer import Example, load_task_data, prepare_teacher
from avatar.trainer.data import WINDOWS_AT_MOST, encode, encode_text_pairs
from avatar.trainer.data._windows import spread
from avatar.trainer.distill import teacher_features
from avatar.trainer.teacher import load_teacher
from avatar.trainer.teacher._models import TeacherForCloneDetection
from avatar.trainer.teacher._windows import WindowAveragedClassifier, reading_model
from tests.trainer_tests.conftest import student_spec

BODY = "    total = total + a;\n"
SHORT = "int small(int a) { return a; }"


def _function(lines: int, name: str = "first_call") -> str:
    return f"int {name}(int a) {{\n" + BODY * lines + "    return last_value;\n}"


@pytest.fixture(scope="module")
def tokenizer(tiny_teacher):
    return AutoTokenizer.from_pretrained(tiny_teacher)


def _text(tokenizer, ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=True).replace(" ", "").replace("##", "")


@given(st.integers(0, 40), st.integers(1, 8))
def test_spread_keeps_the_first_and_the_last_in_order(count, at_most):
    items = list(range(count))
    chosen = spread(items, at_most)
    assert len(chosen) == min(count, at_most) and chosen == sorted(set(chosen))
    if count and at_most > 1:
        assert chosen[0] == 0 and chosen[-1] == count - 1


def test_a_long_function_is_read_whole_in_windows_and_a_short_one_as_truncate_reads_it(tokenizer):
    long = _function(12)
    examples = [Example((long,), 1, ("a",)), Example((SHORT,), 0, ("b",))]
    windows, truncated = encode(examples, tokenizer, 32, "chunks"), encode(examples, tokenizer, 32)
    assert windows.windows is not None and windows.windows[1] == [1] and windows.ids[1] == truncated.ids[1]
    count = windows.windows[0][0]
    assert 2 <= count <= WINDOWS_AT_MOST and len(windows.ids[0]) == count
    assert all(len(ids) <= 32 and tokenizer.convert_ids_to_tokens(ids)[0] == "[CLS]" for ids in windows.ids[0])
    assert windows.ids[0][0][:20] == truncated.ids[0][0][:20], "the first window starts where truncate reads"
    read = "".join(_text(tokenizer, ids) for ids in windows.ids[0])
    assert read == _text(tokenizer, tokenizer(long)["input_ids"]), "every token of a function of few windows is read, in order"
    batch = windows.batch([0, 1], "cpu")
    assert batch["input_ids"].shape[:2] == (2, count) and batch["attention_mask"][1, 1:].sum() == 0, "a missing window is all padding"


def test_a_very_long_function_is_read_from_its_first_to_its_last_window(tokenizer):
    windows = encode([Example((_function(400),), 1, ("a",))], tokenizer, 32, "chunks")
    assert windows.windows == [[WINDOWS_AT_MOST]]
    assert "first_call" in _text(tokenizer, windows.ids[0][0]) and "last_value" in _text(tokenizer, windows.ids[0][-1])


def test_pairs_of_functions_batch_with_a_windows_axis(tokenizer):
    examples = [Example((_function(12), SHORT), 1, ("a", "b")), Example((SHORT, SHORT), 0, ("b", "c"))]
    windows = encode(examples, tokenizer, 32, "chunks")
    assert windows.windows is not None and windows.windows[0][1] == 1 and windows.windows[1] == [1, 1]
    batch = windows.batch([0, 1], "cpu")
    assert batch["input_ids"].shape[:3] == (2, 2, windows.windows[0][0])
    subset = windows.subset([1])
    assert subset.windows == [[1, 1]] and subset.batch([0], "cpu")["input_ids"].shape[:3] == (1, 2, 1)


def test_text_pairs_are_read_as_pairs_of_windows_covering_both_functions(tokenizer):
    first, second = _function(6), _function(3, "second_call")
    windows = encode_text_pairs([Example((first, second), 1, ("a", "b"))], tokenizer, 48, "chunks")
    assert windows.windows is not None and windows.type_ids is not None
    count = windows.windows[0][0]
    assert 2 <= count <= WINDOWS_AT_MOST and len(windows.ids[0]) == count == len(windows.type_ids[0])
    assert all(len(ids) <= 48 and len(types) == len(ids) and 1 in types for ids, types in zip(windows.ids[0], windows.type_ids[0]))
    read = " ".join(_text(tokenizer, ids) for ids in windows.ids[0])
    assert "first_call" in read and "second_call" in read and read.count("last_value") >= 2, "each function's head and tail are read"
    assert windows.batch([0], "cpu")["token_type_ids"].shape == windows.batch([0], "cpu")["input_ids"].shape


def test_the_pair_teacher_pools_a_functions_tokens_over_all_its_windows(tiny_teacher):
    torch.manual_seed(0)
    model = TeacherForCloneDetection(AutoModel.from_pretrained(tiny_teacher)).eval()
    ids = torch.randint(5, 100, (1, 2, 3, 10))
    mask = torch.ones_like(ids)
    mask[0, 1, 2] = 0  # the second function has two windows
    mask[0, 0, 2, 6:] = 0  # the first one's last window is short
    with torch.no_grad():
        out = model(ids, mask)
        rows = model.encoder(input_ids=ids.reshape(6, 10), attention_mask=mask.reshape(6, 10)).last_hidden_state.reshape(2, 30, -1)
        pooled = mean_pool(rows, mask.reshape(2, 30)).reshape(1, 2, -1)
        expected = model.out_proj(torch.tanh(model.dense(torch.cat([pooled.flatten(1), (pooled[:, 0] - pooled[:, 1]).abs(), pooled[:, 0] * pooled[:, 1]], dim=-1))))
    torch.testing.assert_close(out, expected)
    with torch.no_grad():
        one_window = model(ids[:, :, 0], mask[:, :, 0])
        as_windows = model(ids[:, :, :1], mask[:, :, :1])
    torch.testing.assert_close(one_window, as_windows, msg="one window reads as the function did before")


def test_a_sequence_classifier_averages_its_logits_over_the_windows_an_example_has(tiny_classifier):
    classifier = AutoModelForSequenceClassification.from_pretrained(tiny_classifier).eval()
    reader = reading_model(classifier, "chunks")
    assert isinstance(reader, WindowAveragedClassifier) and reading_model(classifier, "truncate") is classifier
    ids = torch.randint(5, 100, (2, 3, 8))
    mask = torch.ones_like(ids)
    mask[1, 2] = 0  # the second example has two windows
    with torch.no_grad():
        out = reader(input_ids=ids, attention_mask=mask)
        each = [classifier(input_ids=ids[row, :count], attention_mask=mask[row, :count]).logits.mean(dim=0) for row, count in ((0, 3), (1, 2))]
    torch.testing.assert_close(out, torch.stack(each))


def _chunked_spec(kind: str, data: Path, teacher: Path, folder: Path) -> Spec:
    """The tiny spec, its teacher reading 16-token windows (the functions are longer)."""
    text = student_spec(kind, data, teacher).replace("max_length: 64,", "max_length: 16,").replace("accept_weak: true}", "accept_weak: true, long_inputs: chunks}")
    return loads(text, filename=str(folder / "spec.yaml"))


@pytest.mark.parametrize("kind", ["clone", "defect"])
def test_a_teacher_fine_tuned_with_chunks_is_cached_apart_and_read_alike_by_workers(tmp_path, kind, clone_folder, defect_file, tiny_teacher):
    data_path = clone_folder if kind == "clone" else defect_file
    spec = _chunked_spec(kind, data_path, tiny_teacher, tmp_path)
    settings = dataclasses.replace(spec.train.teacher, epochs=1)
    assert settings.long_inputs == "chunks"
    data = load_task_data(spec)
    chunked = prepare_teacher(settings, data, tmp_path / "cache", seed=1, device="cpu")
    truncated = prepare_teacher(dataclasses.replace(settings, long_inputs="truncate"), data, tmp_path / "cache", seed=1, device="cpu")
    assert chunked.folder != truncated.folder and chunked.fingerprint != truncated.fingerprint
    encoded = chunked.encode(data.valid)
    assert encoded.windows is not None and max(max(counts) for counts in encoded.windows) > 1, "the functions are longer than 16 tokens"
    logits = chunked.logits(data.valid, "valid", data.fingerprint, tmp_path / "cache", "cpu")
    assert logits.shape == (len(data.valid), 2) and torch.isfinite(logits).all()
    assert not torch.allclose(logits, truncated.logits(data.valid, "valid", data.fingerprint, tmp_path / "cache", "cpu"))
    reference = chunked.reference()
    assert reference.long_inputs == "chunks"
    on_a_worker = load_teacher(reference)
    from avatar.trainer.students import predict_logits

    torch.testing.assert_close(predict_logits(on_a_worker.reader, on_a_worker.encode(data.valid), 8, "cpu"), logits, msg="a worker reads as the run does")


def test_feature_distillation_reads_a_chunked_teacher_on_the_first_window(tmp_path, clone_folder, tiny_teacher):
    spec = _chunked_spec("clone", clone_folder, tiny_teacher, tmp_path)
    data = load_task_data(spec)
    teacher = prepare_teacher(dataclasses.replace(spec.train.teacher, epochs=1), data, tmp_path / "cache", seed=1, device="cpu")
    features = teacher_features(teacher, data.valid[:6], "valid-6", data.fingerprint, tmp_path / "cache", "cpu")
    assert features.array("hidden").shape[:2] == (6, 2), "one pooled state per function, as a student's"


@pytest.mark.parametrize("kind", ["clone", "defect"])
def test_a_classifier_used_as_it_is_reads_windows_and_averages_them(tmp_path, kind, clone_folder, defect_file, tiny_classifier):
    """A cross-encoder (clone) reads pairs of windows; a classifier (defect) one function's, of
    its own input length (here 24 tokens, so that the functions are longer)."""
    short = tmp_path / "classifier"
    shutil.copytree(tiny_classifier, short)
    AutoTokenizer.from_pretrained(tiny_classifier, model_max_length=24).save_pretrained(short)
    spec = _chunked_spec(kind, clone_folder if kind == "clone" else defect_file, short, tmp_path)
    data = load_task_data(spec)
    teacher = prepare_teacher(spec.train.teacher, data, tmp_path / "cache", seed=1, device="cpu")
    assert teacher.kind == "as-is" and isinstance(teacher.reader, WindowAveragedClassifier)
    examples = data.valid[:8]
    encoded = teacher.encode(examples)
    assert encoded.windows is not None and max(max(counts) for counts in encoded.windows) > 1
    logits = teacher.logits(examples, "valid-8", data.fingerprint, tmp_path / "cache", "cpu")
    classifier = teacher.model
    expected = []
    with torch.no_grad():
        for index in range(len(examples)):
            batch = encoded.batch([index], "cpu")
            windows = int(batch["attention_mask"][0].any(dim=-1).sum())
            inputs = {name: value[0, :windows] for name, value in batch.items()}
            expected.append(classifier(**inputs).logits.mean(dim=0))
    torch.testing.assert_close(logits, torch.stack(expected), rtol=1e-4, atol=1e-5)


class _Killed(Exception):
    """Stands in for a kill in the middle of fine-tuning."""


def test_a_chunked_fine_tuning_cut_short_resumes_to_the_same_teacher(tmp_path, defect_file, tiny_teacher):
    spec = _chunked_spec("defect", defect_file, tiny_teacher, tmp_path)
    settings = dataclasses.replace(spec.train.teacher, epochs=2, patience=2)
    data = load_task_data(spec)
    whole = prepare_teacher(settings, data, tmp_path / "whole", seed=1, device="cpu")
    epochs_seen = []

    def kill_in_the_second_epoch(epoch: int, step: int, loss: float) -> None:
        epochs_seen.append(epoch)
        if epoch == 1 and step >= 1:  # the first epoch's checkpoint is on disk
            raise _Killed

    with pytest.raises(_Killed):
        prepare_teacher(settings, data, tmp_path / "cut", seed=1, device="cpu", on_step=kill_in_the_second_epoch)
    assert 0 in epochs_seen and list((tmp_path / "cut").rglob("*.pt")), "killed after the first epoch was saved"
    resumed = prepare_teacher(settings, data, tmp_path / "cut", seed=1, device="cpu")
    for name, value in whole.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value, msg=name)
