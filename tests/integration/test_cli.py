"""The ``genmodels`` CLI: commands, outputs, exit codes and one-line errors.

Most cases run in-process through typer's CliRunner; exit codes and a full
fit -> sample -> info also run as a real ``python -m genmodels`` subprocess.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from genmodels.cli import app, main
from genmodels.cli._common import parse_budget, parse_pairs, parse_value

MODEL = "gmm"
MODEL_SETS = ["--set", "n_components=2", "--set", "max_iter=50"]


def make_table(n: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    species = rng.choice(["adelie", "gentoo", "chinstrap"], size=n, p=[0.5, 0.3, 0.2])
    mass = np.where(species == "gentoo", 5000.0, 3700.0) + rng.normal(0, 300, n)
    return pd.DataFrame({
        "species": species,
        "mass": mass.round(1),
        "bill": (40 + 0.002 * mass + rng.normal(0, 1, n)).round(1),
    })


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {"GENMODELS_HOME": str(tmp_path_factory.mktemp("home"))}


@pytest.fixture(scope="module")
def runner(env: dict[str, str]) -> CliRunner:
    return CliRunner(env=env)


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "table.csv"
    make_table().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model_dir(runner: CliRunner, csv_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "gmm"
    res = runner.invoke(app, ["fit", str(csv_path), "--model", MODEL, "--out", str(out),
                              "--force", *MODEL_SETS])
    assert res.exit_code == 0, res.output
    return out


def invoke(runner: CliRunner, *args: str) -> typer.testing.Result:
    return runner.invoke(app, [str(a) for a in args])


def assert_usage_error(res: typer.testing.Result, *needles: str, code: int = 2) -> None:
    """Exit ``code``, one ``error:`` line on stderr naming the problem, no traceback."""
    assert res.exit_code == code, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in res.output


# --------------------------------------------------------------- parsing helpers
@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("12", 12), ("2.5", 2.5),
    (" 10M ", 600), ("1d", 86400),
])
def test_parse_budget(text: str, seconds: float) -> None:
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "0", "0s", "-5", "m", "5m3"])
def test_parse_budget_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="--budget: got"):
        parse_budget(text)


def test_parse_values_and_pairs() -> None:
    assert parse_value("3") == 3 and isinstance(parse_value("3"), int)
    assert parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("null") is None and parse_value("[1, 2]") == [1, 2]
    assert parse_value("gentoo") == "gentoo" and parse_value("007") == "007"
    assert parse_pairs(["a=1", "b = x", "c=a=b"], "--set") == {"a": 1, "b": " x", "c": "a=b"}
    with pytest.raises(ValueError, match="--set: got 'oops'; allowed: NAME=VALUE"):
        parse_pairs(["oops"], "--set")
    with pytest.raises(ValueError, match="'a' is given twice"):
        parse_pairs(["a=1", "a=2"], "--set")


# ------------------------------------------------------------------- general
def test_version(runner: CliRunner) -> None:
    import genmodels

    res = invoke(runner, "--version")
    assert res.exit_code == 0 and res.stdout.strip() == f"genmodels {genmodels.__version__}"


def test_every_command_and_option_has_help() -> None:
    group = typer.main.get_command(app)
    assert set(group.commands) >= {"datasets", "models", "metadata", "fit", "sample", "info",
                                   "runs"}
    for name, cmd in group.commands.items():
        assert (cmd.help or "").strip(), name
        for param in cmd.params:
            assert getattr(param, "help", None), (name, param.name)


@pytest.mark.parametrize("command", ["datasets", "models", "metadata", "fit", "sample", "info",
                                     "runs"])
def test_command_help_exits_0(runner: CliRunner, command: str) -> None:
    res = invoke(runner, command, "--help")
    assert res.exit_code == 0 and "Usage" in res.stdout


def test_unexpected_failure_is_one_line_exit_1(runner: CliRunner, csv_path: Path,
                                               tmp_path: Path, env: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from genmodels import generator, runs

    def broken_fit(self, *args, **kwargs):
        raise RuntimeError("the optimiser exploded")

    monkeypatch.setattr(generator.Generator, "fit", broken_fit)
    args = ["fit", str(csv_path), "--model", MODEL, "--out", str(tmp_path / "m")]
    res = invoke(runner, *args)
    assert_usage_error(res, "the optimiser exploded", code=1)
    assert not (tmp_path / "m").exists()
    monkeypatch.setenv("GENMODELS_HOME", env["GENMODELS_HOME"])
    failed = runs.list_runs(limit=1)[0]
    assert failed["status"] == "failed" and "the optimiser exploded" in failed["error"]
    table = invoke(runner, "runs").stdout
    assert "failed" in table and "runs --json" in table
    res = invoke(runner, "--debug", *args)
    assert res.exit_code == 1 and "Traceback" in res.stderr and "broken_fit" in res.stderr


# ------------------------------------------------------------- catalog commands
def test_datasets(runner: CliRunner) -> None:
    res = invoke(runner, "datasets", "--json")
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert rows["penguins"]["rows"] == 344 and rows["penguins"]["columns"] == 8
    res = invoke(runner, "datasets")
    assert res.exit_code == 0 and "penguins" in res.stdout and "344" in res.stdout


def test_models_lists_registry_with_capabilities(runner: CliRunner) -> None:
    from genmodels.models import registry

    res = invoke(runner, "models", "--json")
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert set(rows) == set(registry())
    for name, cls in registry().items():
        assert rows[name]["exact_likelihood"] == cls.capabilities.exact_likelihood
        assert rows[name]["conditional"] == cls.capabilities.conditional
        assert rows[name]["inputs"] == cls.capabilities.inputs
    table = invoke(runner, "models").stdout
    assert all(name in table for name in registry())


def test_models_name_shows_hyperparameters(runner: CliRunner) -> None:
    from genmodels.models import get_model_class

    res = invoke(runner, "models", MODEL, "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    params = {p["name"]: p for p in data["params"]}
    cls = get_model_class(MODEL)
    assert set(params) == set(cls.params)
    for key, spec in cls.params.items():
        assert params[key]["default"] == spec.default and params[key]["help"] == spec.help
    text = invoke(runner, "models", MODEL).stdout
    assert all(key in text for key in cls.params)


def test_models_unknown_name(runner: CliRunner) -> None:
    assert_usage_error(invoke(runner, "models", "nosuchmodel"), "nosuchmodel", MODEL)


# ------------------------------------------------------------------ metadata
def test_metadata_prints_and_writes(runner: CliRunner, csv_path: Path, tmp_path: Path) -> None:
    res = invoke(runner, "metadata", csv_path)
    assert res.exit_code == 0, res.output
    meta = json.loads(res.stdout)
    assert list(meta["columns"]) == ["species", "mass", "bill"]
    out = tmp_path / "meta.json"
    res = invoke(runner, "metadata", csv_path, "-o", out)
    assert res.exit_code == 0 and json.loads(out.read_text()) == meta


def test_metadata_refuses_existing_output(runner: CliRunner, csv_path: Path,
                                          tmp_path: Path) -> None:
    out = tmp_path / "meta.json"
    out.write_bytes(b"precious \x00 bytes")
    assert_usage_error(invoke(runner, "metadata", csv_path, "-o", out), "already exists",
                       "--force")
    assert out.read_bytes() == b"precious \x00 bytes"
    assert invoke(runner, "metadata", csv_path, "-o", out, "--force").exit_code == 0
    assert "columns" in json.loads(out.read_text())


def test_metadata_of_a_dataset_name(runner: CliRunner) -> None:
    res = invoke(runner, "metadata", "penguins")
    assert res.exit_code == 0, res.output
    assert "species" in json.loads(res.stdout)["columns"]


# ------------------------------------------------------------------------ fit
def test_fit_saves_records_and_reports(runner: CliRunner, csv_path: Path, tmp_path: Path,
                                       env: dict[str, str]) -> None:
    out = tmp_path / "model"
    res = invoke(runner, "fit", csv_path, "--model", MODEL, "--out", out, "--seed", 3,
                 "--budget", "5m", *MODEL_SETS, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["hyperparams"]["n_components"] == 2  # "2" parsed as an int
    assert summary["fit"]["n_rows"] == 150 and summary["seed"] == 3
    assert (out / "manifest.json").is_file() and (out / "config.json").is_file()
    listed = json.loads(invoke(runner, "runs", "--json", "--limit", 50).stdout)
    run = next(r for r in listed if r["id"] == summary["run_id"])
    assert run["kind"] == "fit" and run["model"] == MODEL and run["status"] == "ok"
    assert run["data"] == str(csv_path.resolve()) and run["out_dir"] == str(out.resolve())
    assert run["seed"] == 3 and run["config"]["hyperparams"]["n_components"] == 2
    assert run["config"]["budget_s"] == 300
    assert run["data_fingerprint"] == summary["fit"]["data_fingerprint"]
    assert run["peak_rss_mb"] > 0 and run["duration_s"] > 0
    assert (Path(env["GENMODELS_HOME"]) / "registry.sqlite").is_file()


def test_fit_text_summary_is_one_line(runner: CliRunner, csv_path: Path, tmp_path: Path) -> None:
    res = invoke(runner, "fit", csv_path, "-m", MODEL, "-o", tmp_path / "m", *MODEL_SETS)
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"fitted {MODEL} on table.csv (150 rows")


def test_fit_with_metadata_file(runner: CliRunner, csv_path: Path, tmp_path: Path) -> None:
    meta = tmp_path / "meta.json"
    assert invoke(runner, "metadata", csv_path, "-o", meta).exit_code == 0
    res = invoke(runner, "fit", csv_path, "-m", MODEL, "-o", tmp_path / "m", "--metadata", meta,
                 *MODEL_SETS)
    assert res.exit_code == 0, res.output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_usage_error(invoke(runner, "fit", csv_path, "-m", MODEL, "-o", tmp_path / "m2",
                              "--metadata", bad), "--metadata", "not valid JSON")


def test_fit_refuses_non_empty_out_dir(runner: CliRunner, csv_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_bytes(b"mine")
    res = invoke(runner, "fit", csv_path, "-m", MODEL, "-o", out, *MODEL_SETS)
    assert_usage_error(res, "already exists", "--force")
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert (out / "keep.txt").read_bytes() == b"mine"
    assert invoke(runner, "fit", csv_path, "-m", MODEL, "-o", out, "--force",
                  *MODEL_SETS).exit_code == 0
    assert (out / "manifest.json").is_file() and not (out / "keep.txt").exists()


@pytest.mark.parametrize(("extra", "needles"), [
    (["--model", "nosuchmodel"], ["nosuchmodel", "allowed"]),
    (["--model", MODEL, "--set", "n_components=-3"], ["n_components", "-3"]),
    (["--model", MODEL, "--set", "colour=red"], ["colour"]),
    (["--model", MODEL, "--set", "noequals"], ["--set", "NAME=VALUE"]),
    (["--model", MODEL, "--budget", "soon"], ["--budget", "soon"]),
])
def test_fit_bad_arguments(runner: CliRunner, csv_path: Path, tmp_path: Path,
                           extra: list[str], needles: list[str]) -> None:
    res = invoke(runner, "fit", csv_path, "--out", tmp_path / "m", *extra)
    assert_usage_error(res, *needles)
    assert not (tmp_path / "m").exists()


def test_fit_bad_data(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "m"
    assert_usage_error(invoke(runner, "fit", tmp_path / "missing.csv", "-m", MODEL, "-o", out),
                       "missing.csv", "does not exist")
    assert_usage_error(invoke(runner, "fit", "nosuchdataset", "-m", MODEL, "-o", out),
                       "nosuchdataset", "penguins")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert_usage_error(invoke(runner, "fit", empty, "-m", MODEL, "-o", out), "empty")
    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    assert_usage_error(invoke(runner, "fit", header, "-m", MODEL, "-o", out), "no rows")
    assert_usage_error(invoke(runner, "fit", tmp_path, "-m", MODEL, "-o", out), "directory")
    assert not out.exists()


# --------------------------------------------------------------------- sample
def test_sample_csv_parquet_stdout(runner: CliRunner, model_dir: Path, tmp_path: Path) -> None:
    csv_out, pq_out = tmp_path / "s.csv", tmp_path / "s.parquet"
    res = invoke(runner, "sample", model_dir, "-n", 80, "-o", csv_out, "--seed", 5)
    assert res.exit_code == 0, res.output
    synth = pd.read_csv(csv_out)
    assert synth.shape == (80, 3) and list(synth.columns) == ["species", "mass", "bill"]
    assert set(synth["species"]) <= {"adelie", "gentoo", "chinstrap"}
    assert abs(synth["mass"].mean() - make_table()["mass"].mean()) < 400
    assert invoke(runner, "sample", model_dir, "-n", 80, "-o", pq_out, "--seed", 5).exit_code == 0
    pd.testing.assert_frame_equal(pd.read_parquet(pq_out)[["mass", "bill"]],
                                  synth[["mass", "bill"]], check_dtype=False)
    res = invoke(runner, "sample", model_dir, "-n", 80, "-o", "-", "--seed", 5)
    assert res.exit_code == 0
    assert res.stdout == csv_out.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # temp files gone


def test_sample_seed_reproducible(runner: CliRunner, model_dir: Path) -> None:
    a = invoke(runner, "sample", model_dir, "-n", 30, "-o", "-", "--seed", 1).stdout
    b = invoke(runner, "sample", model_dir, "-n", 30, "-o", "-", "--seed", 1).stdout
    c = invoke(runner, "sample", model_dir, "-n", 30, "-o", "-", "--seed", 2).stdout
    assert a == b and a != c


def test_sample_condition(runner: CliRunner, model_dir: Path) -> None:
    res = invoke(runner, "sample", model_dir, "-n", 60, "-o", "-", "-c", "species=gentoo",
                 "--seed", 4)
    assert res.exit_code == 0, res.output
    synth = pd.read_csv(io.StringIO(res.stdout))
    assert len(synth) == 60 and (synth["species"] == "gentoo").all()
    assert synth["mass"].mean() > 4500  # gentoo are heavy in the training data


def test_sample_json_summary(runner: CliRunner, model_dir: Path, tmp_path: Path) -> None:
    res = invoke(runner, "sample", model_dir, "-n", 10, "-o", tmp_path / "s.csv", "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["rows"] == 10 and summary["format"] == "csv" and summary["model"] == MODEL


@pytest.mark.parametrize(("extra", "needles"), [
    (["-n", "0"], ["-n", "0", "positive"]),
    (["-n", "-4"], ["-n", "-4"]),
    (["-n", "5", "-c", "colour=red"], ["colour", "species"]),
    (["-n", "5", "-c", "species=emperor"], ["emperor", "species"]),
    (["-n", "5", "-c", "species"], ["--condition", "COLUMN=VALUE"]),
])
def test_sample_bad_arguments(runner: CliRunner, model_dir: Path, tmp_path: Path,
                              extra: list[str], needles: list[str]) -> None:
    out = tmp_path / "s.csv"
    assert_usage_error(invoke(runner, "sample", model_dir, "-o", out, *extra), *needles)
    assert not out.exists()


def test_sample_bad_output_and_dir(runner: CliRunner, model_dir: Path, tmp_path: Path) -> None:
    assert_usage_error(invoke(runner, "sample", model_dir, "-n", 5, "-o", tmp_path / "s.xlsx"),
                       ".xlsx", ".csv")
    assert_usage_error(invoke(runner, "sample", model_dir, "-n", 5, "-o", "-", "--json"),
                       "--json")
    not_model = tmp_path / "plain"
    not_model.mkdir()
    (not_model / "x.txt").write_text("hi")
    assert_usage_error(invoke(runner, "sample", not_model, "-n", 5, "-o", tmp_path / "s.csv"),
                       "plain", "not a saved")
    assert_usage_error(invoke(runner, "sample", tmp_path / "nowhere", "-n", 5, "-o",
                              tmp_path / "s.csv"), "nowhere", "does not exist")


def test_sample_refuses_existing_output(runner: CliRunner, model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "synth.csv"
    out.write_bytes(b"a,b\n1,2\n")
    assert_usage_error(invoke(runner, "sample", model_dir, "-n", 5, "-o", out), "synth.csv",
                       "already exists")
    assert out.read_bytes() == b"a,b\n1,2\n"
    assert invoke(runner, "sample", model_dir, "-n", 5, "-o", out, "--force").exit_code == 0
    assert len(pd.read_csv(out)) == 5


# ----------------------------------------------------------------------- info
def test_info(runner: CliRunner, model_dir: Path) -> None:
    res = invoke(runner, "info", model_dir, "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["model"] == MODEL and report["hyperparams"]["n_components"] == 2
    assert report["fit"]["n_rows"] == 150 and report["fit"]["n_columns"] == 3
    assert {"config.json", "weights.safetensors", "codec.json"} <= set(report["files"])
    assert all(f["verified"] and len(f["sha256"]) == 64 for f in report["files"].values())
    text = invoke(runner, "info", model_dir).stdout
    assert MODEL in text and "weights.safetensors" in text and "n_components=2" in text


def test_info_refuses_a_changed_file(runner: CliRunner, model_dir: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(model_dir, copy)
    with open(copy / "codec.json", "a") as fh:
        fh.write(" ")
    assert_usage_error(invoke(runner, "info", copy), "codec.json", "changed")
    assert_usage_error(invoke(runner, "info", tmp_path / "nope"), "nope", "does not exist")


# ----------------------------------------------------------------------- runs
def test_runs_table_and_filters(runner: CliRunner, model_dir: Path) -> None:
    res = invoke(runner, "runs")
    assert res.exit_code == 0 and MODEL in res.stdout
    rows = json.loads(invoke(runner, "runs", "--json", "--limit", 1).stdout)
    assert len(rows) == 1
    assert json.loads(invoke(runner, "runs", "--json", "--model", "nosuchmodel").stdout) == []
    assert invoke(runner, "runs", "--limit", 0).exit_code == 2


def test_runs_on_empty_registry(tmp_path: Path) -> None:
    res = CliRunner(env={"GENMODELS_HOME": str(tmp_path)}).invoke(app, ["runs"])
    assert res.exit_code == 0 and "no runs recorded" in res.stdout


# ------------------------------------------------------- main() and subprocesses
@pytest.mark.parametrize(("argv", "needle"), [
    (["sample", "x", "-n", "abc", "-o", "s.csv"], "'-n'"),
    (["fit", "x.csv"], "--model"),
    (["nosuchcommand"], "nosuchcommand"),
    (["runs", "--limit", "0"], "--limit"),
])
def test_main_usage_errors_are_one_line(argv: list[str], needle: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err


def test_main_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("genmodels ")


def _run(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    import genmodels

    # The subprocess imports the same source tree as this process, however it is installed.
    root = str(Path(genmodels.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "GENMODELS_HOME": str(home), "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-m", "genmodels", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_subprocess_end_to_end(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    make_table(120, seed=1).to_csv(data, index=False)
    home = tmp_path / "home"
    fit = _run("fit", data, "--model", MODEL, "--out", "m", *MODEL_SETS, "--json",
               home=home, cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    run_id = json.loads(fit.stdout)["run_id"]
    smp = _run("sample", "m", "-n", 25, "-o", "synth.parquet", "-c", "species=adelie",
               home=home, cwd=tmp_path)
    assert smp.returncode == 0, smp.stderr
    synth = pd.read_parquet(tmp_path / "synth.parquet")
    assert len(synth) == 25 and (synth["species"] == "adelie").all()
    info = _run("info", "m", "--json", home=home, cwd=tmp_path)
    assert info.returncode == 0 and json.loads(info.stdout)["model"] == MODEL
    runs = _run("runs", "--json", home=home, cwd=tmp_path)
    assert [r["id"] for r in json.loads(runs.stdout)] == [run_id]
    assert (home / "registry.sqlite").is_file()


@pytest.mark.slow
def test_subprocess_exit_codes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cases = [
        (("fit", "missing.csv", "--model", MODEL, "--out", "m"), 2, "does not exist"),
        (("sample", "m", "-n", "abc", "-o", "s.csv"), 2, "'-n'"),
        (("models", "nosuchmodel"), 2, "nosuchmodel"),
        (("info", "."), 2, "not a saved"),
    ]
    for args, code, needle in cases:
        res = _run(*args, home=home, cwd=tmp_path)
        assert res.returncode == code, (args, res.stderr)
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
        assert "Traceback" not in res.stderr
    assert _run("--version", home=home, cwd=tmp_path).returncode == 0
