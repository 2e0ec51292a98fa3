"""Every package folder ships: ``pyproject.toml`` lists its packages one by one, so a new room
that is not listed imports in the editable install and is missing from the wheel."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    roots = project["tool"]["setuptools"]["package-dir"]
    found = set()
    for package, folder in roots.items():
        for init in (REPOSITORY / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(REPOSITORY / folder)
            found.add(".".join([package, *relative.parts]))
    assert found <= listed, f"not in pyproject.toml's packages (missing from the wheel): {sorted(found - listed)}"
