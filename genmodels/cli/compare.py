"""``genmodels compare`` and ``genmodels report``: rank models on one split under one
budget, and write the self-contained HTML report of a run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from genmodels.cli._common import (
    EXIT_FAILURE,
    check_new_file,
    console,
    guard,
    parse_budget,
    parse_pairs,
    print_json,
    read_data,
)

DATA_ARG = typer.Argument(..., show_default=False,
                          help="A CSV/Parquet file or a bundled dataset name "
                               "(see `genmodels datasets`).")


def compare(
    ctx: typer.Context,
    data: str = DATA_ARG,
    models: str = typer.Option("all", "--models", "-m",
                               help="Comma-separated model names, or 'all' (every registered "
                                    "model; the budget bounds the deep ones)."),
    budget: str = typer.Option("10m", "--budget",
                               help="Fitting time per model: seconds or 90s, 5m, 1h. A model "
                                    "still running past budget + grace is stopped."),
    target: str | None = typer.Option(None, "--target", "-t", show_default=False,
                                      help="Column to predict for the utility (TSTR) score."),
    sensitive: str | None = typer.Option(None, "--sensitive", show_default=False,
                                         help="Column for the per-group fairness results."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the split, fits and samples."),
    holdout: float = typer.Option(0.2, "--holdout",
                                  help="Share of rows held out from every model (0-0.5]."),
    processes: int | None = typer.Option(None, "--processes", "-p", min=1, show_default=False,
                                         help="Models fitted at once (default: one per core)."),
    rows: int | None = typer.Option(None, "--rows", "-n", min=1, show_default=False,
                                    help="Synthetic rows per model (default: the train size)."),
    sets: list[str] | None = typer.Option(None, "--set", metavar="MODEL.NAME=VALUE",
                                          show_default=False,
                                          help="A hyperparameter of one model (repeatable), "
                                               "e.g. gmm.n_components=5."),
    out: Path | None = typer.Option(None, "--out", "-o", show_default=False,
                                    help="Output directory (default: "
                                         "$GENMODELS_HOME/compare/<run-id>)."),
    force: bool = typer.Option(False, "--force", help="Write into an existing --out directory."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Fit several models on one train/holdout split of DATA, each in its own process
    under the same budget; evaluate, rank and write results.json and report.html."""
    with guard(ctx):
        from genmodels.compare import compare as run_compare

        budget_s = parse_budget(budget)
        specs = _model_specs(models, sets)
        if Path(data).is_dir():
            raise ValueError(f"DATA: {data!r} is a directory; allowed: a CSV/Parquet file or "
                             "a bundled dataset name")
        if not as_json:
            print(f"comparing {len(specs)} model(s) on {Path(data).name}, budget "
                  f"{budget_s:g} s each: {', '.join(specs)}", file=sys.stderr)
        result = run_compare(data, models=specs, budget=budget_s, target=target,
                             sensitive=sensitive, seed=seed, holdout_fraction=holdout,
                             processes=processes, n_samples=rows, out=out, force=force,
                             progress=None if as_json else _progress_line)
        if as_json:
            print_json(result.to_dict())
        else:
            _print_result(result)
        if not any(r.status == "ok" for r in result.runs):
            raise typer.Exit(EXIT_FAILURE)


