"""``manifest.json``: what a run was made from, so it can be trusted and reproduced."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from avatar.objectives import write_json_atomically
from avatar.specs import Spec

from ._errors import RunError

__all__ = ["spec_hash", "search_hash", "library_versions", "write_manifest", "LIBRARIES"]

LIBRARIES = (
    "avatar-lm", "numpy", "scipy", "z3-solver", "pysmt", "platypus-opt", "jsonschema", "pyyaml", "rich",
    "matplotlib", "torch", "transformers", "tokenizers", "dask", "distributed",
)  # fmt: skip

# Fields that do not change which configurations the search proposes: a run may be resumed
# after changing them (for example to raise the evaluation budget).
_NOT_SEARCH = {("search", "evaluations"), ("search", "time_limit"), ("search", "max_identical_failures"), ("execution",), ("output",), ("train",), ("description",)}


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def spec_hash(spec: Spec) -> str:
    """Hash of the whole validated spec."""
    return _digest(spec.to_dict())


def search_hash(spec: Spec) -> str:
    """Hash of what determines the search's trajectory (not its budget, execution or output)."""
    data = spec.to_dict()
    for path in _NOT_SEARCH:
        parent = data
        for key in path[:-1]:
            parent = parent.get(key, {})
        if isinstance(parent, dict):
            parent.pop(path[-1], None)
    return _digest(data)


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a run depends on (read without importing them)."""
    versions = {"python": sys.version.split()[0]}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _previous_manifest(path: Path) -> dict[str, Any]:
    try:
        previous = json.loads(path.read_text()) if path.exists() else {}
    except (OSError, ValueError) as error:
        previous = error
    if not isinstance(previous, dict) or not isinstance(previous.get("sessions", []), list):
        raise RunError(f"{path} is damaged ({previous if isinstance(previous, Exception) else 'not a manifest'}): move it away to continue the run (a new one records the sessions from now on)")
    return previous


def write_manifest(directory: Path, spec: Spec, *, seeds: dict[str, int], command: list[str], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write (or update) ``manifest.json``; earlier sessions of a resumed run are kept."""
    path = directory / "manifest.json"
    previous = _previous_manifest(path)
    sessions = previous.get("sessions", []) + [{"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": command}]
    manifest = {
        "spec": {"name": spec.name, "file": str(spec.source), "hash": spec_hash(spec), "search_hash": search_hash(spec), "resolved": spec.to_dict()},
        "seeds": seeds,
        "libraries": library_versions(),
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine()},
        "sessions": sessions,
        **(extra or {}),
    }
    write_json_atomically(path, manifest, indent=2, default=str)
    return manifest
