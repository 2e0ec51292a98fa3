"""Distilling the super-student once, and scoring any configuration's sub-network.

Training follows the sandwich rule with in-place distillation (Once-for-All, BigNAS): on each
batch the largest and the smallest configuration of the pool and ``random`` others drawn from
it are run, their gradients summed, one optimiser step taken. The largest learns from the
teacher with the run's distillation methods; the others learn half from the teacher, half from
the largest's logits on the same batch (its soft predictions are closer to what a small network
can fit). A method whose loss has weights of its own (``hidden``'s projection) gets one per
sub-network shape, trained alongside.

Vocabulary sizes are trained at ``vocab_levels`` levels per tokenizer type (its smallest and
largest vocabulary in the pool by default): each level is a tokenizer to train and the data to
encode again. Any vocabulary size is scored, with its own tokenizer, on the table the levels
trained (``_elastic``).

After each epoch the state (weights, optimiser, schedule, the losses' weights, history) is
written atomically, so a killed training resumes at the epoch it was in; a finished one is kept
in the cache under a key of everything it depends on, so it is trained once per teacher, data,
methods and space.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock

from avatar import objectives
from avatar.specs import Cache, Spec

from ..data import EncodedSet, TaskData, encode, load_or_train_tokenizer, save_atomically
from ..distill import BatchTargets, LossShape, MethodMix, TeacherOutputs, distillation_examples, logits_loss, methods_of, student_forward, with_hard_labels
from ..students import logit_scores, logit_weakness, predict_logits
from ._elastic import ELASTIC, SubNetwork, SuperStudent, largest_of, token_map
from ._finetune import finetuned

__all__ = ["SUPERNET_VERSION", "SupernetSettings", "Supernet", "train_supernet", "score_subnetwork"]

SUPERNET_VERSION = "1"  # part of the cache key: a change to how it is trained makes a new one


@dataclass(frozen=True)
class SupernetSettings:
    """How the super-student is distilled (its cache key holds all of it)."""

    epochs: int = 2
    random: int = 1  # sub-networks drawn from the pool per batch, besides the largest and smallest
    learning_rate: float = 5e-4
    batch_size: int = 16
    max_examples: int | None = 512  # the first examples of the distillation split (None: all)
    vocab_levels: int = 2
    seed: int = 0
    device: str = "cpu"


@dataclass
class Supernet:
    """A trained super-student with what scoring its sub-networks needs."""

    model: SuperStudent
    spec: Spec
    data: TaskData
    folder: Path
    cache_dir: Path
    history: list[dict[str, Any]]
    tables: dict[str, Any]  # each tokenizer type's tokenizer whose vocabulary its table holds
    teacher: TeacherOutputs  # what a sub-network's few steps of fine-tuning learn from
    settings: SupernetSettings


def _size(config: Mapping[str, Any]) -> int:
    """Weights of the body a configuration uses (to find the pool's largest and smallest)."""
    hidden, layers, inner = int(config["hidden_size"]), int(config["num_hidden_layers"]), int(config["intermediate_size"])
    return layers * (4 * hidden * hidden + 2 * hidden * inner) + int(config["vocab_size"]) * hidden


def _vocab_levels(pool: Sequence[Mapping[str, Any]], limits: Mapping[str, Any], count: int) -> dict[str, list[int]]:
    """Per tokenizer type, the vocabulary sizes trained: evenly spaced from its smallest to the
    largest (``limits['vocab_size']``, the table's size)."""
    levels: dict[str, list[int]] = {}
    for kind in sorted({str(config.get("tokenizer", "bpe")) for config in pool}):
        sizes = sorted({int(config["vocab_size"]) for config in pool if str(config.get("tokenizer", "bpe")) == kind})
        low, high = sizes[0], max(sizes[-1], int(limits.get("vocab_size", sizes[-1])))
        levels[kind] = sorted({round(low + (high - low) * step / max(1, count - 1)) for step in range(count)})
    return levels


def supernet_key(spec: Spec, data: TaskData, teacher_fingerprint: str, methods: Mapping[str, float], pool: Sequence[Mapping[str, Any]], limits: Mapping[str, Any], settings: SupernetSettings) -> str:
    """What the trained super-student depends on: everything that changes its weights."""
    parts = [
        SUPERNET_VERSION,
        teacher_fingerprint,
        data.fingerprint,
        len(data.distillation),
        sorted(methods.items()),
        spec.train.temperature,
        spec.train.hard_label_weight,
        sorted(json.dumps(config, sort_keys=True, default=str) for config in pool),
        sorted((str(key), str(value)) for key, value in limits.items()),
        {key: value for key, value in asdict(settings).items() if key != "device"},
    ]
    if spec.train.long_inputs != "truncate":  # the default leaves earlier keys as they were
        parts.append(["long_inputs", spec.train.long_inputs])
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]


