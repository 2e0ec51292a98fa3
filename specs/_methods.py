"""Distillation methods as a spec names them (``train.distill``, a ``distill_method`` parameter).

The forms: one method (``logits``), methods joined by ``+`` (``logits+hidden``), a list (equal
weights) or a mapping ``{method: weight}``. The losses themselves are in ``avatar.trainer``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DISTILL_METHODS", "FEATURE_METHODS", "PREDICTION_METHODS", "DISTILL_PARAMETER", "DEFAULT_METHODS", "FALLBACK_METHODS", "parse_methods", "default_methods"]

DISTILL_METHODS = ("logits", "dist", "hard_labels", "hidden", "attention_relations")
FEATURE_METHODS = frozenset({"hidden", "attention_relations"})  # need the teacher's hidden states
PREDICTION_METHODS = frozenset(DISTILL_METHODS) - FEATURE_METHODS  # what a teacher given as predictions supports
DISTILL_PARAMETER = "distill_method"  # a space parameter of method strings, searched like any other
# Without ``train.distill``: the teacher's softened logits and the labelled split's labels
# (bench/README: the one method that kept >= 98% of the teacher's F1 at the default cut, in
# median over seeds, in every case measured), or logits alone where the teacher's outputs do not
# cover the labelled split (a predictions file from another tool may have only the rest).
DEFAULT_METHODS = {"logits": 1.0, "hard_labels": 1.0}
FALLBACK_METHODS = {"logits": 1.0}


def parse_methods(value: Any) -> dict[str, float]:
    """``{method: weight}`` (weights above 0 only) from any of the spec's forms.

    Raises:
        ValueError: an unknown method, a negative or non-finite weight, or no weight above 0.
    """
    if isinstance(value, str):
        methods = {name.strip(): 1.0 for name in value.split("+")}
    elif isinstance(value, Mapping):
        methods = {str(name): float(weight) for name, weight in value.items()}
    elif isinstance(value, Sequence):
        methods = {str(name): 1.0 for name in value}
    else:
        raise ValueError(f"expected a method, a list or a mapping of methods, got {value!r}")
    unknown = [name for name in methods if name not in DISTILL_METHODS]
    if unknown:
        raise ValueError(f"unknown distillation method '{unknown[0]}' (known: {', '.join(DISTILL_METHODS)}; combine them with '+')")
    if any(not math.isfinite(weight) or weight < 0 for weight in methods.values()):
        raise ValueError("a distillation method's weight must be a finite number of at least 0")
    if not any(weight > 0 for weight in methods.values()):
        raise ValueError("at least one distillation method needs a weight above 0")
    return {name: weight for name, weight in methods.items() if weight > 0}


def default_methods(given: Mapping[str, float] | None, *, labelled_outputs: bool = True) -> dict[str, float]:
    """``train.distill`` as given, else the default: ``DEFAULT_METHODS`` when the teacher's
    outputs cover the labelled split (``labelled_outputs``), ``FALLBACK_METHODS`` otherwise."""
    if given is not None:
        return dict(given)
    return dict(DEFAULT_METHODS if labelled_outputs else FALLBACK_METHODS)
