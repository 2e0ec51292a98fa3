"""Paths and small helpers shared by the tests (importable as ``tests.helpers``)."""

from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
EXAMPLES = REPOSITORY / "specs" / "examples"
EXAMPLE_SPECS = sorted(EXAMPLES.glob("*.yaml"))
