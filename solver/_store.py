"""The run store: ``evaluations.sqlite`` in the run directory.

One row per distinct configuration evaluated, committed as each evaluation finishes, so a
run killed at any moment (even with ``kill -9``) loses at most the evaluations in flight.
WAL journaling keeps readers and the single writer apart and makes commits cheap.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

__all__ = ["Evaluation", "Probe", "RunStore", "config_key"]

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

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class RunStore:
    """SQLite storage of a run's evaluations, generations and metadata."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, isolation_level=None)  # autocommit: one write, one commit
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.executescript(_SCHEMA)

    def close(self) -> None:
        self.connection.close()

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

    def evaluations(self) -> Iterator[Evaluation]:
        rows = self.connection.execute("SELECT key, config, metrics, status, error, seconds, generation, created FROM evaluations ORDER BY id")
        for key, config, metrics, status, error, seconds, generation, created in rows:
            yield Evaluation(key, json.loads(config), status, json.loads(metrics or "{}"), error, seconds or 0.0, generation, created)

    def forget(self, keys: Sequence[str]) -> None:
        """Delete evaluations (in one transaction): failures caused by the environment say
        nothing about their configurations, and a resumed run evaluates them again."""
        with self.connection:
            self.connection.execute("BEGIN")
            self.connection.executemany("DELETE FROM evaluations WHERE key = ?", [(key,) for key in keys])

    def update_metrics(self, key: str, metrics: Mapping[str, Any]) -> None:
        """Replace stored metric values of one evaluation (a learned metric's refitted predictions)."""
        row = self.connection.execute("SELECT metrics FROM evaluations WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self.connection.execute("UPDATE evaluations SET metrics = ? WHERE key = ?", (json.dumps({**json.loads(row[0] or "{}"), **metrics}), key))

    def add_probe(self, probe: Probe) -> None:
        """Store one probe (committed before this returns)."""
        self.connection.execute(
            "INSERT OR IGNORE INTO probes (key, fidelity, config, status, value, error, seconds, stage, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (probe.key, json.dumps(probe.fidelity, sort_keys=True), json.dumps(probe.config), probe.status, probe.value, probe.error, probe.seconds, probe.stage, time.time()),
        )

    def probes(self, fidelity: Mapping[str, Any] | None = None) -> list[Probe]:
        """Stored probes in the order they finished (of one fidelity, when given)."""
        rows = self.connection.execute("SELECT key, config, fidelity, status, value, error, seconds, stage FROM probes ORDER BY id").fetchall()
        probes = [Probe(key, json.loads(config), json.loads(stored), status, value, error, seconds or 0.0, stage) for key, config, stored, status, value, error, seconds, stage in rows]
        return probes if fidelity is None else [probe for probe in probes if probe.fidelity == json.loads(json.dumps(dict(fidelity), sort_keys=True))]

    def count(self) -> int:
        return self.connection.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]

    def record_generation(self, generation: int, evaluations: int, front_size: int, hypervolume: float, elapsed: float) -> None:
        self.connection.execute(
            "INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?, ?)", (generation, evaluations, front_size, hypervolume, elapsed)
        )

    def generations(self) -> list[dict[str, Any]]:
        rows = self.connection.execute("SELECT generation, evaluations, front_size, hypervolume, elapsed FROM generations ORDER BY generation")
        return [dict(zip(("generation", "evaluations", "front_size", "hypervolume", "elapsed"), row)) for row in rows]

    def set_meta(self, key: str, value: Any) -> None:
        self.connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])
