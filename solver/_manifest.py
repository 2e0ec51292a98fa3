"""``manifest.json``: what a run was made from, so it can be trusted and reproduced."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from avatar.specs import Manifest, RunDirectory, Spec

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


def write_manifest(run: RunDirectory, spec: Spec, *, seeds: dict[str, int], command: list[str], extra: dict[str, Any] | None = None) -> Manifest:
    """Write (or update) ``manifest.json``; earlier sessions of a resumed run are kept.

    Raises:
        RunFileError: the existing manifest is damaged (it names the file and what to do).
    """
    previous = run.manifest()
    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": command}
    manifest = Manifest(
        spec={"name": spec.name, "file": str(spec.source), "hash": spec_hash(spec), "search_hash": search_hash(spec), "resolved": spec.to_dict()},
        seeds=seeds,
        libraries=library_versions(),
        machine={"platform": platform.platform(), "processor": platform.processor() or platform.machine()},
        sessions=(*(previous.sessions if previous else ()), session),
        extra=extra or {},
    )
    run.write_manifest(manifest)
    return manifest
