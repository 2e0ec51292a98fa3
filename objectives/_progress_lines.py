"""Progress that reads well where no terminal draws bars: CI logs, ``| tee``, ``nohup``.

Rich draws nothing there until the end, and then cuts lines at 80 columns. So when the console
is not a terminal, progress is printed as plain, complete, timestamped lines, as ``tqdm`` and
the Hugging Face Trainer do: when a task starts, when it finishes (or its final status
changes), and at most once every ``interval`` seconds in between. Shared by the search and the
trainer, which may both import ``avatar.objectives``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import Progress

__all__ = ["LineProgress", "progress_display"]


def progress_display(console: Console, *columns: Any, **options: Any) -> Progress | LineProgress:
    """Rich's bars on a terminal, ``LineProgress`` elsewhere."""
    if console.is_terminal:
        return Progress(*columns, console=console, **options)
    return LineProgress(console)


@dataclass
class _Task:
    description: str
    total: float | None
    completed: float = 0
    fields: dict[str, Any] = field(default_factory=dict)
    printed: tuple | None = None
    printed_at: float = 0.0

    @property
    def finished(self) -> bool:
        return self.total is not None and self.completed >= self.total

    def state(self) -> tuple:
        return (self.completed, self.total, tuple(sorted((key, str(value)) for key, value in self.fields.items())))


class LineProgress:
    """The part of ``rich.progress.Progress`` that Avatar uses, printed as lines."""

    def __init__(self, console: Console, *, interval: float = 15.0) -> None:
        self.console = console
        self.interval = interval
        self.tasks: list[_Task] = []

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()

    def start(self) -> None:
        pass

    def stop(self) -> None:
        for task in self.tasks:
            if task.printed != task.state():
                self._print(task)

    def add_task(self, description: str, total: float | None = None, completed: float = 0, **fields: Any) -> int:
        self.tasks.append(_Task(description, total, completed, dict(fields)))
        self._print(self.tasks[-1])
        return len(self.tasks) - 1

    def update(self, task_id: int, *, total: float | None = None, completed: float | None = None, advance: float | None = None, **fields: Any) -> None:
        task = self.tasks[task_id]
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        task.fields.update(fields)
        due = time.monotonic() - task.printed_at >= self.interval
        if (task.finished and task.printed != task.state()) or (due and task.printed != task.state()):
            self._print(task)

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def note(self, text: str) -> None:
        """One timestamped line of its own (what a run decided, for example)."""
        self.console.print(f"{time.strftime('%H:%M:%S')} {text}", markup=False, highlight=False, soft_wrap=True)

    def _print(self, task: _Task) -> None:
        count = f"{task.completed:g}/{task.total:g}" if task.total is not None else (f"{task.completed:g}" if task.completed else "")
        details = " · ".join(f"{key} {value}" for key, value in task.fields.items() if str(value) not in ("", "-"))
        text = " ".join(part for part in (time.strftime("%H:%M:%S"), task.description, count, details) if part)
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)
        task.printed, task.printed_at = task.state(), time.monotonic()
