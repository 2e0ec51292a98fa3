"""Telling a real Ctrl-C from an estimator that raises ``KeyboardInterrupt`` itself.

Both arrive as ``KeyboardInterrupt``. A real one must stop the run (exit 130, resumable); one
raised by plugin code is that evaluation's failure. ``solve`` watches SIGINT while it runs and
notes when the signal came; worker processes ignore SIGINT (the driver stops them), so a
``KeyboardInterrupt`` there is always the estimator's own. Library callers that do not watch keep
Python's behaviour: a ``KeyboardInterrupt`` during an in-process evaluation stops the search.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["watch_interrupts", "ignore_interrupts", "is_real_interrupt"]

_state = {"watching": False, "requested": False}


@contextmanager
def watch_interrupts() -> Iterator[None]:
    """Note every SIGINT (then raise ``KeyboardInterrupt`` as Python would) inside the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupted(signum: int, frame: Any) -> None:
        _state["requested"] = True
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupted)
    _state.update(watching=True, requested=False)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _state.update(watching=False, requested=False)


def ignore_interrupts() -> None:
    """In a worker process: SIGINT is the driver's business; every ``KeyboardInterrupt`` here
    comes from the code being run."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _state.update(watching=True, requested=False)


def is_real_interrupt(error: BaseException) -> bool:
    """Whether ``error`` should stop the run: a ``KeyboardInterrupt`` from a real SIGINT, or any
    ``KeyboardInterrupt`` where nobody watches SIGINT."""
    return isinstance(error, KeyboardInterrupt) and (_state["requested"] or not _state["watching"])
