"""A whole run of ``solve SPEC``: the run directory, the search, and its results on disk."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from filelock import FileLock, Timeout

from rich.console import Console
from rich.table import Table

from avatar import objectives
from avatar.specs import Spec

from ._errors import RunError
from .search._execution import Executor, make_executor
from ._manifest import search_hash, write_manifest
from .report._html import write_html_report
from .report._learning_report import write_learning_section
from .search._learning import LearnedMetric, Prober, learned_estimators, mark_step, probe_source, steps_done
from .report._progress import ProbeProgress, SearchProgress
from .report._results import kept_text, plot_front, select, student_rows, write_front, write_report, write_selected
from .search._search import Search, SearchHooks, SearchResult
from .space._space import Space
from .search._store import Evaluation, RunStore
from .report._terminal import plain

__all__ = ["RunError", "RunOutcome", "run_directory", "check_run_directory", "is_run_directory", "run_lock", "run_search", "front_table", "students_table"]

STORE = "evaluations.sqlite"
LOCK = ".avatar.lock"


@dataclass
class RunOutcome:
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
        manifest = json.loads((directory / "manifest.json").read_text())
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
        raise RunError(
            f"{directory} holds a run of a different search (the spec changed in more than its budget, execution, "
            "output or training settings); start a new run with --out"
        )
    recorded_source = store.get_meta("probe_source")
    if source is not None and recorded_source is not None and recorded_source != source:
        store.close()
        raise RunError(
            f"{directory} holds a run whose probes were distilled from another teacher, other data or other distillation "
            "settings (train.teacher, task.data, --teacher, --data, train.temperature, hard_label_weight, patience or seed changed); "
            "its predictions would mix both: start a new run with --out"
        )
    store.set_meta("search_hash", search_hash(spec))
    if source is not None:
        store.set_meta("probe_source", source)
    return store


def run_search(
    spec: Spec,
    space: Space,
    check: dict[str, Any],
    *,
    out: str | None = None,
    resume: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    console: Console | None = None,
    hooks: Sequence[SearchHooks] = (),
    prober: Prober | None = None,
) -> RunOutcome:
    """Search ``space`` and write every result into the run directory.

    With a learned metric (``accuracy``), ``prober`` measures its probes and the run alternates
    probe stages and search rounds (see ``_learning``).
    """
    console = console or Console(quiet=True)
    directory = run_directory(spec, out)
    directory.mkdir(parents=True, exist_ok=True)
    learned = learned_estimators(space)
    store = _open_store(directory, spec, resume, probe_source(prober) if learned else None)
    progress = SearchProgress(console)
    probe_progress = ProbeProgress(console)
    owned = executor is None
    executor = executor or make_executor(jobs or spec.execution.jobs, scheduler or spec.execution.scheduler)
    try:
        (directory / "space.json").write_text(json.dumps(check, indent=2, default=str))
        manifest = write_manifest(directory, spec, seeds={"search": spec.search.seed, "sample": spec.search.seed}, command=list(sys.argv))
        learning: list[LearnedMetric] = []
        if learned:
            if prober is None:
                names = ", ".join(f"'{name}'" for name in learned)
                raise RunError(f"{names} is learned from probes (short distillations): the run needs a teacher (train.teacher or --teacher)")
            learning = [LearnedMetric(name, estimator, space, store, prober, [probe_progress]) for name, estimator in learned.items()]
            result = _search_with_learning(spec, space, store, learning, executor, [progress, *hooks])
        else:
            result = Search(spec, space, store, executor=executor, hooks=[progress, *hooks]).run()
        selected = select(result, spec.train.select)
        write_front(directory, spec, result)
        write_selected(directory, selected, spec.train.select)
        if result.evaluations:
            plot_front(directory / "pareto.png", result, selected)
        learning_summary = [_learning_summary(item, result, space) for item in learning]
        if learning_summary:
            (directory / "learning.json").write_text(json.dumps(learning_summary, indent=2))
        write_report(directory, spec, check, result, selected, manifest)
        write_learning_section(directory)
        write_html_report(directory)
        return RunOutcome(directory, result, selected)
    finally:
        progress.close()
        probe_progress.close()
        if owned:
            executor.shutdown()
        store.close()


def _search_with_learning(
    spec: Spec, space: Space, store: RunStore, learning: list[LearnedMetric], executor: Executor, hooks: Sequence[SearchHooks]
) -> SearchResult:
    """Probe stage 0, search round 0, probe stage 1, search round 1, ...; finished steps of a
    resumed run are skipped (never replayed with a later surrogate)."""
    rounds = max(item.estimator.rounds for item in learning)
    done = steps_done(store)
    context = space.context or objectives.Context.from_spec(spec)
    result: SearchResult | None = None
    for stage in range(rounds):
        probe_step, search_step = 2 * stage, 2 * stage + 1
        if probe_step >= done:
            for item in learning:
                if stage == 0:
                    configs = item.initial_design()
                else:
                    configs = item.candidates(_round_search(spec, space, store, stage - 1, executor, ()).result(), item.estimator.per_round)
                item.probe(configs, stage, executor)
        for item in learning:  # also on resume: the surrogate of this round, from its probes
            item.fit(stage)
        if probe_step >= done:
            if stage > 0:
                for item in learning:
                    item.rescore(context)
            mark_step(store, probe_step)
        last = stage == rounds - 1
        if search_step >= done or last:
            result = _round_search(spec, space, store, stage, executor, hooks).run()
            mark_step(store, search_step)
    assert result is not None
    return result


def _round_search(spec: Spec, space: Space, store: RunStore, stage: int, executor: Executor, hooks: Sequence[SearchHooks]) -> Search:
    """Search round ``stage``: its own seed, a cumulative budget, generations numbered on."""
    offsets = store.get_meta("round_offsets", [])
    if stage >= len(offsets):
        generations = [row["generation"] for row in store.generations()] + [evaluation.generation for evaluation in store.evaluations()]
        offsets = offsets + [max(generations) + 1 if generations else 0]
        store.set_meta("round_offsets", offsets)
    return Search(
        spec, space, store, executor=executor, hooks=hooks, seed=spec.search.seed + stage, evaluations=spec.search.evaluations * (stage + 1), generation_offset=offsets[stage]
    )


def _learning_summary(item: LearnedMetric, result: SearchResult, space: Space) -> dict[str, Any]:
    """What the report shows of a learned metric: fits, probes, and the predicted front."""
    context = space.context or objectives.Context.from_spec(space.spec)
    probes = item.probes()
    measured = [probe for probe in probes if probe.ok]
    validation = item.estimator.validation_
    out_of_fold = dict(zip(((probe.key, item.level(probe)) for probe in measured), validation.predictions)) if validation and len(validation.predictions) == len(measured) else {}
    return {
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
        "front": [{"key": evaluation.key, "predicted": evaluation.metrics.get(item.name), "std": evaluation.metrics.get(f"{item.name}_std"), **{name: evaluation.metrics[name] for name in result.objective_names}} for evaluation in result.front],
    }


def front_table(spec: Spec, outcome: RunOutcome, *, max_rows: int = 20, max_parameters: int = 4) -> Table:
    """The front as a rich table: objectives, then the parameters that vary most on it (all of
    it is in pareto.csv)."""
    result = outcome.result
    chosen = {evaluation.key for evaluation, _ in outcome.selected}
    spread = {name: len({repr(evaluation.config[name]) for evaluation in result.front}) for name in spec.parameter_names}
    varying = sorted((name for name in spec.parameter_names if spread[name] > 1), key=lambda name: -spread[name])[:max_parameters]
    varying = [name for name in spec.parameter_names if name in varying]
    shown = f", {max_rows} shown; all in pareto.csv" if len(result.front) > max_rows else ""
    table = Table(title=f"Feasible Pareto front: {len(result.front)} points{shown} (hypervolume {result.hypervolume:.4f})", title_justify="left")
    for name, direction in zip(result.objective_names, result.directions):
        table.add_column(f"{name} ({'max' if direction == 'maximize' else 'min'})", justify="right")
    for name in varying:
        table.add_column(name, justify="right")
    table.add_column("selected")
    order = sorted(result.front, key=lambda evaluation: evaluation.metrics[result.objective_names[0]])
    if len(order) > max_rows:  # the selected points, then an even spread of the others
        picked = [evaluation for evaluation in order if evaluation.key in chosen]
        others = [evaluation for evaluation in order if evaluation.key not in chosen]
        step = len(others) / max(1, max_rows - len(picked))
        picked += [others[int(index * step)] for index in range(max_rows - len(picked))]
        order = [evaluation for evaluation in order if evaluation in picked]
    for evaluation in order:
        cells = [f"{evaluation.metrics[name]:.4g}" for name in result.objective_names]
        cells += [plain(evaluation.config[name]) for name in varying]
        table.add_row(*cells, "●" if evaluation.key in chosen else "")
    return table


def students_table(summary: dict[str, Any], primary: str) -> Table:
    """The realised students against the teacher."""
    teacher = summary["teacher"]
    table = Table(title="Realised students (test split)", title_justify="left")
    for column in ("model", "size MB", "latency ms", primary, "smaller", "faster", f"{primary} kept"):
        table.add_column(column, justify="right")
    table.add_row("teacher", f"{teacher['size_mb']:.2f}", f"{teacher['latency_ms']:.2f}", f"{teacher['test'][primary]:.4f}", "", "", "")
    for name, student in student_rows(summary):
        table.add_row(
            name,
            f"{student['size_mb']:.3f}",
            f"{student['latency_ms']:.2f}",
            f"{student['test'][primary]:.4f}",
            f"{teacher['size_mb'] / student['size_mb']:.0f}x",
            f"{teacher['latency_ms'] / student['latency_ms']:.0f}x",
            kept_text(student["test"][primary], teacher["test"][primary], primary),
        )
    return table
