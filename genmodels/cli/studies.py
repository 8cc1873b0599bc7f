"""The survey's studies and augmentation: ``genmodels gvd``, ``mle-vs-bayes``,
``augment`` and ``augment-study``.

A study writes a self-contained HTML page (``--out``, default
``$GENMODELS_HOME/studies/<kind>-<run-id>.html``) and its JSON beside it (same name,
``.json``), and is recorded in the run registry (kind ``study``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from genmodels.cli._common import (
    check_new_file,
    console,
    guard,
    parse_pairs,
    print_json,
    read_data,
    show_progress,
    table_format,
    write_table,
)

logger = logging.getLogger(__name__)

OUT_OPTION = typer.Option(None, "--out", "-o", show_default=False,
                          help="The HTML page (default: $GENMODELS_HOME/studies/"
                               "<study>-<run-id>.html); the JSON goes beside it (.json).")
FORCE_OPTION = typer.Option(False, "--force", help="Replace existing output files.")
JSON_OPTION = typer.Option(False, "--json", help="Print a JSON summary instead of text.")
SEED_OPTION = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same study).")
REPEATS_OPTION = typer.Option(5, "--repeats", "-r", min=1, help="Repeated splits per size.")
SIZES_OPTION = typer.Option(None, "--sizes", show_default=False,
                            help="Training-set sizes, comma-separated (default: log-spaced).")
SETS_OPTION = typer.Option(None, "--set", metavar="MODEL.NAME=VALUE", show_default=False,
                           help="A hyperparameter of one genmodels model (repeatable), "
                                "e.g. gmm.reg_covar=0.1.")


# ----------------------------------------------------------------- helpers
def _int_list(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    out = []
    for part in text.split(","):
        try:
            out.append(int(part.strip()))
        except ValueError:
            raise ValueError(f"{option}: got {text!r}; allowed: comma-separated integers, "
                             "e.g. 20,50,100") from None
    return out


def _model_params(sets: list[str] | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, value in parse_pairs(sets, "--set", "MODEL.NAME=VALUE").items():
        model, dot, name = key.partition(".")
        if not dot or not model or not name:
            raise ValueError(f"--set: got {key!r}; allowed: MODEL.NAME=VALUE, e.g. "
                             "gmm.reg_covar=0.1")
        out.setdefault(model, {})[name] = value
    return out


def _outputs(out: Path | None, kind: str, run_id: str, force: bool) -> tuple[Path, Path]:
    from genmodels import runs

    html = out if out is not None else runs.home() / "studies" / f"{kind}-{run_id}.html"
    if html.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"--out: {str(html)!r} has extension {html.suffix or '(none)'!r}; "
                         "allowed: .html")
    json_path = html.with_suffix(".json")
    check_new_file(html, force=force, option="--out")
    check_new_file(json_path, force=force, option="--out (its .json)")
    return html, json_path


@contextmanager
def _steps(enabled: bool, title: str) -> Iterator[Callable[[str], None] | None]:
    """A spinner whose text follows the study's steps (only for a person watching)."""
    if not enabled:
        yield None
        return
    with console(stderr=True).status(title, spinner="dots") as status:
        yield lambda step: status.update(f"{title}: {step}")


def _prepare_outputs(out: Path | None, kind: str, force: bool) -> tuple[str, Path, Path]:
    """A new run id and the checked HTML and JSON paths (before any work is done)."""
    from genmodels import runs

    run_id = runs.new_run_id()
    return (run_id, *_outputs(out, kind, run_id, force))