def report(
    ctx: typer.Context,
    runs: list[Path] = typer.Argument(..., show_default=False,
                                      help="Compare output directories or saved model "
                                           "directories (or compare run ids)."),
    out: Path | None = typer.Option(None, "--out", "-o", show_default=False,
                                    help="The HTML file (default: RUN/report.html for one "
                                         "compare run, RUN-report.html beside a model)."),
    data: str | None = typer.Option(None, "--data", show_default=False,
                                    help="The table (for a text or music model: the corpus) "
                                         "a saved model was fitted on (default: found "
                                         "through the run registry)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out file."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Write one self-contained HTML report (plots embedded) for one or more runs."""
    with guard(ctx):
        from genmodels.report import write_report

        paths = [_run_dir(p) for p in runs]
        target = _report_path(paths, out, force)
        frame = _report_data(data)
        path = write_report(paths, target, data=frame)
        size = path.stat().st_size
        if as_json:
            print_json({"report": str(path), "bytes": size, "runs": [str(p) for p in paths]})
        else:
            print(f"wrote {path} ({size / 1e6:.1f} MB)")


# ------------------------------------------------------------------ helpers
def _report_data(data: str | None) -> Any:
    """``report --data``: a text or music corpus as given (the report reads it with the
    model's codec), else the table read here."""
    if data is None:
        return None
    from genmodels._sequence_generator import sequence_codec_class

    return data if sequence_codec_class(data) is not None else read_data(data)[0]


def _model_specs(models: str, sets: list[str] | None) -> dict[str, dict[str, Any]]:
    from genmodels.compare import resolve_models

    specs = {name: {} for name in resolve_models(models)}
    for key, value in parse_pairs(sets, "--set", "MODEL.NAME=VALUE").items():
        model, dot, name = key.partition(".")
        if not dot or not name:
            raise ValueError(f"--set: got {key!r}; allowed: MODEL.NAME=VALUE, e.g. "
                             "gmm.n_components=5")
        if model not in specs:
            raise ValueError(f"--set: model {model!r} is not compared; allowed: "
                             f"{', '.join(specs)}")
        specs[model][name] = value
    return resolve_models(specs)


def _progress_line(run: Any) -> None:
    if run.status == "ok":
        score = "—" if run.composite is None else f"{run.composite:.3f}"
        text = f"  {run.model:<20} ok       composite {score}  fit {run.fit_seconds:.1f} s"
    else:
        text = f"  {run.model:<20} {run.status:<8} {run.error}"
    print(text, file=sys.stderr)


def _print_result(result: Any) -> None:
    from rich import box
    from rich.table import Table

    table = Table(title=f"{Path(result.data).name}: leaderboard", box=box.SIMPLE_HEAD,
                  pad_edge=False, padding=(0, 1), title_justify="left")
    cols = ("model", "score", "fid", "util", "priv", "C2ST", "NLL", "fit s")
    for c in cols:
        table.add_column(c, justify="left" if c == "model" else "right", no_wrap=True)
    for r in result.runs:  # already in rank order; failures last
        m = r.metrics
        score = _f(r.composite) if r.status == "ok" else r.status
        table.add_row(r.model, score, _f(m.get("fidelity")), _f(m.get("utility")),
                      _f(m.get("privacy")), _f(m.get("c2st_auc")), _f(r.holdout_nll, 2),
                      _f(r.fit_seconds, 1))
    out = console()
    out.print(table)
    out.print("score: the composite of fid(elity), util(ity) and priv(acy), higher is "
              "better; C2ST: AUC, 0.5 is ideal; NLL: holdout nats per row, lower is better")
    for r in result.runs:
        if r.status != "ok":
            out.print(f"{r.model}: {r.status}: {r.error}")
    out.print(f"results: {Path(result.out_dir) / 'results.json'}")
    if result.report_path:
        out.print(f"report:  {result.report_path}")
    else:
        out.print(f"report:  not written ({result.report_error})")


def _f(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _run_dir(path: Path) -> Path:
    """A directory as given, or a compare run id under $GENMODELS_HOME/compare/."""
    from genmodels import runs

    if path.exists():
        return path
    candidate = runs.home() / "compare" / str(path)
    if "/" not in str(path) and candidate.is_dir():
        return candidate
    raise ValueError(f"RUN: {str(path)!r} does not exist (nor is it a compare run id in "
                     f"{runs.home() / 'compare'})")


def _report_path(paths: list[Path], out: Path | None, force: bool) -> Path:
    """``--out`` (refused if it exists, unless --force), else the default beside the run:
    RUN/report.html for a compare directory (regenerated freely: it is derived from
    results.json), ``<model dir>-report.html`` for a saved model."""
    from genmodels.compare import RESULTS_FILE

    if out is not None:
        if out.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"--out: got {str(out)!r}; allowed: a path ending in .html")
        return check_new_file(out, force=force, option="--out")
    if len(paths) > 1:
        raise ValueError("--out: required when reporting on more than one run")
    run = paths[0]
    if (run / RESULTS_FILE).is_file():
        return run / "report.html"
    target = run.parent / f"{run.resolve().name}-report.html"
    return check_new_file(target, force=force, option="--out")
