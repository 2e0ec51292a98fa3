"""What an executor runs: a task (an evaluation or a probe) and its result, which never raises.

A task runs under its timeout (a signal in a process's main thread; a pool also kills a worker
that runs past it), and any exception or exit of estimator code becomes a failed result, so the
search goes on; only a real Ctrl-C propagates.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from avatar import objectives
from avatar.specs import Spec, describe_error

from .._interrupts import is_real_interrupt

__all__ = ["EvaluationTask", "Task", "TaskResult", "EvaluationTimeout", "run_task", "timeout_message"]


@dataclass(frozen=True)
class EvaluationTask:
    """Everything a worker needs to evaluate one configuration (picklable)."""

    spec: Spec
    config: dict[str, Any]
    metrics: tuple[str, ...]
    estimators: Mapping[str, objectives.Estimator]
    context: objectives.Context
    timeout: float | None = None

    def run(self) -> dict[str, Any]:
        return objectives.evaluate(self.spec, self.config, self.metrics, context=self.context, estimators=self.estimators)

    @property
    def isolated(self) -> bool:
        """Whether it runs third-party estimator code, which runs in a worker process even with
        one job: code that ends its process (``os._exit``, a crash in C) then fails one
        evaluation instead of the run."""
        return any(_third_party(self.estimators[name]) for name in self.metrics if name in self.estimators)

    def picklable(self) -> EvaluationTask:
        """The task without what cannot cross a process boundary (the context's sampler)."""
        return replace(self, context=replace(self.context, sample_configurations=None))


def _third_party(estimator: Any) -> bool:
    kind = type(estimator)
    return not kind.__module__.startswith("avatar.") and not getattr(kind, "in_process", False)


class Task(Protocol):
    """What an executor runs: ``run()`` returns metric values; ``timeout`` in seconds or None."""

    @property
    def timeout(self) -> float | None: ...

    def run(self) -> Mapping[str, Any]: ...

    def picklable(self) -> Task: ...


@dataclass(frozen=True)
class TaskResult:
    """Metric values, or the error that stopped the task, and the seconds it took."""

    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


class EvaluationTimeout(BaseException):
    """Raised in an evaluation that ran past its timeout. A ``BaseException``, so an estimator's
    ``except Exception`` does not swallow it (one that swallows everything is stopped by its
    worker being killed)."""


@contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (only where signals can: a process's main thread)."""
    usable = seconds is not None and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    assert seconds is not None  # usable says so

    def expire(signum: int, frame: Any) -> None:
        raise EvaluationTimeout(timeout_message(seconds))

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def timeout_message(seconds: float | None) -> str:
    """Why an evaluation stopped: it ran past ``search.evaluation_timeout``."""
    return f"the evaluation took longer than its {seconds:g} s timeout (search.evaluation_timeout)"


def run_task(task: Task) -> TaskResult:
    """Run one task (an evaluation or a probe); never raises (a failure is a result), except for
    a real Ctrl-C (see ``_interrupts``)."""
    started = time.perf_counter()
    try:
        with _deadline(task.timeout):
            values = dict(task.run())
        return TaskResult(values, None, time.perf_counter() - started)
    except EvaluationTimeout as error:
        return TaskResult({}, str(error), time.perf_counter() - started)
    except Exception as error:  # noqa: BLE001 - any estimator failure is recorded, not raised
        return TaskResult({}, describe_error(error), time.perf_counter() - started)
    except BaseException as error:  # SystemExit and friends: plugin code must not end the run
        if is_real_interrupt(error):
            raise
        detail = describe_error(error, with_arguments=True)
        return TaskResult({}, f"the estimator raised {detail}; an estimator must raise an exception, never exit or interrupt the process", time.perf_counter() - started)
