"""Statistical table models: genmodels (copula, gmm, bayesnet) vs SDV's GaussianCopula.

One run, one machine, the same data and the same thread count for every model. For
each dataset and model: fit and sample wall time, the SDMetrics QualityReport score,
and genmodels' own C2ST AUC and score (``gm.evaluate``); then ratios against SDV.
Sampled rows = rows of the real table. Needs the ``bench`` extra (SDV, SDMetrics).

    python benchmarks/tabular_stat.py --datasets penguins,adult --threads 2 --repeats 3 \
        --out results.json
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (before numpy: it pins the thread pools)

SDV_MODELS = {"sdv_gaussian_copula": "GaussianCopulaSynthesizer"}
DEFAULT_DATASETS = ("penguins", "breast_cancer", "adult")
DEFAULT_MODELS = ("copula", "gmm", "bayesnet", "sdv_gaussian_copula")
log = logging.getLogger("tabular_stat")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default=",".join(DEFAULT_DATASETS),
                   help="comma-separated bundled dataset names")
    p.add_argument("--models", default=",".join(DEFAULT_MODELS),
                   help="comma-separated genmodels model names and/or sdv_gaussian_copula")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="threads for every library")
    p.add_argument("--repeats", type=int, default=1,
                   help="fit each model this many times; the median fit time is reported")
    p.add_argument("--out", default="results.json", help="JSON file to write")
    args = p.parse_args(argv)
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.repeats < 1:
        p.error(f"--repeats: got {args.repeats}; allowed: an integer >= 1")
    return args


def check_names(args: argparse.Namespace) -> None:
    import genmodels as gm

    known_data, known_models = gm.datasets.names(), sorted(gm.models.registry())
    for d in args.datasets:
        if d not in known_data:
            sys.exit(f"--datasets: unknown {d!r}; allowed: {', '.join(known_data)}")
    for m in args.models:
        if m not in known_models and m not in SDV_MODELS:
            sys.exit(f"--models: unknown {m!r}; allowed: "
                     f"{', '.join(known_models + sorted(SDV_MODELS))}")


def fit_and_sample(model: str, df: Any, metadata: Any, table: str, seed: int, repeats: int
                   ) -> tuple[Any, list[float], float]:
    """``(synthetic frame, fit seconds of each repeat, sample seconds)`` for one model."""
    import genmodels as gm

    if model in SDV_MODELS:
        def fit() -> Any:
            return common.sdv_fit(SDV_MODELS[model], df, metadata, table, seed)

        def sample(fitted: Any) -> Any:
            return common.sdv_sample(fitted, len(df), table, seed + 1)
    else:
        def fit() -> Any:
            return gm.Generator(model).fit(df, seed=seed)

        def sample(fitted: Any) -> Any:
            return fitted.sample(len(df), seed=seed + 1)
    fit_times = []
    for _ in range(repeats):
        fitted, seconds = common.timed(fit)
        fit_times.append(seconds)
    out, sample_s = common.timed(lambda: sample(fitted))
    return out, fit_times, sample_s


def run_one(name: str, model: str, df: Any, metadata: Any, seed: int,
            repeats: int = 1) -> dict[str, Any]:
    import numpy as np

    import genmodels as gm

    row: dict[str, Any] = {"dataset": name, "model": model, "rows": len(df),
                           "columns": df.shape[1]}
    try:
        synth, fit_times, sample_s = fit_and_sample(model, df, metadata, name, seed, repeats)
        fit_s = float(np.median(fit_times))
        row["fit_s_each"] = fit_times
        quality = common.sdmetrics_quality(df, synth, common.sdv_table_dict(metadata, name))
        target = gm.datasets.info(name)["target"]
        report, eval_s = common.timed(lambda: gm.evaluate(df, synth, target=target, seed=seed))
    except Exception as err:  # one broken model must not hide the others' figures
        log.exception("%s on %s failed", model, name)
        row["error"] = f"{type(err).__name__}: {err}"
        return row
    h = report.headline()
    row |= {"fit_s": fit_s, "sample_s": sample_s, **quality, "c2st_auc": h["c2st_auc"],
            "gm_score": h["score"], "utility_ratio": h.get("utility_ratio"),
            "exact_match_rate": h["exact_match_rate"], "evaluate_s": eval_s}
    log.info("%s / %s: fit %.2fs, quality %.3f, C2ST %.3f", name, model, fit_s,
             quality["quality"], h["c2st_auc"])
    return row


def add_ratios(rows: list[dict[str, Any]], reference: str = "sdv_gaussian_copula") -> None:
    """``fit_x_sdv`` = fit time / SDV's (lower is faster); ``quality_x_sdv`` = quality /
    SDV's (higher is better); ``c2st_excess_x_sdv`` = (AUC-0.5) / (SDV AUC-0.5)."""
    ref = {r["dataset"]: r for r in rows if r["model"] == reference and "error" not in r}
    for r in rows:
        base = ref.get(r["dataset"])
        if base is None or "error" in r:
            continue
        r["fit_x_sdv"] = r["fit_s"] / base["fit_s"]
        r["quality_x_sdv"] = r["quality"] / base["quality"]
        denom = base["c2st_auc"] - 0.5
        r["c2st_excess_x_sdv"] = (r["c2st_auc"] - 0.5) / denom if denom > 0.005 else None


def warm_up() -> None:
    """Import every library before the clocks start, so no fit time includes an import."""
    import sklearn.ensemble  # noqa: F401  (gm.evaluate)

    import genmodels as gm

    gm.models.registry()
    import sdv.single_table  # noqa: F401
    from sdmetrics.reports import single_table  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.pin_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    check_names(args)
    import genmodels as gm

    warm_up()

    rows = []
    for name in args.datasets:
        df = gm.datasets.load(name)
        metadata, detect_s = common.timed(functools.partial(common.sdv_metadata, df, name))
        log.info("%s: %d x %d, SDV metadata detected in %.2fs", name, *df.shape, detect_s)
        for model in args.models:
            rows.append(run_one(name, model, df, metadata, args.seed, args.repeats))
            if model in SDV_MODELS:
                rows[-1]["sdv_metadata_s"] = detect_s
    add_ratios(rows)
    cols = {"dataset": "data", "model": "model", "fit_s": "fit s", "sample_s": "sample s",
            "quality": "SDM quality", "column_shapes": "shapes", "column_pair_trends": "pairs",
            "c2st_auc": "C2ST AUC", "gm_score": "gm score", "fit_x_sdv": "fit / SDV",
            "quality_x_sdv": "quality / SDV"}
    common.print_table(f"tabular_stat (seed {args.seed}, {args.threads} threads)",
                       list(cols.values()), [[r.get(c) for c in cols] for r in rows])
    for r in rows:
        if "error" in r:
            print(f"{r['dataset']} / {r['model']}: {r['error']}", file=sys.stderr)
    payload = {"benchmark": "tabular_stat", "machine": common.machine_info(args.threads),
               "args": vars(args), "results": rows}
    print(f"wrote {common.write_json(args.out, payload)}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
