"""Tasks with more than two labels (``task.labels``): teachers and students get N-label heads,
metrics are accuracy, macro-F1 with each class's F1, and macro one-vs-rest ROC AUC; no decision
threshold is tuned; ``params`` stays exact."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from avatar.objectives import Context, get_family
from avatar.specs import loads
from avatar.trainer import has_task_head, load_task_data, prepare_distillation, train_selected
from avatar.trainer.students._metrics import multiclass_metrics
from tests.trainer_tests.conftest import student_spec

LABELS = ["safe", "overflow", "double-free"]
BODIES = {
    "safe": "strncpy(buffer, input, sizeof(buffer) - 1);",
    "overflow": "strcpy(buffer, input);",
    "double-free": "free(buffer); free(buffer);",
}
CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip


@pytest.fixture(scope="module")
def three_class_file(tmp_path_factory) -> Path:
    generator = random.Random(0)
    path = tmp_path_factory.mktemp("three") / "functions.jsonl"
    with open(path, "w") as file:
        for index in range(150):
            label = LABELS[index % 3]
            code = f"int handler_{index}(char *input) {{\n    char buffer[{generator.choice([16, 32])}];\n    {BODIES[label]}\n    return {generator.randrange(9)};\n}}\n"
            file.write(json.dumps({"code": code, "bug": label, "uid": f"h{index}"}) + "\n")
    return path


def _spec(tmp_path: Path, data: Path, teacher: Path | str):
    text = student_spec("classify", data, teacher).replace("task: {kind: classify,", "task: {kind: classify, labels: [safe, overflow, double-free], fields: {text: code, label: bug, id: uid},")
    (tmp_path / "spec.yaml").write_text(text)
    return loads(text, filename=str(tmp_path / "spec.yaml"))


def test_macro_metrics_by_hand():
    probabilities = [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]
    metrics = multiclass_metrics(probabilities, [0, 1, 2, 2])
    assert metrics["accuracy"] == 0.75
    assert metrics["f1_class_0"] == 1.0 and metrics["f1_class_1"] == pytest.approx(2 / 3) and metrics["f1_class_2"] == pytest.approx(2 / 3)
    assert metrics["f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    from sklearn.metrics import roc_auc_score

    assert metrics["auc"] == pytest.approx(roc_auc_score([0, 1, 2, 2], probabilities, multi_class="ovr", average="macro"))
    assert metrics["auc"] == pytest.approx((1 + 2.5 / 3 + 0.75) / 3)  # class 1 ties one negative, class 2 one of its two


def test_a_three_label_task_is_distilled_end_to_end(tmp_path, three_class_file, tiny_teacher):
    spec = _spec(tmp_path, three_class_file, tiny_teacher)
    data = load_task_data(spec)
    assert data.num_labels == 3 and {example.label for example in data.train} == {0, 1, 2}
    run = tmp_path / "run"
    run.mkdir()
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [{"key": "three000", "config": CONFIG, "reason": "test"}]}))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    assert distillation.logits.shape[1] == 3 and distillation.teacher.model.config.num_labels == 3
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu", distillation=distillation)
    student = summary.students[0]
    assert summary.primary == "f1" and summary.data.labels == tuple(LABELS) and summary.data.num_labels == 3
    assert set(student.test) >= {"accuracy", "f1", "auc", "f1_class_0", "f1_class_1", "f1_class_2"}
    assert student.threshold is not None and student.threshold.tuned is False and student.threshold.margin == 0.0
    assert summary.teacher.threshold is None
    # the saved student has three outputs, and its exact parameter count is the estimator's
    from avatar.trainer import load_student

    model = load_student(run / "students" / "three000", "classify")
    assert model.config.num_labels == 3
    family, context = get_family("roberta"), Context.from_spec(spec)
    assert context.num_labels == 3
    counted = sum(parameter.numel() for parameter in model.parameters())
    assert family.params(family.numeric(context.resolve(CONFIG)), "classify", 3) == counted
    from avatar.solver.report._students_section import students_section

    section = students_section(summary)
    assert "macro-F1" in section and "F1 `double-free`" in section and "The task has 3 labels" in section


def test_a_classifier_is_used_as_it_is_only_with_the_tasks_number_of_labels(tmp_path, tiny_teacher):
    from transformers import AutoTokenizer, BertForSequenceClassification

    torch.manual_seed(0)
    BertForSequenceClassification.from_pretrained(tiny_teacher, num_labels=3).save_pretrained(tmp_path / "three")
    AutoTokenizer.from_pretrained(tiny_teacher).save_pretrained(tmp_path / "three")
    assert has_task_head(str(tmp_path / "three"), 3) and not has_task_head(str(tmp_path / "three"), 2)
