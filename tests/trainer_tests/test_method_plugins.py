"""Distillation methods as registered objects: the contract every method passes, a third-party
method installed through the ``avatar.distill`` entry-point group and used by a student, and
broken plugins refused before training with the spec line they are named at."""

from __future__ import annotations

import textwrap

import pytest
import torch

from avatar.specs import SpecError, loads, registered_method_names
from avatar.trainer import preflight, prepare_distillation
from avatar.trainer.distill import DistillationLoss, DistillationMethod, Hidden, LossShape, MethodError, MethodMix, get_method
from avatar.trainer.distill._distil import distil
from avatar.trainer.distill.testing import check_method
from tests.trainer_tests.conftest import student_spec

CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip

# A third-party method as a plugin author would write it: cosine distance between the softened
# predictions (it needs nothing beyond the teacher's logits).
COSINE = """
import torch
from torch import nn
from avatar.trainer.distill import DistillationMethod


class _Cosine(nn.Module):
    def forward(self, student, teacher):
        return (1 - nn.functional.cosine_similarity(student.logits.softmax(-1), teacher.logits.softmax(-1), dim=-1)).mean()


class Cosine(DistillationMethod):
    name = "cosine"

    def build(self, shape):
        return _Cosine()


class PooledNeedsFeatures(Cosine):
    name = "pooled"
    needs_teacher_features = True
    student_outputs = frozenset({"hidden"})


class NotAMethod:
    name = "notamethod"
"""


