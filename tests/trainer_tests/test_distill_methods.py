"""Distillation methods (``train.distill``): each loss on its own, their combination, the
teacher's cached features, a searched ``distill_method``, and resume of a killed feature-based
distillation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from avatar.specs import DEFAULT_METHODS, SpecError, loads, parse_methods
from avatar.trainer import DistillationProber, distillation_loss, prepare_distillation, train_selected
from avatar.trainer.distill._distil import distil, methods_of
from avatar.trainer.distill._features import segment_pool
from avatar.trainer.distill._losses import dist_loss, layer_map, logits_loss
from tests.trainer_tests.conftest import student_spec

CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 2, "hidden_size": 16, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip


def test_the_spec_forms_of_methods():
    assert parse_methods("logits+hidden") == {"logits": 1.0, "hidden": 1.0}
    assert parse_methods(["dist", "hard_labels"]) == {"dist": 1.0, "hard_labels": 1.0}
    assert parse_methods({"logits": 1, "hidden": 0.5, "dist": 0}) == {"logits": 1.0, "hidden": 0.5}
    for bad, message in (("logit", "unknown distillation method 'logit'"), ({"logits": -1}, "at least 0"), ({"logits": 0}, "above 0")):
        with pytest.raises(ValueError, match=message):
            parse_methods(bad)


def test_logits_is_the_loss_distillation_had():
    generator = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(8, 2, generator=generator), torch.randn(8, 2, generator=generator)
    assert logits_loss(student, teacher, 2.0) == pytest.approx(float(distillation_loss(student, teacher, torch.zeros(8, dtype=torch.long), 2.0, 0.0)))


def test_dist_matches_rankings_not_values():
    generator = torch.Generator().manual_seed(1)
    teacher = torch.randn(16, 3, generator=generator)
    assert float(dist_loss(teacher, teacher, 1.0)) == pytest.approx(0.0, abs=1e-5)
    assert float(dist_loss(torch.randn(16, 3, generator=generator), teacher, 1.0)) > 0.1
    # inter- and intra-class correlations are both in: a student right per example but with the classes' spread over the batch inverted pays
    student = teacher.clone()
    student[:, 0] = -student[:, 0]
    assert float(dist_loss(student, teacher, 1.0)) > 0.1


def test_layers_are_mapped_uniformly_the_last_to_the_last():
    assert layer_map(2, 6) == [(0, 2), (1, 5)]
    assert layer_map(3, 6) == [(0, 1), (1, 3), (2, 5)]
    assert layer_map(1, 6) == [(0, 5)]
    assert layer_map(4, 2) == [(0, 0), (1, 0), (2, 1), (3, 1)]


def test_segment_pooling_shares_each_text_by_position():
    vectors = torch.arange(8, dtype=torch.float32).reshape(1, 8, 1)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0, 0, 0]])
    pooled, present = segment_pool(vectors, mask, segments=2)
    assert pooled[0, :, 0].tolist() == [0.5, 2.5]  # tokens 0-1 and 2-3; padding ignored
    assert present.tolist() == [[True, True]]
    pooled, present = segment_pool(vectors, mask, segments=8)
    assert present[0].tolist() == [True, False, True, False, True, False, True, False]  # 4 tokens over 8 segments


def _spec(kind: str, data: Path, teacher: Path, tmp_path: Path, distill: str):
    text = student_spec(kind, data, teacher, distill=distill)
    (tmp_path / "spec.yaml").write_text(text)
    return loads(text, filename=str(tmp_path / "spec.yaml"))


@pytest.mark.parametrize(
    "kind, distill",
    [
        ("defect", "dist"),
        ("defect", "logits+hard_labels"),
        ("defect", "logits+hidden"),
        ("clone", "logits+hidden"),
        ("defect", "logits+attention_relations"),
        ("clone", "{logits: 1, attention_relations: 0.5, hidden: 0.5}"),
    ],
)
def test_each_method_distils_a_student_that_saves_without_its_projections(kind, distill, tmp_path, defect_file, clone_folder, tiny_teacher):
    spec = _spec(kind, defect_file if kind == "defect" else clone_folder, tiny_teacher, tmp_path, distill)
    run = tmp_path / "run"
    run.mkdir()
    (run / "selected.json").write_text(json.dumps({"select": "knee", "points": [{"key": "method00", "config": CONFIG, "reason": "test"}]}))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    methods = parse_methods(distill if not distill.startswith("{") else {"logits": 1, "attention_relations": 0.5, "hidden": 0.5})
    outputs = distillation.outputs
    assert (outputs.labeled is not None) is ("hard_labels" in methods)
    assert (outputs.features is not None) is bool({"hidden", "attention_relations"} & set(methods))
    summary = train_selected(spec, None, run, cache_dir=tmp_path / "cache", device="cpu", distillation=distillation)
    student = summary.students[0]
    assert student.distill == methods and student.validation is not None and student.validation.epochs_run >= 1
    if outputs.features is not None:
        hidden = outputs.features.array("hidden")
        assert hidden.dtype.name == "float16" and hidden.shape[:3] == (len(distillation.data.unlabeled), 2 if kind == "clone" else 1, 1)  # the tiny teacher has 1 layer
        assert (summary.teacher.features_mb or 0) > 0
    if "hard_labels" in methods:
        assert any("labelled examples (hard_labels)" in note for note in student.notes or ())
    from avatar.trainer import load_student

    saved = load_student(run / "students" / "method00", kind)
    assert not any("projection" in name for name in saved.state_dict())  # the hidden projections stay out of the model


def test_a_searched_distill_method_overrides_train_distill(tmp_path, defect_file, tiny_teacher):
    text = student_spec("defect", defect_file, tiny_teacher, distill="logits").replace("space:\n", "space:\n  distill_method: {choices: [logits, 'dist+hard_labels']}\n")
    spec = loads(text)
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    assert distillation.outputs.labeled is not None  # a searched choice needs it
    distilled = distil(spec, {**CONFIG, "distill_method": "dist+hard_labels"}, distillation.data, distillation.outputs, tmp_path / "ckpt", tmp_path / "cache", device="cpu", epochs=1)
    assert distilled.methods == {"dist": 1.0, "hard_labels": 1.0}


def test_without_train_distill_a_teacher_model_teaches_logits_and_hard_labels(tmp_path, defect_file, tiny_teacher):
    spec = loads(student_spec("defect", defect_file, tiny_teacher))
    assert spec.train.distill is None and methods_of(spec, CONFIG) == DEFAULT_METHODS == {"logits": 1.0, "hard_labels": 1.0}
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    assert distillation.spec.train.distill is None, "the spec is never rewritten"
    assert dict(distillation.outputs.methods) == DEFAULT_METHODS and distillation.outputs.labeled is not None
    assert (
        DistillationProber(distillation).source
        != DistillationProber(prepare_distillation(loads(student_spec("defect", defect_file, tiny_teacher, distill="logits")), cache_dir=tmp_path / "cache", device="cpu")).source
    )


def test_a_killed_feature_distillation_resumes_as_if_uninterrupted(tmp_path, defect_file, tiny_teacher):
    spec = _spec("defect", defect_file, tiny_teacher, tmp_path, "logits+hidden+attention_relations")
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    arguments = dict(data=distillation.data, teacher=distillation.outputs, cache_dir=tmp_path / "cache", device="cpu", epochs=3)
    whole = distil(spec, CONFIG, checkpoint_dir=tmp_path / "whole", **arguments)

    class Killed(Exception):
        pass

    def kill_after_first(epoch, record):
        if epoch == 0:
            raise Killed

    with pytest.raises(Killed):
        distil(spec, CONFIG, checkpoint_dir=tmp_path / "resumed", on_epoch=kill_after_first, **arguments)
    resumed = distil(spec, CONFIG, checkpoint_dir=tmp_path / "resumed", **arguments)
    assert resumed.result.resumed_from == 1
    assert [round(record["loss"], 6) for record in resumed.result.history] == [round(record["loss"], 6) for record in whole.result.history]
    for name, value in whole.model.state_dict().items():
        assert torch.allclose(value, resumed.model.state_dict()[name], atol=1e-6), name


def test_a_teacher_given_as_predictions_cannot_teach_features(tmp_path, defect_file):
    text = student_spec("defect", defect_file, "unused", distill="logits+hidden")
    text = text.replace('teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}', "teacher: {predictions: p.jsonl}")
    with pytest.raises(SpecError, match="'hidden' needs the teacher's hidden states, and a teacher given as its predictions has none"):
        loads(text)


@pytest.mark.parametrize(
    "space_line, distill, message",
    [
        ("distill_method: {range: [1, 3]}", "logits", "distill_method searches distillation methods"),
        ("distill_method: {choices: [logits, 'logits+bogus']}", "logits", "distill_method: unknown distillation method 'bogus'"),
        ("hidden_size: {choices: [32]}", '"+"', "unknown distillation method ''"),
        ("hidden_size: {choices: [32]}", "{}", "train.distill"),
        ("hidden_size: {choices: [32]}", "{logits: -1}", "train.distill"),
    ],
)
def test_hostile_distillation_settings_are_spec_errors_naming_the_field(space_line, distill, message):
    text = f"name: x\ntask: {{kind: defect, data: d}}\nspace:\n  vocab_size: {{choices: [300]}}\n  {space_line}\nobjectives: {{size_mb: minimize}}\ntrain:\n  teacher: m\n  distill: {distill}\n"
    with pytest.raises(SpecError, match=message):
        loads(text)


def test_attention_relations_refuse_a_cross_encoder_and_hidden_compares_the_pair(tmp_path, clone_folder, tiny_classifier):
    from avatar.trainer import TeacherError

    with pytest.raises(TeacherError, match="attention_relations reads each function's features, and this teacher is a cross-encoder"):
        prepare_distillation(_spec("clone", clone_folder, tiny_classifier, tmp_path, "logits+attention_relations"), cache_dir=tmp_path / "cache", device="cpu")
    distillation = prepare_distillation(_spec("clone", clone_folder, tiny_classifier, tmp_path, "logits+hidden"), cache_dir=tmp_path / "cache", device="cpu")
    assert distillation.outputs.features.array("hidden").shape[1] == 1  # one text: the pair as the cross-encoder read it
    distilled = distil(distillation.spec, CONFIG, distillation.data, distillation.outputs, tmp_path / "ckpt", tmp_path / "cache", device="cpu", epochs=1)
    assert distilled.result.epochs_run == 1
