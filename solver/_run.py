"""A whole run of ``solve SPEC``: the run directory, the search, and its results on disk."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout
from rich.console import Console

from avatar.specs import LearningRecord, RunDirectory, SpaceReport, Spec

from ._errors import RunError
from ._manifest import search_hash, write_manifest
from .report import ProbeProgress, SearchProgress, axis_labels, check_report, plot_front, select, selection_of, write_front, write_report
from .search._execution import Executor, make_executor
from .search._learning import LearnedMetric, Prober, learned_estimators, mark_step, probe_source, steps_done
from .search._search import Search, SearchHooks, SearchResult
from .search._store import Evaluation, RunStore
from .space import Space

__all__ = ["RunError", "RunOutcome", "run_directory", "check_run_directory", "is_run_directory", "run_lock", "run_search"]

STORE = RunDirectory.STORE
LOCK = RunDirectory.LOCK


@dataclass
class RunOutcome:
    """What a finished search leaves: its run directory, the search result and the selected points."""

    directory: Path
    result: SearchResult
    selected: list[tuple[Evaluation, str]]


def run_directory(spec: Spec, out: str | None) -> Path:
    """``--out``, else the spec's ``output.dir``, else ``runs/<name>``."""
    return Path(out or spec.output.dir or Path("runs") / spec.name)


def check_run_directory(directory: Path, resume: bool) -> None:
    """Refuse to start over a stored run unless asked to resume it, and to write into anything
    but a new or empty folder or an Avatar run directory (a user's files are never overwritten)."""
    if directory.exists() and not directory.is_dir():
        raise RunError(f"{directory} is not a folder: the run directory must be a new or empty folder (choose one with --out)")
    if (directory / STORE).exists() and not (directory / STORE).is_file():
        raise RunError(f"{directory / STORE} is a folder, not a run store: move it away, or choose another directory with --out")
    if (directory / STORE).exists() and not resume:
        raise RunError(f"{directory} already holds a run; continue it with --resume, or choose another directory with --out")
    if directory.is_dir() and not is_run_directory(directory):
        others = sorted(path.name for path in directory.iterdir() if path.name != LOCK)
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise RunError(f"{directory} is not empty ({shown}) and holds no Avatar run: refusing to write into it; choose a new or empty folder with --out")


