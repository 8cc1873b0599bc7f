"""``genmodels evaluate``: compare a synthetic table with the real one (``gm.evaluate``);
a text corpus goes to the text report (``genmodels.cli._evaluate_text``), a music corpus
to the music report (``genmodels.cli._evaluate_music``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from genmodels.cli._common import check_new_file, console, guard, print_json, read_data

TABLE_HELP = "A CSV/Parquet file or a bundled dataset name."
CORPUS_HELP = ("Text: a .txt file or a folder of them. Music: bach, essen:N, a .mid file "
               "or a folder of them.")


def _sensitive(items: list[str] | None) -> list[str] | None:
    """``--sensitive a --sensitive b,c`` -> ``["a", "b", "c"]``."""
    names = [n.strip() for item in items or [] for n in item.split(",") if n.strip()]
    return names or None


def evaluate(
    ctx: typer.Context,
    real: str = typer.Argument(..., show_default=False,
                               help="The real (training) table. " + TABLE_HELP + " "
                                    + CORPUS_HELP),
    synth: str = typer.Argument(..., show_default=False,
                                help="The synthetic table. " + TABLE_HELP + " Text/music: "
                                     "the generated files (the folder `genmodels sample -o` "
                                     "wrote)."),
    target: str | None = typer.Option(None, "--target", "-t", show_default=False,
                                      help="Column to predict: adds utility (TSTR vs TRTR)."),
    sensitive: list[str] | None = typer.Option(
        None, "--sensitive", "-s", show_default=False, metavar="COLUMN[,COLUMN]",
        help="Sensitive column(s) (repeatable or comma-separated): adds fairness."),
    holdout: str | None = typer.Option(
        None, "--holdout", show_default=False,
        help="Real rows the generator never saw: adds the privacy attacks and the held-out "
             "likelihood, and utility is tested on them. " + TABLE_HELP + " Text/music: "
             "held-out documents or pieces (the NLL; music: the distances' reference)."),
    model: Path | None = typer.Option(
        None, "--model", "-m", show_default=False,
        help="The saved model (a `genmodels fit` directory): adds likelihood and cost."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same report)."),
    max_rows: int = typer.Option(20_000, "--max-rows", min=2,
                                 help="Rows a side for the classifiers (C2ST, utility)."),
    out: Path | None = typer.Option(None, "--out", "-o", show_default=False,
                                    help="Also write the full report as JSON to this file."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out file."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    """Evaluate SYNTH against REAL: fidelity, privacy, and with the options utility,
    fairness, likelihood and cost. The run is recorded in the registry.

    Text: REAL is the training corpus (.txt or folder), SYNTH generated text (a .txt or
    the folder `genmodels sample -o` wrote); --model and --holdout add held-out NLL,
    bits/char and perplexity; always distinct-n and the 8-gram copy rate.

    Music: REAL is the training corpus (bach, essen:N, a .mid or a folder of .mid), SYNTH
    the generated pieces (the folder `genmodels sample DIR -n 4 -o out/` wrote); always
    pitch-class and duration distances to --holdout (else REAL), polyphony and the copy
    rate against REAL; --model adds the NLL per event and per note."""
    with guard(ctx):
        import genmodels as gm
        from genmodels.generator import fingerprint

        path = check_new_file(out, force=force, option="--out") if out is not None else None
        from genmodels.codecs.text import is_text_input
        from genmodels.music.corpus import is_music_input

        music = is_music_input(real)
        if music or is_text_input(real):
            for opt, value in (("--target", target), ("--sensitive", sensitive)):
                if value:
                    raise ValueError(f"{opt}: is for tables; REAL is a "
                                     f"{'music' if music else 'text'} corpus")
        if music:
            from genmodels.cli._evaluate_music import evaluate_music_cli

            evaluate_music_cli(real=real, synth=synth, holdout=holdout, model=model,
                               path=path, as_json=as_json, seed=seed)
            return
        if is_text_input(real):
            from genmodels.cli._evaluate_text import evaluate_text_cli

            evaluate_text_cli(real=real, synth=synth, holdout=holdout, model=model, path=path,
                              as_json=as_json, seed=seed)
            return
        real_df, real_label = read_data(real)
        synth_df, synth_label = read_data(synth)
        hold_df, hold_label = read_data(holdout) if holdout is not None else (None, None)
        gen = gm.load(model) if model is not None else None
        start = time.perf_counter()
        with _status(as_json, f"evaluating {len(synth_df):,} synthetic rows"):
            report = gm.evaluate(real_df, synth_df, target=target,
                                 sensitive=_sensitive(sensitive), model=gen, holdout=hold_df,
                                 seed=seed, max_rows=max_rows)
        data = report.to_dict()
        if path is not None:
            from genmodels.files import atomic_write_text, dumps

            atomic_write_text(path, dumps(data))
        from genmodels.cli.train import _record

        run_id = _record(kind="evaluate", status="ok", model=gen.model_name if gen else None,
                         data=real_label, data_fingerprint=fingerprint(real_df), seed=seed,
                         duration_s=time.perf_counter() - start,
                         config={"synth": synth_label, "holdout": hold_label, "target": target,
                                 "sensitive": list(report.sensitive), "max_rows": max_rows,
                                 "model_dir": str(model) if model else None},
                         metrics=data["summary"],
                         out_dir=str(path.resolve()) if path is not None else None)
        if as_json:
            print_json({"run_id": run_id, **data})
            return
        _print_report(report, real_label, synth_label, path, run_id)


def _status(as_json: bool, text: str) -> Any:
    from contextlib import nullcontext

    from genmodels.cli._common import show_progress

    return console().status(text, spinner="dots") if show_progress(as_json) else nullcontext()


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or isinstance(v, float) and v != v:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3g}" if 0 < abs(v) < 0.01 else f"{v:.{digits}f}"
    return str(v)


def _table(title: str, columns: list[str], rows: list[list[Any]], caption: str | None = None):
    from rich.table import Table

    table = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*[_fmt(v) for v in row])
    return table


def _print_report(report: Any, real: str, synth: str, path: Path | None,
                  run_id: str | None) -> None:
    out = console()
    d = report.to_dict()
    s, f = d["scores"], d["fidelity"]
    out.print(f"{Path(synth).name} vs {Path(real).name}: {report.n_synth:,} synthetic, "
              f"{report.n_real:,} real" + (f", {report.n_holdout:,} holdout rows"
                                           if report.n_holdout else " rows")
              + f" — {report.seconds:.1f} s", style="bold")
    out.print(f"scores (0-1, higher is better): fidelity {_fmt(s['fidelity'])}, utility "
              f"{_fmt(s['utility'])}, privacy {_fmt(s['privacy'])}")
    rows = [["column distance (KS/TV)", f["column_distance"], "0"],
            ["pairwise distance", f["pairwise_distance"], "0"],
            ["C2ST AUC", f["c2st"]["auc"], "0.5"]]
    if f["mmd"]:
        rows.append(["MMD^2 (RBF)", f["mmd"]["mmd2"], "0"])
    if f["prdc"]:
        rows += [[k, f["prdc"][k], "1"] for k in ("precision", "recall", "density", "coverage")]
    out.print(_table("Fidelity", ["metric", "value", "ideal"], rows))
    out.print(f"MMD and PRDC feature space: {f['feature_space']}", style="dim")
    top = report.columns.nlargest(5, "distance")
    out.print(_table("Worst columns", ["column", "metric", "statistic", "missing diff"],
                     [[c.column, c.metric, c.statistic, c.missing_diff]
                      for c in top.itertuples(index=False)]))
    for renderable in _group_tables(d):
        out.print(renderable)
    tail = [f"run {run_id}" if run_id else None, f"report written to {path}" if path else None]
    tail = [t for t in tail if t]
    if tail:
        out.print("; ".join(tail))


def _group_tables(d: dict[str, Any]) -> list[Any]:
    out = []
    lk = d["likelihood"]
    if lk is not None:
        if lk["kind"] == "unavailable":
            out.append(f"Likelihood: unavailable ({lk['reason']})")
        else:
            out.append(_table(f"Likelihood ({lk['kind']}: {lk['metric']})",
                              ["rows", "NLL (nats/row)", "bits/dim"],
                              [[w, lk[f"{w}_nll"], lk[f"{w}_bits_per_dim"]]
                               for w in ("holdout", "train") if lk[f"{w}_nll"] is not None]))
    u = d["utility"]
    if u is not None:
        out.append(_table(f"Utility: {u['metric']} on {u['target']!r} (tested on "
                          f"{u['evaluated_on']})", ["learner", "real (TRTR)", "synth (TSTR)",
                                                    "ratio"],
                          [[k, v["real"], v["synth"], v["ratio"]]
                           for k, v in u["learners"].items()]))
    out.append(_privacy_table(d["privacy"]))
    out += [_fairness_table(col, fc) for col, fc in (d["fairness"] or {}).items()]
    if d["cost"] is not None:
        c = d["cost"]
        out.append(f"Cost ({c['model']}): fit {_fmt(c['fit_seconds'], 2)} s, peak RSS "
                   f"{_fmt(c['peak_rss_mb'], 0)} MB, sampling {_fmt(c['sample_rows_per_s'], 0)}"
                   f" rows/s (source: {c['source']})")
    return out


def _privacy_table(p: dict[str, Any]) -> Any:
    rows = [["exact-copy rate", p["exact_copy_rate"], p["holdout_copy_rate"]],
            ["DCR median", p["dcr_synth"]["median"], (p["dcr_holdout"] or {}).get("median")],
            ["DCR 5th percentile", p["dcr_synth"]["p5"], (p["dcr_holdout"] or {}).get("p5")],
            ["NNDR median", p["nndr_synth"], p["nndr_holdout"]]]
    caption = (f"DCR ratio {_fmt(p['dcr_ratio'])} (>= 1 ideal), membership-inference AUC "
               f"{_fmt(p['mia_auc'])} (0.5 ideal)" if p["mia_auc"] is not None
               else "pass --holdout for the attack figures")
    return _table("Privacy (distances to the training rows)", ["metric", "synthetic", "holdout"],
                  rows, caption=caption)


def _fairness_table(col: str, fc: dict[str, Any]) -> Any:
    cols = ["group", "share real", "share synth", "column distance"]
    keys = ["share_real", "share_synth", "column_distance"]
    if fc["groups"] and "tstr_real" in fc["groups"][0]:
        cols += [f"{fc['metric']} real", f"{fc['metric']} synth"]
        keys += ["tstr_real", "tstr_synth"]
    gaps = ", ".join(f"{k} {_fmt(fc[k])}" for k in
                     ("dp_gap_real", "dp_gap_synth", "eo_gap_real", "eo_gap_synth")
                     if fc[k] is not None)
    return _table(f"Fairness: {col}", cols,
                  [[g["group"], *[g.get(k) for k in keys]] for g in fc["groups"]],
                  caption=gaps or None)
