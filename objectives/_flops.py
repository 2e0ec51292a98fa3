"""``gflops``: forward-pass FLOPs (10^9) for one input of the configured sequence length."""

from __future__ import annotations

from typing import Any

from ._base import Context
from ._closed_form import ClosedFormEstimator

__all__ = ["FlopsEstimator"]


class FlopsEstimator(ClosedFormEstimator):
    """Forward FLOPs of one input (a pair for clone), matrix products as 2mnk (closed form)."""

    cheap = True

    name = "gflops"
    unit = "GFLOPs"
    direction = "minimize"
    divisor = 10**9

    def count(self, family: Any, view: Any, context: Context) -> Any:
        return family.flops(view, context.task_kind, context.num_labels)