class _Level:
    """One tokenizer the super-student trains with: the data encoded by it, its rows in the table."""

    def __init__(self, tokenizer: Any, table_tokenizer: Any, examples: Sequence[Any], valid: Sequence[Any], length: int, long_inputs: str) -> None:
        self.tokenizer, self.vocab_size = tokenizer, len(tokenizer)
        self.rows = token_map(tokenizer, table_tokenizer)
        self.train, self.valid = encode(examples, tokenizer, length, long_inputs), encode(valid, tokenizer, length, long_inputs)
        self.keep_tail = long_inputs == "head_tail"


def _truncated(encoded: EncodedSet, length: int, indices: Sequence[int] | None = None, *, keep_tail: bool = False) -> EncodedSet:
    """``encoded`` (the examples at ``indices``) cut to ``length`` tokens per function, the
    opening and closing tokens kept, as the tokenizer would have cut them: after the first
    tokens, or (``keep_tail``: ``train.long_inputs: head_tail``) in the middle, keeping the
    first and last tokens, half the window each."""
    indices = range(len(encoded)) if indices is None else indices
    rows = [[sequence if len(sequence) <= length else _cut(sequence, length, keep_tail) for sequence in encoded.ids[index]] for index in indices]
    return EncodedSet(rows, encoded.labels[list(indices)], encoded.pad_id)


def _cut(sequence: list[int], length: int, keep_tail: bool) -> list[int]:
    if not keep_tail or length < 4:
        return sequence[: length - 1] + sequence[-1:]
    inner = length - 2  # the opening and the closing token aside
    tail = inner // 2
    return sequence[: 1 + inner - tail] + sequence[len(sequence) - 1 - tail :]


def _tokenizer(data: TaskData, kind: str, vocab_size: int, length: int, cache_dir: Path) -> Any:
    return load_or_train_tokenizer(kind, vocab_size, data.texts(data.train), data.fingerprint, length, cache_dir)


class _Losses:
    """The run's distillation loss for each sub-network shape (built when first met)."""

    def __init__(self, mix: MethodMix, spec: Spec, teacher: TeacherOutputs, features: bool, learning_rate: float) -> None:
        self.mix, self.spec, self.teacher, self.features, self.learning_rate = mix, spec, teacher, features, learning_rate
        self.modules: dict[str, torch.nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    @staticmethod
    def key(config: Mapping[str, Any]) -> str:
        return f"{config['hidden_size']}-{config['num_hidden_layers']}-{config['num_attention_heads']}"

    def of(self, config: Mapping[str, Any], device: str) -> torch.nn.Module:
        key = self.key(config)
        if key not in self.modules:
            features = self.teacher.features if self.features else None
            shape = LossShape(
                self.spec.train.temperature,
                student_width=int(config["hidden_size"]),
                student_layers=int(config["num_hidden_layers"]),
                student_heads=int(config["num_attention_heads"]),
                teacher_width=features.width if features is not None else 0,
                teacher_layers=features.layers if features is not None else 0,
            )
            module = self.mix.loss(shape).to(device)
            self.modules[key] = module
            if any(True for _ in module.parameters()):
                self.optimizers[key] = torch.optim.AdamW(module.parameters(), lr=self.learning_rate)
        return self.modules[key]

    def state(self) -> dict[str, Any]:
        return {key: {"module": module.state_dict(), "optimizer": self.optimizers[key].state_dict() if key in self.optimizers else None} for key, module in self.modules.items()}

    def restore(self, state: Mapping[str, Any], device: str) -> None:
        for key, saved in state.items():
            hidden, layers, heads = (int(part) for part in key.split("-"))
            module = self.of({"hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": heads}, device)
            module.load_state_dict(saved["module"])
            if saved["optimizer"] is not None:
                self.optimizers[key].load_state_dict(saved["optimizer"])

    def step(self) -> None:
        for optimizer in self.optimizers.values():
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)


