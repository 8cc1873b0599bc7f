"""``genmodels evaluate``: summary, JSON, --out with --force, the registry record,
one-line usage errors, and a real subprocess run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from genmodels.cli import app


def make_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    species = rng.choice(["adelie", "gentoo", "chinstrap"], size=n, p=[0.5, 0.3, 0.2])
    mass = np.where(species == "gentoo", 5000.0, 3700.0) + rng.normal(0, 300, n)
    return pd.DataFrame({"species": species, "mass": mass.round(1),
                         "sex": rng.choice(["f", "m"], n),
                         "bill": (40 + 0.002 * mass + rng.normal(0, 1, n)).round(1)})


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def runner(home: Path) -> CliRunner:
    return CliRunner(env={"GENMODELS_HOME": str(home), "COLUMNS": "120"})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, runner: CliRunner) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("data")
    paths = {"real": d / "real.csv", "holdout": d / "holdout.csv", "synth": d / "synth.parquet"}
    make_table(400, 0).to_csv(paths["real"], index=False)
    make_table(150, 1).to_csv(paths["holdout"], index=False)
    res = runner.invoke(app, ["fit", str(paths["real"]), "--model", "gmm", "--out",
                              str(d / "model"), "--set", "n_components=3"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["sample", str(d / "model"), "-n", "400", "-o",
                              str(paths["synth"])])
    assert res.exit_code == 0, res.output
    return paths | {"model": d / "model", "dir": d}


def invoke(runner: CliRunner, *args: object):
    return runner.invoke(app, [str(a) for a in args])


def test_default_output_is_a_readable_summary(runner: CliRunner, files) -> None:
    res = invoke(runner, "evaluate", files["real"], files["synth"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    for text in ("synth.parquet vs real.csv", "Fidelity", "C2ST AUC", "precision",
                 "Worst columns", "Privacy", "pass --holdout", "run "):
        assert text in out, text
    assert "Utility" not in out and "Fairness" not in out  # no --target, no --sensitive


def test_every_option_json_out_and_registry(runner: CliRunner, files, home: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    out = files["dir"] / "report.json"
    args = ["evaluate", files["real"], files["synth"], "--target", "species",
            "--sensitive", "sex", "--holdout", files["holdout"], "--model", files["model"],
            "--seed", "2", "--out", out, "--json"]
    res = invoke(runner, *args)
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    written = json.loads(out.read_text())
    assert printed.pop("run_id") and printed["summary"] == written["summary"]
    assert written["n_holdout"] == 150 and written["seed"] == 2
    assert written["utility"]["evaluated_on"] == "holdout"
    assert set(written["utility"]["learners"]) == {"hgb", "linear"}
    assert written["fairness"]["sex"]["groups"] and written["privacy"]["mia_auc"] is not None
    assert written["likelihood"]["kind"] == "exact" and written["cost"]["model"] == "gmm"
    monkeypatch.setenv("GENMODELS_HOME", str(home))
    from genmodels import runs

    run = runs.get_run(printed_run_id(res.stdout))
    assert run["kind"] == "evaluate" and run["model"] == "gmm" and run["seed"] == 2
    assert run["config"]["target"] == "species" and run["config"]["sensitive"] == ["sex"]
    assert run["metrics"]["score"] == pytest.approx(written["summary"]["score"])
    assert run["out_dir"] == str(out.resolve())
    # --out exists: refused without --force (nothing recomputed), replaced with it
    again = invoke(runner, *args)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert invoke(runner, *args, "--force").exit_code == 0


def printed_run_id(stdout: str) -> str:
    return json.loads(stdout)["run_id"]


def test_rich_summary_with_every_group(runner: CliRunner, files) -> None:
    res = invoke(runner, "evaluate", files["real"], files["synth"], "-t", "species",
                 "-s", "sex", "--holdout", files["holdout"], "-m", files["model"])
    assert res.exit_code == 0, res.output
    for text in ("Likelihood (exact: nll)", "Utility: macro_f1 on 'species'", "linear",
                 "membership-inference AUC", "Fairness: sex", "Cost (gmm)"):
        assert text in res.stdout, text


@pytest.mark.parametrize(("extra", "needle"), [
    (["--target", "nope"], "target: got 'nope'"),
    (["--sensitive", "sex,nope"], "sensitive: got 'nope'"),
    (["--holdout", "missing.csv"], "does not exist"),
    (["--model", "no-such-dir"], "no-such-dir"),
])
def test_usage_errors_are_one_line_exit_2(runner: CliRunner, files, extra, needle) -> None:
    res = invoke(runner, "evaluate", files["real"], files["synth"], *extra)
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]


def test_subprocess_with_a_bundled_dataset(files, home: Path, tmp_path: Path) -> None:
    import genmodels as gm

    synth = tmp_path / "penguins-copy.csv"
    gm.datasets.load("penguins").sample(100, random_state=0).to_csv(synth, index=False)
    env = {**os.environ, "GENMODELS_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-m", "genmodels", "evaluate", "penguins",
                           str(synth), "--json"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["n_real"] == 344 and report["n_synth"] == 100
    assert report["summary"]["exact_match_rate"] == 1.0  # rows copied from the data
