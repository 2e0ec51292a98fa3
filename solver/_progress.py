"""A progress bar for the search: evaluations, front size, hypervolume, time left."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ._search import GenerationStats, Search, SearchHooks, SearchResult
from ._store import Evaluation

__all__ = ["SearchProgress"]


class SearchProgress(SearchHooks):
    """Shows the search as it runs (on a terminal; quiet consoles show nothing)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.task: Any = None

    def start(self, search: Search) -> None:
        self.progress = Progress(
            TextColumn("[bold]search[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("front {task.fields[front]} · HV {task.fields[hypervolume]} · failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.progress.start()
        failed = sum(1 for evaluation in search.cache.values() if not evaluation.ok)
        self.task = self.progress.add_task("search", total=search.budget, completed=search.n_evaluations, front=len(search.front()), hypervolume="-", failed=failed)

    def evaluation(self, search: Search, evaluation: Evaluation) -> None:
        if self.progress is not None:
            fields = {} if evaluation.ok else {"failed": sum(1 for item in search.cache.values() if not item.ok)}
            self.progress.update(self.task, completed=search.n_evaluations, **fields)

    def generation(self, search: Search, stats: GenerationStats) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=stats.evaluations, front=stats.front_size, hypervolume=f"{stats.hypervolume:.3f}")

    def end(self, search: Search, result: SearchResult) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=search.n_evaluations)
        self.close()

    def close(self) -> None:
        """Stop the display (also when the run was interrupted)."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
