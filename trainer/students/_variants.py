"""A student's exported variants and its model card: the ONNX export and the int8 model, each
evaluated on the test split and measured again, and the ``README.md`` saying how to load them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from avatar import objectives
from avatar.specs import Spec

from ..data import EncodedSet
from ._costs import inference_costs, model_costs
from ._inference import logit_scores, predict_logits
from ._onnx import ONNX_FILE, OnnxStudent, export_onnx

__all__ = ["quantized_variant", "onnx_variant", "write_card"]


def quantized_variant(model: nn.Module, test: EncodedSet, batch_size: int, spec: Spec, length: int, vocab: int, folder: Path) -> dict[str, Any]:
    """int8 dynamic quantization of the linear layers, evaluated and measured again (CPU)."""
    quantized = objectives.quantize_int8(model.cpu())
    path = folder / "model-int8.pt"
    torch.save(quantized.state_dict(), path)
    return {
        "test": logit_scores(predict_logits(quantized, test, batch_size, "cpu"), test.labels.tolist()),
        "size_mb": path.stat().st_size / 1e6,
        **model_costs(quantized, spec, length, vocab, spec.model.threads),
    }


def onnx_variant(model: nn.Module, test: EncodedSet, test_logits: torch.Tensor, batch_size: int, spec: Spec, length: int, vocab: int, folder: Path) -> dict[str, Any]:
    """The ONNX export, evaluated on the test split and measured again (ONNX Runtime, CPU)."""
    path = export_onnx(model, spec.task.kind, length, folder / ONNX_FILE)
    exported = OnnxStudent(path, spec.model.threads)
    logits = exported.logits(test, batch_size)
    return {
        "file": path.name,
        "test": logit_scores(logits, test.labels.tolist()),
        "max_logit_difference": float((logits - test_logits).abs().max()) if len(test) else 0.0,
        "size_mb": path.stat().st_size / 1e6,
        **inference_costs(exported.inference_function(spec.task.kind, length, vocab), spec, spec.model.threads),
    }


def write_card(folder: Path, spec: Spec, metrics: Mapping[str, Any]) -> None:
    """The student's ``README.md``: scores, size and latency, how to load it and its exported variants."""
    if spec.task.is_pair:
        loading = (
            "# the head reads two functions: its code is in the folder (modeling_avatar_clone.py)\n"
            "model = AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True)\n"
            'first, second = "int add(int a, int b) { return a + b; }", "int sum(int x, int y) { return y + x; }"\n'
            'logits = model(**tokenizer(first, second, truncation=True, return_tensors="pt")).logits\n'
            "print(model.config.id2label[int(logits.argmax(-1))])\n"
            '# or: pipeline("text-classification", model=folder, trust_remote_code=True)({"text": first, "text_pair": second})'
        )
    else:
        loading = (
            "model = AutoModelForSequenceClassification.from_pretrained(folder)\n"
            'code = "int add(int a, int b) { return a + b; }"\n'
            'logits = model(**tokenizer(code, truncation=True, return_tensors="pt")).logits\n'
            "print(model.config.id2label[int(logits.argmax(-1))])\n"
            '# or: pipeline("text-classification", model=folder)(code)'
        )
    scores = ", ".join(f"{name} {value:.4f}" for name, value in metrics["test"].items())
    (folder / "README.md").write_text(
        f"""# Avatar student {metrics["key"]} ({spec.name})

Distilled for `{spec.task.kind}` from `{spec.train.teacher.name if spec.train.teacher else "the teacher"}`.
Test ({metrics["test_examples"]} examples): {scores}. Size {metrics["size_mb"]:.3f} MB, {metrics["params"]:,} parameters,
CPU latency {metrics["latency_ms"]:.2f} ms at batch 1.

```python
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
folder = "{folder.resolve()}"
tokenizer = AutoTokenizer.from_pretrained(folder)
{loading}
```

It needs `torch` and `transformers` only, not Avatar.

{_reading_card(metrics)}{_threshold_card(metrics)}{_variants_card(metrics)}Configuration: `{json.dumps(metrics["config"])}`
"""
    )


def _reading_card(metrics: Mapping[str, Any]) -> str:
    """The model card's lines on reading long functions, when the student reads their two ends
    (``train.long_inputs: head_tail``): a tokenizer alone would give it their first tokens."""
    train = metrics.get("train")
    if not isinstance(train, Mapping) or train.get("long_inputs") != "head_tail":
        return ""
    length = int(metrics["config"]["max_sequence_length"])
    return f"""This student was distilled reading a function longer than its {length} tokens by its first and its last tokens
(`train.long_inputs: head_tail`). Give it each function the same way, before the tokenizer:

```python
def head_and_tail(code, tokenizer, length={length}):
    spans = tokenizer(code, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    budget = length - tokenizer.num_special_tokens_to_add()
    if len(spans) <= budget:
        return code
    head = (budget - 2) - (budget - 2) // 2
    tail = budget - 2 - head
    return code[: spans[head - 1][1]] + "\\n" + code[spans[len(spans) - tail][0] :]
```

"""


def _threshold_card(metrics: Mapping[str, Any]) -> str:
    """The model card's line on the decision threshold, when one was tuned and folded in."""
    threshold = metrics.get("threshold", {})
    if not threshold.get("margin"):
        return ""
    return (
        f"The decision threshold was tuned on the validation split ({threshold['metric']} {threshold['validation_at_default']:.4f} -> "
        f"{threshold['validation_tuned']:.4f}) and folded into the output bias: `argmax` of the logits predicts class 1 where the "
        f"untuned model gave it a probability above {threshold['probability']:.3f}.\n\n"
    )


def _variants_card(metrics: Mapping[str, Any]) -> str:
    """The model card's lines on the ONNX export and the int8 model, when they were made."""
    lines = []
    if "onnx" in metrics:
        onnx = metrics["onnx"]
        lines.append(
            f"`{onnx['file']}` (ONNX, inputs `input_ids` and `attention_mask`, output `logits`): test F1 {onnx['test']['f1']:.4f}, "
            f"{onnx['size_mb']:.3f} MB, {onnx['latency_ms']:.2f} ms with ONNX Runtime; "
            '`onnxruntime.InferenceSession(path).run(None, {"input_ids": ids, "attention_mask": mask})`.'
        )
    if "int8" in metrics:
        int8 = metrics["int8"]
        lines.append(f"`model-int8.pt` (int8 dynamic quantization, a state dict): test F1 {int8['test']['f1']:.4f}, {int8['size_mb']:.3f} MB, {int8['latency_ms']:.2f} ms.")
    return "".join(line + "\n\n" for line in lines)
