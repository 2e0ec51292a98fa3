"""Everything students are distilled from, made ready once per run: the task's data, the
lexical baseline, the teacher (fine-tuned, cached or read as predictions), its logits on the
distillation examples (with rewrites and transfer pairs) and the outputs the methods ask for.

The probes (``_probe``) and the students (``_pipeline``) both start from a ``Distillation``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from avatar import objectives
from avatar.objectives import write_json_atomically
from avatar.specs import (
    DEFAULT_METHODS,
    DISTILL_PARAMETER,
    BaselineRecord,
    Cache,
    Spec,
    TeacherSettings,
    default_methods,
    parse_methods,
)

from .data import AUGMENT_VERSION, Example, TaskData, augment_examples, load_task_data, sample_transfer, transfer_name, with_teacher_labels
from .distill import FeatureError, MethodMix, TeacherOutputs, teacher_features
from .students import logit_scores, primary_metric, training_energy
from .teacher import BASELINE_VERSION, Teacher, TeacherError, WeakTeacherError, lexical_baseline, prepare_teacher, teacher_logits, teacher_warnings

__all__ = ["Distillation", "prepare_distillation", "teacher_settings", "methods_needed", "resolved_methods", "default_device", "progress_bars", "WEAK_TEACHER_AUC"]

# A teacher is too weak to distil from when it gives one class to 98% or more of the
# distillation split *and* ranks the validation split little better than chance: a teacher
# that ranks well but cuts in the wrong place still teaches (its margins carry the ranking, and
# students' thresholds are tuned on validation).
WEAK_TEACHER_AUC = 0.75


def default_device() -> str:
    """Training and teacher inference use a GPU when one is present."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def progress_bars(console: Console) -> Any:
    """The bars of the teacher, its outputs and the students: what, how far, how long, how long left."""
    return objectives.progress_display(
        console,
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )


def teacher_settings(spec: Spec, teacher: str | None = None) -> TeacherSettings | None:
    """The spec's teacher settings, with ``--teacher`` replacing the model (the spec's other
    settings kept) and the predictions files' paths taken from the spec's folder."""
    settings = spec.train.teacher
    if teacher:
        settings = dataclasses.replace(settings, model=teacher) if settings else TeacherSettings(model=teacher)
    if settings is not None and settings.predictions:
        ids = spec.resolve_path(settings.prediction_ids) if settings.prediction_ids else None
        settings = dataclasses.replace(settings, predictions=spec.resolve_path(settings.predictions), prediction_ids=ids)
    return settings


@dataclass
class Distillation:
    """Everything students are distilled from: the data, the ready teacher and its outputs
    (``logits`` on the distillation split; ``outputs`` adds what the distillation methods ask
    for: its logits on the labelled split, its features)."""

    spec: Spec
    data: TaskData
    teacher: Teacher
    logits: torch.Tensor
    cache_dir: Path
    device: str
    seconds: dict[str, float]
    outputs: TeacherOutputs
    warnings: list[str] = dataclasses.field(default_factory=list)
    baseline: BaselineRecord | None = None  # the lexical baseline the teacher was read against
    transfer_pairs: int = 0  # the transfer pairs asked for (``train.transfer_pairs`` resolved: ``transfer_set``)


def methods_needed(spec: Spec) -> set[str]:
    """Every distillation method a run may use: ``train.distill``'s and those a
    ``distill_method`` parameter offers. Of the default, only what every teacher supports:
    ``prepare_distillation`` adds ``hard_labels`` where the teacher's outputs cover the
    labelled split (``resolved_methods``)."""
    needed = set(default_methods(spec.train.distill, labelled_outputs=False))
    if DISTILL_PARAMETER in spec.parameter_names:
        for value in spec.parameter(DISTILL_PARAMETER).values:
            needed |= set(parse_methods(value))
    return needed


