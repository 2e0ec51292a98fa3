"""``report.md`` and ``report.html``, rendered once from the run's records.

The report is a pure function of what the run directory holds: the space report, the front
(``pareto.json`` and the store's generations), the selection, the learned metrics, the realised
students and the manifest. ``solve`` renders it when a run ends (after training, when it
trains); ``--resume`` and ``--train-only`` render it again from the same files, so it never
holds a section spliced into an older version of itself.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avatar.specs import RunDirectory, RunFileError, Spec

from ..search._failures import failure_kinds
from ..search._store import RunStore
from ._html import write_html_report
from ._learning_report import learning_section
from ._markdown import header_section, reproducibility_section, search_section, selected_section, space_section
from ._predicted import predicted_section
from ._results import front_order
from ._students_section import students_section

__all__ = ["SearchSummary", "write_report"]


@dataclass(frozen=True)
class SearchSummary:
    """The search as the report shows it: the front and its figures (``pareto.json``), and how
    the run went (the store's generations, failures and stop reason)."""

    objectives: Mapping[str, str]
    hypervolume: float
    normalisation: Mapping[str, Any] | None
    evaluations: int
    front: tuple[Mapping[str, Any], ...]
    failed: int = 0
    stopped_because: str = ""
    generations: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    algorithm: Mapping[str, str] | None = None  # the algorithm run and why (``auto``'s choice)
    failures: tuple[tuple[str, int, str], ...] = ()  # (kind, count, an example) of the failed evaluations, commonest first
    evaluation_seconds: float | None = None  # the evaluations' own time, summed (over workers too)

    @classmethod
    def read(cls, run: RunDirectory) -> SearchSummary:
        path = run / RunDirectory.PARETO_JSON
        try:
            document = json.loads(path.read_text())
            summary = cls(document["objectives"], float(document["hypervolume"]), document["normalisation"], int(document["evaluations"]), tuple(document["front"]))
        except FileNotFoundError:
            raise RunFileError(f"{run.path} has no {RunDirectory.PARETO_JSON}: run the search first") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise RunFileError(f"{path} is damaged ({error}): run the search again (solve SPEC --resume) to rewrite it") from None
        if not run.store.exists():
            return summary
        store = RunStore(run.store)
        try:
            evaluations = store.evaluations()
            errors = [evaluation.error or "failed" for evaluation in evaluations if not evaluation.ok]
            return dataclasses.replace(
                summary,
                failed=len(errors),
                failures=failure_kinds(errors),
                stopped_because=str(store.get_meta("stopped_because", "")),
                generations=tuple(store.generations()),
                algorithm=store.get_meta("algorithm"),
                evaluation_seconds=sum(evaluation.seconds for evaluation in evaluations),
            )
        finally:
            store.close()

    def front_rows(self, spec: Spec) -> tuple[list[str], list[list[Any]]]:
        """The front as a table: key, objectives and other metrics, then every parameter; sorted
        by the first objective (ascending), so the trade-off reads from one end to the other."""
        metric_names = list(self.objectives)
        for evaluation in self.front:
            metric_names += [name for name in evaluation["metrics"] if name not in metric_names]
        metric_names = [name for name in metric_names if name not in spec.parameter_names]  # an objective on a parameter is its column
        header = ["key", *metric_names, *spec.parameter_names]
        first = next(iter(self.objectives), None)
        front = sorted(self.front, key=lambda item: front_order(item["metrics"], item["key"], first))
        rows = [[item["key"], *(item["metrics"].get(name) for name in metric_names), *(item["config"][name] for name in spec.parameter_names)] for item in front]
        return header, rows


def write_report(run: RunDirectory | Path, spec: Spec) -> Path:
    """Render ``report.md`` (and ``report.html`` from it) from the run's records; returns the
    Markdown's path. Plots of learned metrics are drawn on the way."""
    run = run if isinstance(run, RunDirectory) else RunDirectory(run)
    search = SearchSummary.read(run)
    manifest = run.manifest()
    selection = run.selection() if run.selected.exists() else None
    students = run.students()
    # the results first (the students against the teacher, then the front and the selection), then how they came about
    sections = [header_section(spec, manifest)]
    if students is not None:
        sections += [students_section(students), predicted_section(students, run.path)]
    sections += [search_section(spec, search), selected_section(spec, selection, list(search.objectives)), space_section(run.space_report())]
    learning = run.learning()
    if learning:
        sections.append(learning_section(run, learning, students))
    sections.append(reproducibility_section(manifest))
    run.report_md.write_text("\n".join(sections))
    write_html_report(run)
    return run.report_md
