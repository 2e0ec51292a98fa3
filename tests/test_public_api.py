"""Each package's ``__all__`` names exist, and light packages stay light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["avatar.specs", "avatar.solver", "avatar.objectives", "avatar.trainer"]


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_exist(package):
    module = importlib.import_module(package)
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), f"{package}.{name}"


@pytest.mark.parametrize("package", ["avatar.specs", "avatar.solver", "avatar.solver.cli"])
def test_importing_does_not_import_torch(package):
    code = f"import sys, {package}; print('torch' in sys.modules, 'transformers' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