def prepare_distillation(
    spec: Spec,
    *,
    data: str | None = None,
    teacher: str | None = None,
    console: Console | None = None,
    cache_dir: Path | None = None,
    device: str | None = None,
    executor: Any = None,
    task_data: TaskData | None = None,
) -> Distillation:
    """Load the task data (unless given, already read), fine-tune the teacher (or find it
    cached) and compute (or load) its logits on the distillation split (on the ``executor``'s
    workers when it has several).

    Raises:
        DataError, TeacherError, PredictionsError: the data or the teacher cannot be used.
    """
    console = console or Console(quiet=True)
    settings = teacher_settings(spec, teacher)
    if settings is None:
        raise TeacherError("train.teacher is not set: name a Hugging Face model id or folder (or pass --teacher)")
    cache_dir = Path(cache_dir) if cache_dir is not None else objectives.default_cache_dir()
    device = device or default_device()
    started = time.perf_counter()
    task_data = task_data if task_data is not None else load_task_data(spec, data)
    timings: dict[str, float] = {"data": time.perf_counter() - started}
    console.print(_data_line(task_data), highlight=False, markup=False)
    with progress_bars(console) as progress:
        step_started = time.perf_counter()
        baseline = _baseline(spec, task_data, cache_dir, primary_metric(spec.task.kind, spec.task.num_labels))
        timings["baseline"] = time.perf_counter() - step_started
        console.print(_baseline_line(baseline), highlight=False, markup=False)
        fine_tune = progress.add_task(f"teacher {settings.name}", total=None, status="loading")
        step_started = time.perf_counter()
        prepared = prepare_teacher(
            settings,
            task_data,
            cache_dir,
            seed=spec.train.seed,
            device=device,
            on_start=lambda total: progress.update(fine_tune, total=total),
            on_step=lambda epoch, step, loss: progress.update(fine_tune, advance=1, status=f"epoch {epoch + 1} loss {loss:.3f}"),
            baseline_auc=None if settings.accept_weak or baseline is None else baseline.valid.get("auc"),  # hopeless fine-tuning stops early
            on_rate=lambda rate, score: _trial_progress(console, progress, fine_tune, rate, score),
            energy=training_energy(spec),
        )
        progress.update(fine_tune, status=f"ready (validation {prepared.validation.get('metric', '')} {prepared.validation.get('value', float('nan')):.4f})")
        timings["teacher"] = time.perf_counter() - step_started
        resolved = resolved_methods(spec, prepared, task_data, console)
        step_started = time.perf_counter()
        labelling = progress.add_task("teacher logits", total=len(task_data.unlabeled), status="")
        logits = teacher_logits(prepared, task_data.unlabeled, "unlabeled", task_data.fingerprint, cache_dir, device, on_batch=lambda n: progress.advance(labelling, n), executor=executor)
        progress.update(labelling, completed=len(task_data.unlabeled))
        timings["teacher_logits"] = time.perf_counter() - step_started
        augmented = _augmented_logits(spec, prepared, task_data, logits, cache_dir, device, progress, executor)
        transfer, pairs = transfer_set(spec, prepared, task_data, console)
        augmented = _transfer_logits(spec, pairs, prepared, task_data, augmented, cache_dir, device, progress, executor)
        outputs = _teacher_outputs(prepared, task_data, augmented, methods_needed(spec) | set(resolved or {}), cache_dir, device, progress)
        outputs = dataclasses.replace(outputs, methods=resolved)
        timings["teacher_features"] = time.perf_counter() - step_started - timings["teacher_logits"]
    warnings = teacher_warnings(logits)
    if warnings and not settings.accept_weak:
        valid = teacher_logits(prepared, task_data.valid, "valid", task_data.fingerprint, cache_dir, device)  # cached: the report uses it too
        auc = logit_scores(valid, [example.label for example in task_data.valid])["auc"]  # macro one-vs-rest for more labels
        if auc < WEAK_TEACHER_AUC:
            raise WeakTeacherError(_weak_teacher_message(settings, prepared, warnings[0], auc))
    for warning in warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    return Distillation(spec, task_data, prepared, logits, cache_dir, device, timings, outputs, warnings, baseline, transfer)


def transfer_set(spec: Spec, teacher: Teacher, data: TaskData, console: Console) -> tuple[int, list[Example]]:
    """``train.transfer_pairs`` resolved for this teacher (``TrainSettings.transfer_count``), and
    the transfer set it draws (``sample_transfer``: for single inputs, ``task.unlabeled``'s code):
    a model labels any pair; a teacher given as its predictions labels the ``auto`` pairs only
    when its file has them, and the run says when it does not."""
    if spec.train.transfer_pairs != "auto" or not spec.task.is_pair or not teacher.settings.predictions:
        count = spec.train.transfer_count(pair_task=spec.task.is_pair, teacher_labels_them=True)
        return count, sample_transfer(data, count, spec.train.seed)
    wanted = spec.train.transfer_count(pair_task=True, teacher_labels_them=True)
    pairs = sample_transfer(data, wanted, spec.train.seed)
    if teacher.covers(pairs):
        return wanted, pairs
    console.print(
        f"train.transfer_pairs: auto distils on {wanted} transfer pairs where the teacher labels them, and {teacher.settings.predictions} lacks "
        "some or all of them: students distil on the data's pairs alone (solve SPEC --write-predictions FILE writes them, from a teacher model; "
        "set train.transfer_pairs: 0 to silence this)",
        highlight=False,
        markup=False,
    )
    return 0, []