def train_supernet(
    spec: Spec,
    data: TaskData,
    teacher: TeacherOutputs,
    teacher_fingerprint: str,
    pool: Sequence[Mapping[str, Any]],
    cache_dir: Path,
    settings: SupernetSettings,
    *,
    limits: Mapping[str, Any] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_epoch: Callable[[int, dict[str, Any]], None] | None = None,
) -> Supernet:
    """The super-student of ``pool`` (feasible configurations, resolved: constants filled in),
    distilled from ``teacher`` or read from the cache. ``limits`` (the space's largest value of
    each elastic dimension and of ``vocab_size``) sizes the body and the tables, so that every
    feasible configuration is a sub-network (default: the pool's largest). ``on_start`` is
    called with the first epoch to train when it is not in the cache, ``on_epoch`` after each."""
    methods = methods_of(spec, {}, teacher.methods)
    limits = dict(limits or {})
    body = largest_of(pool)
    for name in ELASTIC:
        body[name] = max(int(body[name]), int(limits.get(name, 0)))
    folder = Cache(cache_dir).supernet(supernet_key(spec, data, teacher_fingerprint, methods, pool, limits, settings))
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{folder}.lock"):
        return _train(spec, data, teacher, methods, list(pool), body, limits, folder, Path(cache_dir), settings, on_start, on_epoch)


