"""Realising one selected point: tokenizer, student, distillation, honest evaluation, export.

Loss: the Kullback-Leibler divergence between the temperature-softened distributions of the
student's and the teacher's *logits*, times T squared (so gradients keep their scale across
temperatures), plus ``hard_label_weight`` times the cross-entropy with the true labels when
asked (the mix is ``(1 - w) * KL * T^2 + w * CE``). The test split is evaluated once, with the
weights that scored best on the validation split (of the best of ``train.restarts`` seeds) and
the decision threshold tuned there (``_threshold``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from torch import nn

from avatar import objectives
from avatar.objectives import write_json_atomically
from avatar.specs import Spec

from ._data import TaskData
from ._encode import EncodedSet, encode
from ._loop import LoopResult, LoopSettings, logit_scores, predict_logits, train
from ._metrics import checkpoint_metric, primary_metric
from ._onnx import ONNX_FILE, OnnxStudent, export_onnx
from ._threshold import fold_threshold, margins, tune_threshold
from ._tokenizers import load_or_train_tokenizer

__all__ = ["Distilled", "distil", "distillation_loss", "train_student", "load_student", "inference_function", "model_costs"]


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, labels: torch.Tensor, temperature: float, hard_label_weight: float) -> torch.Tensor:
    """``(1 - w) * KL(softmax(t / T) || softmax(s / T)) * T^2 + w * CE(s, y)``."""
    soft = nn.functional.kl_div(
        nn.functional.log_softmax(student / temperature, dim=-1),
        nn.functional.log_softmax(teacher / temperature, dim=-1),
        reduction="batchmean",
        log_target=True,
    ) * temperature**2
    if hard_label_weight == 0:
        return soft
    return (1 - hard_label_weight) * soft + hard_label_weight * nn.functional.cross_entropy(student, labels)


def inference_function(model: nn.Module, task_kind: str, length: int, vocab_size: int) -> Callable[[], None]:
    """One batch-1 inference at ``length`` tokens (a pair for clone), as the latency protocol runs it."""
    input_ids = objectives.timing_input_ids(task_kind, length, vocab_size)
    mask = torch.ones_like(input_ids)
    model = model.eval()

    def infer() -> None:
        with torch.inference_mode():
            model(input_ids=input_ids, attention_mask=mask)

    return infer


def model_costs(model: nn.Module, spec: Spec, length: int, vocab_size: int, threads: int) -> dict[str, float]:
    """Latency, energy and carbon of one batch-1 inference of ``model`` (students and teacher alike)."""
    return _costs(inference_function(model, spec.task.kind, length, vocab_size), spec, threads)


def _costs(infer: Callable[[], Any], spec: Spec, threads: int) -> dict[str, float]:
    """Latency, energy and carbon of one inference, by the ``latency_ms`` protocol, priced by
    the spec's ``energy_j`` and ``carbon_g`` estimators (their options, such as
    ``watts_per_core`` and ``intensity_g_per_kwh``, apply to realised students as to the search)."""
    timing = objectives.time_inference(infer, threads)
    energy, estimated = objectives.get("energy_j", spec).joules(timing)
    return {
        "latency_ms": timing.median_ms,
        "latency_ms_p90": timing.p90_ms,
        "energy_j": energy,
        "energy_estimated": float(estimated),
        "carbon_g": objectives.get("carbon_g", spec).grams(timing),
    }


def _folder_megabytes(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.glob("*.safetensors")) / 1e6


@dataclass
class Distilled:
    """A distilled student with what its evaluation needs."""

    model: nn.Module
    tokenizer: Any
    config: dict[str, Any]
    result: LoopResult
    settings: LoopSettings
    notes: list[str]
    valid: EncodedSet


def distil(
    spec: Spec,
    config: Mapping[str, Any],
    data: TaskData,
    teacher_logits: torch.Tensor,
    checkpoint_dir: Path,
    cache_dir: Path,
    *,
    device: str,
    epochs: int | None = None,
    max_examples: int | None = None,
    metric: str | None = None,
    seed: int | None = None,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> Distilled:
    """Train one configuration's tokenizer and student on the teacher's logits; the best
    weights on the validation split end up in the model. ``epochs`` and ``max_examples`` (the
    first examples of the distillation split) make the short runs that probes are; ``metric``
    (default: ``checkpoint_metric``; every metric is recorded) picks the best epoch; ``seed``
    (default ``train.seed``) sets the initial weights and the order of examples."""
    context = objectives.Context.from_spec(spec)
    config = context.resolve(config)
    family = objectives.get_family(spec.model.family)
    length, vocab = int(config["max_sequence_length"]), int(config["vocab_size"])
    tokenizer = load_or_train_tokenizer(str(config.get("tokenizer", "bpe")), vocab, data.texts(data.train), data.fingerprint, length, cache_dir)
    notes = []
    if len(tokenizer) > vocab:
        # Byte-level BPE cannot go below its 256-byte alphabet (plus special tokens).
        notes.append(f"vocab_size raised from {vocab} to {len(tokenizer)}: the {config.get('tokenizer')} tokenizer needs at least that many tokens")
        config = {**config, "vocab_size": len(tokenizer)}
    seed = spec.train.seed if seed is None else seed
    torch.manual_seed(seed)
    model = family.build(config, spec.task.kind, pad_token_id=tokenizer.pad_token_id, bos_token_id=0, eos_token_id=2)
    examples = data.unlabeled[:max_examples] if max_examples else data.unlabeled
    distill, valid = encode(examples, tokenizer, length), encode(data.valid, tokenizer, length)
    targets, labels = teacher_logits[: len(examples)].to(device), distill.labels.to(device)
    settings = LoopSettings(
        epochs=epochs or spec.train.epochs,
        learning_rate=float(config.get("learning_rate", 5e-4)),
        batch_size=int(config.get("batch_size", 16)),
        patience=spec.train.patience,
        seed=seed,
        metric=metric or checkpoint_metric(spec.task.kind, spec.train.tune_threshold),
        device=device,
    )
    if on_start is not None:
        on_start(settings.epochs * -(-len(distill) // settings.batch_size))
    temperature, weight = spec.train.temperature, spec.train.hard_label_weight
    result = train(
        model,
        distill,
        lambda logits, indices: distillation_loss(logits, targets[indices], labels[indices], temperature, weight),
        valid,
        settings,
        checkpoint_dir,
        on_step=on_step,
        on_epoch=on_epoch,
    )
    return Distilled(model, tokenizer, config, result, settings, notes, valid)


def train_student(
    spec: Spec,
    point: Mapping[str, Any],
    data: TaskData,
    teacher_logits: torch.Tensor,
    folder: Path,
    cache_dir: Path,
    *,
    device: str,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> dict[str, Any]:
    """Distil one student and write it, with ``metrics.json``, into ``folder``."""
    distilled, restarts = _best_restart(
        spec, folder / "checkpoint", on_start, config=point["config"], data=data, teacher_logits=teacher_logits, cache_dir=cache_dir, device=device, on_step=on_step, on_epoch=on_epoch
    )
    model, tokenizer, config, result, settings = distilled.model, distilled.tokenizer, distilled.config, distilled.result, distilled.settings
    length, vocab = int(config["max_sequence_length"]), int(config["vocab_size"])
    threshold = _tuned_threshold(distilled, spec)
    test = encode(data.test, tokenizer, length)
    test_logits = predict_logits(model, test, settings.batch_size, settings.device)
    test_predictions = test_logits.argmax(dim=1).tolist()
    test_metrics = logit_scores(test_logits, test.labels.tolist())
    if threshold["margin"] and threshold["folded"]:
        threshold["test_at_default"] = logit_scores(test_logits, test.labels.tolist(), -threshold["margin"])
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    model.cpu()
    metrics = {
        "key": point["key"],
        "config": point["config"],
        "task": spec.task.kind,
        "test": test_metrics,
        "test_examples": len(test),
        "test_predictions": test_predictions,
        "validation": {"metric": settings.metric, "best": result.best_metric, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run, "history": result.history},
        "threshold": threshold,
        "seed": distilled.settings.seed,
        "restarts": restarts,
        "params": sum(parameter.numel() for parameter in model.parameters()),
        "size_mb": _folder_megabytes(folder),
        "size_mb_estimated": objectives.get("size_mb").evaluate(config, objectives.Context.from_spec(spec)),
        "notes": distilled.notes,
        **model_costs(model, spec, length, vocab, spec.model.threads),
    }
    if spec.train.onnx:
        metrics["onnx"] = _exported(model, test, test_logits, settings, spec, length, vocab, folder)
    if spec.train.quantize:
        metrics["int8"] = _quantized(model, test, settings, spec, length, vocab, folder)
    write_json_atomically(folder / "metrics.json", metrics, indent=2)
    _write_card(folder, spec, metrics)
    return metrics


def _best_restart(spec: Spec, checkpoint_dir: Path, on_start: Callable[[int], None] | None, **distil_arguments: Any) -> tuple[Distilled, list[dict[str, Any]]]:
    """Distil ``train.restarts`` students from seeds ``train.seed``, ``train.seed + 1``, ...
    (``distil`` with ``distil_arguments``) and keep the one best on validation: a tiny
    student's result depends on its initial weights. Each restart has its own checkpoints, so a
    killed run resumes the one it was in; the progress total counts every restart."""
    count = spec.train.restarts
    best: Distilled | None = None
    restarts = []
    for index in range(count):
        seed = spec.train.seed + index
        distilled = distil(
            spec,
            checkpoint_dir=checkpoint_dir / f"seed-{seed}" if count > 1 else checkpoint_dir,
            seed=seed,
            on_start=(lambda total: on_start(total * count)) if on_start is not None and index == 0 else None,
            **distil_arguments,
        )
        result = distilled.result
        restarts.append({"seed": seed, "best": result.best_metric, "best_epoch": result.best_epoch, "epochs_run": result.epochs_run})
        if best is None or result.best_metric > best.result.best_metric:
            best = distilled
    assert best is not None
    return best, restarts


def _tuned_threshold(distilled: Distilled, spec: Spec) -> dict[str, Any]:
    """Choose the decision threshold on the validation split and fold it into the model
    (``train.tune_threshold``); what was chosen and what it changed on validation."""
    metric = primary_metric(spec.task.kind)
    logits = predict_logits(distilled.model, distilled.valid, distilled.settings.batch_size, distilled.settings.device)
    labels = distilled.valid.labels.tolist()
    margin = tune_threshold(margins(logits).tolist(), labels, metric) if spec.train.tune_threshold else 0.0
    folded = fold_threshold(distilled.model, margin) if margin else True
    if not folded:
        distilled.notes.append(f"the decision threshold tuned on validation ({margin:+.4f} on the logit margin) is not applied: the model has no two-output linear layer to fold it into")
        margin = 0.0
    return {
        "tuned": spec.train.tune_threshold,
        "margin": margin,
        "probability": float(torch.sigmoid(torch.tensor(margin))),
        "folded": folded,
        "metric": metric,
        "validation_at_default": logit_scores(logits, labels)[metric],
        "validation_tuned": logit_scores(logits, labels, margin)[metric],
    }


def _quantized(model: nn.Module, test: EncodedSet, settings: LoopSettings, spec: Spec, length: int, vocab: int, folder: Path) -> dict[str, Any]:
    """int8 dynamic quantization of the linear layers, evaluated and measured again (CPU)."""
    quantized = objectives.quantize_int8(model.cpu())
    path = folder / "model-int8.pt"
    torch.save(quantized.state_dict(), path)
    return {"test": logit_scores(predict_logits(quantized, test, settings.batch_size, "cpu"), test.labels.tolist()), "size_mb": path.stat().st_size / 1e6, **model_costs(quantized, spec, length, vocab, spec.model.threads)}


def _exported(model: nn.Module, test: EncodedSet, test_logits: torch.Tensor, settings: LoopSettings, spec: Spec, length: int, vocab: int, folder: Path) -> dict[str, Any]:
    """The ONNX export, evaluated on the test split and measured again (ONNX Runtime, CPU)."""
    path = export_onnx(model, spec.task.kind, length, folder / ONNX_FILE)
    exported = OnnxStudent(path, spec.model.threads)
    logits = exported.logits(test, settings.batch_size)
    return {
        "file": path.name,
        "test": logit_scores(logits, test.labels.tolist()),
        "max_logit_difference": float((logits - test_logits).abs().max()) if len(test) else 0.0,
        "size_mb": path.stat().st_size / 1e6,
        **_costs(exported.inference_function(spec.task.kind, length, vocab), spec, spec.model.threads),
    }


def _write_card(folder: Path, spec: Spec, metrics: Mapping[str, Any]) -> None:
    if spec.task.kind == "clone":
        loading = "from avatar.objectives import RobertaForCloneDetection\nmodel = RobertaForCloneDetection.from_pretrained(folder)  # input_ids: (batch, 2, length)"
    else:
        loading = "from transformers import AutoModelForSequenceClassification\nmodel = AutoModelForSequenceClassification.from_pretrained(folder)"
    scores = ", ".join(f"{name} {value:.4f}" for name, value in metrics["test"].items())
    (folder / "README.md").write_text(
        f"""# Avatar student {metrics['key']} ({spec.name})

