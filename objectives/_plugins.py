"""Which code a spec may cause to be imported.

A spec can come from anyone, and importing a module runs its code (``antigravity`` opens a
browser, ``this`` prints, a ``__main__`` module takes over the process). So an estimator class
named in a spec (``estimators: {m: {class: "package.module:Class"}}``) is imported only when
its top-level package is trusted: Avatar itself, a package that registers estimators under the
``avatar.objectives`` entry points (the user installed it as a plugin), or a package the user
allowed explicitly, with ``solve --allow-plugin PACKAGE``, ``allow_plugins("PACKAGE")`` or the
``AVATAR_ALLOW_PLUGINS`` environment variable (names separated by commas or spaces). Nothing is
imported to decide this: entry points are read from package metadata.
"""

from __future__ import annotations

import os
import re
from importlib.metadata import entry_points

from avatar.specs import ENTRY_POINT_GROUP

from ._base import EstimatorError

__all__ = ["ALLOW_ENVIRONMENT", "allow_plugins", "allowed_plugin_packages", "check_plugin_reference"]

ALLOW_ENVIRONMENT = "AVATAR_ALLOW_PLUGINS"
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_PACKAGE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_allowed: set[str] = set()


def allow_plugins(*packages: str) -> None:
    """Trust these top-level packages for ``module:Class`` references in specs, in this process
    and in the worker processes it starts (through ``AVATAR_ALLOW_PLUGINS``).

    Raises:
        ValueError: a name that is not a top-level package name (``mypkg``, not ``mypkg.sub``).
    """
    for package in packages:
        if not _PACKAGE.fullmatch(package):
            raise ValueError(f"'{package}' is not a top-level package name (letters, digits, '_'; no dots)")
    _allowed.update(packages)
    inherited = _environment_packages()
    os.environ[ALLOW_ENVIRONMENT] = ",".join(sorted(inherited | set(packages)))


def allowed_plugin_packages() -> frozenset[str]:
    """Every top-level package a spec's ``module:Class`` may come from."""
    registered = {entry.value.split(":")[0].split(".")[0].strip() for entry in entry_points(group=ENTRY_POINT_GROUP)}
    return frozenset({"avatar"} | registered | _allowed | _environment_packages())


def check_plugin_reference(metric: str, reference: str) -> str:
    """The module name of ``reference`` if it may be imported; else why not.

    Raises:
        EstimatorError: the reference is malformed, names a ``__main__`` or private dunder
            module, or its top-level package is not trusted (see the module docstring).
    """
    module_name, _, attribute = reference.partition(":")
    if not _MODULE.fullmatch(module_name) or not attribute:
        raise EstimatorError(f"'{reference}' is not an import reference 'package.module:Class'", metric)
    parts = module_name.split(".")
    if any(part.startswith("__") for part in parts) or any(part.startswith("__") for part in attribute.split(".")):
        raise EstimatorError(f"'{reference}' names a dunder module or attribute ('__main__' and the like run code when imported); name the estimator class itself", metric)
    if parts[0] not in allowed_plugin_packages():
        raise EstimatorError(
            f"the estimator class '{reference}' was not imported: '{parts[0]}' is not a trusted plugin package. "
            f"Specs may name classes from avatar, from packages registering '{ENTRY_POINT_GROUP}' entry points, "
            f"or from packages you allow: solve --allow-plugin {parts[0]} (or {ALLOW_ENVIRONMENT}={parts[0]})",
            metric,
        )
    return module_name


def _environment_packages() -> set[str]:
    return {name for name in re.split(r"[,\s]+", os.environ.get(ALLOW_ENVIRONMENT, "")) if name}
