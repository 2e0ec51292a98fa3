"""A run of 100,000 closed-form evaluations, killed and resumed (issue 34):
``python bench/large_run.py [--evaluations 100000]``.

On the 13-parameter Devign space (specs/examples/avatar-devign.yaml, its 3 MB limit compiled
in) with three closed-form objectives, ``solve --no-train`` runs as a user runs it (the default
``auto`` algorithm, the store, the report), twice:

- uninterrupted;
- killed with SIGKILL about halfway, then ``--resume``.

Printed: wall time, peak memory (the child's maximum resident set), the search's own time per
evaluation over the last tenth of the run against the first tenth (the baseline, from the same
run: 1 means it does not grow with the run), the store's size, the report's lines and whether
the killed-and-resumed run evaluated the same configurations and found the same front as the
uninterrupted one.

Targets: 100,000 evaluations within 30 minutes on 2 cores, resumable to the same run.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

EXAMPLE = Path(__file__).resolve().parents[1] / "specs" / "examples" / "avatar-devign.yaml"
OBJECTIVES = {"gflops": "maximize", "size_mb": "minimize", "max_sequence_length": "maximize"}


def write_spec(folder: Path, evaluations: int) -> Path:
    document = yaml.safe_load(EXAMPLE.read_text())
    document.pop("train", None)
    document["objectives"] = OBJECTIVES
    document["search"] = {"evaluations": evaluations, "population": 20, "seed": 1}  # algorithm: auto
    path = folder / f"spec-{evaluations}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _command(spec: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "avatar.solver.cli", str(spec), "--out", str(out), "--no-train", "-q", *extra]


def _stored(out: Path) -> int:
    try:
        return int(sqlite3.connect(out / "evaluations.sqlite").execute("SELECT COUNT(*) FROM evaluations").fetchone()[0])
    except sqlite3.Error:
        return 0


def solve(spec: Path, out: Path, *extra: str, kill_at: int | None = None) -> tuple[float, float, int]:
    """Run ``solve`` in a child; returns its wall seconds, its peak memory in MB, and its exit
    status (-9 when killed once ``kill_at`` evaluations are stored)."""
    started = time.perf_counter()
    process = subprocess.Popen(_command(spec, out, *extra), env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while kill_at is not None and process.poll() is None:
        if (out / "evaluations.sqlite").exists() and _stored(out) >= kill_at:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.5)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    if code not in (0, -signal.SIGKILL):
        raise SystemExit(f"solve exited {code}: {process.stderr.read().decode() if process.stderr else ''}")
    return wall, usage.ru_maxrss / 1024, code


def outcome(out: Path) -> tuple[set[str], set[str]]:
    """The evaluated keys and the front's keys of a finished run."""
    import json

    connection = sqlite3.connect(out / "evaluations.sqlite")
    keys = {row[0] for row in connection.execute("SELECT key FROM evaluations")}
    front = {point["key"] for point in json.loads((out / "pareto.json").read_text())["front"]}
    return keys, front


def growth(out: Path) -> tuple[float, float]:
    """The search's own ms per evaluation over the first and the last tenth of its evaluations
    (from the elapsed time the store keeps per generation)."""
    rows = sqlite3.connect(out / "evaluations.sqlite").execute("SELECT evaluations, elapsed FROM generations ORDER BY generation").fetchall()
    total = rows[-1][0]

    def at(evaluations: float) -> tuple[int, float]:
        return min(rows, key=lambda row: abs(row[0] - evaluations))

    (e0, t0), (e1, t1) = at(0), at(total / 10)
    (e2, t2), (e3, t3) = at(9 * total / 10), rows[-1]
    return 1000 * (t1 - t0) / max(1, e1 - e0), 1000 * (t3 - t2) / max(1, e3 - e2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=100_000)
    parser.add_argument("--kill-at", type=float, default=0.5, help="the share of the budget stored when the run is killed")
    arguments = parser.parse_args(argv)
    console = Console(width=200)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        spec = write_spec(root, arguments.evaluations)
        wall, peak, _ = solve(spec, root / "whole")
        console.print(f"  uninterrupted: {arguments.evaluations} evaluations in {wall:.0f} s, peak {peak:.0f} MB", highlight=False)
        killed_wall, killed_peak, code = solve(spec, root / "killed", kill_at=int(arguments.kill_at * arguments.evaluations))
        at_kill = _stored(root / "killed")
        resumed_wall, resumed_peak, _ = solve(spec, root / "killed", "--resume")
        console.print(f"  killed (exit {code}) at {at_kill} evaluations after {killed_wall:.0f} s; resumed in {resumed_wall:.0f} s", highlight=False)
        first, last = growth(root / "whole")
        same = outcome(root / "killed") == outcome(root / "whole")
        rows = [
            ["uninterrupted", f"{wall:.0f}", f"{first:.2f}", f"{last:.2f}", f"{last / first:.2f}", f"{peak:.0f}", root / "whole", ""],
            [f"killed at {at_kill:,}, resumed", f"{killed_wall:.0f} + {resumed_wall:.0f}", "", "", "", f"{max(killed_peak, resumed_peak):.0f}", root / "killed", "yes" if same else "NO"],
        ]
        table = Table(title=f"{arguments.evaluations:,} closed-form evaluations (Devign space, 3 objectives, auto); target: at most 1,800 s, resumable to the same run")
        for column in ("run", "wall s", "ms per evaluation, first tenth", "last tenth", "last / first", "peak MB", "store MB", "report lines", "front", "same as uninterrupted"):
            table.add_column(column, justify="right")
        for name, seconds, early, late, ratio, memory, out, verdict in rows:
            store = (out / "evaluations.sqlite").stat().st_size / 1e6
            lines = len((out / "report.md").read_text().splitlines())
            table.add_row(name, seconds, early, late, ratio, memory, f"{store:.1f}", str(lines), str(len(outcome(out)[1])), verdict)
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
