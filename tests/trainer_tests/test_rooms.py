"""The trainer's rooms stay layered: each reads only the rooms before it, and only through
their public line (``__init__``), so a walk through the trainer never climbs back up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TRAINER = Path(__file__).resolve().parents[2] / "trainer"
ROOMS = ["data", "students", "distill", "teacher", "supernet"]  # each may read the ones before it


def _relative_imports(path: Path) -> list[tuple[int, str]]:
    """(level, dotted module) of every relative import in ``path``, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.level, node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level > 0]


def _modules() -> list[Path]:
    return sorted(path for path in TRAINER.rglob("*.py"))


@pytest.mark.parametrize("room", ROOMS)
def test_a_room_reads_only_earlier_rooms_through_their_public_line(room: str) -> None:
    allowed = set(ROOMS[: ROOMS.index(room)])
    for path in sorted((TRAINER / room).glob("*.py")):
        for level, module in _relative_imports(path):
            if level == 1:
                continue  # its own room
            assert level == 2, f"{path.name} imports from {'.' * level}{module}"
            target = module.split(".")
            assert target[0] in allowed, f"{room}/{path.name} reads {target[0]!r}, a room at or above its own"
            assert len(target) == 1, f"{room}/{path.name} reaches into {module}, a private module of another room"


def test_the_pipeline_reads_rooms_through_their_public_line() -> None:
    for path in sorted(TRAINER.glob("*.py")):
        for _, module in _relative_imports(path):
            head = module.split(".")[0]
            if head in ROOMS:
                assert module == head, f"{path.name} reaches into {module}"


def test_every_module_lives_in_a_room_or_is_the_pipeline() -> None:
    top = {path.name for path in TRAINER.glob("*.py")}
    assert top == {"__init__.py", "_distillation.py", "_pipeline.py", "_preflight.py", "_probe.py", "_realise.py", "_write_predictions.py"}
    assert {path.parent.name for path in _modules()} <= {"trainer", *ROOMS}
