"""Where evaluations run: in this process, local worker processes, or a Dask cluster.

One small interface (``submit`` a task, iterate ``results`` as they complete, ``cancel``,
``shutdown``), so the search never cares which. Tasks are submitted as soon as they exist; a
pool hands the next one to whichever worker frees up first. An evaluation that raises, exits,
runs past its timeout or kills its worker process comes back as a failed result; the search
goes on.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import pickle
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from avatar.specs import describe_error

from .._interrupts import ignore_interrupts, is_real_interrupt
from ._tasks import Task, TaskResult, run_task, timeout_message

__all__ = ["Executor", "SerialExecutor", "PoolExecutor", "DaskExecutor", "make_executor"]


class Executor:
    """Runs tasks; ``results`` yields ``(task id, TaskResult)`` as they complete.

    ``cancel`` drops every task not yet finished (the run is stopping); ``shutdown`` releases
    the executor's workers.
    """

    workers: int = 1
    # Whether its workers may be other machines (Dask): work the run needs before its tasks (a
    # super-student) is then sent to them, where the probes that read it run.
    remote: bool = False
    # CPU threads a task may use in a worker (None: leave it as it is). Tasks that set torch's
    # threads read it: workers that each take every core oversubscribe the machine.
    task_threads: int | None = None

    def submit(self, task_id: int, task: Task) -> None:
        raise NotImplementedError

    def results(self) -> Iterator[tuple[int, TaskResult]]:
        raise NotImplementedError

    def cancel(self) -> None:
        pass

    def drop_queued(self) -> None:
        """Start no task that has not started yet (a deadline passed); running ones finish.
        An executor that cannot tell them apart cancels everything."""
        self.cancel()

    def shutdown(self) -> None:
        pass


class SerialExecutor(Executor):
    """Runs each task in this process when its result is asked for (``--jobs 1``).

    A task with a timeout runs in one worker process instead: only a process can be stopped
    when the code it runs ignores the timeout (swallows the exception, or blocks in C code).
    So does a task that runs third-party estimator code (its ``isolated``): a plugin that ends
    its process fails that evaluation, not the run.
    """

    def __init__(self) -> None:
        self.pending: list[tuple[int, Task]] = []
        self.isolated: PoolExecutor | None = None

    def submit(self, task_id: int, task: Task) -> None:
        if task.timeout is None and not getattr(task, "isolated", False):
            self.pending.append((task_id, task))
            return
        if self.isolated is None:
            self.isolated = PoolExecutor(1)
        self.isolated.submit(task_id, task)

    def results(self) -> Iterator[tuple[int, TaskResult]]:
        while self.pending:
            task_id, task = self.pending.pop(0)
            yield task_id, run_task(task)
        if self.isolated is not None:
            yield from self.isolated.results()

    def cancel(self) -> None:
        self.pending.clear()
        if self.isolated is not None:
            self.isolated.cancel()

    def drop_queued(self) -> None:
        self.pending.clear()
        if self.isolated is not None:
            self.isolated.drop_queued()

    def shutdown(self) -> None:
        if self.isolated is not None:
            self.isolated.shutdown()


def _worker_main(connection: Any) -> None:
    """A pool worker: run each task it receives and send back its result, until told to stop."""
    ignore_interrupts()
    while True:
        try:
            data = connection.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            task = pickle.loads(data)
        except BaseException as error:  # noqa: BLE001 - a task this worker cannot even read
            result = TaskResult({}, f"the worker could not load the task: {describe_error(error)}")
        else:
            result = run_task(task)
        try:
            connection.send_bytes(pickle.dumps(result))
        except (EOFError, OSError):
            return
        except Exception as error:  # noqa: BLE001 - metrics that do not pickle
            connection.send_bytes(pickle.dumps(TaskResult({}, f"the result could not be sent back: {describe_error(error)}", result.seconds)))


@dataclass
class _Worker:
    process: Any
    connection: Any
    task_id: int | None = None
    started: float = 0.0
    timeout: float | None = None


class PoolExecutor(Executor):
    """Local worker processes (``--jobs N``), each running one task at a time.

    The pool knows which worker runs which task, so a worker that dies (a crash, ``os._exit``,
    the out-of-memory killer) fails only its own task, and one that runs past its task's
    timeout (plus ``grace`` seconds for the task to stop itself) is killed; either is replaced
    by a fresh worker and the other tasks go on.
    """

    def __init__(self, workers: int, *, grace: float = 2.0) -> None:
        self.workers = workers
        self.task_threads = max(1, (os.cpu_count() or 1) // workers)  # this machine's cores, shared
        self.grace = grace
        self.context = multiprocessing.get_context("spawn")
        self.queue: deque[tuple[int, bytes, float | None]] = deque()
        self.finished: deque[tuple[int, TaskResult]] = deque()
        self.idle: list[_Worker] = []
        self.busy: list[_Worker] = []

    def submit(self, task_id: int, task: Task) -> None:
        try:
            data = pickle.dumps(task.picklable())
        except Exception as error:  # noqa: BLE001 - e.g. a plugin holding a lock or a lambda
            self.finished.append((task_id, TaskResult({}, f"the task cannot be sent to a worker process: {type(error).__name__}: {error}")))
            return
        self.queue.append((task_id, data, task.timeout))

    def results(self) -> Iterator[tuple[int, TaskResult]]:
        while self.finished or self.queue or self.busy:
            while self.finished:
                yield self.finished.popleft()
            self._dispatch()
            if not self.busy:
                continue
            ready = set(multiprocessing.connection.wait(self._waitables(), timeout=self._wait_seconds()))
            for worker in list(self.busy):
                outcome = self._outcome(worker, ready)
                if outcome is not None:
                    yield outcome

    def _dispatch(self) -> None:
        while self.queue and (self.idle or len(self.busy) < self.workers):
            worker = self.idle.pop() if self.idle else self._start()
            task_id, data, timeout = self.queue.popleft()
            try:
                worker.connection.send_bytes(data)
            except (OSError, EOFError):  # the worker died while idle: replace it, retry the task
                self._stop(worker)
                self.queue.appendleft((task_id, data, timeout))
                continue
            worker.task_id, worker.started, worker.timeout = task_id, time.monotonic(), timeout
            self.busy.append(worker)

    def _start(self) -> _Worker:
        mine, theirs = self.context.Pipe(duplex=True)
        process = self.context.Process(target=_worker_main, args=(theirs,), name="avatar-worker")
        process.start()
        theirs.close()
        return _Worker(process, mine)

    def _waitables(self) -> list[Any]:
        return [worker.connection for worker in self.busy] + [worker.process.sentinel for worker in self.busy]

    def _wait_seconds(self) -> float:
        now = time.monotonic()
        deadlines = [worker.started + worker.timeout + self.grace - now for worker in self.busy if worker.timeout is not None]
        return max(0.01, min([1.0, *deadlines]))

    def _outcome(self, worker: _Worker, ready: set[Any]) -> tuple[int, TaskResult] | None:
        """The finished task of ``worker``, if it finished, died or ran out of time."""
        task_id = worker.task_id
        assert task_id is not None
        if worker.connection in ready:
            try:
                result = pickle.loads(worker.connection.recv_bytes())
            except (EOFError, OSError):
                result = None
            if result is not None:
                self._release(worker, keep=True)
                return task_id, result
        if worker.connection in ready or worker.process.sentinel in ready or not worker.process.is_alive():
            worker.process.join(timeout=1.0)
            code = worker.process.exitcode
            self._release(worker, keep=False)
            cause = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            return task_id, TaskResult({}, f"the worker process died ({cause}) while running this task; a fresh worker takes the next one")
        if worker.timeout is not None and time.monotonic() - worker.started > worker.timeout + self.grace:
            self._release(worker, keep=False)
            return task_id, TaskResult({}, timeout_message(worker.timeout) + "; its worker process did not stop and was killed", worker.timeout)
        return None

    def _release(self, worker: _Worker, *, keep: bool) -> None:
        self.busy.remove(worker)
        worker.task_id = None
        if keep:
            self.idle.append(worker)
        else:
            self._stop(worker)

    @staticmethod
    def _stop(worker: _Worker) -> None:
        worker.connection.close()
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5.0)

    def drop_queued(self) -> None:
        self.queue.clear()

    def cancel(self) -> None:
        self.queue.clear()
        self.finished.clear()
        for worker in list(self.busy):
            self._release(worker, keep=False)

    def shutdown(self) -> None:
        self.cancel()
        for worker in self.idle:
            worker.connection.close()  # the worker reads end-of-file and returns
        for worker in self.idle:
            worker.process.join(timeout=2.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=5.0)
        self.idle.clear()


class _FutureExecutor(Executor):
    """Executors that hand out futures (Dask)."""

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
                except BaseException as error:  # noqa: BLE001 - a lost worker fails its task only
                    if is_real_interrupt(error):
                        raise
                    yield task_id, TaskResult({}, f"the worker failed: {type(error).__name__}: {error}")
            now = time.monotonic()
            for future, (task_id, submitted, timeout) in list(self.futures.items()):
                if timeout is not None and now - submitted > timeout + 5.0:  # the worker could not stop it itself
                    self.futures.pop(future)
                    self._cancel(future)
                    yield task_id, TaskResult({}, timeout_message(timeout))

    def cancel(self) -> None:
        for future in list(self.futures):
            self._cancel(future)
        self.futures.clear()


class DaskExecutor(_FutureExecutor):
    """A Dask distributed cluster (``--scheduler tcp://host:8786``), or a given client."""

    remote = True

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
        self.task_threads = 1  # a worker runs one task per thread it has

    def _submit(self, task: Task) -> Any:
        return self.client.submit(run_task, task, pure=False)

    def _wait(self, futures: Iterable[Any], timeout: float | None) -> set[Any]:
        try:
            done = self.distributed.wait(list(futures), timeout=timeout, return_when="FIRST_COMPLETED").done
        except TimeoutError:
            return set()
        return set(done)

    def shutdown(self) -> None:
        self.cancel()
        if self.owns_client:
            self.client.close()


def make_executor(jobs: int = 1, scheduler: str | None = None) -> Executor:
    """The executor for ``--jobs`` / ``--scheduler`` (a scheduler address wins)."""
    if scheduler:
        return DaskExecutor(scheduler)
    if jobs > 1:
        return PoolExecutor(jobs)
    return SerialExecutor()
