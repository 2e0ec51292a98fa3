"""Distillation methods as a spec names them (``train.distill``, a ``distill_method`` parameter).

The forms: one method (``logits``), methods joined by ``+`` (``logits+hidden``), a list (equal
weights) or a mapping ``{method: weight}``. The losses themselves are in ``avatar.trainer``.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

__all__ = ["DISTILL_METHODS", "FEATURE_METHODS", "PREDICTION_METHODS", "DISTILL_PARAMETER", "parse_methods"]

DISTILL_METHODS = ("logits", "dist", "hard_labels", "hidden", "attention_relations")
FEATURE_METHODS = frozenset({"hidden", "attention_relations"})  # need the teacher's hidden states
PREDICTION_METHODS = frozenset(DISTILL_METHODS) - FEATURE_METHODS  # what a teacher given as predictions supports
DISTILL_PARAMETER = "distill_method"  # a space parameter of method strings, searched like any other


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
