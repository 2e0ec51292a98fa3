"""``solve`` killed with SIGKILL while it distils a student (after a checkpoint was written)
and run again with ``--resume`` ends with the student an uninterrupted run makes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import REPOSITORY
from tests.trainer_tests.conftest import student_spec, wait_for_epochs


@pytest.mark.slow
def test_solve_killed_during_training_resumes_from_the_checkpoint(tmp_path, clone_folder, tiny_teacher):
    spec = tmp_path / "spec.yaml"
    spec.write_text(student_spec("clone", clone_folder, tiny_teacher, epochs=12, patience=12))
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "AVATAR_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}

    def command(out: str, *extra: str) -> list[str]:
        return [sys.executable, "-m", "avatar.solver.cli", str(spec), "--out", str(tmp_path / out), "-q", *extra]

    whole = subprocess.run(command("whole"), env=environment, capture_output=True, text=True, timeout=900)
    assert whole.returncode == 0, whole.stderr
    process = subprocess.Popen(command("killed"), env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_epochs(tmp_path / "killed" / "students", process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not list((tmp_path / "killed" / "students").glob("*/metrics.json")), "killed before the student was finished"
    resumed = subprocess.run(command("killed", "--resume"), env=environment, capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    for metrics in (tmp_path / "whole" / "students").glob("*/metrics.json"):
        twin = tmp_path / "killed" / "students" / metrics.parent.name / "metrics.json"
        expected, got = json.loads(metrics.read_text()), json.loads(twin.read_text())
        assert got["test"] == expected["test"], "the resumed student is the uninterrupted one"