Distilled for `{spec.task.kind}` from `{spec.train.teacher.model if spec.train.teacher else 'the teacher'}`.
Test ({metrics['test_examples']} examples): {scores}. Size {metrics['size_mb']:.3f} MB, {metrics['params']:,} parameters,
CPU latency {metrics['latency_ms']:.2f} ms at batch 1.

```python
from transformers import AutoTokenizer
folder = "{folder.name}"
tokenizer = AutoTokenizer.from_pretrained(folder)
{loading}
```

{_threshold_card(metrics)}{_variants_card(metrics)}Configuration: `{json.dumps(metrics['config'])}`
"""
    )


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
            "`onnxruntime.InferenceSession(path).run(None, {\"input_ids\": ids, \"attention_mask\": mask})`."
        )
    if "int8" in metrics:
        int8 = metrics["int8"]
        lines.append(f"`model-int8.pt` (int8 dynamic quantization, a state dict): test F1 {int8['test']['f1']:.4f}, {int8['size_mb']:.3f} MB, {int8['latency_ms']:.2f} ms.")
    return "".join(line + "\n\n" for line in lines)


def load_student(folder: str | Path, task_kind: str) -> nn.Module:
    """Load a saved student the documented way."""
    if task_kind == "clone":
        from avatar.objectives import RobertaForCloneDetection

        return RobertaForCloneDetection.from_pretrained(folder)
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(folder)
