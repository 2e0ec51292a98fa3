"""The trainer on a GPU (skipped where there is none): teacher fine-tuning, distillation from
two seeds and the folded threshold run on CUDA, and the saved student reloads on the CPU with
the recorded predictions."""

from __future__ import annotations

import json

import pytest
import torch

from avatar.specs import loads
from avatar.trainer import default_device, load_student, load_task_data, train_selected
from avatar.trainer.data._encode import encode
from tests.trainer_tests.conftest import student_spec

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip


@pytest.mark.parametrize("kind", ["clone", "defect"])
def test_a_student_trained_on_the_gpu_reloads_on_the_cpu_with_the_same_predictions(kind, tmp_path, clone_folder, defect_file, tiny_teacher):
    from transformers import AutoTokenizer

    data = clone_folder if kind == "clone" else defect_file
    spec = loads(student_spec(kind, data, tiny_teacher, restarts=2, quantize="true"), filename=str(tmp_path / "spec.yaml"))
    run = tmp_path / "run"
    run.mkdir()
    point = {"key": f"gpu-{kind}", "config": CONFIG, "status": "ok", "metrics": {}, "reason": "test"}
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [point]}))
    assert default_device() == "cuda"
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device=default_device())
    student = summary.students[0].to_dict()
    assert summary.device == "cuda" and len(student["restarts"]) == 2 and student["threshold"]["folded"]
    folder = run / "students" / student["key"]
    model = load_student(folder, kind).eval()
    encoded = encode(load_task_data(spec).test, AutoTokenizer.from_pretrained(folder), CONFIG["max_sequence_length"])
    with torch.no_grad():
        logits = torch.cat([model(**batch).logits for _, batch in encoded.batches(8, "cpu")])
    assert logits.argmax(dim=1).tolist() == student["test_predictions"]
