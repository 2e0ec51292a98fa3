"""``size_mb``: the stored size of the student's weights in decimal megabytes (1 MB = 10^6 B)."""

from __future__ import annotations

from typing import Any

from ._base import Context, EstimatorError
from ._closed_form import ClosedFormEstimator

__all__ = ["SizeEstimator", "BYTES_PER_PARAMETER"]

BYTES_PER_PARAMETER = {"fp32": 4, "fp16": 2}
_INT8_WEIGHT_BYTES = 1
_INT8_OTHER_BYTES = 4  # biases, embeddings and LayerNorms stay fp32 under dynamic quantization


class SizeEstimator(ClosedFormEstimator):
    """Parameters x bytes per parameter for model.dtype, in decimal MB (closed form).

    fp32: 4 bytes, fp16: 2 bytes; int8 (dynamic quantization of the linear layers): 1 byte per
    linear weight and 4 bytes for everything else (biases, embeddings, LayerNorms).
    """

    cheap = True

    name = "size_mb"
    unit = "MB"
    direction = "minimize"
    divisor = 10**6

    def count(self, family: Any, view: Any, context: Context) -> Any:
        params = family.params(view, context.task_kind, context.num_labels)
        if context.dtype == "int8":
            weights = family.linear_weights(view, context.task_kind, context.num_labels)
            return _INT8_WEIGHT_BYTES * weights + _INT8_OTHER_BYTES * (params - weights)
        if context.dtype not in BYTES_PER_PARAMETER:
            raise EstimatorError(f"unknown dtype '{context.dtype}'", "size_mb")
        return BYTES_PER_PARAMETER[context.dtype] * params
