"""A small, fast spec and ways to run ``solve`` on it, in this process or in a subprocess."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPOSITORY, SEARCH_SPACE

# the search tests' space without hidden_act, and a budget of 40
SPEC = SEARCH_SPACE.replace("name: searched", "name: faults").replace("  hidden_act:          {choices: [gelu, relu]}\n", "").replace("evaluations: 60", "evaluations: 40")


def faulty_spec(fault: str, *, on: int = 64, seconds: float = 30.0, search: str = "search: {population: 10, evaluations: 40, seed: 3}") -> str:
    """``SPEC`` whose second objective is ``faulty_size`` doing ``fault`` (see ``faulty``)."""
    return SPEC.replace(
        "objectives:\n  gflops: maximize\n  size_mb: minimize\n",
        f"estimators:\n  faulty_size: {{class: 'tests.fault_tests.faulty:FaultySizeEstimator', options: {{fault: {fault}, on: {on}, seconds: {seconds}}}}}\n"
        "objectives:\n  gflops: maximize\n  faulty_size: minimize\n",
    ).replace("search: {population: 10, evaluations: 40, seed: 3}", search)


def solve(*arguments: str, timeout: float = 180, environment: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``solve`` in a subprocess (as a user runs it), quiet, with its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "avatar.solver.cli", *arguments],
        env={**os.environ, "PYTHONPATH": str(REPOSITORY), "HF_HUB_OFFLINE": "1", **(environment or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_solve(*arguments: str) -> subprocess.Popen:
    """``solve`` in a subprocess that the test will kill."""
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "avatar.solver.cli", *arguments], env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stored(directory: Path) -> list[tuple[str, str, str | None]]:
    """``(key, status, error)`` of every stored evaluation of a run, in key order."""
    database = directory / "evaluations.sqlite"
    if not database.exists():
        return []
    connection = sqlite3.connect(database)
    try:
        return sorted(connection.execute("SELECT key, status, error FROM evaluations").fetchall())
    except sqlite3.Error:  # being created by the run under test
        return []
    finally:
        connection.close()


def front_keys(directory: Path) -> list[str]:
    return sorted(point["key"] for point in json.loads((directory / "pareto.json").read_text())["front"])
