"""``gm.compare`` and ``genmodels compare``: one split for all, equal budgets enforced
from outside (timeouts and crashes isolated), the documented composite, the registry."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import genmodels._compare_processes as procs
import genmodels.compare as cmp
from genmodels._compare_worker import headline, run_model, write_state
from genmodels.compare import CompareResult, ModelRun, composite_score, rank_runs

# The scheduler tests run functions of this module in spawned processes, which import
# it: heavier imports (pandas, the CLI) stay inside the tests.


def _frame(n: int, seed: int = 0):
    from tests.conftest import make_mixed_frame

    return make_mixed_frame(n, seed=seed)


# ------------------------------------------------------------------ scoring
def test_composite_is_the_documented_weighted_mean() -> None:
    assert composite_score({"fidelity": 0.8, "utility": 0.6, "privacy": 1.0}) == \
        pytest.approx(0.5 * 0.8 + 0.25 * 0.6 + 0.25 * 1.0)
    # an undefined term is left out and the weights renormalised
    assert composite_score({"fidelity": 0.8, "utility": None, "privacy": 0.4}) == \
        pytest.approx((0.5 * 0.8 + 0.25 * 0.4) / 0.75)
    assert composite_score({"fidelity": float("nan"), "privacy": 0.5}) == pytest.approx(0.5)
    assert composite_score({"fidelity": 1.7, "utility": -1.0}) == pytest.approx(
        (0.5 * 1.0 + 0.25 * 0.0) / 0.75)  # terms are clipped to [0, 1]
    assert composite_score({}) is None


def test_privacy_term_prefers_the_attack() -> None:
    assert cmp.privacy_term(0.5, 1.0) == 1.0  # MIA at chance: safe whatever the copies
    assert cmp.privacy_term(0.75, 0.0) == pytest.approx(0.5)
    assert cmp.privacy_term(None, 0.3) == pytest.approx(0.7)
    assert cmp.privacy_term(None, None) is None


def test_rank_puts_failures_last_without_a_rank() -> None:
    runs = [ModelRun("a", "ok", composite=0.5), ModelRun("b", "failed", error="x"),
            ModelRun("c", "ok", composite=0.9), ModelRun("d", "timeout"),
            ModelRun("e", "ok", composite=None)]
    ordered = rank_runs(runs)
    assert [r.model for r in ordered] == ["c", "a", "e", "b", "d"]
    assert [r.rank for r in ordered] == [1, 2, 3, None, None]


def test_headline_from_an_evaluation_dict() -> None:
    ev = {"summary": {"score": 0.7, "c2st_auc": 0.6, "exact_match_rate": 0.25,
                      "utility_ratio": 1.2, "mia_auc": 0.55, "dcr_ratio": 0.9},
          "scores": {"fidelity": 0.7, "utility": 0.95, "privacy": 0.8}}
    h = headline(ev)
    assert (h["fidelity"], h["utility"], h["privacy"]) == (0.7, 0.95, 0.8)
    assert (h["c2st_auc"], h["exact_copy_rate"], h["mia_auc"]) == (0.6, 0.25, 0.55)
    # without group scores (an older report): clipped ratio and the fallback privacy term
    h = headline({"summary": {"score": 0.7, "utility_ratio": 1.2, "exact_match_rate": 0.25}})
    assert (h["utility"], h["privacy"], h["mia_auc"]) == (1.0, 0.75, None)


@pytest.mark.slow
def test_headline_reads_a_real_evaluation() -> None:
    import genmodels as gm

    real, synth = _frame(200, seed=0), _frame(200, seed=1)
    report = gm.evaluate(real, synth, target="cat", holdout=_frame(80, seed=2))
    h = headline(report.to_dict())
    scores = report.group_scores()
    assert h["fidelity"] == pytest.approx(report.score)
    assert h["utility"] == pytest.approx(scores["utility"])
    assert h["privacy"] == pytest.approx(scores["privacy"])
    assert h["c2st_auc"] == pytest.approx(report.c2st_auc)
    assert h["exact_copy_rate"] == pytest.approx(report.exact_match_rate)


# ------------------------------------------------------------------ arguments
def test_resolve_models() -> None:
    import genmodels as gm

    assert list(cmp.resolve_models("all")) == list(gm.models.registry("table"))
    assert cmp.resolve_models(" gmm, copula ") == {"gmm": {}, "copula": {}}
    assert cmp.resolve_models(["gmm"]) == {"gmm": {}}
    assert cmp.resolve_models({"gmm": {"n_components": 2}}) == {"gmm": {"n_components": 2}}
    with pytest.raises(ValueError, match="nope"):
        cmp.resolve_models("gmm,nope")
    with pytest.raises(ValueError, match="n_components"):
        cmp.resolve_models({"gmm": {"n_components": -1}})
    with pytest.raises(ValueError, match="models"):
        cmp.resolve_models(",")


def test_split_is_seeded_disjoint_and_stratified() -> None:
    import numpy as np
    import pandas as pd

    frame = _frame(500, seed=0)
    frame["id"] = np.arange(len(frame))
    train, hold = cmp.split(frame, 0.2, seed=3, target="cat")
    assert len(hold) == 100 and len(train) == 400
    assert set(train["id"]).isdisjoint(hold["id"])
    assert set(train["id"]) | set(hold["id"]) == set(range(500))
    share = frame["cat"].value_counts(normalize=True)
    assert (hold["cat"].value_counts(normalize=True) - share).abs().max() < 0.02
    again, _ = cmp.split(frame, 0.2, seed=3, target="cat")
    pd.testing.assert_frame_equal(train, again)
    other, _ = cmp.split(frame, 0.2, seed=4, target="cat")
    assert not train["id"].equals(other["id"])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"target": "nope"}, "target"), ({"sensitive": "nope"}, "sensitive"),
    ({"holdout_fraction": 0.9}, "holdout_fraction"), ({"holdout_fraction": 0}, "holdout"),
    ({"processes": 0}, "processes"), ({"budget": -5}, "budget"), ({"seed": -1}, "seed"),
    ({"models": "gmm,unknown_model"}, "unknown_model"), ({"n_samples": 0}, "n_samples"),
])
def test_bad_arguments_fail_before_any_process(tmp_path, kwargs, match) -> None:
    frame = _frame(60)
    kw = {"models": "independent", "out": tmp_path / "run"} | kwargs
    with pytest.raises(ValueError, match=match):
        cmp.compare(frame, **kw)
    assert not (tmp_path / "run").exists()


def test_missing_data_and_existing_out(tmp_path) -> None:
    with pytest.raises(ValueError, match="data"):
        cmp.compare(str(tmp_path / "missing.csv"), models="independent")
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="force"):
        cmp.compare(_frame(60), models="independent", out=out)


# ------------------------------------------------------------------ worker
def _task(tmp_path: Path, **kw) -> dict:
    train, hold = cmp.split(_frame(120), 0.2, 0)
    train.to_parquet(tmp_path / "train.parquet", index=False)
    hold.to_parquet(tmp_path / "holdout.parquet", index=False)
    return {"dir": str(tmp_path), "state": str(tmp_path / "state.json"), "seed": 0,
            "budget": 10.0, "limit": 20.0, "n_synth": 50, "target": None, "sensitive": None,
            "threads": 1, "eval_limit": 60.0, "name": "independent", "hyperparams": {}} | kw


@pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="needs SIGALRM")
def test_worker_stops_itself_at_the_deadline(tmp_path) -> None:
    task = _task(tmp_path, name="gmm", hyperparams={"n_components": 8, "max_iter": 100_000,
                                                     "tol": 1e-300}, limit=0.01, budget=0.005)
    start = time.perf_counter()
    out = run_model(task)
    assert out["status"] == "timeout", out
    assert "budget" in out["error"] and time.perf_counter() - start < 30
    assert json.loads((tmp_path / "state.json").read_text())["phase"] == "fit"


def test_worker_reports_a_failure_as_data(tmp_path) -> None:
    out = run_model(_task(tmp_path, name="gmm", hyperparams={"n_components": 500}))
    assert out["status"] == "failed" and out["error"]


# Run in spawned workers by the scheduler tests (importable by name there): the task's
# name says how to behave.
def _dispatch(task: dict) -> dict:
    kind = task["name"].rstrip("0123456789")
    if kind == "crash":
        os._exit(3)
    if kind == "stuck":  # a deadline, then ignores it
        write_state(task["state"], "fit", time.time() + 0.5)
        time.sleep(120)
    write_state(task["state"], "fit", time.time() + 30)
    return {"status": "ok", "metrics": {"fidelity": task["hyperparams"].get("f")},
            "seconds": 0.1}


def _tasks(tmp_path: Path, names: list[str]) -> list[dict]:
    return [{"dir": str(tmp_path), "name": n, "hyperparams": {"f": 0.1 * i}, "budget": 0.2,
             "limit": 0.5, "eval_limit": 5.0} for i, n in enumerate(names)]


def _schedule(tasks: list[dict], processes: int) -> dict[str, dict]:
    outs: dict[str, dict] = {}
    procs.schedule(tasks, processes, lambda task, out: outs.__setitem__(task["name"], out),
                   worker=_dispatch)
    return outs


def test_scheduler_kills_a_stuck_worker_and_isolates_crashes(tmp_path, monkeypatch) -> None:
    import psutil

    monkeypatch.setattr(procs, "HARD_MARGIN", 0.5)
    start = time.perf_counter()
    by = _schedule(_tasks(tmp_path, ["stuck", "ok1", "crash", "ok2"]), 2)
    assert by["ok1"]["status"] == by["ok2"]["status"] == "ok"
    assert by["ok2"]["metrics"] == {"fidelity": pytest.approx(0.3)}
    assert by["stuck"]["status"] == "timeout" and "budget" in by["stuck"]["error"]
    assert by["crash"]["status"] == "failed" and "died" in by["crash"]["error"]
    assert time.perf_counter() - start < 60
    pid = json.loads((tmp_path / ".work" / "stuck.json").read_text())["pid"]
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_scheduler_runs_workers_side_by_side(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(procs, "HARD_MARGIN", 3.0)
    by = _schedule(_tasks(tmp_path, ["stuck1", "stuck2"]), 2)
    assert [o["status"] for o in by.values()] == ["timeout", "timeout"]
    # each is killed 0.5 + 3 s after its fit starts; one after the other, the second
    # would start at least 3.5 s after the first
    starts = [json.loads((tmp_path / ".work" / f"{n}.json").read_text())["deadline"]
              for n in ("stuck1", "stuck2")]
    assert abs(starts[0] - starts[1]) < 3.0


# ------------------------------------------------------------------ end to end
@pytest.mark.slow
def test_compare_end_to_end(tmp_path) -> None:
    import pandas as pd

    import genmodels as gm
    from genmodels import runs
    from genmodels.generator import fingerprint

    frame = _frame(240, seed=0)
    out = tmp_path / "run"
    seen = []
    result = cmp.compare(frame, models={"independent": {}, "copula": {},
                                        "gmm": {"n_components": 500}},
                         budget=60, target="cat", seed=1, out=out, processes=2,
                         progress=seen.append)
    by = {r.model: r for r in result.runs}
    assert sorted(r.model for r in seen) == ["copula", "gmm", "independent"]
    assert by["copula"].status == by["independent"].status == "ok"
    # a model that fails (more components than rows) is shown as failed, last, unranked
    assert by["gmm"].status == "failed" and "n_components" in by["gmm"].error
    assert by["gmm"].rank is None and result.runs[-1].model == "gmm"
    ok = [r for r in result.runs if r.status == "ok"]
    assert [r.rank for r in ok] == list(range(1, len(ok) + 1))
    assert [r.composite for r in ok] == sorted([r.composite for r in ok], reverse=True)
    for r in ok:
        assert r.composite == pytest.approx(composite_score(r.metrics))
        assert 0 <= r.composite <= 1 and r.fit_seconds > 0 and r.peak_rss_mb > 0
        assert r.n_synth == result.n_train == 192 and result.n_holdout == 48
    # one split for all: every saved model was fitted on exactly train.parquet
    train = pd.read_parquet(out / "train.parquet")
    for r in ok:
        gen = gm.load(r.model_dir)
        assert gen.fit_info_["data_fingerprint"] == fingerprint(train)
        assert len(pd.read_parquet(r.synth_path)) == 192
    # independent ignores every dependency (x and y correlate at 0.97): it must lose
    assert by["copula"].metrics["fidelity"] > by["independent"].metrics["fidelity"]
    assert by["independent"].holdout_nll is not None
    assert by["independent"].likelihood == "exact"
    # results.json round-trips; the report is written; each model is in the registry
    loaded = CompareResult.load(out)
    assert loaded.to_dict() == json.loads(json.dumps(result.to_dict()))
    assert result.report_path and Path(result.report_path).is_file()
    recorded = [r for r in runs.list_runs(limit=20) if r["kind"] == "compare"]
    assert sorted(r["model"] for r in recorded) == ["copula", "gmm", "independent"]
    assert {r["model"]: r["status"] for r in recorded}["gmm"] == "failed"
    assert {r["config"]["compare_id"] for r in recorded} == {result.run_id}
    assert not (out / ".work").exists()


@pytest.mark.slow
def test_cli_compare_json_and_report(tmp_path) -> None:
    from typer.testing import CliRunner

    from genmodels.cli import app

    csv = tmp_path / "table.csv"
    _frame(150, seed=0).to_csv(csv, index=False)
    out = tmp_path / "cmp"
    runner = CliRunner()
    res = runner.invoke(app, ["compare", str(csv), "--models", "independent,gmm",
                              "--set", "gmm.n_components=2", "--budget", "1m",
                              "--target", "cat", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["data"] == str(csv.resolve())
    assert {r["model"]: r["hyperparams"] for r in data["runs"]}["gmm"]["n_components"] == 2
    assert all(r["status"] == "ok" for r in data["runs"])
    assert (out / "report.html").is_file()
    again = runner.invoke(app, ["compare", str(csv), "--models", "independent",
                                "--out", str(out)])
    assert again.exit_code == 2 and "--force" in again.output
    res = runner.invoke(app, ["report", str(out), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["report"] == str(out / "report.html")
    bad = runner.invoke(app, ["compare", str(csv), "--models", "gmm", "--set", "x=1"])
    assert bad.exit_code == 2 and "MODEL.NAME=VALUE" in bad.output
