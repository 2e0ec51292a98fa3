"""Shared test setup: offline Hugging Face, example specs, and spec-writing helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# the instrumented estimators of the search tests are named in specs as 'tests.solver_tests...'
os.environ["AVATAR_ALLOW_PLUGINS"] = "tests"


@pytest.fixture
def write_spec(tmp_path: Path):
    """Write spec text to a file in a temporary folder and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
