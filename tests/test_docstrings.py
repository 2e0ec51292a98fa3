"""Every public function and class says why it exists, and the examples in docstrings run."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import pytest

from tests.helpers import REPOSITORY

PACKAGES = ("avatar.specs", "avatar.solver", "avatar.objectives", "avatar.trainer")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names += [package, *(info.name for info in pkgutil.walk_packages(module.__path__, package + ".") if not info.name.endswith("__main__"))]
    return names


MODULES = _modules()


def _public_definitions(module_name: str) -> list[tuple[str, object]]:
    module = importlib.import_module(module_name)
    return [(name, value) for name, value in vars(module).items() if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == module_name]


def _documented(value: object) -> bool:
    doc = value.__doc__
    if not doc or not doc.strip():
        return False
    if inspect.isclass(value):  # a dataclass without a docstring gets its signature as one; a subclass inherits its base's
        return not doc.startswith(f"{value.__name__}(") and all(doc is not getattr(base, "__doc__", None) for base in value.__mro__[1:])
    return True


@pytest.mark.parametrize("module_name", MODULES)
def test_public_functions_and_classes_have_docstrings(module_name):
    undocumented = [name for name, value in _public_definitions(module_name) if not _documented(value)]
    assert not undocumented, f"{module_name}: no docstring on {', '.join(undocumented)}"


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples_run(module_name, monkeypatch):
    monkeypatch.chdir(REPOSITORY)  # examples name files such as specs/examples/quickstart.yaml
    module = importlib.import_module(module_name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, module_name):
        if test.examples:
            runner.run(test, out=lambda text: None)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} of {results.attempted} doctest examples of {module_name} failed (run python -m doctest on it)"
