"""``genmodels gvd``, ``mle-vs-bayes``, ``augment`` and ``augment-study``: outputs,
exit codes, --force and --json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from genmodels.cli import app


def make_table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    species = rng.choice(["adelie", "gentoo", "chinstrap"], size=n, p=[0.6, 0.3, 0.1])
    mass = np.where(species == "gentoo", 5000.0, 3700.0) + rng.normal(0, 300, n)
    bill = np.where(species == "chinstrap", 49.0, 39.0) + 0.002 * mass + rng.normal(0, 1, n)
    return pd.DataFrame({"species": species, "mass": mass.round(1), "bill": bill.round(2),
                         "island": rng.choice(["a", "b"], n)})


@pytest.fixture
def runner(tmp_path: Path) -> CliRunner:
    return CliRunner(env={"GENMODELS_HOME": str(tmp_path / "home")})


@pytest.fixture
def csv_path(tmp_path: Path) -> Path:
    path = tmp_path / "table.csv"
    make_table().to_csv(path, index=False)
    return path


def test_gvd_writes_html_and_json_and_refuses_to_overwrite(runner, csv_path, tmp_path) -> None:
    out = tmp_path / "gvd.html"
    args = ["gvd", str(csv_path), "--target", "species", "-c", "naive_bayes,logistic,gaussian",
            "--sizes", "12,60", "--repeats", "2", "--pair-repeats", "2", "-o", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "naive_bayes vs logistic" in res.output and "wrote" in res.output
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and html.count("data:image/png;base64,") == 1
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["study"] == "gvd" and data["results"][0]["sizes"] == [12, 60]
    from genmodels.studies import load_result

    assert load_result(out.with_suffix(".json")).to_dict() == data
    before = out.read_text()
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "--force" in res.output
    assert out.read_text() == before
    res = runner.invoke(app, [*args, "--force", "--seed", "1", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["study"] == "gvd" and "pair" in summary["verdicts"]["table.csv"]
    assert out.read_text() != before
    res = runner.invoke(app, ["runs", "--json"])
    kinds = [r["kind"] for r in json.loads(res.output)]
    assert kinds.count("study") == 2


def test_gvd_bad_input_exits_2(runner, csv_path) -> None:
    res = runner.invoke(app, ["gvd", str(csv_path), "-t", "species", "-c", "svm"])
    assert res.exit_code == 2 and "classifiers: got 'svm'" in res.output
    res = runner.invoke(app, ["gvd", str(csv_path), "-t", "nope"])
    assert res.exit_code == 2 and "target: got 'nope'" in res.output
    res = runner.invoke(app, ["gvd", str(csv_path), "-t", "species", "--sizes", "a,b"])
    assert res.exit_code == 2 and "--sizes" in res.output
    res = runner.invoke(app, ["gvd", str(csv_path), "-t", "species", "-o", "x.txt"])
    assert res.exit_code == 2 and ".html" in res.output


def test_mle_vs_bayes_default_output_goes_under_home(runner, csv_path, tmp_path) -> None:
    res = runner.invoke(app, ["mle-vs-bayes", str(csv_path), "--sizes", "5,100",
                              "--repeats", "2", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    html = Path(summary["html"])
    assert html.parent == tmp_path / "home" / "studies" and html.is_file()
    data = json.loads(Path(summary["json"]).read_text())
    assert data["results"][0]["columns"] == ["mass", "bill"]
    assert "gaussian/bayes_gaussian" in summary["verdicts"]["table.csv"]


def test_augment_balance_writes_exact_counts(runner, csv_path, tmp_path) -> None:
    out = tmp_path / "aug.csv"
    args = ["augment", str(csv_path), "--target", "species", "--model", "bayesnet",
            "--balance", "-o", str(out), "--mark", "synthetic"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    original = pd.read_csv(csv_path)
    got = pd.read_csv(out)
    counts = original["species"].value_counts()
    assert len(got) == len(counts) * counts.max()
    assert (got["species"].value_counts() == counts.max()).all()
    pd.testing.assert_frame_equal(got.iloc[: len(original)].drop(columns="synthetic"), original)
    assert got["synthetic"].sum() == len(got) - len(original)
    # --force semantics: refused (file unchanged), then replaced
    before = out.read_bytes()
    res = runner.invoke(app, [*args[:-2], "--seed", "3"])
    assert res.exit_code == 2 and "--force" in res.output and out.read_bytes() == before
    res = runner.invoke(app, [*args[:-2], "--seed", "3", "--force", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert summary["rows_out"] == len(counts) * counts.max()
    assert summary["added"] == {k: int(counts.max() - v) for k, v in counts.items()}
    assert out.read_bytes() != before


def test_augment_ratio_to_stdout(runner, csv_path) -> None:
    res = runner.invoke(app, ["augment", str(csv_path), "-t", "species", "-m", "copula",
                              "--ratio", "0.5", "-o", "-"])
    assert res.exit_code == 0, res.output
    from io import StringIO

    got = pd.read_csv(StringIO(res.stdout))
    original = pd.read_csv(csv_path)
    added = got.iloc[len(original):]["species"].value_counts()
    want = (original["species"].value_counts() * 0.5 + 0.5).astype(int)
    assert added.sort_index().tolist() == want.sort_index().tolist()


def test_augment_bad_input_exits_2(runner, csv_path, tmp_path) -> None:
    out = str(tmp_path / "a.csv")
    base = ["augment", str(csv_path), "-t", "species", "-m", "copula", "-o", out]
    res = runner.invoke(app, base)
    assert res.exit_code == 2 and "exactly one" in res.output
    res = runner.invoke(app, [*base, "--ratio", "1", "--balance"])
    assert res.exit_code == 2 and "exactly one" in res.output
    res = runner.invoke(app, [*base[:-1], str(tmp_path / "a.txt"), "--balance"])
    assert res.exit_code == 2 and "extension" in res.output
    res = runner.invoke(app, ["augment", str(csv_path), "-t", "nope", "-m", "copula",
                              "--balance", "-o", out])
    assert res.exit_code == 2 and "--target: got 'nope'" in res.output
    assert not Path(out).exists()


def test_augment_study_runs_small(runner, csv_path, tmp_path) -> None:
    out = tmp_path / "aug.html"
    res = runner.invoke(app, ["augment-study", str(csv_path), "-t", "species", "-m",
                              "independent", "--minority-share", "0.1", "--n-train", "100",
                              "--n-test", "100", "-r", "2", "-c", "logistic", "-o", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.with_suffix(".json").read_text())
    assert data["arms"] == ["real", "oversample", "independent"]
    assert len(data["records"]) == 6 and data["minority"] == "chinstrap"
    assert "data:image/png;base64," in out.read_text()
