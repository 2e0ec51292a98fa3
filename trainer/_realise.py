"""Realising one selected point: distil it (best of the restarts), tune its threshold, evaluate
it once on the test split, measure it, and save it with its exported variants and model card.

The test split is evaluated once, with the weights that scored best on the validation split
(of the best of ``train.restarts`` seeds) and the decision threshold tuned there (``_threshold``); ``_distil`` trains, ``_variants`` exports, ``_costs`` measures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from avatar import objectives
from avatar.objectives import write_json_atomically
from avatar.specs import RunDirectory, SelectedPoint, Spec

from .data import TaskData, encode
from .distill import Distilled, LoopResult, TeacherOutputs, best_restart
from .students import (
    fold_threshold,
    label_names_of,
    load_student,
    logit_scores,
    logit_weakness,
    margins,
    model_costs,
    onnx_variant,
    predict_logits,
    primary_metric,
    quantized_variant,
    save_student,
    training_energy,
    tune_threshold,
    write_card,
)

__all__ = ["train_student", "keep_finished_student", "add_missing_exports", "validation_record", "student_settings", "changed_settings", "STUDENT_SETTINGS"]

EXPORT_NAMES = {"onnx": "ONNX export (train.onnx)", "int8": "int8 model (train.quantize)"}  # what add_missing_exports adds, in the run's words
# The train settings that shape a realised student (not its exports), recorded in metrics.json
STUDENT_SETTINGS = ("epochs", "patience", "temperature", "distill", "hard_label_weight", "augment", "transfer_pairs", "long_inputs", "pretrain_epochs", "tune_threshold", "restarts", "seed")


def train_student(
    spec: Spec,
    point: SelectedPoint,
    data: TaskData,
    teacher: TeacherOutputs | torch.Tensor,
    folder: Path,
    cache_dir: Path,
    *,
    device: str,
    on_start: Callable[[int], None] | None = None,
    on_step: Callable[[int, int, float], None] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> dict[str, Any]:
    """Distil one student and write it, with ``metrics.json`` (once, with the seconds it took), into ``folder``."""
    started = time.perf_counter()
    with training_energy(spec) as energy:
        distilled, restarts = best_restart(
            spec, folder / "checkpoint", on_start, config=point.config, data=data, teacher=teacher, cache_dir=cache_dir, device=device, on_step=on_step, on_epoch=on_epoch
        )
    model, tokenizer, config, result, settings = distilled.model, distilled.tokenizer, distilled.config, distilled.result, distilled.settings
    length, vocab = int(config["max_sequence_length"]), int(config["vocab_size"])
    valid_logits = predict_logits(model, distilled.valid, settings.batch_size, settings.device)  # before the cut is folded in
    threshold = _tuned_threshold(distilled, spec, valid_logits)
    test = encode(data.test, tokenizer, length, spec.train.long_inputs)
    test_logits = predict_logits(model, test, settings.batch_size, settings.device)
    test_predictions = test_logits.argmax(dim=1).tolist()
    test_metrics = logit_scores(test_logits, test.labels.tolist())
    # at the cut it ships with: the folded one (its margin is 0 when it was not folded)
    weak = logit_weakness(valid_logits, distilled.valid.labels.tolist(), seed=spec.train.seed, threshold=threshold["margin"], others={"test": test_predictions}, names=data.label_names)
    if threshold["margin"] and threshold["folded"]:
        threshold["test_at_default"] = logit_scores(test_logits, test.labels.tolist(), -threshold["margin"])
    save_student(model, tokenizer, folder, spec.task.kind, label_names_of(spec.task.kind, data.num_labels, data.label_names))
    model.cpu()
    metrics = {
        "key": point.key,
        "config": dict(point.config),
        "task": spec.task.kind,
        "test": test_metrics,
        "test_examples": len(test),
        "test_predictions": test_predictions,
        "weak": weak,
        "predicted": predicted_against_realised(spec, point, result.history, result.best_epoch, threshold.get("test_at_default", test_metrics)),  # at the default cut, as validated
        "validation": validation_record(settings.metric, result),
        "threshold": threshold,
        "distill": distilled.methods,
        "seed": distilled.settings.seed,
        "restarts": restarts,
        "params": sum(parameter.numel() for parameter in model.parameters()),
        "size_mb": _folder_megabytes(folder),
        "size_mb_estimated": objectives.get("size_mb").evaluate(config, objectives.Context.from_spec(spec)),
        "notes": distilled.notes,
        "train": student_settings(spec),
        **model_costs(model, spec, length, vocab, spec.model.threads),
    }
    if spec.train.onnx:
        metrics["onnx"] = onnx_variant(model, test, test_logits, settings.batch_size, spec, length, vocab, folder)
    if spec.train.quantize:
        metrics["int8"] = quantized_variant(model, test, settings.batch_size, spec, length, vocab, folder)
    if energy.record is not None:
        metrics["training_energy"] = energy.record.to_dict()
    metrics["seconds"] = time.perf_counter() - started
    write_json_atomically(folder / RunDirectory.STUDENT_METRICS, metrics, indent=2)
    write_card(folder, spec, metrics)
    return metrics


def keep_finished_student(spec: Spec, data: TaskData, folder: Path, metrics: dict[str, Any], say: Callable[[str], None]) -> dict[str, Any]:
    """A student realised earlier, kept: a finished student is never thrown away by a changed
    setting, which is named instead (``say``), and the exports the spec now asks for are added
    (``--train-only --set train.onnx=true`` on a finished run). Returns its metrics."""
    changed = changed_settings(metrics, spec)
    if changed:
        say(f"student {metrics['key']} was realised with {'; '.join(changed)}: kept as it is; delete {folder} to realise it again with the new settings")
    added = add_missing_exports(spec, data, folder, metrics)
    if added:
        say(f"student {metrics['key']}: {' and '.join(EXPORT_NAMES[name] for name in added)} added (it was realised without)")
    return metrics


def student_settings(spec: Spec) -> dict[str, Any]:
    """The values of ``STUDENT_SETTINGS`` a student is realised under, as ``metrics.json`` keeps
    them, so a later run can tell a student realised under other settings."""
    values = {name: getattr(spec.train, name) for name in STUDENT_SETTINGS}
    values["distill"] = dict(spec.train.distill) if spec.train.distill is not None else None
    return values


def changed_settings(metrics: Mapping[str, Any], spec: Spec) -> list[str]:
    """What the spec now sets otherwise than when this student was realised, as ``train.NAME
    OLD (now NEW)`` (none for a student whose record predates the record of its settings)."""
    recorded = metrics.get("train")
    if not isinstance(recorded, Mapping):
        return []
    now = student_settings(spec)
    return [f"train.{name} {recorded[name]} (now {now[name]})" for name in STUDENT_SETTINGS if name in recorded and recorded[name] != now[name]]


def add_missing_exports(spec: Spec, data: TaskData, folder: Path, metrics: dict[str, Any]) -> list[str]:
    """Export a student realised earlier in the forms the spec now asks for and it lacks
    (``train.onnx``, ``train.quantize``: ``--train-only --set train.onnx=true`` on a finished
    run), evaluated and measured as at its realisation; ``metrics.json`` and the card are
    rewritten. Returns the names of the forms added (none: nothing was missing)."""
    wanted = [name for name, asked in (("onnx", spec.train.onnx), ("int8", spec.train.quantize)) if asked and name not in metrics]
    if not wanted:
        return []
    from transformers import PreTrainedTokenizerFast

    model = load_student(folder, spec.task.kind).eval()
    tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)
    length, vocab = int(metrics["config"]["max_sequence_length"]), int(metrics["config"]["vocab_size"])
    batch_size = int(metrics["config"].get("batch_size", 32))
    test = encode(data.test, tokenizer, length, spec.train.long_inputs)
    test_logits = predict_logits(model, test, batch_size, "cpu")
    if "onnx" in wanted:
        metrics["onnx"] = onnx_variant(model, test, test_logits, batch_size, spec, length, vocab, folder)
    if "int8" in wanted:
        metrics["int8"] = quantized_variant(model, test, batch_size, spec, length, vocab, folder)
    write_json_atomically(folder / RunDirectory.STUDENT_METRICS, metrics, indent=2)
    write_card(folder, spec, metrics)
    return wanted


def validation_record(metric: str, result: LoopResult) -> dict[str, Any]:
    """A student's validation as ``metrics.json`` keeps it, with epochs counted from 1, as the
    teacher's ``best_epoch`` and the progress bars count them (the loop counts from 0)."""
    history = [{**record, "epoch": record["epoch"] + 1} for record in result.history]
    return {"metric": metric, "best": result.best_metric, "best_epoch": result.best_epoch + 1, "epochs_run": result.epochs_run, "history": history}


