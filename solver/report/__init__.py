"""What a run shows: the report (``report.md`` and ``report.html``, rendered once from the run's
records), the front's files and plot, ``solve --check`` tables and progress on the terminal or
in logs."""

from ._predicted import prediction_checks, ranking_warnings
from ._progress import ProbeProgress, SearchProgress
from ._report import write_report
from ._results import axis_labels, plot_front, select, selection_of, write_front, write_selected
from ._summary import check_report, infeasible_message, render_check_report
from ._tables import front_table, students_table, weak_warnings
from ._terminal import visible
from ._training_energy import training_energy_text

__all__ = [
    "select",
    "write_selected",
    "check_report",
    "write_report",
    "infeasible_message",
    "render_check_report",
    "prediction_checks",
    "ranking_warnings",
    "front_table",
    "students_table",
    "weak_warnings",
    "training_energy_text",
    "visible",
    "ProbeProgress",
    "SearchProgress",
    "axis_labels",
    "plot_front",
    "selection_of",
    "write_front",
]