@pytest.fixture
def install(tmp_path, monkeypatch):
    """Install a distribution whose module is ``COSINE`` and whose entry points are given, as
    ``pip install`` would."""

    def register(entry_points: dict[str, str], module: str = COSINE) -> None:
        (tmp_path / "my_methods.py").write_text(textwrap.dedent(module))
        dist_info = tmp_path / "my_methods-0.1.0.dist-info"
        dist_info.mkdir(exist_ok=True)
        (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-methods\nVersion: 0.1.0\n")
        (dist_info / "entry_points.txt").write_text("[avatar.distill]\n" + "".join(f"{name} = {target}\n" for name, target in entry_points.items()))
        monkeypatch.syspath_prepend(str(tmp_path))
        registered_method_names.cache_clear()
        get_method.cache_clear()

    yield register
    registered_method_names.cache_clear()
    get_method.cache_clear()


@pytest.mark.parametrize("name", sorted(registered_method_names()))
def test_every_registered_method_passes_the_conformance_check(name):
    check_method(type(get_method(name)))


def _method(name: str, build, **declared) -> type[DistillationMethod]:
    return type(f"Bad_{name}", (DistillationMethod,), {"name": name, "build": build, **declared})


class _Constant(torch.nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def forward(self, student, teacher):
        return student.logits.new_full((), self.value)


class _Logits(torch.nn.Module):
    def forward(self, student, teacher):
        return student.logits


@pytest.mark.parametrize(
    "method, message",
    [
        (_method("nan", lambda self, shape: _Constant(float("nan"))), "loss is nan"),
        (_method("frozen", lambda self, shape: _Constant(1.0)), "no gradient"),
        (_method("vector", lambda self, shape: _Logits()), "must be a scalar tensor"),
        (_method("arity", lambda self, shape: torch.nn.Identity()), "fails on a batch of 1 text"),
        (_method("plus+sign", lambda self, shape: _Constant(1.0)), "without '\\+'"),
        (_method("flags", lambda self, shape: _Constant(1.0), uses_labels="yes"), "lacks uses_labels"),
        (_method("outputs", lambda self, shape: _Constant(1.0), student_outputs=frozenset({"tokens"})), "student_outputs"),
        (type("Unbuilt", (DistillationMethod,), {"name": "unbuilt"}), "does not implement build"),
    ],
)
def test_the_conformance_check_catches_a_broken_method(method, message):
    with pytest.raises(AssertionError, match=message):
        check_method(method)


def test_a_method_installed_as_a_plugin_is_known_to_the_spec_and_teaches_a_student(install, tmp_path, defect_file, tiny_teacher):
    install({"cosine": "my_methods:Cosine"})
    check_method(type(get_method("cosine")))
    spec = loads(student_spec("defect", defect_file, tiny_teacher, distill="'logits+cosine'"))
    assert dict(spec.train.distill) == {"logits": 1.0, "cosine": 1.0}
    preflight(spec)
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    distilled = distil(spec, CONFIG, distillation.data, distillation.outputs, tmp_path / "ckpt", tmp_path / "cache", device="cpu", epochs=1)
    assert distilled.methods == {"logits": 1.0, "cosine": 1.0} and distilled.result.epochs_run == 1
    assert all(torch.isfinite(torch.tensor(record["loss"])) for record in distilled.result.history)


def test_an_unknown_method_lists_the_plugins_beside_the_built_ins(install, defect_file, tiny_teacher):
    install({"cosine": "my_methods:Cosine"})
    with pytest.raises(SpecError, match="unknown distillation method 'cosin' \\(known: logits, dist, hard_labels, hidden, attention_relations, cosine"):
        loads(student_spec("defect", defect_file, tiny_teacher, distill="cosin"))


@pytest.mark.parametrize(
    "target, message",
    [
        ("my_methods:Missing", "failed to import: AttributeError"),
        ("no_such_module:Cosine", "failed to import: ModuleNotFoundError"),
        ("my_methods:NotAMethod", "declares the name 'notamethod', not 'broken'|lacks needs_teacher_features"),
    ],
)
def test_a_broken_plugin_is_refused_before_training_at_the_line_that_names_it(install, target, message, defect_file, tiny_teacher):
    install({"broken": target})
    spec = loads(student_spec("defect", defect_file, tiny_teacher, distill="'logits+broken'"))  # the name is registered: the spec is valid
    with pytest.raises(SpecError, match=message) as caught:
        preflight(spec)
    assert caught.value.problems[0].path == ("train", "distill") and "'broken'" in str(caught.value)


def test_a_plugin_that_needs_the_teachers_features_is_refused_for_a_predictions_teacher(install, defect_file):
    install({"cosine": "my_methods:Cosine", "pooled": "my_methods:PooledNeedsFeatures"})
    text = student_spec("defect", defect_file, "unused", distill="'logits+pooled'")
    text = text.replace('teacher: {model: "unused", epochs: 2, batch_size: 8, max_length: 64, learning_rate: 0.001, accept_weak: true}', "teacher: {predictions: p.jsonl}")
    with pytest.raises(SpecError, match="'pooled' needs the teacher's hidden states.*it supports .*cosine"):
        loads(text)
    assert MethodMix.of({"pooled": 1.0}).needs_teacher_features and MethodMix.of({"pooled": 1.0}).student_outputs == {"hidden"}


def test_an_unregistered_name_given_to_the_trainer_is_a_method_error():
    with pytest.raises(MethodError, match="no distillation method is registered as 'nonesuch'"):
        MethodMix.of({"nonesuch": 1.0})


def test_a_checkpoint_written_before_methods_were_objects_still_resumes():
    shape = LossShape(2.0, student_width=8, student_layers=2, student_heads=2, teacher_width=12, teacher_layers=3)
    loss = MethodMix.of({"logits": 1.0, "hidden": 0.5}).loss(shape)
    assert isinstance(loss, DistillationLoss)
    earlier = {
        f"projections.{index}.{part}": torch.full_like(tensor, index + 1.0) for index, projection in enumerate(Hidden().build(shape).projections) for part, tensor in projection.state_dict().items()
    }
    loss.load_state_dict(earlier)
    assert torch.equal(loss.terms["hidden"].projections[1].weight, torch.full_like(loss.terms["hidden"].projections[1].weight, 2.0))
