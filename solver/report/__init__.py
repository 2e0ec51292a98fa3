"""What a run shows: the report (``report.md`` and ``report.html``, rendered once from the run's
records), the front's files and plot, ``solve --check`` tables and progress on the terminal or
in logs."""

from ._report import write_report
from ._results import select, write_selected
from ._summary import check_report

__all__ = ["select", "write_selected", "check_report", "write_report"]
