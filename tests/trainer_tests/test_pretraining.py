"""Students that start with some knowledge (``train.pretrain_epochs``): RoBERTa's masking, an
encoder that learns to predict masked code tokens, the cache shared by students of one
architecture, and a distilled student that starts from it."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from avatar import objectives
from avatar.specs import SpecError, loads
from avatar.trainer import prepare_distillation
from avatar.trainer.data import SPECIAL_TOKENS, load_or_train_tokenizer
from avatar.trainer.distill._distil import distil
from avatar.trainer.distill._pretrain import MASK_SHARE, mask_tokens, pretrained_encoder
from tests.trainer_tests.conftest import student_spec

CONFIG = {"tokenizer": "bpe", "vocab_size": 300, "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
          "intermediate_size": 32, "max_sequence_length": 64, "learning_rate": 0.005, "batch_size": 8}  # fmt: skip


def test_masking_chooses_about_fifteen_percent_of_the_real_tokens_and_never_a_special_one():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(len(SPECIAL_TOKENS), 300, (64, 100))
    ids[:, 0], ids[:, -10:] = 0, 1  # <s> and padding
    attention = (ids != 1).long()
    inputs, labels = mask_tokens(ids, attention, 300, generator)
    asked = labels != -100
    assert not asked[:, 0].any() and not asked[:, -10:].any()
    share = asked.sum().item() / attention[:, 1:].sum().item()
    assert abs(share - MASK_SHARE) < 0.02
    masked = inputs[asked] == SPECIAL_TOKENS.index("<mask>")
    assert 0.75 < masked.float().mean().item() < 0.85
    assert torch.equal(inputs[~asked], ids[~asked]) and torch.equal(labels[asked], ids[asked])


def test_the_encoder_learns_the_code_and_is_cached(tmp_path, defect_file):
    spec = loads(student_spec("defect", defect_file, "unused"))
    family = objectives.get_family(spec.model.family)
    texts = [line for line in defect_file.read_text().splitlines()]
    tokenizer = load_or_train_tokenizer("bpe", 300, texts, "corpus", 64, tmp_path)
    config = objectives.Context.from_spec(spec).resolve(CONFIG)
    losses: list[float] = []
    state = pretrained_encoder(family, config, tokenizer, texts, "corpus", tmp_path, epochs=10, seed=1, device="cpu", learning_rate=5e-3, losses=losses)
    assert losses[-1] < 0.75 * losses[0]  # it learned to predict masked tokens
    cached = list((tmp_path / "pretrained").glob("*.pt"))
    assert len(cached) == 1
    again = pretrained_encoder(family, config, tokenizer, texts, "corpus", tmp_path, epochs=10, seed=1, device="cpu", learning_rate=5e-3, losses=(relearned := []))
    assert relearned == [] and all(torch.equal(state[name], again[name]) for name in state)  # read back, not trained again
    pretrained_encoder(family, config, tokenizer, texts, "corpus", tmp_path, epochs=1, seed=1, device="cpu", learning_rate=5e-3)
    assert len(list((tmp_path / "pretrained").glob("*.pt"))) == 2  # other epochs: another encoder


def test_a_student_distils_from_its_pretrained_encoder(tmp_path, defect_file, tiny_teacher):
    spec = loads(student_spec("defect", defect_file, tiny_teacher, pretrain_epochs=2))
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    arguments = {"data": distillation.data, "teacher": distillation.outputs, "cache_dir": tmp_path / "cache", "device": "cpu"}
    pretrained = distil(spec, CONFIG, checkpoint_dir=tmp_path / "first", epochs=1, **arguments)
    assert any("pretrained by masked-token prediction for 2 epochs" in note for note in pretrained.notes)
    (encoder,) = (tmp_path / "cache" / "pretrained").glob("*.pt")
    scratch = distil(loads(student_spec("defect", defect_file, tiny_teacher, pretrain_epochs=0)), CONFIG, checkpoint_dir=tmp_path / "scratch", epochs=1, **arguments)
    assert not any("pretrained" in note for note in scratch.notes)
    state = torch.load(encoder, weights_only=True)
    embeddings = "embeddings.word_embeddings.weight"
    before_training = state[embeddings]
    # One epoch of distillation moves the weights a little; the pretrained student stays far
    # nearer its encoder than a student from scratch does.
    mine = pretrained.model.roberta.state_dict()[embeddings]
    theirs = scratch.model.roberta.state_dict()[embeddings]
    assert (mine - before_training).norm() < 0.5 * (theirs - before_training).norm()


def test_under_auto_students_are_pretrained_and_probes_are_not(tmp_path, clone_folder, tiny_teacher):
    from avatar.objectives import AccuracyEstimator
    from avatar.trainer import DistillationProber

    assert loads(student_spec("clone", clone_folder, tiny_teacher)).train.pretrain_epochs == 0, "from scratch by default"
    spec = loads(student_spec("clone", clone_folder, tiny_teacher, pretrain_epochs="auto"))
    assert spec.train.pretrain_epochs == "auto"
    assert (spec.train.pretraining_epochs(probe=False), spec.train.pretraining_epochs(probe=True)) == (3, 0)
    distillation = prepare_distillation(spec, cache_dir=tmp_path / "cache", device="cpu")
    arguments = {"data": distillation.data, "teacher": distillation.outputs, "cache_dir": tmp_path / "cache", "device": "cpu"}
    student = distil(spec, CONFIG, checkpoint_dir=tmp_path / "student", epochs=1, **arguments)
    assert any("pretrained by masked-token prediction for 3 epochs" in note and "auto" in note for note in student.notes)
    probe = DistillationProber(distillation).task("accuracy", AccuracyEstimator(probe_epochs=1, probe_examples=16), dict(CONFIG))
    before = set((tmp_path / "cache" / "pretrained").glob("*.pt"))
    assert not any(
        "pretrained" in note for note in distil(probe.spec, CONFIG, checkpoint_dir=tmp_path / "probe", epochs=1, pretrain_epochs=probe.spec.train.pretraining_epochs(probe=True), **arguments).notes
    )
    probe.run()
    assert set((tmp_path / "cache" / "pretrained").glob("*.pt")) == before, "a probe pretrains nothing under auto"
    # auto leaves the probes' key as it was (stored probes stay valid)
    explicit = loads(student_spec("clone", clone_folder, tiny_teacher, pretrain_epochs=0))
    assert DistillationProber(distillation).source == DistillationProber(dataclasses.replace(distillation, spec=explicit)).source
    assert explicit.train.pretraining_epochs(probe=False) == 0
    with pytest.raises(SpecError, match="pretrain_epochs"):
        loads(student_spec("clone", clone_folder, tiny_teacher, pretrain_epochs="sometimes"))
