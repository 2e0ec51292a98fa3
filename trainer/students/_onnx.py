"""ONNX export of a trained student (``train.onnx: true``), checked and measured with ONNX Runtime.

The exported graph (``model.onnx`` beside the safetensors weights) takes ``input_ids`` and
``attention_mask`` of shape (batch, length) for defect or (batch, 2, length) for clone, with
dynamic batch and length up to the student's ``max_sequence_length``, and returns ``logits``.
An export can change both results and speed, so the exported model is evaluated on the test
split again and timed with the ``latency_ms`` protocol, with ONNX Runtime on the CPU. Needs
the ``onnx`` extra (onnx, onnxruntime, and onnxscript for PyTorch's exporter).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from avatar import objectives
from avatar.specs import PAIR_KINDS

from ..data import EncodedSet

__all__ = ["ONNX_FILE", "export_onnx", "OnnxStudent"]

ONNX_FILE = "model.onnx"


class _Logits(nn.Module):
    """The student with plain tensors in and out, as an exported graph needs."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        output = self.model(input_ids=input_ids, attention_mask=attention_mask)
        return output.logits if hasattr(output, "logits") else output


def export_onnx(model: nn.Module, task_kind: str, max_length: int, path: Path) -> Path:
    """Export ``model`` (on the CPU, eval mode) to ``path`` with dynamic batch and length."""
    shape = (2, 2, max_length) if task_kind in PAIR_KINDS else (2, max_length)
    input_ids = torch.randint(5, 100, shape, generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(input_ids)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length", max=max_length)
    dynamic = {0: batch, input_ids.dim() - 1: length}
    wrapped = _Logits(model.cpu().eval()).eval()
    exporter_logger = logging.getLogger("torch.onnx")
    level = exporter_logger.level
    exporter_logger.setLevel(logging.ERROR)  # the exporter logs every op set it skips
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped,
                (input_ids, mask),
                str(path),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_shapes={"input_ids": dynamic, "attention_mask": dynamic},
                dynamo=True,
                external_data=False,
                verbose=False,
            )
    finally:
        exporter_logger.setLevel(level)
    return path


class OnnxStudent:
    """An exported student run by ONNX Runtime on the CPU."""

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.path = path
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def logits(self, data: EncodedSet, batch_size: int) -> torch.Tensor:
        """Logits of every example, in order (as ``predict_logits`` gives them for PyTorch)."""
        chunks = [self._run(batch) for _, batch in data.batches(batch_size, "cpu")]
        return torch.cat(chunks) if chunks else torch.zeros((0, 2))

    def inference_function(self, task_kind: str, length: int, vocab_size: int) -> Callable[[], Any]:
        """One batch-1 inference at ``length`` tokens, with the same input as the PyTorch timing."""
        input_ids = objectives.timing_input_ids(task_kind, length, vocab_size).numpy()
        feed = {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}
        return lambda: self.session.run(None, feed)

    def _run(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        feed = {name: tensor.numpy() for name, tensor in batch.items()}
        return torch.from_numpy(self.session.run(None, feed)[0]).float()
