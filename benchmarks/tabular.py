"""Deep table models: genmodels (vae, gan, flow, copula) vs SDV (GaussianCopula, TVAE,
CTGAN) at 300 epochs, in one run, on one machine, with the same thread count.

Each dataset is split once per seed (80 % train, 20 % holdout). Every model fits on the
train part; as many rows as the train part are sampled. Reported per model: fit time,
the SDMetrics QualityReport (synthetic vs train), genmodels' C2ST AUC, and TSTR —
HistGradientBoosting trained on the synthetic rows, scored on the real holdout, as a
ratio of the same model trained on the real train rows (TRTR); 1.0 = as useful as real.
Then ratios: fit time vs TVAE (vae) and CTGAN (gan), quality vs the same peers, and
whether the best genmodels model beats the best SDV model on quality; with several
``--seeds``, medians and means over the runs. Needs the
``bench`` extra (SDV, SDMetrics).

    python benchmarks/tabular.py --datasets penguins,breast_cancer,adult --seeds 0 1 2 \
        --threads 2 --out benchmarks/results/tabular.json
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (before numpy: it pins the thread pools)

SDV_MODELS = {"sdv_gaussian_copula": "GaussianCopulaSynthesizer", "sdv_tvae": "TVAESynthesizer",
              "sdv_ctgan": "CTGANSynthesizer"}
OURS = {"copula": {}, "vae": {"epochs": 300}, "gan": {"epochs": 300}, "flow": {"epochs": 300}}
PAIRS = {"vae": "sdv_tvae", "gan": "sdv_ctgan", "copula": "sdv_gaussian_copula"}
TARGET_FIT = {"vae": 1 / 3, "gan": 1 / 2}  # the fit-time targets vs the peer
DEFAULT_DATASETS = ("penguins", "breast_cancer", "adult")
log = logging.getLogger("tabular")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default=",".join(DEFAULT_DATASETS))
    p.add_argument("--models", default=",".join([*OURS, *SDV_MODELS]),
                   help="comma-separated: " + ", ".join([*OURS, *SDV_MODELS]))
    p.add_argument("--seeds", type=int, nargs="+", default=[0],
                   help="one split and fit per seed; several give repeated timings and "
                        "the spread of the ratios")
    p.add_argument("--threads", type=int, default=2, help="threads for every library")
    p.add_argument("--epochs", type=int, default=300,
                   help="epochs of every deep model, ours and SDV's (the issue: 300)")
    p.add_argument("--out", default="benchmarks/results/tabular.json")
    args = p.parse_args(argv)
    args.datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in args.models:
        if m not in OURS and m not in SDV_MODELS:
            p.error(f"--models: unknown {m!r}; allowed: {', '.join([*OURS, *SDV_MODELS])}")
    return args


def split(df: Any, seed: int) -> tuple[Any, Any]:
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(df))
    cut = int(round(0.8 * len(df)))
    return (df.iloc[order[:cut]].reset_index(drop=True),
            df.iloc[order[cut:]].reset_index(drop=True))


def fit_sample(model: str, train: Any, metadata: Any, table: str, seed: int,
               epochs: int = 300) -> tuple[Any, float, float]:
    import genmodels as gm

    if model in SDV_MODELS:
        options = {} if model == "sdv_gaussian_copula" else {"epochs": epochs}
        fitted, fit_s = common.timed(
            lambda: common.sdv_fit(SDV_MODELS[model], train, metadata, table, seed, **options))
        synth, sample_s = common.timed(lambda: common.sdv_sample(fitted, len(train), table,
                                                                 seed + 1))
    else:
        params = {**OURS[model], **({"epochs": epochs} if "epochs" in OURS[model] else {})}
        fitted, fit_s = common.timed(lambda: gm.Generator(model, **params).fit(train, seed=seed))
        synth, sample_s = common.timed(lambda: fitted.sample(len(train), seed=seed + 1))
    return synth, fit_s, sample_s


def run_one(name: str, model: str, train: Any, holdout: Any, metadata: Any,
            seed: int, epochs: int = 300) -> dict[str, Any]:
    import genmodels as gm

    row: dict[str, Any] = {"dataset": name, "model": model, "seed": seed,
                           "train_rows": len(train), "holdout_rows": len(holdout)}
    try:
        synth, fit_s, sample_s = fit_sample(model, train, metadata, name, seed, epochs)
        quality = common.sdmetrics_quality(train, synth, common.sdv_table_dict(metadata, name))
        target = gm.datasets.info(name)["target"]
        report = gm.evaluate(train, synth, target=target, holdout=holdout, seed=seed)
    except Exception as err:  # one broken model must not hide the others' figures
        log.exception("%s on %s failed", model, name)
        row["error"] = f"{type(err).__name__}: {err}"
        return row
    h = report.headline()
    row |= {"fit_s": fit_s, "sample_s": sample_s, **quality, "c2st_auc": h["c2st_auc"],
            "tstr": h.get("utility_synth"), "trtr": h.get("utility_real"),
            "tstr_ratio": h.get("utility_ratio")}
    log.info("%s / %s: fit %.1fs, quality %.3f, C2ST %.3f, TSTR ratio %s", name, model, fit_s,
             quality["quality"], h["c2st_auc"], common.fmt(h.get("utility_ratio")))
    return row


def add_ratios(rows: list[dict[str, Any]]) -> None:
    """Per pair (vae/TVAE, gan/CTGAN, copula/GaussianCopula) and seed: the fit-time ratio
    and the quality difference, on each of our rows."""
    ok = {(r["dataset"], r["seed"], r["model"]): r for r in rows if "error" not in r}
    for r in rows:
        peer = ok.get((r["dataset"], r["seed"], PAIRS.get(r["model"], "")))
        if peer is None or "error" in r:
            continue
        r["fit_x_peer"] = r["fit_s"] / peer["fit_s"]
        r["quality_minus_peer"] = r["quality"] - peer["quality"]


def summarize(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Over the seeds: per dataset and model the mean quality, median fit time and the
    median (and worst) fit-time ratio to the peer, with the issue's verdict (quality >=
    the peer's on average and median ratio within the target); per dataset, the best of
    ours against the best of SDV on mean quality."""
    import numpy as np

    summary = []
    for name, model in dict.fromkeys((r["dataset"], r["model"]) for r in rows):
        runs = [r for r in rows if (r["dataset"], r["model"]) == (name, model) and "error" not in r]
        if not runs:
            continue
        s = {"dataset": name, "model": model, "runs": len(runs),
             "quality": float(np.mean([r["quality"] for r in runs])),
             "fit_s": float(np.median([r["fit_s"] for r in runs])),
             "tstr_ratio": _mean([r.get("tstr_ratio") for r in runs])}
        ratios = [r["fit_x_peer"] for r in runs if "fit_x_peer" in r]
        if ratios:
            s["fit_x_peer"] = float(np.median(ratios))
            s["fit_x_peer_worst"] = float(max(ratios))
            s["quality_minus_peer"] = float(np.mean([r["quality_minus_peer"] for r in runs]))
            if model in TARGET_FIT:
                s["target_met"] = bool(s["quality_minus_peer"] >= 0
                                       and s["fit_x_peer"] <= TARGET_FIT[model])
        summary.append(s)
    verdicts = []
    for name in dict.fromkeys(s["dataset"] for s in summary):
        ours = [s for s in summary if s["dataset"] == name and s["model"] in OURS]
        theirs = [s for s in summary if s["dataset"] == name and s["model"] in SDV_MODELS]
        if ours and theirs:
            a = max(ours, key=lambda s: s["quality"])
            b = max(theirs, key=lambda s: s["quality"])
            verdicts.append({"dataset": name, "best_ours": a["model"], "ours": a["quality"],
                             "best_sdv": b["model"], "sdv": b["quality"],
                             "met": a["quality"] >= b["quality"]})
    return summary, verdicts


