"""The embedded quick start, end to end in a reduced form: the same spec and code path with
smaller budgets (``--set``) and a tiny local teacher (``--teacher``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import REPOSITORY

QUICKSTART = REPOSITORY / "specs" / "examples" / "quickstart.yaml"
REDUCED = {
    "task.max_examples": 240,
    "search.population": 6,
    "search.evaluations": 12,
    "estimators.accuracy.options.initial": 4,
    "estimators.accuracy.options.per_round": 2,
    "estimators.accuracy.options.probe_examples": 32,
    "estimators.accuracy.options.probe_epochs": 1,
    "train.epochs": 1,
    "train.teacher.epochs": 1,
    # the tiny stand-in teacher after one epoch may be too weak to distil from (the quickstart's
    # own MiniLM teacher is not: validation AUC 1.0, classes 50/50 after its one epoch)
    "train.teacher.accept_weak": True,
    "train.teacher.max_length": 64,
    "space.max_sequence_length": {"choices": [64]},
    "model.threads": 1,
}
PROMISED = [
    "report.md",
    "report.html",
    "pareto.csv",
    "pareto.json",
    "pareto.png",
    "selected.json",
    "evaluations.sqlite",
    "manifest.json",
    "space.json",
    "learning.json",
    "accuracy.png",
    "students.json",
]
STUDENT_FILES = ["model.safetensors", "config.json", "tokenizer.json", "metrics.json", "README.md"]


def _quickstart(tmp_path, tiny_teacher):
    arguments = [f"--set={field}={json.dumps(value)}" for field, value in REDUCED.items()]
    command = [sys.executable, "-m", "avatar.solver.cli", str(QUICKSTART), "--out", str(tmp_path / "run"), "--teacher", str(tiny_teacher), *arguments]
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "AVATAR_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1", "COLUMNS": "120"}
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def quickstart_run(tmp_path_factory, tiny_teacher):
    tmp_path = tmp_path_factory.mktemp("quickstart")
    result = _quickstart(tmp_path, tiny_teacher)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tmp_path / "run", result


def test_quick_start_produces_every_promised_file(quickstart_run):
    run, result = quickstart_run
    for name in PROMISED:
        assert (run / name).is_file() and (run / name).stat().st_size > 0, name
    selected = json.loads((run / "selected.json").read_text())["points"]
    assert len(selected) == 1, "one realised student, from the knee"
    for name in STUDENT_FILES:
        assert (run / "students" / selected[0]["key"] / name).is_file(), name
    assert f"Results in {run}/" in result.stdout.replace("\n", "")


def test_report_has_every_promised_part(quickstart_run):
    run, _ = quickstart_run
    report = (run / "report.md").read_text()
    for part in ["hash `", "## Feasible space", "Grid:", "| parameter | declared | feasible |", "## Search", "hypervolume", "![Pareto front](pareto.png)",
                 "## Learned metrics", "Spearman", "## Selected for training", "## Realised students", "energy J / 1,000 inferences", "carbon g / 1,000 inferences", "smaller", "faster", "```yaml"]:  # fmt: skip
        assert part in report, part
    page = (run / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page and page.count("data:image/png;base64,") >= 2
    assert 'src="pareto.png"' not in page, "images are embedded: the page is self-contained"


@pytest.mark.slow
def test_report_opens_in_headless_chromium(quickstart_run, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    run, _ = quickstart_run
    screenshot = tmp_path / "report.png"
    result = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", f"--screenshot={screenshot}", "--window-size=1280,3000", (run / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert screenshot.stat().st_size > 20_000
    page_errors = [line for line in result.stderr.splitlines() if "CONSOLE" in line or "Failed to load resource" in line or "Uncaught" in line]
    assert page_errors == []
