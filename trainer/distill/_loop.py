"""One training loop for the teacher's fine-tuning and the students' distillation.

AdamW with linear warm-up (the first 10% of steps) and linear decay; every parameter is
trained. After each epoch the model is evaluated on the validation split, a checkpoint (model,
optimiser, schedule, epoch, best score) is written, and the best weights are kept; training
stops early after ``patience`` epochs without progress: a better score by ``metric`` (which
picks the weights kept) or by ``progress_metric`` (ROC AUC). A student of four labels whose
macro-F1 jumped about while its ROC AUC climbed (0.79, 0.82, 0.90) was stopped after six
epochs by macro-F1 alone, never predicting one class; the ranking said it was still learning.
A killed run restarts from the last checkpoint, and the order of examples in each epoch
depends only on the seed and the epoch, so a resumed run trains exactly as an uninterrupted
one would.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from avatar.objectives import write_json_atomically

from ..data import EncodedSet, save_atomically
from ..students import logit_scores, logits_of, predict_logits

__all__ = ["LoopSettings", "LoopResult", "train"]


@dataclass(frozen=True)
class LoopSettings:
    """One training run: epochs, learning rate, batch size, early-stopping patience, seed, the
    metric that picks the weights kept (``metric``) and the one that also counts as progress
    for patience (``progress_metric``; ``None``: ``metric`` alone), and device."""

    epochs: int
    learning_rate: float
    batch_size: int
    patience: int
    seed: int
    metric: str
    warmup_fraction: float = 0.1
    device: str = "cpu"
    progress_metric: str | None = "auc"


@dataclass
class LoopResult:
    """How a training run went: the best validation metric and its epoch, epochs run, and the history."""

    best_metric: float
    best_epoch: int
    epochs_run: int
    history: list[dict[str, float]] = field(default_factory=list)
    resumed_from: int | None = None


def train(
    model: torch.nn.Module,
    train_set: EncodedSet,
    loss: Callable[[Any, list[int]], torch.Tensor],  # (what ``forward`` returns, batch indices)
    valid_set: EncodedSet,
    settings: LoopSettings,
    checkpoint_dir: Path,
    *,
    on_step: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    forward: Callable[[torch.nn.Module, dict[str, torch.Tensor]], Any] = logits_of,
    loss_module: torch.nn.Module | None = None,
) -> LoopResult:
    """Train ``model`` with ``loss(forward(model, batch), example indices)`` (``forward``: the
    logits by default); the best weights end up in the model. ``loss_module``'s parameters (a
    loss's own, such as projections) are trained too and kept in the resume state, not in the
    model.

    Files in ``checkpoint_dir``: ``last.pt`` (resume state) and ``best.pt`` (best weights).
    """
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    last_path, best_path = checkpoint_dir / "last.pt", checkpoint_dir / "best.pt"
    model.to(settings.device)
    if loss_module is not None:
        loss_module.to(settings.device)
    steps_per_epoch = max(1, -(-len(train_set) // settings.batch_size))
    optimizer, schedule = _optimizer(model, loss_module, settings, steps_per_epoch * settings.epochs)
    result = LoopResult(best_metric=float("-inf"), best_epoch=-1, epochs_run=0)
    start_epoch, bad_epochs, best_progress = 0, 0, float("-inf")
    if last_path.exists():
        state = torch.load(last_path, map_location=settings.device, weights_only=False)
        model.load_state_dict(state["model"])
        if loss_module is not None and "loss_module" in state:
            loss_module.load_state_dict(state["loss_module"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start_epoch, bad_epochs, best_progress = state["epoch"] + 1, state["bad_epochs"], state.get("best_progress", float("-inf"))
        result = LoopResult(state["best_metric"], state["best_epoch"], state["epoch"] + 1, state["history"], resumed_from=state["epoch"] + 1)
    for epoch in range(start_epoch, settings.epochs):
        if bad_epochs >= settings.patience:
            break
        started = time.perf_counter()
        total_loss = _one_epoch(model, train_set, loss, forward, optimizer, schedule, settings, epoch, on_step)
        scores = logit_scores(predict_logits(model, valid_set, settings.batch_size, settings.device), valid_set.labels.tolist())
        record = {"epoch": epoch, "loss": total_loss / steps_per_epoch, "seconds": time.perf_counter() - started, **{f"valid_{key}": value for key, value in scores.items()}}
        result.history.append(record)
        progress = scores.get(settings.progress_metric, float("-inf")) if settings.progress_metric else float("-inf")
        if scores[settings.metric] > result.best_metric:
            result.best_metric, result.best_epoch, bad_epochs = scores[settings.metric], epoch, 0
            save_atomically(model.state_dict(), best_path)
        elif progress > best_progress:
            bad_epochs = 0  # the weights kept stay, but it is still learning
        else:
            bad_epochs += 1
        best_progress = max(best_progress, progress)
        result.epochs_run = epoch + 1
        resume = {"epoch": epoch, "bad_epochs": bad_epochs, "best_progress": best_progress, "best_metric": result.best_metric, "best_epoch": result.best_epoch, "history": result.history}
        save_atomically({**_weights(model, loss_module, optimizer, schedule), **resume}, last_path)
        write_json_atomically(checkpoint_dir / "history.json", result.history, indent=2)
        if on_epoch is not None:
            on_epoch(epoch, record)
    if best_path.exists():
        model.load_state_dict(torch.load(best_path, map_location=settings.device, weights_only=True))
    return result


def _optimizer(model: torch.nn.Module, loss_module: torch.nn.Module | None, settings: LoopSettings, total_steps: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW over the model's and the loss's parameters, with a linear warm-up then a linear decay to 0."""
    extra = list(loss_module.parameters()) if loss_module is not None else []
    optimizer = torch.optim.AdamW([*model.parameters(), *extra], lr=settings.learning_rate)
    warmup = max(1, int(settings.warmup_fraction * total_steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (step + 1) / warmup if step < warmup else max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    return optimizer, schedule


def _one_epoch(
    model: torch.nn.Module,
    train_set: EncodedSet,
    loss: Callable[[Any, list[int]], torch.Tensor],
    forward: Callable[[torch.nn.Module, dict[str, torch.Tensor]], Any],
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LambdaLR,
    settings: LoopSettings,
    epoch: int,
    on_step: Callable[[int, int, float], None] | None,
) -> float:
    """One pass over ``train_set`` in the epoch's seeded order; returns the summed loss."""
    model.train()
    order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(settings.seed * 1000 + epoch)).tolist()
    torch.manual_seed(settings.seed * 1000 + epoch)  # dropout masks, reproducible after a resume
    total_loss = 0.0
    for step, (indices, batch) in enumerate(train_set.batches(settings.batch_size, settings.device, order)):
        value = loss(forward(model, batch), indices)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        schedule.step()
        total_loss += value.item()
        if on_step is not None:
            on_step(epoch, step, value.item())
    return total_loss


def _weights(model: torch.nn.Module, loss_module: torch.nn.Module | None, optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LambdaLR) -> dict[str, Any]:
    """What the resume state holds besides the loop's counters."""
    return {
        "model": model.state_dict(),
        **({"loss_module": loss_module.state_dict()} if loss_module is not None else {}),
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
    }