def _run_study(kind: str, label: str, outputs: tuple[str, Path, Path], as_json: bool,
               config: dict[str, Any], work: Callable[[Any], Any]) -> None:
    """Run ``work(on_step)``, write its HTML page and JSON, record the run, report."""
    from genmodels.files import atomic_write_text

    run_id, html, json_path = outputs
    start = time.perf_counter()
    record = {"id": run_id, "kind": "study", "data": label, "seed": config.get("seed"),
              "config": {"study": kind, **config}, "out_dir": str(html.parent.resolve())}
    try:
        with _steps(show_progress(as_json), kind) as on_step:
            result = work(on_step)
        atomic_write_text(html, result.page())
        atomic_write_text(json_path, result.to_json())
    except BaseException as e:
        _record(status="failed", error=f"{type(e).__name__}: {e}",
                duration_s=time.perf_counter() - start, **record)
        raise
    verdicts = _verdicts(result)
    _record(status="ok", duration_s=time.perf_counter() - start,
            metrics={"html": str(html), "json": str(json_path), "verdicts": verdicts}, **record)
    if as_json:
        print_json({"run_id": run_id, "study": kind, "data": label, "html": str(html),
                    "json": str(json_path), "verdicts": verdicts,
                    "sentences": _sentences(result)})
        return
    for line in _sentences(result):
        print(line)
    print(f"wrote {html} and {json_path.name} (run {run_id})")


def _parts(result: Any) -> list[Any]:
    return list(getattr(result, "results", [result]))


def _verdicts(result: Any) -> dict[str, Any]:
    return {getattr(r, "dataset", str(i)): r.verdicts() for i, r in enumerate(_parts(result))}


def _sentences(result: Any) -> list[str]:
    return [f"{getattr(r, 'dataset', '')}: {s}" for r in _parts(result) for s in r.sentences()]


def _record(**fields: Any) -> None:
    from genmodels import runs

    try:
        runs.record_run(**fields)
    except Exception as e:
        print(f"warning: the run was not recorded in {runs.registry_path()}: {e}",
              file=sys.stderr)
        logger.debug("record_run failed", exc_info=True)


def _data_label(spec: str) -> str:
    return Path(spec).name if Path(spec).exists() else spec


