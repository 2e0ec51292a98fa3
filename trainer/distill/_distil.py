"""Distilling one configuration: its tokenizer, its student, the loss, and restarts from seeds.

Loss: the methods of ``train.distill`` (or of the configuration's ``distill_method``), weighted
(``_losses``; by default ``logits``, the Kullback-Leibler divergence between the
temperature-softened distributions of the student's and the teacher's logits, times T squared),
plus ``hard_label_weight`` times the cross-entropy with the distillation split's labels when
asked (the mix is ``(1 - w) * methods + w * CE``). ``hard_labels`` adds the labelled split to
what the student trains on; ``hidden`` and ``attention_relations`` read the teacher's cached
features (``_features``). The weights that score best on the validation split end up in the
model; ``best_restart`` keeps the best of ``train.restarts`` seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from avatar import objectives
from avatar.specs import DISTILL_PARAMETER, Spec, default_methods, parse_methods

from ..data import EncodedSet, Example, TaskData, encode, load_or_train_tokenizer
from ..students import checkpoint_metric
from ._features import TeacherFeatures, student_forward
from ._loop import LoopResult, LoopSettings, train
from ._losses import StudentOutputs, TeacherTargets, logits_loss
from ._methods import LossShape
from ._pretrain import pretrained_encoder
from ._registry import MethodMix

_T = TypeVar("_T")

__all__ = ["BatchTargets", "Distilled", "TeacherOutputs", "distil", "distillation_loss", "methods_of", "best_restart", "with_hard_labels"]


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float, hard_label_weight: float) -> torch.Tensor:
    """``(1 - w) * KL(softmax(t / T) || softmax(s / T)) * T^2 + w * CE(s, y)``."""
    return with_hard_labels(logits_loss(student, teacher, temperature), student, labels, hard_label_weight)


def with_hard_labels(soft: torch.Tensor, student: torch.Tensor, labels: torch.Tensor, weight: float) -> torch.Tensor:
    """``train.hard_label_weight``'s mix: ``(1 - w) * soft + w * CE`` on the distillation split."""
    return soft if weight == 0 else (1 - weight) * soft + weight * nn.functional.cross_entropy(student, labels)


@dataclass(frozen=True)
class TeacherOutputs:
    """What students are distilled toward (picklable, for probes in other processes): the
    teacher's logits on the distillation examples (the unlabelled split, then its augmented
    copies), and where the methods ask for them its logits on the labelled split
    (``hard_labels``) and its cached features (``hidden``, ``attention_relations``) on both."""

    unlabeled: torch.Tensor
    labeled: torch.Tensor | None = None
    features: TeacherFeatures | None = None
    labeled_features: TeacherFeatures | None = None
    # the methods a configuration without its own (no ``train.distill``, no ``distill_method``)
    # distils by, resolved for what this teacher gives (``None``: ``default_methods``'s default)
    methods: Mapping[str, float] | None = None

    def __len__(self) -> int:
        return len(self.unlabeled)


def methods_of(spec: Spec, config: Mapping[str, Any], resolved: Mapping[str, float] | None = None) -> dict[str, float]:
    """The distillation methods of a configuration: its ``distill_method`` when the space
    searches one, else ``train.distill``, else the default resolved for the teacher
    (``resolved``, ``TeacherOutputs.methods``), else ``default_methods``'s."""
    chosen = config.get(DISTILL_PARAMETER)
    if chosen:
        return parse_methods(chosen)
    if spec.train.distill is None and resolved is not None:
        return dict(resolved)
    return default_methods(spec.train.distill)


def _present(value: _T | None, what: str) -> _T:
    """``value``, which the methods' needs guarantee (``MethodMix``); a clear error if not."""
    if value is None:
        raise ValueError(f"the teacher's outputs lack its {what}, which the distillation methods need")
    return value


