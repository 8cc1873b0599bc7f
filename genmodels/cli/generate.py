"""``genmodels sample`` and ``genmodels info``: use and inspect a saved model."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import typer

from genmodels.cli._common import (
    check_new_file,
    console,
    guard,
    human_bytes,
    parse_pairs,
    print_json,
    show_progress,
    table_format,
    write_table,
)

MODEL_DIR_ARG = typer.Argument(..., show_default=False,
                               help="A directory written by `genmodels fit`.")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of text.")


def sample(
    ctx: typer.Context,
    model_dir: Path = MODEL_DIR_ARG,
    n: int | None = typer.Option(None, "-n", "--rows", show_default=False,
                                 help="Number of rows to draw (a positive integer); "
                                      "sequence models: documents (default 1)."),
    out: str | None = typer.Option(None, "-o", "--out", show_default=False,
                                   help="Output file: .csv or .parquet; '-' writes CSV to "
                                        "stdout. Sequence models: a directory for "
                                        "sample_000.txt ... (default: stream to the terminal)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same rows)."),
    conditions: list[str] | None = typer.Option(
        None, "--condition", "-c", metavar="COLUMN=VALUE", show_default=False,
        help="Fix a column to a value in every row (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary instead of text."),
    prompt: str | None = typer.Option(None, "--prompt", show_default=False,
                                      help="Sequence models: text the samples continue."),
    max_tokens: int = typer.Option(256, "--max-tokens",
                                   help="Sequence models: most new tokens per sample."),
    temperature: float = typer.Option(1.0, "--temperature",
                                      help="Sequence models: < 1 sharper, > 1 more random."),
    top_k: int | None = typer.Option(None, "--top-k", show_default=False,
                                     help="Sequence models: draw from the k likeliest tokens."),
    top_p: float | None = typer.Option(None, "--top-p", show_default=False,
                                       help="Sequence models: draw from the smallest set of "
                                            "tokens with this much probability."),
) -> None:
    """Draw N synthetic rows from a saved model and write them to a file (atomically).

    Sequence models (text, music) generate documents: streamed to the terminal, or
    written as files sample_000.txt (.mid for music) ... into the -o directory."""
    with guard(ctx):
        import genmodels as gm

        gen = gm.load(model_dir)
        from genmodels import _sequence_generator as seq

        if seq.is_sequence(gen):
            from genmodels.cli._sample_text import sample_sequence

            sample_sequence(gen, n=n, out=out, seed=seed, force=force, as_json=as_json,
                            conditions=conditions,
                            generation={"prompt": prompt, "max_tokens": max_tokens,
                                        "temperature": temperature, "top_k": top_k,
                                        "top_p": top_p})
            return
        if n is None:
            raise ValueError("-n: required for a table model (the number of rows to draw)")
        if out is None:
            raise ValueError("-o: required for a table model (a .csv/.parquet file or '-')")
        if n <= 0:
            raise ValueError(f"-n: got {n}; allowed: a positive integer")
        fmt = table_format(out)
        if out == "-" and as_json:
            raise ValueError("--json: cannot be combined with -o - (stdout carries the CSV)")
        if out != "-":
            check_new_file(out, force=force, option="-o")
        condition = parse_pairs(conditions, "--condition", "COLUMN=VALUE")
        spinner = show_progress(as_json) and out != "-"
        with _spinner(f"sampling {n:,} rows") if spinner else nullcontext():
            rows = gen.sample(n, seed=seed, condition=condition or None)
            frame = _as_frame(rows)
            write_table(frame, out, fmt)
        summary = {"rows": int(len(frame)), "columns": int(frame.shape[1]), "out": out,
                   "format": fmt, "seed": seed, "condition": condition, "model": gen.model_name,
                   "model_dir": str(model_dir)}
        if as_json:
            print_json(summary)
        elif out != "-":
            print(f"wrote {len(frame):,} rows × {frame.shape[1]} columns from {gen.model_name} "
                  f"(seed {seed}) to {out}")


def _spinner(text: str) -> Any:
    return console().status(text, spinner="dots")


def _as_frame(rows: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(rows, pd.DataFrame):
        return rows
    arr = np.asarray(rows)
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def info(ctx: typer.Context, model_dir: Path = MODEL_DIR_ARG,
         as_json: bool = JSON_OPTION) -> None:
    """Show a saved model: model, hyperparameters, columns, fit details, verified files.

    Every file is checked against the SHA-256 recorded in its manifest.json.
    """
    with guard(ctx):
        import genmodels as gm
        from genmodels.provenance import verify_manifest
        from genmodels.saving import read_config

        gen = gm.load(model_dir)  # refuses a changed, foreign or newer directory
        config = read_config(model_dir)
        manifest = verify_manifest(model_dir)
        files = {name: {**entry, "verified": True} for name, entry in manifest["files"].items()}
        report = {
            "path": str(model_dir), "model": gen.model_name,
            "description": type(gen.model).description, "hyperparams": gen.hyperparams,
            "capabilities": gen.model.capabilities.to_json(), "codec": _codec_summary(gen),
            "fit": gen.fit_info_, "metrics": gen.metrics_,
            "format_version": config.get("format_version"),
            "package_version": config.get("package_version"), "files": files,
        }
        if as_json:
            print_json(report)
        else:
            _print_info(report)


def _codec_summary(gen: Any) -> dict[str, Any]:
    codec = gen.codec
    schema = gen.model.schema_
    out: dict[str, Any] = {"codec": codec.name, "fields": len(schema),
                           "continuous_fields": len(schema.continuous_idx),
                           "discrete_fields": len(schema.discrete_idx)}
    if len(schema) == 1 and getattr(codec, "input_type", None):
        out["vocab_size"] = schema.fields[0].levels
    summary = getattr(codec, "summary", None)
    if callable(summary):
        out["columns"] = summary()
    return out


def _print_info(r: dict[str, Any]) -> None:
    from rich.table import Table

    out = console()
    fit, codec, caps = r["fit"] or {}, r["codec"], r["capabilities"]
    out.print(f"{r['path']}: {r['model']} — {r['description']}", style="bold")
    params = ", ".join(f"{k}={v!r}" for k, v in r["hyperparams"].items()) or "(none)"
    out.print(f"hyperparameters: {params}")
    out.print(f"capabilities: inputs {caps['inputs']}, exact likelihood "
              f"{_yes(caps['exact_likelihood'])}, conditional {_yes(caps['conditional'])}")
    if "vocab_size" in codec:
        out.print(f"codec: {codec['codec']}, vocabulary size {codec['vocab_size']}")
    else:
        out.print(f"codec: {codec['codec']}, {codec['fields']} fields "
                  f"({codec['continuous_fields']} continuous, {codec['discrete_fields']} "
                  "discrete)")
    shape = f"{fit.get('n_rows', '?')} rows × {fit.get('n_columns', '?')} columns"
    if "n_tokens" in fit:
        shape = (f"{fit.get('input_type')} corpus, {fit.get('n_documents')} documents, "
                 f"{fit['n_tokens']:,} tokens, vocabulary size {fit.get('vocab_size')} "
                 f"({fit.get('tokenizer')})")
    out.print(f"fit: {shape}, "
              f"seed {fit.get('seed')}, {fit.get('fit_seconds', '?')} s, peak RSS "
              f"{fit.get('peak_rss_mb', '?')} MB, created {fit.get('created', '?')}")
    out.print(f"data fingerprint: {fit.get('data_fingerprint', '?')}")
    out.print(f"format version {r['format_version']}, written by genmodels {r['package_version']}")
    if r["metrics"]:
        out.print("metrics: " + ", ".join(f"{k}={v}" for k, v in r["metrics"].items()))
    if codec.get("columns"):
        out.print(_columns_table(codec["columns"]))
    table = Table(title="Files (SHA-256 verified against manifest.json)")
    for col in ("file", "bytes", "sha256", "ok"):
        table.add_column(col)
    for name, entry in r["files"].items():
        table.add_row(name, human_bytes(entry.get("bytes", 0)), entry["sha256"][:16] + "…",
                      "yes" if entry["verified"] else "NO")
    out.print(table)


def _columns_table(columns: list[dict[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(title="Columns")
    for col in ("column", "kind", "fields", "levels", "min", "max", "missing"):
        table.add_column(col, no_wrap=col != "column",
                         justify="right" if col in ("fields", "levels", "missing") else "left")
    for row in columns:
        fields = row.get("fields")
        missing = row.get("missing_rate")
        table.add_row(str(row.get("name", "")), str(row.get("kind", "")),
                      str(len(fields)) if isinstance(fields, list) else _cell(fields),
                      _cell(row.get("levels")), _cell(row.get("min")), _cell(row.get("max")),
                      f"{missing:.1%}" if isinstance(missing, float) else _cell(missing))
    return table


def _cell(v: Any) -> str:
    return "" if v is None else str(v)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"

