"""The teacher's learning rate chosen by a short trial (``train.teacher.learning_rate: auto``,
the default).

One fixed rate (2e-5, the usual choice for BERT-sized encoders) does not serve every teacher
and set: after three epochs at it, the offline MiniLM teacher ranked BigCloneBench's pairs
fairly (test ROC AUC 0.85) but called almost none of them clones (F1 0.17); the trial chose
1e-4 there, and the teacher reached 0.90 and F1 0.81 (``bench/teacher_rate.py``).

The trial fine-tunes the teacher from the same seeded start at each of ``RATES`` on a seeded
share of the labelled split (``FRACTION`` of an epoch, and at least ``MIN_STEPS`` batches where
the split has them), each with its own warm-up and decay, and scores it on the validation split
by ROC AUC (threshold-free, like the fine-tuning's own checkpoints). The best rate, the lowest
among equals (``FALLBACK`` where validation holds one class and cannot rank), then fine-tunes
the teacher from the start. Each rate's score is written to the teacher's folder as it
finishes, so a killed trial goes on from the next rate.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from avatar.objectives import write_json_atomically

from ..data import EncodedSet
from ..distill import LoopSettings, train

__all__ = ["RATES", "FALLBACK", "FRACTION", "MIN_STEPS", "RateTrial", "try_rates"]

RATES = (1e-5, 3e-5, 1e-4)
FALLBACK = 2e-5  # where validation cannot rank (a single class): the usual fixed rate
FRACTION = 0.25
MIN_STEPS = 20
TRIAL_FILE = "learning_rate_trial.json"


@dataclass(frozen=True)
class RateTrial:
    """What the trial found: each rate's validation ROC AUC and the rate chosen."""

    scores: dict[float, float]

    @property
    def chosen(self) -> float:
        ranked = {rate: score for rate, score in self.scores.items() if score == score}  # NaN: the split could not rank
        if not ranked:
            return FALLBACK
        best = max(ranked.values())
        return min(rate for rate, score in ranked.items() if score == best)

    def to_dict(self) -> dict[str, float]:
        return {f"{rate:g}": score for rate, score in sorted(self.scores.items())}


def trial_examples(size: int, batch_size: int, seed: int) -> list[int]:
    """The labelled examples every rate is tried on: a seeded share of the split."""
    wanted = min(size, max(round(FRACTION * size), MIN_STEPS * batch_size))
    return sorted(torch.randperm(size, generator=torch.Generator().manual_seed(seed)).tolist()[:wanted])


def try_rates(
    new_model: Callable[[], nn.Module],
    labeled: EncodedSet,
    valid: EncodedSet,
    folder: Path,
    *,
    batch_size: int,
    seed: int,
    device: str,
    on_rate: Callable[[float, float | None], None] | None = None,
) -> RateTrial:
    """Each of ``RATES`` tried from ``new_model()`` (the same seeded start each time) on a share
    of ``labeled``, scored on ``valid``; scores already in ``folder`` (a killed trial) are kept.
    ``on_rate(rate, None)`` says a rate starts, ``on_rate(rate, score)`` that it ended."""
    path = folder / TRIAL_FILE
    scores = {float(rate): float(score) for rate, score in json.loads(path.read_text()).items()} if path.exists() else {}
    subset = labeled.subset(trial_examples(len(labeled), batch_size, seed))
    labels = subset.labels.to(device)
    loss = lambda logits, indices: nn.functional.cross_entropy(logits, labels[indices])  # noqa: E731 - the loop's loss, one line
    for rate in RATES:
        if rate in scores:
            continue
        if on_rate is not None:
            on_rate(rate, None)
        checkpoints = folder / "rate_trial" / f"{rate:g}"
        shutil.rmtree(checkpoints, ignore_errors=True)  # a rate cut short starts again: it is short
        loop = LoopSettings(1, rate, batch_size, patience=1, seed=seed, metric="auc", device=device)
        result = train(new_model(), subset, loss, valid, loop, checkpoints)
        scores[rate] = result.best_metric
        write_json_atomically(path, RateTrial(scores).to_dict(), indent=2)
        if on_rate is not None:
            on_rate(rate, result.best_metric)
    shutil.rmtree(folder / "rate_trial", ignore_errors=True)
    return RateTrial(scores)
