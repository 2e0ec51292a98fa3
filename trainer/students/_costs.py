"""What one inference of a realised model costs: latency, energy and carbon.

One timing function (``objectives.time_inference``, the ``latency_ms`` protocol) and one
energy and carbon path: the spec's own ``energy_j`` and ``carbon_g`` estimators, so their
options (``watts_per_core``, ``intensity_g_per_kwh``) price students and the teacher exactly as
they price configurations in the search.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch
from torch import nn

from avatar import objectives
from avatar.specs import Spec

__all__ = ["inference_function", "model_costs", "inference_costs", "training_energy"]

_Priced = TypeVar("_Priced", objectives.EnergyEstimator, objectives.CarbonEstimator)


def inference_function(model: nn.Module, task_kind: str, length: int, vocab_size: int) -> Callable[[], None]:
    """One batch-1 inference at ``length`` tokens (a pair for clone), as the latency protocol runs it."""
    input_ids = objectives.timing_input_ids(task_kind, length, vocab_size)
    mask = torch.ones_like(input_ids)
    model = model.eval()

    def infer() -> None:
        with torch.inference_mode():
            model(input_ids=input_ids, attention_mask=mask)

    return infer


def model_costs(model: nn.Module, spec: Spec, length: int, vocab_size: int, threads: int, *, task_kind: str | None = None) -> dict[str, float]:
    """Latency, energy and carbon of one batch-1 inference of ``model`` (students and teacher
    alike); ``task_kind`` overrides the input shape (a cross-encoder reads a pair as one sequence)."""
    return inference_costs(inference_function(model, task_kind or spec.task.kind, length, vocab_size), spec, threads)


def inference_costs(infer: Callable[[], Any], spec: Spec, threads: int) -> dict[str, float]:
    """Latency, energy and carbon of one inference, by the ``latency_ms`` protocol, priced by
    the spec's ``energy_j`` and ``carbon_g`` estimators (their options, such as
    ``watts_per_core`` and ``intensity_g_per_kwh``, apply to realised students as to the search)."""
    timing = objectives.time_inference(infer, threads)
    energy, estimated = _pricing(spec, "energy_j", objectives.EnergyEstimator).joules(timing)
    return {
        "latency_ms": timing.median_ms,
        "latency_ms_p90": timing.p90_ms,
        "energy_j": energy,
        "energy_estimated": float(estimated),
        "carbon_g": _pricing(spec, "carbon_g", objectives.CarbonEstimator).grams(timing),
    }


def _pricing(spec: Spec, metric: str, kind: type[_Priced]) -> _Priced:
    """The spec's estimator for ``metric``; Avatar's own (default options) where a plugin
    replaces it with one that cannot price a timed inference."""
    estimator = objectives.get(metric, spec)
    return estimator if isinstance(estimator, kind) else kind()


@contextmanager
def training_energy(spec: Spec) -> Iterator[objectives.Metered]:
    """Measure a training phase's energy (``objectives.metered``: CodeCarbon with the ``energy``
    extra, else RAPL or CPU time x the spec's ``watts_per_core``), priced in grams CO2e at the
    spec's ``carbon_g`` intensity once it ends."""
    energy, carbon = _pricing(spec, "energy_j", objectives.EnergyEstimator), _pricing(spec, "carbon_g", objectives.CarbonEstimator)
    with objectives.metered(objectives.phase_meter(energy.watts_per_core)) as measured:
        yield measured
    if measured.record is not None:
        measured.record = dataclasses.replace(measured.record, carbon_g=carbon.grams_of(measured.record.joules))
