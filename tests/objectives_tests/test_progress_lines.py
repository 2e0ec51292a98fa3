"""Progress where no terminal draws bars: complete, timestamped lines at a bounded rate."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.progress import Progress

from avatar.objectives import LineProgress, progress_display

STAMP = re.compile(r"^\d\d:\d\d:\d\d ")


def test_a_log_gets_lines_and_a_terminal_gets_bars():
    log = Console(file=io.StringIO())
    assert isinstance(progress_display(log), LineProgress)
    assert isinstance(progress_display(Console(file=io.StringIO(), force_terminal=True)), Progress)


def test_lines_are_complete_timestamped_and_rate_limited():
    stream = io.StringIO()
    long_status = "ready (validation auc 0.6512) " + "x" * 150
    with LineProgress(Console(file=stream, width=80), interval=3600) as progress:
        task = progress.add_task("teacher all-MiniLM-L6-v2", total=None, status="fine-tuning")
        progress.update(task, total=500)
        for step in range(500):
            progress.update(task, advance=1, status=f"epoch 1 loss {1 / (step + 1):.3f}")
        progress.update(task, status=long_status)
    lines = stream.getvalue().splitlines()
    assert all(STAMP.match(line) for line in lines)
    assert len(lines) == 3, lines  # started, finished, final status: not one line per step
    assert "500/500" in lines[1] and lines[2].endswith(long_status), "never cut at the console width"


def test_search_progress_in_a_log(tmp_path):
    from avatar.solver import Space, run_search
    from avatar.solver.report._summary import check_report
    from avatar.specs import loads
    from tests.fault_tests.helpers import SPEC

    stream = io.StringIO()
    spec = loads(SPEC)
    space = Space.from_spec(spec)
    run_search(space, check_report(space), out=str(tmp_path / "run"), console=Console(file=stream))
    lines = [line for line in stream.getvalue().splitlines() if " search " in line]
    assert lines and all(STAMP.match(line) for line in lines) and "40/40" in lines[-1] and "hypervolume" in lines[-1]