def _mean(values: list[Any]) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def warm_up(models: list[str], df: Any, table: str) -> None:
    """Fit every model once for one epoch on a few rows before the clocks start, ours and
    SDV's alike: a library's one-off first-use costs (torch set-up, lazy imports) would
    otherwise land on whichever model of it happens to fit first."""
    import genmodels as gm

    small = df.head(80).reset_index(drop=True)
    metadata = common.sdv_metadata(small, table)
    for model in models:
        if model in SDV_MODELS:
            options = {} if model == "sdv_gaussian_copula" else {"epochs": 1}
            common.sdv_fit(SDV_MODELS[model], small, metadata, table, 0, **options)
        else:
            params = {**OURS[model], **({"epochs": 1} if "epochs" in OURS[model] else {})}
            gm.Generator(model, **params).fit(small, seed=0).sample(10, seed=0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.pin_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    import sdv.single_table  # noqa: F401  (imports before the clocks start)
    from sdmetrics.reports import single_table  # noqa: F401

    import genmodels as gm

    gm.models.registry()
    warm_up(args.models, gm.datasets.load(args.datasets[0]), args.datasets[0])
    rows = []
    for name in args.datasets:
        for seed in args.seeds:
            train, holdout = split(gm.datasets.load(name), seed)
            metadata = common.sdv_metadata(train, name)
            log.info("%s (seed %d): train %d x %d, holdout %d", name, seed, *train.shape,
                     len(holdout))
            for model in args.models:
                rows.append(run_one(name, model, train, holdout, metadata, seed, args.epochs))
    add_ratios(rows)
    summary, verdicts = summarize(rows)
    cols = {"dataset": "data", "model": "model", "seed": "seed", "fit_s": "fit s",
            "quality": "SDM quality", "c2st_auc": "C2ST AUC", "tstr_ratio": "TSTR/TRTR",
            "fit_x_peer": "fit / peer", "quality_minus_peer": "quality - peer"}
    common.print_table(f"tabular: every run ({args.threads} threads, {args.epochs} epochs)",
                       list(cols.values()), [[r.get(c) for c in cols] for r in rows])
    cols = {"dataset": "data", "model": "model", "runs": "runs", "fit_s": "median fit s",
            "quality": "mean quality", "tstr_ratio": "TSTR/TRTR",
            "fit_x_peer": "median fit / peer", "fit_x_peer_worst": "worst fit / peer",
            "quality_minus_peer": "quality - peer", "target_met": "target met"}
    common.print_table(f"tabular over seeds {args.seeds}", list(cols.values()),
                       [[s.get(c) for c in cols] for s in summary])
    common.print_table("best genmodels vs best SDV (mean SDMetrics quality)",
                       ["data", "ours", "quality", "SDV", "quality", "met"],
                       [[v["dataset"], v["best_ours"], v["ours"], v["best_sdv"], v["sdv"],
                         v["met"]] for v in verdicts])
    for r in rows:
        if "error" in r:
            print(f"{r['dataset']} / {r['model']}: {r['error']}", file=sys.stderr)
    payload = {"benchmark": "tabular", "machine": common.machine_info(args.threads),
               "args": vars(args), "results": rows, "summary": summary, "verdicts": verdicts}
    print(f"wrote {common.write_json(args.out, payload)}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