def resolved_methods(spec: Spec, teacher: Teacher, data: TaskData, console: Console) -> dict[str, float] | None:
    """The methods a configuration without its own distils by, when the spec sets no
    ``train.distill`` (``None`` when it does): the default for what the teacher gives
    (``default_methods``): a teacher given as predictions that lack some of the labelled split
    cannot teach ``hard_labels``, and the run says so. They travel with the teacher's outputs
    (``TeacherOutputs.methods``); the spec is never rewritten."""
    if spec.train.distill is not None:
        return None
    covered = teacher.covers(data.labeled)
    methods = default_methods(None, labelled_outputs=covered)
    if not covered:
        console.print(
            f"train.distill: {'+'.join(methods)}, not the default {'+'.join(DEFAULT_METHODS)}: {teacher.settings.predictions} has no predictions for "
            "some of the labelled split (write them with --write-predictions, or set train.distill to silence this)",
            highlight=False,
            markup=False,
        )
    return methods


def _augmented_logits(spec: Spec, teacher: Teacher, data: TaskData, logits: torch.Tensor, cache_dir: Path, device: str, progress: Any, executor: Any = None) -> torch.Tensor:
    """``train.augment``: rewrites of the training functions join the distillation examples
    (``data.augmented``, cached), labelled by the teacher; returns the teacher's logits on all
    the distillation examples."""
    if not spec.train.augment:
        return logits
    if teacher.model is None:
        raise TeacherError("train.augment needs a teacher model to label the rewrites (a teacher given as predictions has only the data's)")
    name = f"augmented-{spec.train.augment}-{spec.train.seed}-{AUGMENT_VERSION}"
    data.augmented = augment_examples(data.train, spec.train.augment, spec.train.seed, Cache(cache_dir).augmented(f"{data.fingerprint}-{name}"))
    task = progress.add_task(f"teacher on {len(data.augmented)} rewrites", total=len(data.augmented), status="")
    labelled = teacher_logits(teacher, data.augmented, name, data.fingerprint, cache_dir, device, on_batch=lambda n: progress.advance(task, n), executor=executor)
    return torch.cat([logits, labelled]) if len(labelled) else logits


def _transfer_logits(spec: Spec, pairs: list[Example], teacher: Teacher, data: TaskData, logits: torch.Tensor, cache_dir: Path, device: str, progress: Any, executor: Any = None) -> torch.Tensor:
    """The transfer set (``transfer_set``: new pairs of the distillation split's functions, or
    ``task.unlabeled``'s code) joins the distillation examples as ``data.transfer``, labelled by
    the teacher (cached; a teacher given as predictions reads them from its file); returns the
    teacher's logits on all the distillation examples."""
    if not pairs:
        return logits
    what = "transfer pairs" if spec.task.is_pair else "unlabelled functions (task.unlabeled)"
    task = progress.add_task(f"teacher on {len(pairs)} {what}", total=len(pairs), status="")
    name = transfer_name(pairs)
    labelled = teacher_logits(teacher, pairs, name, data.fingerprint, cache_dir, device, on_batch=lambda n: progress.advance(task, n), executor=executor)
    progress.update(task, completed=len(pairs))
    data.transfer = with_teacher_labels(pairs, labelled.argmax(dim=1).tolist())
    return torch.cat([logits, labelled])