def _train(
    spec: Spec,
    data: TaskData,
    teacher: TeacherOutputs,
    methods: Mapping[str, float],
    pool: list[Mapping[str, Any]],
    body: dict[str, Any],
    limits: Mapping[str, Any],
    folder: Path,
    cache_dir: Path,
    settings: SupernetSettings,
    on_start: Callable[[int], None] | None,
    on_epoch: Callable[[int, dict[str, Any]], None] | None,
) -> Supernet:
    mix = MethodMix.of(methods)
    features = mix.needs_teacher_features
    length = int(body["max_sequence_length"])
    levels_of = _vocab_levels(pool, limits, settings.vocab_levels)
    tables = {kind: _tokenizer(data, kind, sizes[-1], length, cache_dir) for kind, sizes in levels_of.items()}
    family = objectives.get_family(spec.model.family)
    torch.manual_seed(settings.seed)
    model = SuperStudent(family, body, {kind: len(tokenizer) for kind, tokenizer in tables.items()}, spec.task.kind, spec.task.num_labels).to(settings.device)
    final = folder / "supernet.pt"
    if final.exists():
        state = torch.load(final, map_location=settings.device, weights_only=False)
        model.load_state_dict(state["model"])
        return Supernet(model, spec, data, folder, cache_dir, state["history"], tables, teacher, settings)
    unlabeled, labeled = distillation_examples(data, settings.max_examples, mix.uses_labels)
    levels = {
        (kind, size): _Level(_tokenizer(data, kind, size, length, cache_dir), tables[kind], unlabeled + labeled, data.valid, length, spec.train.long_inputs)
        for kind, sizes in levels_of.items()
        for size in sizes
    }
    targets = BatchTargets(teacher, len(unlabeled), len(labeled), next(iter(levels.values())).train.labels, settings.device)

    def subnetwork(config: Mapping[str, Any]) -> tuple[SubNetwork, _Level]:
        """The configuration's sub-network at the trained vocabulary level nearest its own."""
        kind = str(config.get("tokenizer", "bpe"))
        chosen = levels[(kind, min(levels_of[kind], key=lambda size: abs(size - int(config["vocab_size"]))))]
        return model.subnetwork({**config, "vocab_size": chosen.vocab_size}, chosen.rows), chosen

    pool = sorted(pool, key=_size)
    largest, smallest = pool[-1], pool[0]
    losses = _Losses(mix, spec, teacher, features, settings.learning_rate)
    forward = student_forward(hidden="hidden" in mix.student_outputs, relations="relations" in mix.student_outputs)
    count = len(unlabeled) + len(labeled)
    steps = max(1, -(-count // settings.batch_size))
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate)
    warmup = max(1, steps * settings.epochs // 10)
    total = steps * settings.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (step + 1) / warmup if step < warmup else max(0.0, (total - step) / max(1, total - warmup)))
    history: list[dict[str, Any]] = []
    start = 0
    last = folder / "last.pt"
    if last.exists():
        state = torch.load(last, map_location=settings.device, weights_only=False)
        model.load_state_dict(state["model"])
        losses.restore(state["losses"], settings.device)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start, history = state["epoch"] + 1, state["history"]
    if on_start is not None:
        on_start(start)
    temperature, weight = spec.train.temperature, spec.train.hard_label_weight
    for epoch in range(start, settings.epochs):
        model.train()
        order = torch.randperm(count, generator=torch.Generator().manual_seed(settings.seed * 1000 + epoch)).tolist()
        torch.manual_seed(settings.seed * 1000 + epoch)
        draw = random.Random(settings.seed * 1000 + epoch)
        running = 0.0
        for first in range(0, count, settings.batch_size):
            indices = order[first : first + settings.batch_size]
            batch_targets = targets.batch(indices, features)
            reference = None
            for config in [largest, smallest, *draw.sample(pool, min(settings.random, len(pool)))]:
                network, chosen = subnetwork(config)
                network.train()
                cut = _truncated(chosen.train, int(config["max_sequence_length"]), indices, keep_tail=chosen.keep_tail)
                outputs = forward(network, cut.batch(range(len(indices)), settings.device))
                loss = with_hard_labels(losses.of(config, settings.device)(outputs, batch_targets), outputs.logits, batch_targets.labels, weight)
                if reference is None:  # the largest: the teacher alone
                    reference = outputs.logits.detach()
                else:  # in-place distillation: half the teacher, half the largest
                    loss = 0.5 * loss + 0.5 * logits_loss(outputs.logits, reference, temperature)
                loss.backward()
                running += loss.item()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses.step()
        record: dict[str, Any] = {"epoch": epoch, "loss": running / steps}
        for name, config in (("largest", largest), ("smallest", smallest)):
            network, chosen = subnetwork(config)
            valid = _truncated(chosen.valid, int(config["max_sequence_length"]), keep_tail=chosen.keep_tail)
            record[f"valid_{name}"] = logit_scores(predict_logits(network, valid, settings.batch_size, settings.device), valid.labels.tolist())
        history.append(record)
        save_atomically({"model": model.state_dict(), "losses": losses.state(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "epoch": epoch, "history": history}, last)
        if on_epoch is not None:
            on_epoch(epoch, record)
    save_atomically({"model": model.state_dict(), "history": history}, final)
    last.unlink(missing_ok=True)
    return Supernet(model, spec, data, folder, cache_dir, history, tables, teacher, settings)


def score_subnetwork(supernet: Supernet, config: Mapping[str, Any], metric: str, *, batch_size: int = 32, device: str = "cpu", finetune_steps: int = 0) -> tuple[float, list[str]]:
    """A configuration's validation score (``metric`` of ``logit_scores``) with the
    super-student's weights, read through its own tokenizer, and its weakness
    (``logit_weakness``); with ``finetune_steps``, of a copy of its sub-network after that many
    steps of its own training (``finetuned``: its learning rate, batch size and dropout)."""
    model = supernet.model
    reason = model.covers(config)
    if reason is not None:
        raise ValueError(f"the super-student cannot score this configuration: {reason}")
    kind, length = str(config.get("tokenizer", "bpe")), int(config["max_sequence_length"])
    tokenizer = _tokenizer(supernet.data, kind, int(config["vocab_size"]), length, supernet.cache_dir)
    rows, sized = token_map(tokenizer, supernet.tables[kind]), {**config, "vocab_size": len(tokenizer)}
    if finetune_steps:
        network: torch.nn.Module = finetuned(
            model.extract(sized, rows), supernet.spec, config, supernet.data, supernet.teacher, tokenizer, finetune_steps, max_examples=supernet.settings.max_examples, device=device
        )
    else:
        network = model.subnetwork(sized, rows)
    valid = encode(supernet.data.valid, tokenizer, length, supernet.spec.train.long_inputs)
    logits = predict_logits(network, valid, batch_size, device)
    labels = valid.labels.tolist()
    return float(logit_scores(logits, labels)[metric]), logit_weakness(logits, labels, seed=supernet.spec.train.seed)
