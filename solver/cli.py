"""The ``solve`` command: a thin shell over library calls that picks the exit code.

Exit codes: 0 done, 1 internal error (a bug), 2 invalid spec or run (a user's mistake or the
environment: the message says which file and what), 3 infeasible spec, 4 feasibility
undecided (Z3 gave up), 5 the run stopped because evaluations keep failing the same way,
130 interrupted.
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console

from avatar import objectives
from avatar.specs import NAMED_DATA, AvatarError, Problem, RunDirectory, RunFileError, SpaceReport, Spec, SpecError, load, parse_override

from ._errors import RepeatedFailureError, RunError, UndecidedSpaceError
from ._interrupts import watch_interrupts
from ._manifest import library_versions
from ._outputs import check_output_file
from ._run import check_run_directory, run_directory, run_lock, run_search
from .report import (
    check_report,
    front_table,
    infeasible_message,
    prediction_checks,
    ranking_warnings,
    render_check_report,
    students_table,
    training_energy_text,
    visible,
    weak_warnings,
    write_report,
)
from .search._execution import make_executor
from .search._learning import Prober
from .space._smt import DEFAULT_TIMEOUT_MS
from .space._space import InfeasibleSpecError, Space, undecided_message

if TYPE_CHECKING:
    from avatar.trainer import Distillation, TaskData

T = TypeVar("T")

__all__ = [
    "main", "build_parser", "EXIT_OK", "EXIT_INTERNAL", "EXIT_INVALID", "EXIT_INFEASIBLE", "EXIT_UNDECIDED", "EXIT_FAILING", "EXIT_WEAK_TEACHER", "EXIT_INTERRUPTED",
]  # fmt: skip

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_INVALID = 2
EXIT_INFEASIBLE = 3
EXIT_UNDECIDED = 4
EXIT_FAILING = 5
EXIT_WEAK_TEACHER = 6  # WeakTeacherError.exit_code
EXIT_INTERRUPTED = 130

DEFAULT_SMT_TIMEOUT = DEFAULT_TIMEOUT_MS / 1000
LOG_WIDTH = 200  # columns of output that goes to a file or a pipe


def build_parser() -> argparse.ArgumentParser:
    """The ``solve`` command line (its ``--help`` is the reference of every option)."""
    parser = argparse.ArgumentParser(
        prog="solve",
        description="Validate an Avatar spec, compile its feasible space, search it, and distill the chosen students.",
        epilog="Exit codes: 0 done, 1 internal error, 2 invalid spec or run, 3 infeasible spec, 4 feasibility undecided, 5 evaluations keep failing the same way, 130 interrupted.",
    )
    parser.add_argument("--version", action=_PrintVersions, nargs=0, help="print Avatar's version and its key libraries', then exit")
    parser.add_argument("spec", help="spec file (.yaml, .yml or .json)")
    parser.add_argument("--check", action="store_true", help="validate the spec and summarise its feasible space, then stop")
    parser.add_argument("--out", metavar="DIR", help="run directory (default: output.dir of the spec, else runs/<spec name>)")
    parser.add_argument("--resume", action="store_true", help="continue the run stored in the run directory")
    parser.add_argument("--jobs", type=_positive, metavar="N", help="evaluate in N local worker processes (default: execution.jobs, 1)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="evaluate on a Dask cluster, e.g. tcp://host:8786")
    parser.add_argument("--no-train", action="store_true", help="stop after the search and the selection of points")
    parser.add_argument("--train-only", action="store_true", help="train the points in an existing run's selected.json (no search)")
    parser.add_argument("--data", metavar="PATH", help="use this dataset instead of task.data")
    parser.add_argument("--teacher", metavar="ID_OR_PATH", help="use this teacher instead of train.teacher (a Hugging Face id or folder)")
    parser.add_argument(
        "--write-predictions", metavar="FILE",
        help="label every example with the teacher (fine-tuned first if it needs it) and write its logits by example id as JSON lines, "
        "for train.teacher.predictions elsewhere; then stop",
    )  # fmt: skip
    parser.add_argument("--overwrite", action="store_true", help="with --write-predictions: replace FILE if it exists (never the spec, the data or a file the spec reads)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override a spec field, e.g. --set search.evaluations=50 (repeatable; VALUE is read as YAML)")
    parser.add_argument(
        "--allow-plugin", action="append", default=[], metavar="PACKAGE",
        help="trust this top-level package for estimators.*.class references (repeatable; also AVATAR_ALLOW_PLUGINS). "
        "Without it a spec may only name classes from avatar or from installed avatar.objectives plugins",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="with --check: print one JSON document instead of tables")
    parser.add_argument(
        "--smt-timeout", type=_positive_seconds, default=DEFAULT_SMT_TIMEOUT, metavar="SECONDS",
        help=f"seconds Z3 may take per query before it gives up (default {DEFAULT_SMT_TIMEOUT:g}; each query is tried with several seeds)",
    )  # fmt: skip
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print only errors and the final line")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of internal errors")
    return parser


class _PrintVersions(argparse.Action):
    """``--version``, printed as written (argparse's own action reflows it into one paragraph)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object, option_string: str | None = None) -> None:
        print(_versions())
        parser.exit()


def _versions() -> str:
    """``solve --version``: Avatar's version, then the libraries a run records in its manifest."""
    versions = library_versions()
    avatar = versions.pop("avatar-lm", None) or "unknown"
    return f"avatar-lm {avatar}\n" + "\n".join(f"  {name} {value}" for name, value in versions.items())


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError("must be a number of seconds above 0 and at most 86400")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``solve``; returns the exit code."""
    arguments = build_parser().parse_args(argv)
    console = Console(quiet=arguments.quiet or arguments.json, highlight=False)
    errors = Console(stderr=True, highlight=False)
    for stream in (console, errors):
        if not stream.is_terminal:  # a log file or a pipe: Rich would cut tables and lines at 80 columns
            stream.width = max(stream.width, LOG_WIDTH)
    try:
        with watch_interrupts():
            return _run(arguments, console, errors)
    except InfeasibleSpecError as error:
        errors.print(visible(str(error)), markup=False, soft_wrap=True)
        return EXIT_INFEASIBLE
    except SpecError as error:
        for problem in error.problems:
            errors.print(visible(str(problem)), markup=False, soft_wrap=True)
        count = len(error.problems)
        errors.print(visible(f"{arguments.spec}: {count} problem{'s' if count != 1 else ''}; the spec is invalid"), markup=False, soft_wrap=True)
        return EXIT_INVALID
    except UndecidedSpaceError as error:
        errors.print(visible(str(error)), markup=False, soft_wrap=True)
        return EXIT_UNDECIDED
    except RepeatedFailureError as error:
        errors.print(visible(f"{arguments.spec}: {error}"), markup=False, soft_wrap=True)
        return EXIT_FAILING
    except RunError as error:
        errors.print(visible(f"{arguments.spec}: {error}"), markup=False, soft_wrap=True)
        return EXIT_INVALID
    except AvatarError as error:  # a broken plugin, unusable data, a teacher too weak to distil from, met after the checks
        errors.print(visible(f"{arguments.spec}: {error}"), markup=False, soft_wrap=True)
        return error.exit_code
    except OSError as error:  # the environment: a folder that cannot be written, a full disk
        where = f"{error.filename}: " if error.filename else ""
        full = error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        hint = "; every finished evaluation and checkpoint is on disk: free some space, then continue with --resume" if full else ""
        errors.print(visible(f"{arguments.spec}: {where}{error.strerror or error}{hint}"), markup=False, soft_wrap=True)
        return EXIT_INVALID
    except KeyboardInterrupt:
        errors.print("interrupted: every finished evaluation is stored; continue with --resume", markup=False)
        return EXIT_INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the one place that turns bugs into exit code 1
        if arguments.verbose:
            errors.print(traceback.format_exc(), markup=False)
        errors.print(
            visible(f"internal error: {type(error).__name__}: {error}\n") + "This is a bug in Avatar, not in your spec. Please report it on the Avatar issue tracker "
            "with the spec and the output of the same command run with -v.",
            markup=False,
            soft_wrap=True,
        )
        return EXIT_INTERNAL


def _run(arguments: argparse.Namespace, console: Console, errors: Console) -> int:
    try:
        objectives.allow_plugins(*arguments.allow_plugin)
    except ValueError as error:
        raise RunError(f"--allow-plugin: {error}") from None
    spec = load(arguments.spec, overrides=_overrides(arguments.set))
    objectives.validate(spec)
    if arguments.write_predictions:
        return _write_predictions(spec, arguments, console)
    if not arguments.check and not arguments.train_only:
        check_run_directory(run_directory(spec, arguments.out), arguments.resume)
    will_train = not arguments.check and not arguments.no_train and bool(arguments.train_only or arguments.teacher or spec.train.teacher)
    estimators = _read_estimators(spec, errors)  # built once: the space and the search use these
    learns = [metric for metric, estimator in estimators.items() if estimator.kind == "learned"]
    if learns and not (arguments.teacher or spec.train.teacher):
        path = ("objectives", learns[0]) if any(objective.metric == learns[0] for objective in spec.objectives) else ("estimators", learns[0])
        message = f"'{learns[0]}' is learned from probes (short distillations from the teacher): set train.teacher (or pass --teacher), or use the zero-cost 'accuracy_proxy'"
        raise SpecError([Problem(spec.source, spec.locate(path), path, message)])
    preloaded = None  # the task's data, read by the checks before the search and used after it
    if will_train or (learns and not arguments.check):
        from avatar.trainer import preflight

        preloaded = preflight(spec, data=arguments.data, teacher=arguments.teacher)
    space = Space.from_spec(spec, estimators=estimators, smt_timeout=arguments.smt_timeout)
    report = check_report(space)
    if arguments.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        render_check_report(report, console)
    if report.feasible is False:
        errors.print(visible(infeasible_message(report)), markup=False, soft_wrap=True)
        return EXIT_INFEASIBLE
    if report.feasible is None:
        errors.print(visible(undecided_message(spec.source, space.smt_timeout)), markup=False, soft_wrap=True)
        return EXIT_UNDECIDED
    console.print("[green]✓[/green] ", end="")
    console.print(visible(f"{arguments.spec} is valid and feasible"), markup=False)
    if arguments.check:
        _warn_missing_data(spec, arguments, errors, bool(learns))
        return EXIT_OK
    if arguments.no_train:  # a search of closed forms and measurements needs no data; say what will
        _warn_missing_data(spec, arguments, errors, bool(learns), searching=True)
    directory = run_directory(spec, arguments.out)
    with run_lock(directory):
        if not arguments.train_only:
            check_run_directory(directory, arguments.resume)  # again, now that no other solve can start here
        return _run_and_train(spec, space, report, directory, arguments, console, learns, will_train, preloaded)


def _read_estimators(spec: Spec, errors: Console) -> dict[str, objectives.Estimator]:
    """The spec's estimators, less a learned one that no objective or constraint reads: its
    probes would cost minutes and steer nothing. The user is told, in case an objective is missing."""
    estimators = objectives.estimators_for(spec)
    searched = objectives.searched_metrics(spec)
    for metric in [name for name, estimator in estimators.items() if estimator.kind == "learned" and name not in searched]:
        del estimators[metric]
        _warn(
            spec,
            ("estimators", metric),
            f"estimators.{metric} is set, but no objective or constraint reads '{metric}': it is not learned and no probe runs (add '{metric}: maximize' under objectives to search by it)",
            errors,
        )
    return estimators


def _warn(spec: Spec, path: tuple[str, ...], text: str, errors: Console) -> None:
    """A warning about the spec field at ``path``, located as errors are: ``FILE:LINE:COL: warning: ...``."""
    location_in_file = str(spec.locate(path))
    where = f"{spec.source}:{location_in_file}: " if location_in_file else f"{spec.source}: "
    errors.print(visible(f"{where}warning: {text}"), markup=False, soft_wrap=True, style="yellow")


def _warn_missing_data(spec: Spec, arguments: argparse.Namespace, errors: Console, learns: bool, *, searching: bool = False) -> None:
    """``--check`` validates the spec, not the data, and ``--no-train`` (``searching``) searches
    without it; but a spec that trains (or learns a metric from probes) will need its data, and a
    newcomer should hear it is missing now, not after a search."""
    if not (learns or arguments.teacher or spec.train.teacher):
        return
    location = spec.task_data(arguments.data)
    if location.startswith(NAMED_DATA) or Path(location).exists():
        return
    now = " (the search goes on without it: --no-train needs none)" if searching else ""
    _warn(spec, ("task", "data"), f"task.data {location} does not exist{now}; training{' and the probes' if learns else ''} will need it: get the data, or pass --data PATH", errors)


def _run_and_train(
    spec: Spec, space: Space, report: SpaceReport, directory: Path, arguments: argparse.Namespace, console: Console, learns: list[str], will_train: bool, preloaded: TaskData | None = None
) -> int:
    distillation = None
    if not arguments.train_only:
        prober = None
        if learns:
            distillation = _prepare(spec, arguments, console, preloaded)
            prober = _prober(distillation, console)
        outcome = run_search(space, report, out=arguments.out, resume=arguments.resume, jobs=arguments.jobs, scheduler=arguments.scheduler, console=console, prober=prober, report=not will_train)
        console.print(front_table(spec, outcome))
        console.print(visible(f"Search stopped: {outcome.result.stopped_because}. {len(outcome.result.evaluations)} evaluations, {len(outcome.selected)} point(s) selected."), markup=False)
    if not will_train and not arguments.no_train:
        console.print("train.teacher is not set: stopping after the search (set it, or pass --teacher, to distil the selected points)")
    run = RunDirectory(directory)
    if will_train:
        try:
            _train(space, run, arguments, console, distillation, preloaded)
        except BaseException:
            _render_what_stands(run, spec)
            raise
        write_report(run, spec)  # once, at the end, from the records of the search and the students
    console.print(visible(f"Results in {directory}/: " + ", ".join(run.results())), markup=False)
    return EXIT_OK


def _write_predictions(spec: Spec, arguments: argparse.Namespace, console: Console) -> int:
    """``--write-predictions FILE``: the teacher's logits on every example, then stop."""
    from avatar.trainer import write_teacher_predictions

    path = Path(arguments.write_predictions)
    check_output_file(path, spec, option="--write-predictions", data=arguments.data, overwrite=arguments.overwrite)
    count = _as_spec_errors(spec, lambda: write_teacher_predictions(spec, path, data=arguments.data, teacher=arguments.teacher, console=console))
    console.print(visible(f"Wrote the teacher's logits on {count} examples to {path} (use it as train.teacher.predictions)"), markup=False)
    return EXIT_OK


def _prepare(spec: Spec, arguments: argparse.Namespace, console: Console, preloaded: TaskData | None = None) -> Distillation:
    """Data (``preloaded`` when the checks read it), teacher and its logits (imports torch only
    now; large splits labelled on the run's workers); user mistakes become spec errors."""
    from avatar.trainer import prepare_distillation

    executor = make_executor(arguments.jobs or spec.execution.jobs, arguments.scheduler or spec.execution.scheduler)
    try:
        return _as_spec_errors(spec, lambda: prepare_distillation(spec, data=arguments.data, teacher=arguments.teacher, console=console, executor=executor, task_data=preloaded))
    finally:
        executor.shutdown()


def _as_spec_errors(spec: Spec, work: Callable[[], T]) -> T:
    """``work()``, with the data's and the teacher's user mistakes as spec errors at the field
    they are about."""
    from avatar.trainer import DataError, PredictionsError, TeacherError

    try:
        return work()
    except DataError as error:  # it names the spec field the problem is about (task.data, task.fields.label, ...)
        raise SpecError([Problem(spec.source, spec.locate(error.field), error.field, str(error))]) from None
    except PredictionsError as error:
        path = ("train", "teacher", "predictions")
        raise SpecError([Problem(spec.source, spec.locate(path), path, str(error))]) from None
    except TeacherError as error:
        raise SpecError([Problem(spec.source, spec.locate(("train", "teacher")), ("train", "teacher"), str(error))]) from None


def _prober(distillation: Distillation, console: Console) -> Prober:
    from avatar.trainer import DistillationProber

    return DistillationProber(distillation, progress=lambda line: console.print(visible(line), markup=False, highlight=False))


def _overrides(assignments: Sequence[str]) -> dict[str, object]:
    """``FIELD=VALUE`` pairs from ``--set``, values read with the spec file's rules."""
    return dict(parse_override(assignment) for assignment in assignments)


def _render_what_stands(run: RunDirectory, spec: Spec) -> None:
    """Training stopped: render the report of what the run holds (the search's results), if it
    can be; the error that stopped training is the one to report, never one from rendering."""
    try:
        write_report(run, spec)
    except Exception:  # noqa: BLE001 - best effort, the original error follows
        pass


def _train(space: Space, run: RunDirectory, arguments: argparse.Namespace, console: Console, distillation: Distillation | None, preloaded: TaskData | None = None) -> None:
    """Distil the selected points (imports torch only now)."""
    from avatar.trainer import train_selected

    spec = space.spec
    selection = run.selection()
    try:
        selection.check_parameters(spec.parameter_names)
    except ValueError as error:
        raise RunFileError(f"{run.selected} is damaged or holds points of another spec ({error}): run the search again (solve SPEC --resume) to rewrite it") from None
    distillation = distillation or _prepare(spec, arguments, console, preloaded)
    executor = make_executor(arguments.jobs or spec.execution.jobs, arguments.scheduler or spec.execution.scheduler)  # several: one student per worker
    try:
        students = train_selected(space, selection.points, run, console=console, distillation=distillation, executor=executor)
    finally:
        executor.shutdown()
    console.print(students_table(students))
    energy = training_energy_text(students)
    if energy:
        console.print(visible(energy), markup=False, soft_wrap=True)
    checks = prediction_checks(students)
    for check in checks:
        rho = "n/a" if check.spearman is None else f"{check.spearman:.3f}"
        console.print(visible(f"{check.metric} predicted against realised over {len(check.keys)} students: Spearman {rho}, MAE {check.mae:.4f}"), markup=False, soft_wrap=True)
    for warning in [*weak_warnings(students), *ranking_warnings(checks)]:
        console.print(visible(f"warning: {warning}"), markup=False, soft_wrap=True)


if __name__ == "__main__":
    sys.exit(main())
