"""The run registry: one SQLite file (stdlib ``sqlite3``) that remembers every run.

It lives at ``$GENMODELS_HOME/registry.sqlite`` (default home: ``./genmodels-runs/``).
Each call opens its own connection (WAL mode, a busy timeout) and writes in one
transaction, so several processes may record runs at the same time. The schema is
versioned with ``PRAGMA user_version`` and upgraded by the migrations in
:data:`MIGRATIONS`, applied in order.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ENV_HOME = "GENMODELS_HOME"
DEFAULT_HOME = "genmodels-runs"
REGISTRY_FILE = "registry.sqlite"
BUSY_TIMEOUT_S = 30.0

KINDS = ("fit", "sample", "evaluate", "compare", "demo", "study", "augment")
STATUSES = ("ok", "failed", "timeout", "interrupted")

# Migration i (0-based) takes the schema from user_version i to i + 1. Append, never edit.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            created TEXT NOT NULL,
            kind TEXT NOT NULL,
            model TEXT,
            data TEXT,
            data_fingerprint TEXT,
            config TEXT NOT NULL DEFAULT '{}',
            seed INTEGER,
            duration_s REAL,
            peak_rss_mb REAL,
            metrics TEXT NOT NULL DEFAULT '{}',
            out_dir TEXT,
            status TEXT NOT NULL DEFAULT 'ok',
            error TEXT
        )""",
        "CREATE INDEX runs_created ON runs (created)",
        "CREATE INDEX runs_model ON runs (model)",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)

COLUMNS = ("id", "created", "kind", "model", "data", "data_fingerprint", "config", "seed",
           "duration_s", "peak_rss_mb", "metrics", "out_dir", "status", "error")
_JSON_COLUMNS = ("config", "metrics")


def home() -> Path:
    """Where runs, models and the registry go: ``$GENMODELS_HOME`` or ``./genmodels-runs``.

    The variable is read on every call, so a changed environment takes effect at once.
    """
    return Path(os.environ.get(ENV_HOME) or DEFAULT_HOME)


def registry_path() -> Path:
    """The registry file, ``home() / "registry.sqlite"``."""
    return home() / REGISTRY_FILE


@contextmanager
def connect(path: str | Path | None = None) -> Iterator[sqlite3.Connection]:
    """Open the registry (created and migrated if needed), yield it, close it.

    The connection is in autocommit mode; group writes with :func:`transaction`.
    """
    path = Path(path) if path is not None else registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    with closing(conn):
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _set_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        _migrate(conn, path)
        yield conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` if the block raises)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _set_wal(conn: sqlite3.Connection) -> None:
    # The journal mode is stored in the file; switching needs a short exclusive lock,
    # which busy_timeout does not always cover on a brand-new file, hence the retries.
    for attempt in range(50):
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                logger.warning("registry: journal_mode is %r, not WAL", mode)
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise
            time.sleep(0.01 * (attempt + 1))
    raise sqlite3.OperationalError("registry: could not switch to WAL mode (database busy)")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"{path}: registry schema version {version} is newer than this "
                           f"genmodels understands ({SCHEMA_VERSION}); upgrade genmodels")
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process?
        for i in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[i]:
                conn.execute(statement)
            logger.info("registry %s: migrated schema %d -> %d", path, i, i + 1)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def new_run_id() -> str:
    """A short unique id: UTC time to the second + 8 random hex digits (``os.urandom``)."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + os.urandom(4).hex()


def record_run(**fields: Any) -> str:
    """Store one run and return its id. ``fields`` are columns of ``runs`` (see
    :data:`COLUMNS`); ``config`` and ``metrics`` are dicts; ``kind`` is required."""
    row = _check_fields(fields)
    with connect() as conn:
        for _ in range(5):
            row["id"] = fields.get("id") or new_run_id()
            try:
                with transaction(conn):
                    conn.execute(
                        f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                        tuple(row.values()),
                    )
                return row["id"]
            except sqlite3.IntegrityError:
                if fields.get("id"):
                    raise ValueError(f"id: a run {fields['id']!r} already exists") from None
        raise RuntimeError("registry: could not draw an unused run id")  # pragma: no cover


def list_runs(limit: int = 50, model: str | None = None) -> list[dict[str, Any]]:
    """The newest ``limit`` runs (newest first), optionally only those of ``model``."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise ValueError(f"limit: got {limit!r}; allowed: a positive integer")
    sql = "SELECT * FROM runs"
    args: tuple[Any, ...] = ()
    if model is not None:
        sql += " WHERE model = ?"
        args = (model,)
    sql += " ORDER BY created DESC, rowid DESC LIMIT ?"
    with connect() as conn:
        rows = conn.execute(sql, (*args, limit)).fetchall()
    return [_to_dict(r) for r in rows]


def get_run(run_id: str) -> dict[str, Any]:
    """One run by its id; ``ValueError`` if there is none."""
    with connect() as conn:
        row = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise ValueError(f"run id: no run {run_id!r} in {registry_path()}")
    return _to_dict(row)


def _check_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(fields) - set(COLUMNS) - {"created"})
    if unknown:
        raise ValueError(f"record_run: unknown field {unknown[0]!r}; allowed: {', '.join(COLUMNS)}")
    kind = fields.get("kind")
    if kind not in KINDS:
        raise ValueError(f"kind: got {kind!r}; allowed: {', '.join(map(repr, KINDS))}")
    status = fields.get("status", "ok")
    if status not in STATUSES:
        raise ValueError(f"status: got {status!r}; allowed: {', '.join(map(repr, STATUSES))}")
    row: dict[str, Any] = {"id": None, "created": fields.get("created") or _now()}
    for key in COLUMNS[2:]:
        value = fields.get(key)
        if key in _JSON_COLUMNS:
            value = _json_text(key, value if value is not None else {})
        elif key in ("data", "out_dir") and value is not None:
            value = str(value)
        elif key in ("duration_s", "peak_rss_mb") and value is not None:
            value = float(value)
            if not math.isfinite(value):
                value = None
        row[key] = value if key != "status" else status
    return row


def _json_text(key: str, value: Any) -> str:
    from genmodels.files import to_jsonable

    try:
        return json.dumps(_finite(to_jsonable(value)), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{key}: cannot be stored as JSON ({e})") from None


def _finite(obj: Any) -> Any:
    """NaN/inf (a metric that could not be computed) become null: JSON has no NaN."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def _to_dict(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_COLUMNS:
        out[key] = json.loads(out[key]) if out.get(key) else {}
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
