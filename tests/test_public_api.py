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


def test_every_error_meant_for_users_is_an_avatar_error():
    from avatar.objectives import EstimatorError
    from avatar.solver import InfeasibleSpecError, RunError
    from avatar.solver._errors import RepeatedFailureError, UndecidedSpaceError
    from avatar.solver.search._store import StoreError
    from avatar.specs import AvatarError, SpecError
    from avatar.trainer import DataError, TeacherError

    for error in (SpecError, EstimatorError, InfeasibleSpecError, RunError, RepeatedFailureError, UndecidedSpaceError, StoreError, DataError, TeacherError):
        assert issubclass(error, AvatarError), error
    assert issubclass(InfeasibleSpecError, SpecError), "an infeasible space is a kind of spec problem"


def test_an_avatar_error_met_late_is_a_message_not_a_bug(monkeypatch, capsys, tmp_path):
    from avatar.objectives import EstimatorError
    from avatar.solver import cli
    from tests.fault_tests.helpers import SPEC

    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)

    def broken(*args, **kwargs):
        raise EstimatorError("estimator 'size_mb' lost its cache folder", "size_mb")

    monkeypatch.setattr(cli, "run_search", broken)
    assert cli.main([str(spec), "--out", str(tmp_path / "run"), "-q"]) == cli.EXIT_INVALID
    assert "lost its cache folder" in capsys.readouterr().err