def predicted_against_realised(spec: Spec, point: SelectedPoint, history: list[dict[str, float]], best_epoch: int, test: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    """Each learned metric's prediction for this point (its value and uncertainty, as the search
    stored them) beside what the student realised on the same score: its validation score at its
    best epoch (what a probe measures) and its test score."""
    best = next((record for record in history if record.get("epoch") == best_epoch), {})
    predicted = {}
    for name, estimator in objectives.estimators_for(spec).items():
        if estimator.kind != "learned" or not isinstance(point.metrics.get(name), (int, float)):
            continue
        score = str(getattr(estimator, "fidelity", {}).get("score") or primary_metric(spec.task.kind, spec.task.num_labels))
        std = point.metrics.get(f"{name}_std")
        predicted[name] = {
            "value": float(point.metrics[name]),
            "std": float(std) if isinstance(std, (int, float)) else None,
            "score": score,
            "validation": best.get(f"valid_{score}"),
            "test": test.get(score),
        }
    return predicted


def _folder_megabytes(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.glob("*.safetensors")) / 1e6


def _tuned_threshold(distilled: Distilled, spec: Spec, logits: torch.Tensor) -> dict[str, Any]:
    """Choose the decision threshold on the validation split (``logits``: the student's there)
    and fold it into the model (``train.tune_threshold``); what was chosen and what it changed
    on validation."""
    metric = primary_metric(spec.task.kind, spec.task.num_labels)
    labels = distilled.valid.labels.tolist()
    tuned = spec.train.tune_threshold and spec.task.num_labels == 2  # a cut on one margin: two classes only
    margin = tune_threshold(margins(logits).tolist(), labels, metric) if tuned else 0.0
    folded = fold_threshold(distilled.model, margin) if margin else True
    if not folded:
        distilled.notes.append(f"the decision threshold tuned on validation ({margin:+.4f} on the logit margin) is not applied: the model has no two-output linear layer to fold it into")
        margin = 0.0
    return {
        "tuned": tuned,
        "margin": margin,
        "probability": float(torch.sigmoid(torch.tensor(margin))),
        "folded": folded,
        "metric": metric,
        "validation_at_default": logit_scores(logits, labels)[metric],
        "validation_tuned": logit_scores(logits, labels, margin)[metric],
    }