def _teacher_outputs(teacher: Teacher, data: TaskData, logits: torch.Tensor, methods: set[str], cache_dir: Path, device: str, progress: Any) -> TeacherOutputs:
    """The teacher's outputs the methods need beyond its logits on the distillation examples:
    its logits on the labelled split (``hard_labels``) and its features (cached,
    memory-mapped)."""
    mix = MethodMix.of_names(methods)
    labeled = teacher_logits(teacher, data.labeled, "labeled", data.fingerprint, cache_dir, device) if mix.uses_labels else None
    if not mix.needs_teacher_features:
        return TeacherOutputs(logits, labeled)
    if teacher.model is None:
        raise TeacherError(f"{' and '.join(mix.names_with('needs_teacher_features'))} needs the teacher's hidden states, and a teacher given as its predictions has none")
    per_text = mix.names_with("reads_each_text")
    if per_text and teacher.pair_as_text:
        raise TeacherError(
            f"{' and '.join(per_text)} reads each function's features, and this teacher is a cross-encoder that reads a pair as one "
            "text: use hidden (it compares the pair's pooled states) or a teacher that reads each function on its own"
        )
    task = progress.add_task("teacher features", total=len(data.distillation) + (len(data.labeled) if labeled is not None else 0), status="")
    name = data.distillation_name
    try:
        features = teacher_features(teacher, data.distillation, name, data.fingerprint, cache_dir, device, on_batch=lambda n: progress.advance(task, n))
        labeled_features = teacher_features(teacher, data.labeled, "labeled", data.fingerprint, cache_dir, device, on_batch=lambda n: progress.advance(task, n)) if labeled is not None else None
    except FeatureError as error:
        raise TeacherError(str(error)) from None
    return TeacherOutputs(logits, labeled, features, labeled_features)


def _baseline_line(baseline: BaselineRecord | None) -> str:
    """The reference point, before the teacher is fine-tuned against it."""
    if baseline is None:
        return "lexical baseline: not computed (scikit-learn failed on this data; the run goes on without it)"
    scores = ", ".join(f"{name} {value:.4f}" for name, value in baseline.valid.items() if name in ("auc", "f1", "accuracy") and value is not None)
    return f"lexical baseline (TF-IDF, logistic regression): validation {scores}"


def _baseline(spec: Spec, data: TaskData, cache_dir: Path, primary: str) -> BaselineRecord | None:
    """The lexical baseline's scores (``teacher.lexical_baseline``), cached by data and settings:
    a rerun with a cached teacher spends nothing on it. ``None`` when it cannot be fitted: a
    reference point never stops a run, nor costs it its students."""
    path = Cache(cache_dir).baseline(f"{data.fingerprint}-{spec.train.seed}-{spec.train.tune_threshold}-{primary}-{BASELINE_VERSION}")
    if path.exists():
        try:
            return BaselineRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, OSError):
            pass  # damaged: computed again and rewritten
    try:
        record = lexical_baseline(data, spec.train.seed, tune_cut=spec.train.tune_threshold, metric=primary)
    except Exception:  # noqa: BLE001 - scikit-learn on data nobody tuned to: the run goes on without its reference
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(path, record.to_dict(), indent=2)
    return record


def _trial_progress(console: Console, progress: Any, task: Any, rate: float, score: float | None) -> None:
    """The learning-rate trial as it goes (``train.teacher.learning_rate: auto``): the rate tried
    on the teacher's bar, and a line for each rate's validation score."""
    if score is None:
        progress.update(task, status=f"trying learning rate {rate:g}")
    else:
        console.print(f"teacher learning-rate trial: {rate:g} reaches validation ROC AUC {score:.4f} on a share of an epoch", highlight=False, markup=False)


def _data_line(data: TaskData) -> str:
    """What the data gave: each split's size, and the pairs a split by function had to drop."""
    sizes = data.summary()
    line = f"data {data.source}: {sizes['labeled']} labelled, {sizes['unlabeled']} unlabelled, {sizes['valid']} validation, {sizes['test']} test examples"
    if data.dropped:
        line += f"; {data.dropped} pairs dropped (their two functions fell on two sides of the split; no function is on two sides)"
    return line


def _weak_teacher_message(settings: TeacherSettings, teacher: Teacher, warning: str, auc: float) -> str:
    validation = teacher.validation
    fitted = f", fine-tuned for {validation['epochs']} of at most {validation.get('max_epochs', settings.epochs)} epochs" if "epochs" in validation else ""
    return (
        f"the teacher {settings.name} is too weak to distil from (validation ROC AUC {auc:.3f}, below {WEAK_TEACHER_AUC}{fitted}): {warning}. "
        "The run stops before probes and students are trained"
        + ("; the fine-tuned teacher is cached, so a rerun does not fine-tune it again. " if teacher.cached else ". ")
        + "To distil from it anyway, set train.teacher.accept_weak: true"
    )
