"""Distillation methods as a spec names them (``train.distill``, a ``distill_method`` parameter).

The forms: one method (``logits``), methods joined by ``+`` (``logits+hidden``), a list (equal
weights) or a mapping ``{method: weight}``. A method's name is known when it is registered in the
``avatar.distill`` entry-point group (Avatar's own methods are, by its ``pyproject.toml``; a
plugin's by its own). Only names are read to validate a spec; a method's class is loaded where
what it needs matters (``load_method``). The method objects and their losses are in
``avatar.trainer.distill``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ._errors import describe_error

__all__ = [
    "DISTILL_ENTRY_POINT_GROUP",
    "DISTILL_METHODS",
    "DISTILL_PARAMETER",
    "DEFAULT_METHODS",
    "FALLBACK_METHODS",
    "registered_method_names",
    "load_method",
    "parse_methods",
    "default_methods",
]

DISTILL_ENTRY_POINT_GROUP = "avatar.distill"
DISTILL_METHODS = ("logits", "dist", "hard_labels", "hidden", "attention_relations")  # Avatar's own
DISTILL_PARAMETER = "distill_method"  # a space parameter of method strings, searched like any other
# Without ``train.distill``: the teacher's softened logits and the labelled split's labels
# (bench/README: the one method that kept >= 98% of the teacher's F1 at the default cut, in
# median over seeds, in every case measured), or logits alone where the teacher's outputs do not
# cover the labelled split (a predictions file from another tool may have only the rest).
DEFAULT_METHODS = {"logits": 1.0, "hard_labels": 1.0}
FALLBACK_METHODS = {"logits": 1.0}


@lru_cache(maxsize=1)
def registered_method_names() -> frozenset[str]:
    """Names of every installed distillation method, Avatar's own or a plugin's."""
    return frozenset(entry.name for entry in entry_points(group=DISTILL_ENTRY_POINT_GROUP))


def _entry(name: str) -> EntryPoint:
    matches = [entry for entry in entry_points(group=DISTILL_ENTRY_POINT_GROUP) if entry.name == name]
    if not matches:
        raise ValueError(f"no distillation method is registered as '{name}' (in the {DISTILL_ENTRY_POINT_GROUP} entry-point group)")
    return matches[0]


def load_method(name: str) -> Any:
    """The object registered as the distillation method ``name`` (a class, as a rule).

    Raises:
        ValueError: nothing is registered under that name, or the plugin fails to import; the
            message names the plugin and its package.
    """
    entry = _entry(name)
    try:
        return entry.load()
    except Exception as error:  # noqa: BLE001 - any import failure of third-party code
        dist = getattr(entry, "dist", None)
        source = f"{dist.name} {dist.version}" if dist is not None else "an unknown package"
        raise ValueError(f"distillation method '{name}' (entry point {entry.value}, from {source}) failed to import: {describe_error(error)}") from error


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
    known = registered_method_names()
    unknown = [name for name in methods if name not in known]
    if unknown:
        listed = ", ".join([*DISTILL_METHODS, *sorted(known - set(DISTILL_METHODS))])
        raise ValueError(f"unknown distillation method '{unknown[0]}' (known: {listed}; combine them with '+')")
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