def is_run_directory(directory: Path) -> bool:
    """Whether ``directory`` holds an Avatar run (its store, or a manifest Avatar wrote)."""
    if (directory / STORE).is_file():
        return True
    try:
        manifest = json.loads((directory / RunDirectory.MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and isinstance(manifest.get("spec"), dict) and "search_hash" in manifest["spec"]


@contextmanager
def run_lock(directory: Path) -> Iterator[None]:
    """Hold the run directory for this process: a second ``solve`` on it refuses at once (the
    lock dies with its process, so a killed run never leaves the folder locked)."""
    lock = FileLock(directory / LOCK, timeout=0)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:  # before OSError: filelock's Timeout is a TimeoutError
        raise RunError(f"{directory} is in use by another solve process; wait for it to finish, or choose another directory with --out") from None
    except OSError as error:
        raise RunError(f"cannot create or write the run directory {directory}: {error.strerror or error}") from None
    try:
        yield
    finally:
        lock.release()


def _open_store(directory: Path, spec: Spec, resume: bool, source: str | None = None) -> RunStore:
    """The run's store; a resumed run must be the same search, and its probes (when it learns a
    metric) must come from the same ``source`` (teacher, data and distillation settings)."""
    check_run_directory(directory, resume)
    store = RunStore(directory / STORE)
    recorded = store.get_meta("search_hash")
    if recorded is not None and recorded != search_hash(spec):
        store.close()
        raise RunError(f"{directory} holds a run of a different search (the spec changed in more than its budget, execution, output or training settings); start a new run with --out")
    recorded_source = store.get_meta("probe_source")
    if source is not None and recorded_source is not None and recorded_source != source:
        store.close()
        raise RunError(
            f"{directory} holds a run whose probes were distilled from another teacher, other data or other distillation "
            "settings (train.teacher, task.data, --teacher, --data, train.distill, temperature, hard_label_weight, patience or seed changed); "
            "its predictions would mix both: start a new run with --out (a run begun before 2026-12-06 without train.distill "
            "distilled with logits, the default then: resume it with --set train.distill=logits)"
        )
    store.set_meta("search_hash", search_hash(spec))
    if source is not None:
        store.set_meta("probe_source", source)
    return store


def run_search(
    space: Space,
    check: SpaceReport | None = None,
    *,
    out: str | None = None,
    resume: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    console: Console | None = None,
    hooks: Sequence[SearchHooks] = (),
    prober: Prober | None = None,
    report: bool = True,
) -> RunOutcome:
    """Search ``space`` and write every result into the run directory; with ``report``, render
    ``report.md`` and ``report.html`` (``solve`` renders them itself after training instead).

    With a learned metric (``accuracy``), ``prober`` measures its probes and the run alternates
    probe stages and search rounds (see ``_learning``).
    """
    spec = space.spec
    check = check_report(space) if check is None else check
    console = console or Console(quiet=True)
    directory = run_directory(spec, out)
    directory.mkdir(parents=True, exist_ok=True)
    learned = learned_estimators(space)
    store = _open_store(directory, spec, resume, probe_source(prober) if learned else None)
    progress = SearchProgress(console)
    probe_progress = ProbeProgress(console)
    owned = executor is None
    executor = executor or make_executor(jobs or spec.execution.jobs, scheduler or spec.execution.scheduler)
    run = RunDirectory(directory)
    try:
        run.write_space_report(check)
        write_manifest(run, spec, seeds={"search": spec.search.seed, "sample": spec.search.seed}, command=list(sys.argv))
        learning: list[LearnedMetric] = []
        if learned:
            if prober is None:
                names = ", ".join(f"'{name}'" for name in learned)
                raise RunError(f"{names} is learned from probes (short distillations): the run needs a teacher (train.teacher or --teacher)")
            learning = [LearnedMetric(name, estimator, space, store, prober, [probe_progress]) for name, estimator in learned.items()]
            result = _search_with_learning(space, store, learning, executor, [progress, *hooks])
        else:
            result = Search(space, store, executor=executor, hooks=[progress, *hooks]).run()
        store.set_meta("stopped_because", result.stopped_because)
        selected = select(result, spec.train.select)
        write_front(directory, spec, result)
        run.write_selection(selection_of(selected, spec.train.select))
        if result.evaluations:
            plot_front(directory / RunDirectory.PARETO_PNG, result, selected, axis_labels(spec, learned))
        if learning:
            run.write_learning([_learning_record(item, result, space) for item in learning])
    finally:
        progress.close()
        probe_progress.close()
        if owned:
            executor.shutdown()
        store.close()
    if report:
        write_report(run, spec)
    return RunOutcome(directory, result, selected)


def _search_with_learning(space: Space, store: RunStore, learning: list[LearnedMetric], executor: Executor, hooks: Sequence[SearchHooks]) -> SearchResult:
    """Probe stage 0, search round 0, probe stage 1, search round 1, ...; finished steps of a
    resumed run are skipped (never replayed with a later surrogate)."""
    rounds = max(item.estimator.rounds for item in learning)
    done = steps_done(store)
    result: SearchResult | None = None
    for stage in range(rounds):
        probe_step, search_step = 2 * stage, 2 * stage + 1
        if probe_step >= done:
            for item in learning:
                if stage == 0:
                    configs = item.initial_design()
                else:
                    configs = item.candidates(_round_search(space, store, stage - 1, executor, ()).result(), item.estimator.per_round, stage)
                item.probe(configs, stage, executor)
        for item in learning:  # also on resume: the surrogate of this round, from its probes
            item.fit(stage)
        if probe_step >= done:
            if stage > 0:
                for item in learning:
                    item.rescore(space.context)
            mark_step(store, probe_step)
        last = stage == rounds - 1
        if search_step >= done or last:
            result = _round_search(space, store, stage, executor, hooks).run()
            mark_step(store, search_step)
    assert result is not None
    return result


def _round_search(space: Space, store: RunStore, stage: int, executor: Executor, hooks: Sequence[SearchHooks]) -> Search:
    """Search round ``stage``: its own seed, a cumulative budget, generations numbered on."""
    settings = space.spec.search
    offsets = store.get_meta("round_offsets", [])
    if stage >= len(offsets):
        generations = [row["generation"] for row in store.generations()] + [evaluation.generation for evaluation in store.evaluations()]
        offsets = offsets + [max(generations) + 1 if generations else 0]
        store.set_meta("round_offsets", offsets)
    return Search(space, store, executor=executor, hooks=hooks, seed=settings.seed + stage, evaluations=settings.evaluations * (stage + 1), generation_offset=offsets[stage])


def _learning_record(item: LearnedMetric, result: SearchResult, space: Space) -> LearningRecord:
    """What the report shows of a learned metric: fits, probes, and the predicted front."""
    context = space.context
    probes = item.probes()
    measured = [probe for probe in probes if probe.ok]
    validation = item.estimator.validation_
    out_of_fold: dict[tuple[str, int], float] = {}
    if validation is not None:  # predictions of all the probes, or of the ones its points name
        predicted = [measured[index] for index in validation.points] if validation.points and max(validation.points) < len(measured) else measured
        if len(validation.predictions) == len(predicted):
            out_of_fold = dict(zip(((probe.key, item.level(probe)) for probe in predicted), validation.predictions))
    return LearningRecord.from_dict(
        {
            "metric": item.name,
            "method": item.estimator.method(context),
            "fidelity": item.estimator.fidelity,
            "promoted": getattr(item.estimator, "promoted_fidelity", None),
            "surrogate": item.estimator.surrogate,
            "fits": item.history,
            "probes": [
                {
                    "key": probe.key,
                    "stage": probe.stage,
                    "level": item.level(probe),
                    "status": probe.status,
                    "measured": probe.value,
                    "error": probe.error,
                    "seconds": probe.seconds,
                    "out_of_fold": out_of_fold.get((probe.key, item.level(probe))),
                    "config": probe.config,
                }
                for probe in probes
            ],
            "front": [
                {
                    "key": evaluation.key,
                    "predicted": evaluation.metrics.get(item.name),
                    "std": evaluation.metrics.get(f"{item.name}_std"),
                    **{name: evaluation.metrics[name] for name in result.objective_names},
                }
                for evaluation in result.front
            ],
        }
    )
