"""Distilling one configuration: its tokenizer, its student, the loss, and restarts from seeds.

Loss: the Kullback-Leibler divergence between the temperature-softened distributions of the
student's and the teacher's *logits*, times T squared (so gradients keep their scale across
temperatures), plus ``hard_label_weight`` times the cross-entropy with the true labels when
asked (the mix is ``(1 - w) * KL * T^2 + w * CE``). The weights that score best on the
validation split end up in the model; ``best_restart`` keeps the best of ``train.restarts`` seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import nn

from avatar import objectives
from avatar.specs import Spec

from ._data import TaskData
from ._encode import EncodedSet, encode
from ._loop import LoopResult, LoopSettings, train
from ._metrics import checkpoint_metric
from ._tokenizers import load_or_train_tokenizer

__all__ = ["Distilled", "distil", "distillation_loss", "best_restart"]


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float, hard_label_weight: float) -> torch.Tensor:
    """``(1 - w) * KL(softmax(t / T) || softmax(s / T)) * T^2 + w * CE(s, y)``."""
    soft = nn.functional.kl_div(
        nn.functional.log_softmax(student / temperature, dim=-1),
        nn.functional.log_softmax(teacher / temperature, dim=-1),
        reduction="batchmean",
        log_target=True,
    ) * temperature**2
    if hard_label_weight == 0:
        return soft
    return (1 - hard_label_weight) * soft + hard_label_weight * nn.functional.cross_entropy(student, labels)


@dataclass
class Distilled:
    """A distilled student with what its evaluation needs."""

    model: nn.Module
    tokenizer: Any
    config: dict[str, Any]
    result: LoopResult
    settings: LoopSettings
    notes: list[str]
    valid: EncodedSet


def distil(
    spec: Spec,
    config: Mapping[str, Any],
    data: TaskData,
    teacher_logits: torch.Tensor,
    checkpoint_dir: Path,
    cache_dir: Path,
    *,
    device: str,
    epochs: int | None = None,
    max_examples: int | None = None,
    metric: str | None = None,
    seed: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> Distilled:
    """Train one configuration's tokenizer and student on the teacher's logits; the best
    weights on the validation split end up in the model. ``epochs`` and ``max_examples`` (the
    first examples of the distillation split) make the short runs that probes are; ``metric``
    (default: ``checkpoint_metric``; every metric is recorded) picks the best epoch; ``seed``
    (default ``train.seed``) sets the initial weights and the order of examples."""
    context = objectives.Context.from_spec(spec)
    config = context.resolve(config)
    family = objectives.get_family(spec.model.family)
    length, vocab = int(config["max_sequence_length"]), int(config["vocab_size"])
    tokenizer = load_or_train_tokenizer(str(config.get("tokenizer", "bpe")), vocab, data.texts(data.train), data.fingerprint, length, cache_dir)
    notes = []
    if len(tokenizer) > vocab:
        # Byte-level BPE cannot go below its 256-byte alphabet (plus special tokens).
        notes.append(f"vocab_size raised from {vocab} to {len(tokenizer)}: the {config.get('tokenizer')} tokenizer needs at least that many tokens")
        config = {**config, "vocab_size": len(tokenizer)}
    seed = spec.train.seed if seed is None else seed
    torch.manual_seed(seed)
    model = family.build(config, spec.task.kind, spec.task.num_labels, pad_token_id=tokenizer.pad_token_id, bos_token_id=0, eos_token_id=2)
    examples = data.unlabeled[:max_examples] if max_examples else data.unlabeled
    distill, valid = encode(examples, tokenizer, length), encode(data.valid, tokenizer, length)
    targets, labels = teacher_logits[: len(examples)].to(device), distill.labels.to(device)
    settings = LoopSettings(
        epochs=epochs or spec.train.epochs,
        learning_rate=float(config.get("learning_rate", 5e-4)),
        batch_size=int(config.get("batch_size", 16)),
        patience=spec.train.patience,
        seed=seed,
        metric=metric or checkpoint_metric(spec.task.kind, spec.train.tune_threshold, spec.task.num_labels),
        device=device,
    )
    if on_start is not None:
        on_start(settings.epochs * -(-len(distill) // settings.batch_size))
    temperature, weight = spec.train.temperature, spec.train.hard_label_weight
    result = train(
        model,
        distill,
        lambda logits, indices: distillation_loss(logits, targets[indices], labels[indices], temperature, weight),
        valid,
        settings,
        checkpoint_dir,
        on_step=on_step,
        on_epoch=on_epoch,
    )
    return Distilled(model, tokenizer, config, result, settings, notes, valid)


def best_restart(spec: Spec, checkpoint_dir: Path, on_start: Callable[[int], None] | None, **distil_arguments: Any) -> tuple[Distilled, list[dict[str, Any]]]:
    """Distil ``train.restarts`` students from seeds ``train.seed``, ``train.seed + 1``, ...
    (``distil`` with ``distil_arguments``) and keep the one best on validation: a tiny
    student's result depends on its initial weights. Each restart has its own checkpoints, so a
    killed run resumes the one it was in; the progress total counts every restart."""
    count = spec.train.restarts
    best: Distilled | None = None
    restarts = []
    for index in range(count):
        seed = spec.train.seed + index
        distilled = distil(
            spec,
            checkpoint_dir=checkpoint_dir / f"seed-{seed}" if count > 1 else checkpoint_dir,
            seed=seed,
            on_start=(lambda total: on_start(total * count)) if on_start is not None and index == 0 else None,
            **distil_arguments,
        )
        result = distilled.result
        restarts.append({"seed": seed, "best": result.best_metric, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run})
        if best is None or result.best_metric > best.result.best_metric:
            best = distilled
    assert best is not None
    return best, restarts
