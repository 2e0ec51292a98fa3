"""The metric vocabulary: names registered in the ``avatar.objectives`` entry-point group.

Only the names are read here (no plugin code is imported), so validating a spec stays fast
and ``avatar.specs`` does not depend on ``avatar.objectives``. Built-in estimators are
registered in the same group by Avatar's own ``pyproject.toml``.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points

__all__ = ["ENTRY_POINT_GROUP", "registered_metric_names"]

ENTRY_POINT_GROUP = "avatar.objectives"


@lru_cache(maxsize=1)
def registered_metric_names() -> frozenset[str]:
    """Names of every installed estimator, built-in or plugin."""
    return frozenset(entry.name for entry in entry_points(group=ENTRY_POINT_GROUP))
