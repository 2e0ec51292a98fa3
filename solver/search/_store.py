"""The run store: ``evaluations.sqlite`` in the run directory.

One row per distinct configuration evaluated, committed as each evaluation finishes, so a
run killed at any moment (even with ``kill -9``) loses at most the evaluations in flight.
WAL journaling keeps readers and the single writer apart and makes commits cheap.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .._errors import RunError

__all__ = ["Evaluation", "Probe", "RunStore", "StoreError", "config_key"]

_Method = TypeVar("_Method", bound=Callable[..., Any])


class StoreError(RunError):
    """The store cannot be read or written: a damaged file (truncated, not a database, rows
    that are not Avatar's), a full disk, a read-only folder. Never a bug of Avatar's."""


def _guarded(method: _Method) -> _Method:
    """Turn what a damaged or unwritable database raises into a ``StoreError`` naming the file."""

    @functools.wraps(method)
    def guarded(self: RunStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            raise StoreError(f"{self.path}: {store_problem(error)}") from None
        except (ValueError, TypeError, KeyError) as error:
            raise StoreError(f"{self.path}: the run store holds a row Avatar cannot read ({type(error).__name__}: {error}); it is damaged or not Avatar's") from None

    return guarded  # type: ignore[return-value]


def store_problem(error: sqlite3.Error) -> str:
    """What a database error means to the user: only a damaged file is "damaged". A full disk
    or a folder that cannot be written leaves the store intact, and the run continues with
    ``--resume`` once the cause is fixed."""
    name = getattr(error, "sqlite_errorname", "") or ""
    text = str(error)
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR")) or "disk is full" in text or "disk I/O" in text:
        return f"no space left on device, or the disk refused a write ({text}): every finished evaluation is stored and the store is intact; free some space, then continue with --resume"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")) or "readonly" in text or "unable to open" in text:
        return f"the run store cannot be opened for writing ({text}): check the folder's permissions and free space, then continue with --resume"
    if name.startswith("SQLITE_BUSY") or "locked" in text:
        return f"the run store is locked by another process ({text}): wait for it, then continue with --resume"
    return f"the run store cannot be used: {text} (a damaged store cannot be resumed: move it away to start a new run)"


def _texts(text: str | None) -> tuple[str, ...]:
    """A stored JSON list of texts (``NULL`` in stores written before it: none)."""
    values = json.loads(text) if text else []
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"a list of reasons is {values!r}")
    return tuple(values)


def _json_object(text: str | None, what: str) -> dict[str, Any]:
    value = json.loads(text or "{}")
    if not isinstance(value, dict):
        raise ValueError(f"{what} is a {type(value).__name__}, not an object")
    return value


_SCHEMA = """
CREATE TABLE IF NOT EXISTS evaluations (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    metrics TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error TEXT,
    seconds REAL,
    generation INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS generations (
    generation INTEGER PRIMARY KEY,
    evaluations INTEGER NOT NULL,
    front_size INTEGER NOT NULL,
    hypervolume REAL NOT NULL,
    elapsed REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS probes (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    fidelity TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    value REAL,
    error TEXT,
    seconds REAL,
    stage INTEGER NOT NULL,
    created REAL NOT NULL,
    weak TEXT,
    UNIQUE (key, fidelity)
);
"""


def _canonical(value: Any) -> Any:
    return repr(value) if isinstance(value, float) else value


def config_key(config: Mapping[str, Any]) -> str:
    """A stable hash of a configuration (names sorted, floats by their repr)."""
    text = json.dumps({name: _canonical(value) for name, value in sorted(config.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Evaluation:
    """One finished evaluation, as stored. ``metrics`` is empty for a failed one."""

    key: str
    config: dict[str, Any]
    status: str
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    generation: int = 0
    created: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "config": self.config,
            "status": self.status,
            "metrics": self.metrics,
            "error": self.error,
            "seconds": self.seconds,
            "generation": self.generation,
        }


@dataclass(frozen=True)
class Probe:
    """One measured probe of a learned metric (a short distillation), as stored.

    ``stage`` 0 is the initial design; stage ``r`` follows the ``r``-th search round.
    """

    key: str
    config: dict[str, Any]
    fidelity: dict[str, Any]
    status: str
    value: float | None = None
    error: str | None = None
    seconds: float = 0.0
    stage: int = 0
    weak: tuple[str, ...] = ()  # why the probed model learned (almost) nothing, if it did not

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class RunStore:
    """SQLite storage of a run's evaluations, generations and metadata."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, isolation_level=None)  # autocommit: one write, one commit
        self._open()

    @_guarded
    def _open(self) -> None:
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(_SCHEMA)
        self.connection.execute("SELECT COUNT(*) FROM evaluations").fetchone()  # a truncated file fails here, not mid-run
        columns = {row[1] for row in self.connection.execute("PRAGMA table_info(probes)")}
        if "weak" not in columns:  # a store written before probes were told weak
            self.connection.execute("ALTER TABLE probes ADD COLUMN weak TEXT")

    def close(self) -> None:
        self.connection.close()

    @_guarded
    def add(self, evaluation: Evaluation) -> None:
        """Store one evaluation (committed before this returns)."""
        self.connection.execute(
            "INSERT OR IGNORE INTO evaluations (key, config, metrics, status, error, seconds, generation, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                evaluation.key,
                json.dumps(evaluation.config),
                json.dumps(evaluation.metrics),
                evaluation.status,
                evaluation.error,
                evaluation.seconds,
                evaluation.generation,
                evaluation.created or time.time(),
            ),
        )

    @_guarded
    def evaluations(self) -> list[Evaluation]:
        """Every stored evaluation, in the order they finished (all read at once, so a damaged
        row is found here, not halfway through a replay)."""
        rows = self.connection.execute("SELECT key, config, metrics, status, error, seconds, generation, created FROM evaluations ORDER BY id")
        return [self._evaluation(*row) for row in rows]

    @staticmethod
    def _evaluation(key: Any, config: Any, metrics: Any, status: Any, error: Any, seconds: Any, generation: Any, created: Any) -> Evaluation:
        if not isinstance(key, str) or not isinstance(generation, int) or status not in ("ok", "failed"):
            raise ValueError(f"evaluation {key!r} has generation {generation!r} and status {status!r}")
        return Evaluation(key, _json_object(config, "a configuration"), status, _json_object(metrics, "metrics"), error, float(seconds or 0.0), generation, float(created))

    @_guarded
    def forget(self, keys: Sequence[str]) -> None:
        """Delete evaluations (in one transaction): failures caused by the environment say
        nothing about their configurations, and a resumed run evaluates them again."""
        with self.connection:
            self.connection.execute("BEGIN")
            self.connection.executemany("DELETE FROM evaluations WHERE key = ?", [(key,) for key in keys])

    @_guarded
    def forget_probes(self, keys: Sequence[str]) -> None:
        """Delete failed probes (in one transaction), as ``forget`` does evaluations."""
        with self.connection:
            self.connection.execute("BEGIN")
            self.connection.executemany("DELETE FROM probes WHERE key = ? AND status = 'failed'", [(key,) for key in keys])

    @_guarded
    def update_metrics(self, key: str, metrics: Mapping[str, Any]) -> None:
        """Replace stored metric values of one evaluation (a learned metric's refitted predictions)."""
        row = self.connection.execute("SELECT metrics FROM evaluations WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self.connection.execute("UPDATE evaluations SET metrics = ? WHERE key = ?", (json.dumps({**json.loads(row[0] or "{}"), **metrics}), key))

    @_guarded
    def add_probe(self, probe: Probe) -> None:
        """Store one probe (committed before this returns)."""
        self.connection.execute(
            "INSERT OR IGNORE INTO probes (key, fidelity, config, status, value, error, seconds, stage, created, weak) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                probe.key,
                json.dumps(probe.fidelity, sort_keys=True),
                json.dumps(probe.config),
                probe.status,
                probe.value,
                probe.error,
                probe.seconds,
                probe.stage,
                time.time(),
                json.dumps(list(probe.weak)),
            ),
        )

    @_guarded
    def probes(self, fidelity: Mapping[str, Any] | None = None) -> list[Probe]:
        """Stored probes in the order they finished (of one fidelity, when given)."""
        rows = self.connection.execute("SELECT key, config, fidelity, status, value, error, seconds, stage, weak FROM probes ORDER BY id").fetchall()
        probes = [
            Probe(key, _json_object(config, "a configuration"), _json_object(stored, "a fidelity"), status, value, error, seconds or 0.0, stage, _texts(weak))
            for key, config, stored, status, value, error, seconds, stage, weak in rows
        ]
        return probes if fidelity is None else [probe for probe in probes if probe.fidelity == json.loads(json.dumps(dict(fidelity), sort_keys=True))]

    @_guarded
    def count(self) -> int:
        return self.connection.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]

    @_guarded
    def record_generation(self, generation: int, evaluations: int, front_size: int, hypervolume: float, elapsed: float) -> None:
        self.connection.execute("INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?, ?)", (generation, evaluations, front_size, hypervolume, elapsed))

    @_guarded
    def generations(self) -> list[dict[str, Any]]:
        rows = self.connection.execute("SELECT generation, evaluations, front_size, hypervolume, elapsed FROM generations ORDER BY generation")
        return [dict(zip(("generation", "evaluations", "front_size", "hypervolume", "elapsed"), row)) for row in rows]

    @_guarded
    def set_meta(self, key: str, value: Any) -> None:
        self.connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    @_guarded
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])
