"""The augmented transfer set (``train.augment``): rewrites that still compile (C with gcc, Java
with javac, Python with its parser), keep strings, comments, members and called names, are
cached, labelled by the teacher and distilled on."""

from __future__ import annotations

import ast
import json
import random
import shutil
import subprocess

import pytest

from avatar.specs import SpecError, loads
from avatar.trainer import prepare_distillation, train_selected
from avatar.trainer.data._augment import augment_examples, rewrite_code
from avatar.trainer.data._task_data import Example
from tests.trainer_tests.conftest import student_spec

C_FUNCTION = """\
#include <stdio.h>
#include <string.h>
struct ctx { int count; };
static int handle_packet(struct ctx *ctx, const char *input, int length)
{
    int total = 0;
    int count = 1;
    char buffer[64];
    /* count the input; input stays in comments */
    for (int i = 0; i < length; i++) {
        total += input[i];
        ctx->count = count;
    }
    strncpy(buffer, input, sizeof(buffer) - 1);
    printf("total input %d\\n", total);
    return total;
}
"""
JAVA_FUNCTION = """\
import java.util.List;
class Holder {
    int limit = 3;
    public int sum(List<Integer> values, int limit) {
        int total = 0;
        String name = "limit";
        for (Integer value : values) {
            if (value > limit) { total += value; }
        }
        return total + name.length() + this.limit;
    }
}
"""
PYTHON_FUNCTION = (
    "def average(values, weight=1):\n    total = 0\n    count = 0\n    for value in values:\n        total += value * weight\n        count += 1\n    return total / count if count else 0.0\n"
)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc here")
def test_c_rewrites_still_compile_and_keep_strings_comments_members_and_calls(tmp_path):
    generator = random.Random(0)
    for index in range(12):
        code = rewrite_code(C_FUNCTION, generator)
        assert '"total input %d\\n"' in code and "input stays in comments" in code and "->count" in code and "strncpy(" in code
        source = tmp_path / f"rewrite{index}.c"
        source.write_text(code)
        result = subprocess.run(["gcc", "-fsyntax-only", "-Werror=implicit-function-declaration", str(source)], capture_output=True, text=True)
        assert result.returncode == 0, code + result.stderr
    assert any("int length" not in rewrite_code(C_FUNCTION, generator) for _ in range(5)), "locals are renamed"


@pytest.mark.skipif(shutil.which("javac") is None, reason="no javac here")
def test_java_rewrites_still_compile_and_keep_fields(tmp_path):
    generator = random.Random(1)
    for index in range(6):
        code = rewrite_code(JAVA_FUNCTION, generator)
        assert "this.limit" in code and '"limit"' in code
        folder = tmp_path / f"r{index}"
        folder.mkdir()
        (folder / "Holder.java").write_text(code)
        result = subprocess.run(["javac", "-d", str(folder), str(folder / "Holder.java")], capture_output=True, text=True)
        assert result.returncode == 0, code + result.stderr


def test_python_rewrites_parse_and_the_set_is_cached_and_deterministic(tmp_path):
    examples = [Example((PYTHON_FUNCTION,), 1, ("f",), "f"), Example((C_FUNCTION, PYTHON_FUNCTION), 0, ("a", "b"), "a/b")]
    first = augment_examples(examples, 3, seed=5, cache_file=tmp_path / "aug.jsonl")
    assert first == augment_examples(examples, 3, seed=5)  # the same for a seed
    assert all(example.id.split("~aug")[0] in {"f", "a/b"} and example.label in (0, 1) for example in first)
    assert 4 <= len(first) <= 6 and (tmp_path / "aug.jsonl").exists()
    for example in first:
        for text in example.texts:
            if text.startswith("def "):
                ast.parse(text)
    (tmp_path / "aug.jsonl").write_text(json.dumps({"texts": ["x"], "label": 0, "groups": ["g"], "id": "g~aug1"}) + "\n")
    assert [item.id for item in augment_examples(examples, 3, seed=5, cache_file=tmp_path / "aug.jsonl")] == ["g~aug1"]  # read from the cache


def test_students_are_distilled_on_the_rewrites_the_teacher_labelled(tmp_path, defect_file, tiny_teacher):
    spec = loads(student_spec("defect", defect_file, tiny_teacher, augment=2, distill="logits+hidden"))
    run = tmp_path / "run"
    run.mkdir()
    config = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
              "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [{"key": "augment0", "config": config, "reason": "test"}]}))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    data = distillation.data
    assert len(data.augmented) > len(data.train)  # about two per training function
    assert len(distillation.outputs.unlabeled) == len(data.unlabeled) + len(data.augmented)
    assert distillation.outputs.features.array("hidden").shape[0] == len(data.unlabeled) + len(data.augmented)
    assert list((tmp_path / "cache" / "augmented").glob("*.jsonl"))
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu", distillation=distillation)
    assert summary.data.augmented == len(data.augmented) and summary.students


def test_augmenting_needs_a_teacher_model(defect_file):
    text = student_spec("defect", defect_file, "unused", augment=1)
    text = text.replace('teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}', "teacher: {predictions: p.jsonl}")
    with pytest.raises(SpecError, match="train.augment: augmented inputs must be labelled by the teacher"):
        loads(text)
