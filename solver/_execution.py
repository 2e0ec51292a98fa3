"""Where evaluations run: in this process, a local process pool, or a Dask cluster.

One small interface (``submit`` a task, iterate results ``as_completed``, ``shutdown``), so the
search never cares which. Tasks are submitted as soon as they exist; a pool hands the next one
to whichever worker frees up first. An evaluation that raises or runs past its timeout comes
back as a failed result; the search goes on.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import signal
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator, Mapping, Protocol

from avatar import objectives
from avatar.specs import Spec

__all__ = ["Task", "EvaluationTask", "TaskResult", "run_task", "Executor", "SerialExecutor", "PoolExecutor", "DaskExecutor", "make_executor"]


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

    def picklable(self) -> "EvaluationTask":
        """The task without what cannot cross a process boundary (the context's sampler)."""
        return replace(self, context=replace(self.context, sample_configurations=None))


class Task(Protocol):
    """What an executor runs: ``run()`` returns metric values; ``timeout`` in seconds or None."""

    timeout: float | None

    def run(self) -> Mapping[str, Any]: ...

    def picklable(self) -> "Task": ...


@dataclass(frozen=True)
class TaskResult:
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


class EvaluationTimeout(Exception):
    pass


@contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (only where signals can: a process's main thread)."""
    usable = seconds is not None and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise EvaluationTimeout(f"the evaluation took longer than its {seconds:g} s timeout")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_task(task: Task) -> TaskResult:
    """Run one task (an evaluation or a probe); never raises (a failure is a result)."""
    started = time.perf_counter()
    try:
        with _deadline(task.timeout):
            values = dict(task.run())
        return TaskResult(values, None, time.perf_counter() - started)
    except EvaluationTimeout as error:
        return TaskResult({}, str(error), time.perf_counter() - started)
    except Exception as error:  # noqa: BLE001 - any estimator failure is recorded, not raised
        detail = traceback.format_exception_only(type(error), error)[-1].strip()
        return TaskResult({}, detail, time.perf_counter() - started)


class Executor:
    """Runs tasks; ``results`` yields ``(task id, TaskResult)`` as they complete."""

    workers: int = 1

    def submit(self, task_id: int, task: Task) -> None:
        raise NotImplementedError

    def results(self) -> Iterator[tuple[int, TaskResult]]:
        raise NotImplementedError

    def shutdown(self) -> None:
        pass


class SerialExecutor(Executor):
    """Runs each task in this process when its result is asked for (``--jobs 1``)."""

    def __init__(self) -> None:
        self.pending: list[tuple[int, Task]] = []

    def submit(self, task_id: int, task: Task) -> None:
        self.pending.append((task_id, task))

    def results(self) -> Iterator[tuple[int, TaskResult]]:
        while self.pending:
            task_id, task = self.pending.pop(0)
            yield task_id, run_task(task)


class _FutureExecutor(Executor):
    """Shared logic of executors that hand out futures."""

    def __init__(self) -> None:
        self.futures: dict[Any, tuple[int, float, float | None]] = {}

    def _submit(self, task: Task) -> Any:
        raise NotImplementedError

    def _wait(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        raise NotImplementedError

    def _cancel(self, future: Any) -> None:
        future.cancel()

    def submit(self, task_id: int, task: Task) -> None:
        self.futures[self._submit(task.picklable())] = (task_id, time.monotonic(), task.timeout)

    def results(self) -> Iterator[tuple[int, TaskResult]]:
        while self.futures:
            done = self._wait(list(self.futures), timeout=1.0)
            for future in done:
                task_id, _, _ = self.futures.pop(future)
                try:
                    yield task_id, future.result()
                except Exception as error:  # noqa: BLE001 - a lost worker fails its task only
                    yield task_id, TaskResult({}, f"the worker failed: {type(error).__name__}: {error}")
            now = time.monotonic()
            for future, (task_id, submitted, timeout) in list(self.futures.items()):
                if timeout is not None and now - submitted > timeout + 5.0:  # the worker could not stop it itself
                    self.futures.pop(future)
                    self._cancel(future)
                    yield task_id, TaskResult({}, f"the evaluation took longer than its {timeout:g} s timeout")


class PoolExecutor(_FutureExecutor):
    """A local process pool (``--jobs N``)."""

    def __init__(self, workers: int) -> None:
        super().__init__()
        self.workers = workers
        self.pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))

    def _submit(self, task: Task) -> Any:
        return self.pool.submit(run_task, task)

    def _wait(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        done, _ = concurrent.futures.wait(futures, timeout=timeout, return_when=concurrent.futures.FIRST_COMPLETED)
        return done

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class DaskExecutor(_FutureExecutor):
    """A Dask distributed cluster (``--scheduler tcp://host:8786``), or a given client."""

    def __init__(self, address: str | None = None, client: Any = None) -> None:
        super().__init__()
        try:
            import distributed
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise RuntimeError("running on a Dask cluster needs the 'dask' extra: pip install 'avatar-lm[dask]'") from error
        self.distributed = distributed
        self.owns_client = client is None
        self.client = client or distributed.Client(address)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def _submit(self, task: Task) -> Any:
        return self.client.submit(run_task, task, pure=False)

    def _wait(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        try:
            done = self.distributed.wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED").done
        except TimeoutError:
            return set()
        return set(done)

    def shutdown(self) -> None:
        for future in list(self.futures):
            future.cancel()
        if self.owns_client:
            self.client.close()


def make_executor(jobs: int = 1, scheduler: str | None = None) -> Executor:
    """The executor for ``--jobs`` / ``--scheduler`` (a scheduler address wins)."""
    if scheduler:
        return DaskExecutor(scheduler)
    if jobs > 1:
        return PoolExecutor(jobs)
    return SerialExecutor()