class BatchTargets:
    """The teacher's side of each training batch: examples ``0 .. n-1`` are the distillation
    split's first ``n``, the rest (with ``hard_labels``) the labelled split's."""

    def __init__(self, teacher: TeacherOutputs, unlabeled: int, labeled: int, labels: torch.Tensor, device: str) -> None:
        parts = [teacher.unlabeled[:unlabeled]] + ([_present(teacher.labeled, "logits on the labelled split")[:labeled]] if labeled else [])
        self.logits, self.labels, self.unlabeled = torch.cat(parts).to(device), labels.to(device), unlabeled
        self.labeled = torch.tensor([False] * unlabeled + [True] * labeled, device=device)
        self.teacher, self.device = teacher, device

    def batch(self, indices: list[int], with_features: bool) -> TeacherTargets:
        targets = TeacherTargets(self.logits[indices], self.labels[indices], self.labeled[indices])
        if with_features:
            first = [index for index in indices if index < self.unlabeled]
            rest = [index for index in indices if index >= self.unlabeled]
            chunks = [_present(self.teacher.features, "features").take(first, self.device)] if first else []
            chunks += [_present(self.teacher.labeled_features, "features on the labelled split").take([index - self.unlabeled for index in rest], self.device)] if rest else []
            joined = {name: torch.cat([chunk[name] for chunk in chunks]) for name in chunks[0]}
            row_of = {index: row for row, index in enumerate(first + rest)}  # the rows come grouped by split
            rows = torch.tensor([row_of[index] for index in indices], device=self.device)
            targets.hidden, targets.relations, targets.segments = (joined[name][rows] for name in ("hidden", "relations", "segments"))
        return targets


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
    methods: dict[str, float] = field(default_factory=lambda: {"logits": 1.0})


