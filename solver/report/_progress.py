"""Progress of the search and of probes: bars on a terminal, timestamped lines elsewhere."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from avatar.objectives import LineProgress, progress_display

from ..search._learning import all_probes_weak
from ..search._search import GenerationStats, Search, SearchHooks, SearchResult
from ..search._store import Evaluation

__all__ = ["SearchProgress", "ProbeProgress"]


class SearchProgress(SearchHooks):
    """Shows the search as it runs (on a terminal; quiet consoles show nothing)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Any = None  # rich Progress on a terminal, LineProgress elsewhere
        self.task: Any = None
        self.failed = 0

    def start(self, search: Search) -> None:
        self.progress = progress_display(
            self.console,
            TextColumn("[bold]search[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("front {task.fields[front]} · HV {task.fields[hypervolume]} · failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            transient=False,
        )
        self.progress.start()
        if search.choice is not None:
            chosen = f"{search.choice.name} (auto: {search.choice.reason})" if search.requested_algorithm == "auto" else search.choice.name
            if isinstance(self.progress, LineProgress):
                self.progress.note(f"search algorithm: {chosen}")
            else:
                self.progress.console.print(f"search algorithm: {chosen}", markup=False, highlight=False)
        self.failed = sum(1 for evaluation in search.cache.values() if not evaluation.ok)
        self.task = self.progress.add_task("search", total=search.budget, completed=search.n_evaluations, front=len(search.front()), hypervolume="-", failed=self.failed)

    def evaluation(self, search: Search, evaluation: Evaluation) -> None:
        # counted here, as each arrives: the search remembers a batch's evaluations only once
        # the whole batch is in, so its cache does not hold this one yet
        self.failed += 0 if evaluation.ok else 1
        if self.progress is not None:
            self.progress.update(self.task, completed=search.n_evaluations, failed=self.failed)

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


class ProbeProgress:
    """Shows probes of learned metrics as they finish, and each refit's cross-validation."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Any = None
        self.task: Any = None

    def probes_started(self, metric: str, stage: int, total: int, done: int, promoted: bool = False) -> None:
        self.close()
        what = "initial design" if stage == 0 else f"predicted front, round {stage}"
        what += ", promoted: probed again, longer or (after sub-networks) for real" if promoted else ""
        self.progress = progress_display(
            self.console,
            TextColumn(f"[bold]probes[/bold] {metric} ({what})"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("last {task.fields[last]} · failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
        )
        self.progress.start()
        self.task = self.progress.add_task(f"probes {metric} ({what})", total=total, completed=done, last="-", failed=0)

    def probe_finished(self, metric: str, probe: Any) -> None:
        if self.progress is None:
            return
        failed = self.progress.tasks[0].fields["failed"] + (0 if probe.ok else 1)
        self.progress.update(self.task, advance=1, last=f"{probe.value:.4f}" if probe.ok else "failed", failed=failed)

    def fitted(self, metric: str, stage: int, record: dict[str, Any] | None) -> None:
        self.close()
        if record and "spearman" in record:
            rho = "n/a (every probe measured the same)" if record["spearman"] is None else f"{record['spearman']:.3f}"
            self.console.print(f"{metric} surrogate refitted on {record['probes']} probes: cross-validated Spearman {rho}, MAE {record['mae']:.4f}")
        elif record:
            self.console.print(f"{metric} surrogate fitted on {record['probes']} probes (too few to cross-validate)")
        if record and (warning := all_probes_weak(metric, record)):
            self.console.print(f"warning: {warning}", markup=False, highlight=False)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
