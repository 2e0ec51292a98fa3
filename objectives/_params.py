"""``params``: the exact number of trainable parameters."""

from __future__ import annotations

from typing import Any

from ._base import Context
from ._closed_form import ClosedFormEstimator

__all__ = ["ParamsEstimator"]


class ParamsEstimator(ClosedFormEstimator):
    """Exact trainable-parameter count of the student the family builds (closed form)."""

    cheap = True

    name = "params"
    unit = "parameters"
    direction = "minimize"

    def count(self, family: Any, view: Any, context: Context) -> Any:
        return family.params(view, context.task_kind, context.num_labels)
