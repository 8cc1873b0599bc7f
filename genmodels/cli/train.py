"""``genmodels metadata`` and ``genmodels fit``: look at a table, fit a model to it."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import typer

from genmodels.cli._common import (
    check_new_file,
    guard,
    parse_budget,
    parse_pairs,
    print_json,
    read_data,
    show_progress,
)

logger = logging.getLogger(__name__)

DATA_ARG = typer.Argument(..., show_default=False,
                          help="A CSV/Parquet file or a bundled dataset name "
                               "(see `genmodels datasets`); for a sequence model (ngram, "
                               "transformer, lstm) a .txt file or a folder of .txt files.")
FORCE_OPTION = typer.Option(False, "--force", help="Replace an existing output.")
JSON_OPTION = typer.Option(False, "--json", help="Print a JSON summary instead of text.")


def metadata(
    ctx: typer.Context,
    data: str = DATA_ARG,
    out: Path | None = typer.Option(None, "-o", "--out", show_default=False,
                                    help="Write the JSON to this file instead of stdout."),
    force: bool = FORCE_OPTION,
) -> None:
    """Print the metadata inferred for DATA (each column's kind and facts) as JSON.

    Edit the kinds and pass the file back with `genmodels fit --metadata FILE`.
    """
    with guard(ctx):
        from genmodels.files import atomic_write_text, dumps

        path = check_new_file(out, force=force, option="-o") if out is not None else None
        frame, _ = read_data(data)
        from genmodels.codecs.tabular import infer_metadata

        text = dumps(infer_metadata(frame))
        if path is None:
            sys.stdout.write(text)
            return
        atomic_write_text(path, text)
        print(f"wrote the metadata of {frame.shape[1]} columns to {path}")


def fit(
    ctx: typer.Context,
    data: str = DATA_ARG,
    model: str = typer.Option(..., "--model", "-m", show_default=False,
                              help="Model name (see `genmodels models`)."),
    out: Path = typer.Option(..., "--out", "-o", show_default=False,
                             help="Directory to save the fitted model in."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same model)."),
    budget: str | None = typer.Option(None, "--budget", show_default=False,
                                      help="Time budget: seconds or 90s, 5m, 1h."),
    sets: list[str] | None = typer.Option(None, "--set", metavar="NAME=VALUE",
                                          show_default=False,
                                          help="A hyperparameter (repeatable); VALUE is read "
                                               "as JSON when it parses, else as text."),
    metadata_file: Path | None = typer.Option(None, "--metadata", show_default=False,
                                              help="Column kinds (JSON from `genmodels "
                                                   "metadata`)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out directory."),
    as_json: bool = JSON_OPTION,
    device: str = typer.Option("auto", "--device",
                               help="Deep models: auto (CUDA, then MPS, then CPU), cpu, cuda, mps."),
    threads: int | None = typer.Option(None, "--threads", min=1, show_default=False,
                                       help="Deep models: torch threads during training."),
    compile_: bool = typer.Option(False, "--compile", help="Deep models: torch.compile the networks."),
    resume: bool = typer.Option(False, "--resume",
                                help="Deep models: continue from the checkpoint of an "
                                     "interrupted run with the same --out."),
    checkpoint_every: int = typer.Option(0, "--checkpoint-every", min=0,
                                         help="Deep models: write a checkpoint every N steps "
                                              "(0: only when interrupted)."),
    nproc: int = typer.Option(1, "--nproc", min=1,
                              help="Deep models: train on N local processes (torchrun, DDP)."),
    tokenizer: str | None = typer.Option(None, "--tokenizer", show_default=False,
                                         help="Text models: char (default) or bpe "
                                              "(byte-level BPE)."),
    vocab_size: int | None = typer.Option(None, "--vocab-size", min=2, show_default=False,
                                          help="Text models with --tokenizer bpe: vocabulary "
                                               "size (default 2000)."),
    init_from: Path | None = typer.Option(None, "--init-from", show_default=False,
                                          help="Sequence models: fine-tune the model saved in "
                                               "this directory (its vocabulary is kept)."),
) -> None:
    """Fit a model to DATA, save it to --out and record the run in the registry.

    Deep models stop cleanly on Ctrl-C (a checkpoint is kept beside --out; run the
    same command with --resume to continue to the same result)."""
    with guard(ctx):
        if nproc > 1:
            from genmodels.training.launch import launch

            code = launch(nproc, _child_args(ctx, locals()))
            if code:
                raise typer.Exit(code)
            return
        _fit(data=data, model=model, out=out, seed=seed, budget=budget, sets=sets,
             metadata_file=metadata_file, force=force, as_json=as_json,
             codec_options=_codec_options(tokenizer, vocab_size), init_from=init_from,
             run={"device": device, "threads": threads, "compile": compile_, "resume": resume,
                  "checkpoint_every": checkpoint_every,
                  "checkpoint_dir": checkpoint_dir_for(out)})


def _codec_options(tokenizer: str | None, vocab_size: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if tokenizer is not None:
        if tokenizer not in ("char", "bpe"):
            raise ValueError(f"--tokenizer: got {tokenizer!r}; allowed: char, bpe")
        out["kind"] = tokenizer
    if vocab_size is not None:
        if out.get("kind") != "bpe":
            raise ValueError("--vocab-size: only with --tokenizer bpe")
        out["vocab_size"] = vocab_size
    return out


def checkpoint_dir_for(out: Path) -> Path:
    """Where a fit to ``out`` keeps its training checkpoint: ``<out>.ckpt`` beside it."""
    return out.parent / f"{out.name}.ckpt"


def _fit(*, data: str, model: str, out: Path, seed: int, budget: str | None,
         sets: list[str] | None, metadata_file: Path | None, force: bool, as_json: bool,
         run: dict[str, Any], codec_options: dict[str, Any] | None = None,
         init_from: Path | None = None) -> None:
    import shutil

    import genmodels as gm
    from genmodels.files import check_output_path
    from genmodels.training import TrainingInterrupted
    from genmodels.training.launch import rank

    main_rank = rank() == 0
    hyperparams = parse_pairs(sets, "--set")
    budget_s = parse_budget(budget)
    meta = _read_metadata(metadata_file) if metadata_file is not None else None
    check_output_path(out, force=force, what="--out")
    gen = gm.Generator(model, metadata=meta, codec_options=codec_options, **hyperparams)
    if not gen.capabilities.deep:
        run = {"device": run["device"], "threads": run["threads"]}
    frame, label = _read_input(gen, data, codec_options, init_from)
    record = {"kind": "fit", "model": model, "data": label, "seed": seed,
              "out_dir": str(out.resolve()),
              "config": {"hyperparams": gen.hyperparams, "budget_s": budget_s,
                         "metadata": str(metadata_file) if metadata_file else None}}
    start = time.perf_counter()
    try:
        gen.fit(frame, seed=seed, budget=budget_s, progress=main_rank and show_progress(as_json),
                run=run, **({"init_from": init_from} if init_from is not None else {}))
        if main_rank:
            gen.save(out, force=force)
    except TrainingInterrupted as e:
        if main_rank:
            _record(status="interrupted", error=f"interrupted: {e}", duration_s=time.perf_counter() - start,
                    **record)
            hint = ". To continue: the same command plus --resume" if e.checkpoint else ""
            print(f"interrupted: {e}{hint}", file=sys.stderr)
        raise typer.Exit(130) from None
    except BaseException as e:
        if main_rank:
            _record(status="failed", error=f"{type(e).__name__}: {e}",
                    duration_s=time.perf_counter() - start, **record)
        raise
    if not main_rank:
        return
    if run.get("checkpoint_dir") is not None:  # the model is saved: the checkpoint is spent
        shutil.rmtree(run["checkpoint_dir"], ignore_errors=True)
    info = gen.fit_info_ or {}
    duration = time.perf_counter() - start
    run_id = _record(status="ok", duration_s=duration, metrics=gen.metrics_,
                     data_fingerprint=info.get("data_fingerprint"),
                     peak_rss_mb=info.get("peak_rss_mb"), **record)
    _report_fit(gen, label, out, run_id, duration, as_json)


def _read_input(gen: Any, data: str, codec_options: dict[str, Any] | None,
                init_from: Path | None) -> tuple[Any, str]:
    """DATA for this model: a table (read here), or a corpus path passed to the sequence
    codec as it is; sequence-only options given to a table model are errors."""
    from genmodels import _sequence_generator as seq

    if seq.is_sequence(gen):
        path = Path(data)
        if path.exists():
            return data, str(path.resolve())
        if seq.sequence_codec_class(data) is None:
            raise ValueError(f"DATA: {data!r} does not exist; allowed for {gen.model_name!r}: a "
                             ".txt file or a folder of .txt files (or MIDI files for music)")
        return data, data
    for option, value in (("--tokenizer/--vocab-size", codec_options),
                          ("--init-from", init_from)):
        if value:
            raise ValueError(f"{option}: only for sequence models (ngram, transformer, lstm); "
                             f"{gen.model_name!r} models tables")
    seq.check_table_input(gen, data)
    return read_data(data)


def _child_args(ctx: typer.Context, p: dict[str, Any]) -> list[str]:
    """The same `fit` command line without --nproc, for each torchrun rank."""
    args = ["--debug"] if (ctx.find_root().obj or {}).get("debug") else []
    args += ["fit", p["data"], "--model", p["model"], "--out", str(p["out"]),
             "--seed", str(p["seed"]), "--device", p["device"],
             "--checkpoint-every", str(p["checkpoint_every"])]
    for item in p["sets"] or []:
        args += ["--set", item]
    for flag, value in (("--budget", p["budget"]), ("--metadata", p["metadata_file"]),
                        ("--threads", p["threads"]), ("--tokenizer", p["tokenizer"]),
                        ("--vocab-size", p["vocab_size"]), ("--init-from", p["init_from"])):
        if value is not None:
            args += [flag, str(value)]
    for flag, on in (("--force", p["force"]), ("--json", p["as_json"]),
                     ("--compile", p["compile_"]), ("--resume", p["resume"])):
        if on:
            args.append(flag)
    return args


def _read_metadata(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ValueError(f"--metadata: {str(path)!r} is not a file")
    try:
        meta = json.loads(path.read_text("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"--metadata: {str(path)!r} is not valid JSON ({e})") from None
    if not isinstance(meta, dict):
        raise ValueError(f"--metadata: {str(path)!r} must hold a JSON object "
                         "(as written by `genmodels metadata`)")
    return meta


def _record(**fields: Any) -> str | None:
    """Record a run; a registry that cannot be written is a warning, not a failure."""
    from genmodels import runs

    try:
        return runs.record_run(**fields)
    except Exception as e:
        print(f"warning: the run was not recorded in {runs.registry_path()}: {e}",
              file=sys.stderr)
        logger.debug("record_run failed", exc_info=True)
        return None


def _report_fit(gen: Any, label: str, out: Path, run_id: str | None, duration: float,
                as_json: bool) -> None:
    info = gen.fit_info_ or {}
    if as_json:
        print_json({"run_id": run_id, "model": gen.model_name, "data": label,
                    "out_dir": str(out), "seed": info.get("seed"),
                    "duration_s": round(duration, 4), "hyperparams": gen.hyperparams,
                    "fit": info, "metrics": gen.metrics_})
        return
    shape = f"{info.get('n_rows', 0):,} rows × {info.get('n_columns', '?')} columns"
    if "n_tokens" in info:
        shape = (f"{info['n_documents']:,} documents, {info['n_tokens']:,} tokens, "
                 f"vocabulary {info['vocab_size']}")
    print(f"fitted {gen.model_name} on {Path(label).name} ({shape}) in "
          f"{info.get('fit_seconds', duration):.2f} s, seed {info.get('seed')} -> {out}"
          + (f" (run {run_id})" if run_id else ""))
