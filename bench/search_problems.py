"""The problems of ``bench/search.py``: the Avatar example space with stand-ins for costly metrics.

In a real run the costly objectives are learned accuracy (probes) and measured latency or
energy; here they are analytic functions of the configuration, so that thousands of runs fit
on a laptop, but the model-based search is told what they stand for (``kind``): it models
them from evaluations, as it would the real ones, and computes only the cheap closed forms
(``size_mb``, ``gflops``, ``context_tokens``) exactly.

* ``quality`` (maximise, kind ``learned``): what a short distillation would measure, rising
  with log compute and sequence length with diminishing returns, a little better with a
  subword tokenizer and relative positions. ``peak_mb`` makes it fall again past a model size
  (a small data set overfits larger students), so the front stops short of the size limit.
* ``latency_ms`` (minimise, kind ``measured``): the calibrated latency model of this machine,
  with no closed form, so a limit on it is a post-evaluation constraint.
* ``context_tokens`` (maximise, analytic): the sequence length a student reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from avatar import objectives
from avatar.specs import Spec, loads, registered_metric_names

EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "examples" / "avatar-devign.yaml"

__all__ = ["PROBLEMS", "Problem", "problem_spec", "problem_estimators"]


class Quality(objectives.Estimator):
    """Stand-in for learned accuracy: saturating in log compute and length (see the module)."""

    name = "quality"
    unit = ""
    direction = "maximize"
    kind = "learned"

    def __init__(self, *, peak_mb: float | None = None) -> None:
        self.peak_mb = peak_mb
        self.flops, self.size = objectives.get("gflops"), objectives.get("size_mb")

    def evaluate(self, config: Mapping[str, Any], context: objectives.Context) -> float:
        flops = float(self.flops.evaluate(config, context))
        size = float(self.size.evaluate(config, context))
        compute = 1.0 - math.exp(-max(flops, 1e-6) / 0.08)
        length = math.log2(config["max_sequence_length"] / 128) / 2
        score = 0.55 + 0.3 * compute + 0.05 * length
        score += {"bpe": 0.02, "unigram": 0.015, "wordpiece": 0.01, "word": 0.0}[config["tokenizer"]]
        score += 0.01 if config["position_embedding_type"] != "absolute" else 0.0
        if self.peak_mb is not None:
            score -= 0.08 * math.log2(1 + size / self.peak_mb) ** 2
        return score


class ContextTokens(objectives.Estimator):
    """The number of tokens a student reads."""

    name = "context_tokens"
    unit = "tokens"
    direction = "maximize"
    kind = "analytic"
    cheap = True

    def evaluate(self, config: Mapping[str, Any], context: objectives.Context) -> float:
        return float(config["max_sequence_length"])


class Measured(objectives.Estimator):
    """Another estimator's values, declared measured and without a closed form."""

    kind = "measured"

    def __init__(self, inner: objectives.Estimator) -> None:
        self.inner = inner
        self.name, self.unit, self.direction = inner.name, inner.unit, inner.direction

    def evaluate(self, config: Mapping[str, Any], context: objectives.Context) -> float:
        return float(self.inner.evaluate(config, context))

    def get_params(self) -> dict[str, Any]:
        return {"inner": self.inner}


@dataclass(frozen=True)
class Problem:
    name: str
    description: str
    objectives: dict[str, str]
    constraints: dict[str, str] = field(default_factory=dict)
    peak_mb: float | None = None


PROBLEMS = (
    Problem("2 objectives, front far from the limits", "quality (peaks at 0.4 MB) vs latency", {"quality": "maximize", "latency_ms": "minimize"}, peak_mb=0.4),
    Problem("3 objectives", "quality, latency, size", {"quality": "maximize", "latency_ms": "minimize", "size_mb": "minimize"}),
    Problem("4 objectives", "quality, latency, size, context", {"quality": "maximize", "latency_ms": "minimize", "size_mb": "minimize", "context_tokens": "maximize"}),
    # the limit is the 25th percentile of the latency of uniform feasible points on this
    # machine (measured latency depends on the machine and its load), filled in at run time
    Problem(
        "2 objectives, post-evaluation limit", "quality vs size, measured latency at most its 25th percentile", {"quality": "maximize", "size_mb": "minimize"}, {"fast": "latency_ms <= LATENCY_LIMIT"}
    ),
)


def problem_spec(problem: Problem, algorithm: str, evaluations: int, seed: int, latency_limit: float | None = None) -> Spec:
    """The example spec (13 parameters, 3 MB limit) with the problem's objectives and limits."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["objectives"] = dict(problem.objectives)
    limits = {name: text.replace("LATENCY_LIMIT", f"{latency_limit:.4g}") for name, text in problem.constraints.items()}
    data["constraints"] = {**data["constraints"], **limits}
    data["estimators"] = {"latency_ms": {"options": {"mode": "predicted"}}}
    data["search"] = {"algorithm": algorithm, "population": 20, "evaluations": evaluations, "seed": seed}
    metrics = set(registered_metric_names()) | {"quality", "context_tokens"}
    return loads(yaml.safe_dump(data, sort_keys=False), filename=f"bench/search_problems.py ({problem.name})", metrics=metrics)


def problem_estimators(problem: Problem, spec: Spec, calibrated_latency: objectives.Estimator) -> dict[str, objectives.Estimator]:
    """The problem's estimators: the built-in ones, the stand-ins, and the latency model
    (calibrated on the space within its limits, as a search calibrates it) declared measured."""
    estimators: dict[str, objectives.Estimator] = {name: objectives.get(name, spec) for name in ("size_mb", "gflops")}
    estimators["latency_ms"] = Measured(calibrated_latency)
    estimators["quality"] = Quality(peak_mb=problem.peak_mb)
    estimators["context_tokens"] = ContextTokens()
    return estimators
