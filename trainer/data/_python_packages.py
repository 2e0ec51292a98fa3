"""``builtin:python-packages``: which standard-library package a function comes from.

A classification task of N labels that needs no download: each label of ``task.labels`` names
a package (or module) of the Python standard library, and its examples are that package's
functions (4 to 40 statements, docstrings dropped, tests skipped). Classes are capped at the
same size, so they are balanced. Deterministic for a seed and a Python version.
"""

from __future__ import annotations

import ast
import random
import sysconfig
import textwrap
from pathlib import Path

from avatar.specs import TaskSettings

from ._python_clones import _SKIPPED_FOLDERS, functions_in
from ._task_data import DataError, Example

__all__ = ["python_packages", "DEFAULT_PACKAGES", "PER_PACKAGE"]

DEFAULT_PACKAGES = ("asyncio", "email", "multiprocessing", "xml")  # a suggestion, in messages
PER_PACKAGE = 250  # functions per class at most


def _package_files(root: Path, package: str) -> list[Path]:
    folder, module = root / package, root / f"{package}.py"
    if folder.is_dir():
        return sorted(path for path in folder.rglob("*.py") if not _SKIPPED_FOLDERS & set(path.relative_to(root).parts))
    return [module] if module.is_file() else []


def _functions(root: Path, files: list[Path]) -> list[tuple[str, str]]:
    """``(id, source)`` of the files' functions of 4 to 40 statements."""
    return [(identifier, textwrap.dedent(ast.unparse(function))) for path in files for identifier, function in functions_in(path, root)]


def python_packages(task: TaskSettings) -> dict[str, list[Example]]:
    """The pooled examples (``{"all": [...]}``), one class per package in ``task.labels``.

    Raises:
        DataError: a pair task, no ``task.labels``, or a label that is no standard-library
            package with at least 20 functions.
    """
    if task.is_pair:
        raise DataError("builtin:python-packages classifies one function; set task.kind: classify")
    if not task.labels:
        raise DataError(f"builtin:python-packages: name the packages to tell apart in task.labels (for example [{', '.join(DEFAULT_PACKAGES)}])", ("task", "labels"))
    packages = tuple(str(label) for label in task.labels)
    root = Path(sysconfig.get_paths()["stdlib"])
    generator = random.Random(task.split.seed)
    examples: list[Example] = []
    sizes = {}
    for label, package in enumerate(packages):
        functions = _functions(root, _package_files(root, package))
        if len(functions) < 20:
            raise DataError(f"builtin:python-packages: '{package}' is not a standard-library package with at least 20 functions here ({len(functions)} found)", ("task", "labels"))
        sizes[package] = len(functions)
        generator.shuffle(functions)
        examples += [Example((text,), label, (identifier,), identifier) for identifier, text in functions[:PER_PACKAGE]]
    cap = min(min(sizes.values()), PER_PACKAGE)
    balanced = [example for label in range(len(packages)) for example in [item for item in examples if item.label == label][:cap]]
    return {"all": balanced}
