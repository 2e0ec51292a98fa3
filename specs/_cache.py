"""``Cache``: the one owner of the cache folder's layout, as ``RunDirectory`` owns a run's.

Everything in the cache is derived from inputs its names hash (teacher, data, settings,
versions), so runs share it, a rerun reads what an earlier run computed, and deleting any part
of it costs only the time to compute that part again.

>>> cache = Cache("/tmp/avatar-cache")
>>> cache.teacher("604237a25c46a273618f").relative_to(cache.root).as_posix()
'teachers/604237a25c46a273618f'
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["Cache", "CACHE_ENVIRONMENT"]

CACHE_ENVIRONMENT = "AVATAR_CACHE"  # the variable that moves the cache


class Cache:
    """The cache folder (``$AVATAR_CACHE``, else ``~/.cache/avatar``) and the names of what it
    holds: one method per kind of entry, given the entry's key (its hash of inputs)."""

    FOLDERS = ("measurements", "teachers", "logits", "features", "baseline", "augmented", "tokenizers", "pretrained", "targets", "supernets")

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else self.default_root()

    @staticmethod
    def default_root() -> Path:
        """``$AVATAR_CACHE``, else ``~/.cache/avatar``."""
        return Path(os.environ.get(CACHE_ENVIRONMENT, Path.home() / ".cache" / "avatar"))

    def measurement(self, key: str) -> Path:
        """A measured inference (latency, energy) of one configuration (``objectives``)."""
        return self.root / "measurements" / f"{key}.json"

    def teacher(self, key: str) -> Path:
        """A fine-tuned teacher's folder (weights, tokenizer, its validation; locked while it trains)."""
        return self.root / "teachers" / key

    def logits(self, key: str) -> Path:
        """A teacher's logits on one set of examples."""
        return self.root / "logits" / f"{key}.pt"

    def features(self, key: str) -> Path:
        """A teacher's pooled hidden states and attention relations on one set of examples (a folder of arrays)."""
        return self.root / "features" / key

    def baseline(self, key: str) -> Path:
        """The lexical baseline's scores on one dataset."""
        return self.root / "baseline" / f"{key}.json"

    def augmented(self, key: str) -> Path:
        """Rewrites of the training functions (``train.augment``)."""
        return self.root / "augmented" / f"{key}.jsonl"

    def tokenizer(self, key: str) -> Path:
        """A student tokenizer trained on the task's code."""
        return self.root / "tokenizers" / f"{key}.json"

    def pretrained(self, key: str) -> Path:
        """A student encoder's masked-token pretraining (``train.pretrain_epochs``)."""
        return self.root / "pretrained" / f"{key}.pt"

    def targets(self, key: str) -> Path:
        """The teacher's targets handed to distillations in worker processes."""
        return self.root / "targets" / f"{key}.pt"

    def supernet(self, key: str) -> Path:
        """A trained super-student's folder (``method: supernet``)."""
        return self.root / "supernets" / key
