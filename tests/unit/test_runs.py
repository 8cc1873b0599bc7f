"""The run registry: location, round trip, validation, migrations and concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import pytest

from genmodels import runs


@pytest.fixture
def reg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GENMODELS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_home_reads_env_each_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENMODELS_HOME", raising=False)
    assert runs.home() == Path("genmodels-runs")
    monkeypatch.setenv("GENMODELS_HOME", str(tmp_path / "a"))
    assert runs.home() == tmp_path / "a"
    monkeypatch.setenv("GENMODELS_HOME", str(tmp_path / "b"))
    assert runs.registry_path() == tmp_path / "b" / "registry.sqlite"


def test_registry_written_under_genmodels_home(reg_home: Path) -> None:
    run_id = runs.record_run(kind="fit", model="copula", data="penguins")
    assert (reg_home / "registry.sqlite").is_file()
    with sqlite3.connect(reg_home / "registry.sqlite") as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM runs")]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == runs.SCHEMA_VERSION
    assert ids == [run_id]


def test_record_get_round_trip(reg_home: Path) -> None:
    run_id = runs.record_run(
        kind="fit", model="gmm", data="/data/x.csv", data_fingerprint="abc123",
        config={"n_components": 3, "nested": {"a": [1, 2]}}, seed=7, duration_s=1.25,
        peak_rss_mb=321.5, metrics={"loglik": -1.5, "bad": float("nan")},
        out_dir=Path("/tmp/out"),
    )
    run = runs.get_run(run_id)
    assert run["id"] == run_id
    assert run["kind"] == "fit" and run["model"] == "gmm" and run["status"] == "ok"
    assert run["config"] == {"n_components": 3, "nested": {"a": [1, 2]}}
    assert run["metrics"] == {"loglik": -1.5, "bad": None}
    assert run["seed"] == 7 and run["duration_s"] == 1.25 and run["peak_rss_mb"] == 321.5
    assert run["out_dir"] == "/tmp/out" and run["data_fingerprint"] == "abc123"
    assert run["created"].endswith("+00:00")  # ISO, UTC
    assert run["error"] is None


def test_failed_run_keeps_error(reg_home: Path) -> None:
    run_id = runs.record_run(kind="fit", model="vae", status="failed", error="boom")
    run = runs.get_run(run_id)
    assert (run["status"], run["error"]) == ("failed", "boom")


def test_ids_are_unique_and_short(reg_home: Path) -> None:
    ids = {runs.record_run(kind="fit") for _ in range(50)}
    assert len(ids) == 50
    assert all(len(i) <= 24 for i in ids)


def test_list_runs_newest_first_limit_and_model_filter(reg_home: Path) -> None:
    ids = [runs.record_run(kind="fit", model="a" if i % 2 else "b") for i in range(6)]
    listed = runs.list_runs()
    assert [r["id"] for r in listed] == ids[::-1]
    assert [r["id"] for r in runs.list_runs(limit=2)] == ids[::-1][:2]
    only_a = runs.list_runs(model="a")
    assert [r["id"] for r in only_a] == [ids[5], ids[3], ids[1]]
    assert runs.list_runs(model="nope") == []


def test_list_runs_on_a_fresh_home_is_empty(reg_home: Path) -> None:
    assert runs.list_runs() == []


def test_get_run_unknown_id(reg_home: Path) -> None:
    runs.record_run(kind="fit")
    with pytest.raises(ValueError, match="no run 'nope'"):
        runs.get_run("nope")


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"kind": "fit", "colour": 1}, "unknown field 'colour'"),
        ({"kind": "dance"}, "kind: got 'dance'"),
        ({}, "kind: got None"),
        ({"kind": "fit", "status": "meh"}, "status: got 'meh'"),
        ({"kind": "fit", "config": {"f": object()}}, "config: cannot be stored"),
    ],
)
def test_record_run_rejects_bad_fields(reg_home: Path, fields: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        runs.record_run(**fields)


def test_record_run_duplicate_explicit_id(reg_home: Path) -> None:
    runs.record_run(kind="fit", id="fixed")
    with pytest.raises(ValueError, match="'fixed' already exists"):
        runs.record_run(kind="fit", id="fixed")
    assert len(runs.list_runs()) == 1


@pytest.mark.parametrize("limit", [0, -1, "3", True])
def test_list_runs_bad_limit(reg_home: Path, limit: object) -> None:
    with pytest.raises(ValueError, match="limit: got"):
        runs.list_runs(limit=limit)  # type: ignore[arg-type]


def test_newer_schema_is_refused(reg_home: Path) -> None:
    runs.record_run(kind="fit")
    with sqlite3.connect(reg_home / "registry.sqlite") as conn:
        conn.execute(f"PRAGMA user_version = {runs.SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer than this genmodels"):
        runs.list_runs()


def test_migrations_upgrade_an_old_registry(reg_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs.record_run(kind="fit", model="old")
    extra = ("ALTER TABLE runs ADD COLUMN tag TEXT",)
    monkeypatch.setattr(runs, "MIGRATIONS", [*runs.MIGRATIONS, extra])
    monkeypatch.setattr(runs, "SCHEMA_VERSION", len(runs.MIGRATIONS))
    listed = runs.list_runs()
    assert [r["model"] for r in listed] == ["old"] and listed[0]["tag"] is None
    with sqlite3.connect(reg_home / "registry.sqlite") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == runs.SCHEMA_VERSION


def test_failed_transaction_rolls_back(reg_home: Path) -> None:
    with runs.connect() as conn, pytest.raises(RuntimeError):
        with runs.transaction(conn):
            conn.execute("INSERT INTO runs (id, created, kind) VALUES ('x', 'now', 'fit')")
            raise RuntimeError("abort")
    assert runs.list_runs() == []


def _writer(home: str, tag: str, n: int, start: mp.synchronize.Event) -> None:
    import os

    os.environ["GENMODELS_HOME"] = home
    start.wait(30)
    for i in range(n):
        runs.record_run(kind="fit", model=tag, seed=i, config={"i": i})


def test_two_processes_write_concurrently(reg_home: Path) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(reg_home), tag, 200, start))
             for tag in ("p1", "p2")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    with sqlite3.connect(reg_home / "registry.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 400
        assert conn.execute("SELECT COUNT(DISTINCT id) FROM runs").fetchone()[0] == 400
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per = dict(conn.execute("SELECT model, COUNT(*) FROM runs GROUP BY model").fetchall())
    assert per == {"p1": 200, "p2": 200}
    seeds = sorted(r["seed"] for r in runs.list_runs(limit=1000, model="p1"))
    assert seeds == list(range(200))
