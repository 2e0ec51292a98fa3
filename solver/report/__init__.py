"""What a run shows: the report (``report.md`` and ``report.html``), the front's files and plot,
``solve --check`` tables and progress on the terminal or in logs."""

from ._results import select, write_selected
from ._summary import check_report

__all__ = ["select", "write_selected", "check_report"]