# ----------------------------------------------------------------- commands
def gvd(
    ctx: typer.Context,
    data: list[str] | None = typer.Argument(
        None, show_default=False,
        help="CSV/Parquet files or bundled dataset names (default: breast_cancer, wine, "
             "adult, digits, penguins)."),
    target: str | None = typer.Option(None, "--target", "-t", show_default=False,
                                      help="Class column (default: a bundled dataset's own)."),
    classifiers: str = typer.Option(
        "naive_bayes,lda,qda,gmm,logistic,logistic_mle,linear_svm,gboost", "--classifiers",
        "-c", help="Comma-separated: naive_bayes, naive_bayes_untied, lda, qda, logistic, "
                   "logistic_mle, linear_svm, gboost, or any registered model (a class "
                   "density through Bayes' rule)."),
    sizes: str | None = SIZES_OPTION,
    n_sizes: int = typer.Option(12, "--n-sizes", min=1, help="Number of log-spaced sizes."),
    max_train: int = typer.Option(8000, "--max-train", min=2, help="Largest training size."),
    repeats: int = typer.Option(20, "--repeats", "-r", min=1,
                                help="Repeated splits per size."),
    pair_repeats: int | None = typer.Option(
        None, "--pair-repeats", min=1, show_default=False,
        help="Repeats for the naive Bayes / logistic pair (default: more on small tables, "
             "enough to see a small-n gap beyond the noise)."),
    seed: int = SEED_OPTION,
    sets: list[str] | None = SETS_OPTION,
    out: Path | None = OUT_OPTION,
    force: bool = FORCE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Generative vs discriminative classifiers: test error against training-set size
    (Ng & Jordan 2001), with bands over repeated splits, on one or more datasets."""
    with guard(ctx):
        from genmodels.studies import gvd as study

        specs = list(data or study.SUITE_DATASETS)
        options = {"classifiers": classifiers, "sizes": _int_list(sizes, "--sizes"),
                   "n_sizes": n_sizes, "max_train": max_train, "repeats": repeats,
                   "pair_repeats": pair_repeats,
                   "seed": seed, "model_params": _model_params(sets)}
        study.check_classifiers(classifiers)  # fail before loading any data
        outputs = _prepare_outputs(out, "gvd", force)
        tables = [read_data(s)[0] for s in specs]

        def work(on_step: Any) -> Any:
            results = [study.gvd_study(t, target, name=_data_label(s), on_step=on_step,
                                       **options) for t, s in zip(tables, specs, strict=True)]
            return study.collect(results)

        config = {**options, "target": target, "data": specs}
        _run_study("gvd", ",".join(map(_data_label, specs)), outputs, as_json, config, work)


def mle_vs_bayes(
    ctx: typer.Context,
    data: list[str] | None = typer.Argument(
        None, show_default=False,
        help="CSV/Parquet files or bundled dataset names (default: wine, breast_cancer, "
             "penguins); their continuous numeric columns are used."),
    columns: str | None = typer.Option(None, "--columns", show_default=False,
                                       help="Comma-separated numeric columns to use."),
    target: str | None = typer.Option(None, "--target", "-t", show_default=False,
                                      help="A column to leave out (default: a bundled "
                                           "dataset's target)."),
    sizes: str | None = SIZES_OPTION,
    n_sizes: int = typer.Option(8, "--n-sizes", min=1, help="Number of log-spaced sizes."),
    max_train: int = typer.Option(2000, "--max-train", min=3, help="Largest training size."),
    components: int = typer.Option(3, "--components", "-k", min=1,
                                   help="Components of gmm and of the Bayesian GMM."),
    repeats: int = REPEATS_OPTION,
    seed: int = SEED_OPTION,
    out: Path | None = OUT_OPTION,
    force: bool = FORCE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """MLE vs Bayesian density models: held-out log-likelihood against training-set size
    for gaussian vs bayes_gaussian and gmm vs a Bayesian GMM."""
    with guard(ctx):
        from genmodels.studies import bayes_vs_mle as study

        specs = list(data or study.SUITE_DATASETS)
        cols = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
        options = {"columns": cols, "target": target, "sizes": _int_list(sizes, "--sizes"),
                   "n_sizes": n_sizes, "max_train": max_train, "components": components,
                   "repeats": repeats, "seed": seed}
        outputs = _prepare_outputs(out, "mle-vs-bayes", force)
        tables = [read_data(s)[0] for s in specs]

        def work(on_step: Any) -> Any:
            results = [study.mle_vs_bayes_study(t, name=_data_label(s), on_step=on_step,
                                                **options)
                       for t, s in zip(tables, specs, strict=True)]
            return study.collect(results)

        _run_study("mle-vs-bayes", ",".join(map(_data_label, specs)), outputs, as_json,
                   {**options, "data": specs}, work)


def augment(
    ctx: typer.Context,
    data: str = typer.Argument(..., show_default=False,
                               help="A CSV/Parquet file or a bundled dataset name."),
    target: str = typer.Option(..., "--target", "-t", show_default=False,
                               help="The class column whose classes get synthetic rows."),
    model: str = typer.Option(..., "--model", "-m", show_default=False,
                              help="Model name (see `genmodels models`)."),
    ratio: float | None = typer.Option(None, "--ratio", show_default=False,
                                       help="Add round(RATIO x count) rows to every class."),
    balance: bool = typer.Option(False, "--balance",
                                 help="Bring every class up to the largest class's count."),
    out: str = typer.Option(..., "-o", "--out", show_default=False,
                            help="Output file: .csv or .parquet; '-' writes CSV to stdout."),
    seed: int = SEED_OPTION,
    sets: list[str] | None = typer.Option(None, "--set", metavar="NAME=VALUE",
                                          show_default=False,
                                          help="A hyperparameter of the model (repeatable)."),
    method: str = typer.Option("auto", "--method",
                               help="condition (one model, conditional sampling), per_class "
                                    "(one model per class) or auto."),
    mark: str | None = typer.Option(None, "--mark", show_default=False,
                                    help="Add a boolean column of this name: True on "
                                         "synthetic rows."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Append conditional synthetic rows for the classes of --target to DATA and write the
    result (original rows first, unchanged). Give exactly one of --ratio or --balance."""
    with guard(ctx):
        from genmodels.studies.augment import augment as run_augment
        from genmodels.studies.augment import augment_plan

        if (ratio is None) == (not balance):
            raise ValueError("--ratio, --balance: give exactly one of them")
        fmt = table_format(out)
        if out == "-" and as_json:
            raise ValueError("--json: cannot be combined with -o - (stdout carries the CSV)")
        if out != "-":
            check_new_file(out, force=force, option="-o")
        frame, label = read_data(data)
        if target not in frame.columns:
            raise ValueError(f"--target: got {target!r}; allowed: one of the columns "
                             f"{', '.join(map(str, frame.columns))}")
        plan = augment_plan(frame[target], ratio=ratio, balance=balance)
        start = time.perf_counter()
        with _steps(show_progress(as_json) and out != "-", f"augmenting with {model}"):
            result = run_augment(frame, target, model, ratio=ratio, balance=balance, seed=seed,
                                 hyperparams=parse_pairs(sets, "--set"), method=method,
                                 mark=mark)
            write_table(result, out, fmt)
        added = {str(k): v for k, v in plan.items()}
        _record(kind="augment", model=model, data=label, seed=seed, status="ok",
                duration_s=time.perf_counter() - start, out_dir=None if out == "-" else
                str(Path(out).resolve().parent),
                config={"target": target, "ratio": ratio, "balance": balance, "method": method,
                        "out": out}, metrics={"added": added, "rows_in": len(frame),
                                              "rows_out": len(result)})
        if as_json:
            print_json({"data": label, "target": target, "model": model, "out": out,
                        "format": fmt, "seed": seed, "rows_in": len(frame),
                        "rows_out": len(result), "added": added})
        elif out != "-":
            detail = ", ".join(f"{k}: +{v}" for k, v in added.items())
            print(f"wrote {len(result):,} rows ({len(frame):,} original + "
                  f"{len(result) - len(frame):,} synthetic from {model}; {detail}) to {out}")


def augment_study(
    ctx: typer.Context,
    data: str = typer.Argument("adult", help="A CSV/Parquet file or a bundled dataset name."),
    target: str | None = typer.Option(None, "--target", "-t", show_default=False,
                                      help="Class column (default: a bundled dataset's own)."),
    models: str = typer.Option("bayesnet,copula", "--models", "-m",
                               help="Comma-separated models whose synthetic rows balance "
                                    "the classes."),
    minority_share: float = typer.Option(0.05, "--minority-share",
                                         help="Share of the least frequent class in the "
                                              "train and test draws; 0 keeps the natural "
                                              "shares."),
    n_train: int = typer.Option(3000, "--n-train", min=10, help="Training rows per repeat."),
    n_test: int = typer.Option(3000, "--n-test", min=10, help="Test rows per repeat."),
    classifiers: str = typer.Option("gboost,logistic", "--classifiers", "-c",
                                    help="Downstream classifiers, comma-separated."),
    repeats: int = REPEATS_OPTION,
    seed: int = SEED_OPTION,
    sets: list[str] | None = SETS_OPTION,
    out: Path | None = OUT_OPTION,
    force: bool = FORCE_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Downstream accuracy and F1 (macro, minority class) with and without augmentation on
    an imbalanced draw of DATA, over repeats: real, random oversampling, and each model."""
    with guard(ctx):
        from genmodels.studies.augment_study import augment_study as run_study

        options = {"models": models, "minority_share": minority_share or None,
                   "n_train": n_train, "n_test": n_test, "classifiers": classifiers,
                   "repeats": repeats, "seed": seed, "hyperparams": _model_params(sets)}
        outputs = _prepare_outputs(out, "augment-study", force)
        frame, _ = read_data(data)
        label = _data_label(data)

        def work(on_step: Any) -> Any:
            return run_study(frame, target, name=label, on_step=on_step, **options)

        _run_study("augment-study", label, outputs, as_json,
                   {**options, "target": target, "data": data}, work)