def distil(
    spec: Spec,
    config: Mapping[str, Any],
    data: TaskData,
    teacher: TeacherOutputs | torch.Tensor,
    checkpoint_dir: Path,
    cache_dir: Path,
    *,
    device: str,
    epochs: int | None = None,
    max_examples: int | None = None,
    metric: str | None = None,
    seed: int | None = None,
    pretrain_epochs: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> Distilled:
    """Train one configuration's tokenizer and student on the teacher's outputs (its logits on
    the distillation split alone, or ``TeacherOutputs``); the best weights on the validation
    split end up in the model. ``epochs`` and ``max_examples`` (the first examples of the
    distillation split, and of the labelled split with ``hard_labels``) make the short runs that
    probes are; ``metric`` (default: ``checkpoint_metric``; every metric is recorded) picks the
    best epoch; ``seed`` (default ``train.seed``) sets the initial weights and the order of
    examples; ``pretrain_epochs`` (default: a realised student's, ``train.pretraining_epochs``)
    pretrains the encoder first.

    Raises:
        ValueError: a method needs teacher outputs that ``teacher`` does not hold.
    """
    teacher = teacher if isinstance(teacher, TeacherOutputs) else TeacherOutputs(teacher)
    methods = methods_of(spec, config, teacher.methods)
    mix = MethodMix.of(methods)
    _check_outputs(mix, teacher)
    seed = spec.train.seed if seed is None else seed
    model, tokenizer, config, notes = _student(spec, config, data, cache_dir, seed=seed, device=device, pretrain_epochs=pretrain_epochs)
    length = int(config["max_sequence_length"])
    unlabeled, labeled = distillation_examples(data, max_examples, mix.uses_labels)
    reading = spec.train.long_inputs
    distill, valid = encode(unlabeled + labeled, tokenizer, length, reading), encode(data.valid, tokenizer, length, reading)
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
    targets = BatchTargets(teacher, len(unlabeled), len(labeled), distill.labels, device)
    objective, loss = student_objective(spec, config, mix, teacher, targets)
    forward = student_forward(hidden="hidden" in mix.student_outputs, relations="relations" in mix.student_outputs)
    result = train(model, distill, loss, valid, settings, checkpoint_dir, on_step=on_step, on_epoch=on_epoch, forward=forward, loss_module=objective)
    if mix.uses_labels:
        notes.append(f"distilled on {len(unlabeled)} unlabelled and {len(labeled)} labelled examples ({'+'.join(mix.names_with('uses_labels'))})")
    return Distilled(model, tokenizer, config, result, settings, notes, valid, methods)


def distillation_examples(data: TaskData, max_examples: int | None, uses_labels: bool) -> tuple[list[Example], list[Example]]:
    """The unlabelled and labelled examples a student distils on: the first ``max_examples`` of
    each split (all with ``None``), the labelled ones only where a method uses labels."""
    unlabeled = data.distillation[:max_examples] if max_examples else data.distillation
    labeled = (data.labeled[:max_examples] if max_examples else data.labeled) if uses_labels else []
    return unlabeled, labeled


def _check_outputs(mix: MethodMix, teacher: TeacherOutputs) -> None:
    """The teacher's outputs hold what the methods need (``ValueError`` naming them if not)."""
    if mix.uses_labels and teacher.labeled is None:
        raise ValueError(f"{' and '.join(mix.names_with('uses_labels'))} needs the teacher's logits on the labelled split")
    if mix.needs_teacher_features and (teacher.features is None or (mix.uses_labels and teacher.labeled_features is None)):
        raise ValueError(f"{' and '.join(mix.names_with('needs_teacher_features'))} needs the teacher's features")


def _student(spec: Spec, config: Mapping[str, Any], data: TaskData, cache_dir: Path, *, seed: int, device: str, pretrain_epochs: int | None) -> tuple[nn.Module, Any, dict[str, Any], list[str]]:
    """The untrained student of ``config``: its tokenizer (trained on the task's code, cached),
    its initial weights from ``seed``, its encoder pretrained where asked; the configuration as
    built (the vocabulary raised where the tokenizer needs it) and notes on what changed."""
    config = objectives.Context.from_spec(spec).resolve(config)
    family = objectives.get_family(spec.model.family)
    length, vocab = int(config["max_sequence_length"]), int(config["vocab_size"])
    tokenizer = load_or_train_tokenizer(str(config.get("tokenizer", "bpe")), vocab, data.texts(data.train), data.fingerprint, length, cache_dir)
    notes = []
    if len(tokenizer) > vocab:
        # Byte-level BPE cannot go below its 256-byte alphabet (plus special tokens).
        notes.append(f"vocab_size raised from {vocab} to {len(tokenizer)}: the {config.get('tokenizer')} tokenizer needs at least that many tokens")
        config = {**config, "vocab_size": len(tokenizer)}
    torch.manual_seed(seed)
    model = family.build(config, spec.task.kind, spec.task.num_labels, pad_token_id=tokenizer.pad_token_id, bos_token_id=0, eos_token_id=2)
    pretrain_epochs = spec.train.pretraining_epochs(probe=False) if pretrain_epochs is None else pretrain_epochs
    if pretrain_epochs and not hasattr(model, "roberta"):  # masked-token pretraining builds a RoBERTa encoder
        if spec.train.pretrain_epochs != "auto":
            raise ValueError(f"train.pretrain_epochs pretrains a RoBERTa encoder, and the {spec.model.family} family's students have none: set it to 0")
        pretrain_epochs = 0
    if pretrain_epochs:
        corpus = list(dict.fromkeys(data.texts(data.train + data.transfer)))
        fingerprint = f"{data.fingerprint}-{len(data.transfer)}"
        rate = float(config.get("learning_rate", 5e-4))
        state = pretrained_encoder(family, config, tokenizer, corpus, fingerprint, cache_dir, epochs=pretrain_epochs, seed=seed, device=device, learning_rate=rate)
        model.roberta.load_state_dict(state)
        notes.append(f"encoder pretrained by masked-token prediction for {pretrain_epochs} epochs on {len(corpus)} functions (train.pretrain_epochs: {spec.train.pretrain_epochs})")
    return model, tokenizer, config, notes


def student_objective(spec: Spec, config: Mapping[str, Any], mix: MethodMix, teacher: TeacherOutputs, targets: BatchTargets) -> tuple[nn.Module, Callable[[StudentOutputs, list[int]], torch.Tensor]]:
    """The methods' loss module (its own parameters, such as projections, train with the
    student) and the loop's loss of a batch: the methods' losses, plus the labels' where
    ``train.hard_label_weight`` asks."""
    features = mix.needs_teacher_features
    objective = mix.loss(
        LossShape(
            spec.train.temperature,
            student_width=int(config["hidden_size"]),
            student_layers=int(config["num_hidden_layers"]),
            student_heads=int(config["num_attention_heads"]),
            teacher_width=teacher.features.width if teacher.features is not None and features else 0,
            teacher_layers=teacher.features.layers if teacher.features is not None and features else 0,
        )
    )
    weight = spec.train.hard_label_weight

    def loss(student: StudentOutputs, indices: list[int]) -> torch.Tensor:
        batch = targets.batch(indices, features)
        return with_hard_labels(objective(student, batch), student.logits, batch.labels, weight)

    return objective, loss


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
        restarts.append({"seed": seed, "best": result.best_metric, "best_epoch": result.best_epoch + 1, "epochs_run": result.epochs_run})  # from 1, as metrics.json counts
        if best is None or result.best_metric > best.result.best_metric:
            best = distilled
    assert best is not None
    return best, restarts
