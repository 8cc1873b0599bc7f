"""How long ``gm.evaluate`` takes on the full adult table (48,842 rows x 15 columns).

The table is split once (seeded) into train (80%) and holdout (20%); a generator
(default ``bayesnet``) is fitted on train and samples as many rows as the whole table.
Then ``gm.evaluate(train, synth, target="income", sensitive=["sex", "race"],
model=gen, holdout=holdout)`` — every group of the report — runs ``--repeats`` times;
the median wall time and the per-group times are printed and written as JSON. A
minimal call (fidelity and privacy only) is timed for reference. Target: < 60 s on
2 cores.

    python benchmarks/evaluate_speed.py --threads 2 --repeats 3 --out evaluate_speed.json
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (before numpy: it pins the thread pools)

log = logging.getLogger("evaluate_speed")
LIMIT_S = 60.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="adult", help="bundled dataset name")
    p.add_argument("--model", default="bayesnet", help="generator whose samples are evaluated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2, help="threads for every library")
    p.add_argument("--repeats", type=int, default=3, help="timed evaluate calls (median)")
    p.add_argument("--out", default="evaluate_speed.json", help="JSON file to write")
    return p.parse_args(argv)


def prepare(name: str, model: str, seed: int) -> dict[str, Any]:
    """Train/holdout split, a fitted generator and as many synthetic rows as the table."""
    import numpy as np

    import genmodels as gm

    df = gm.datasets.load(name)
    info = gm.datasets.info(name)
    order = np.random.default_rng(seed).permutation(len(df))
    cut = int(0.8 * len(df))
    train = df.iloc[np.sort(order[:cut])].reset_index(drop=True)
    holdout = df.iloc[np.sort(order[cut:])].reset_index(drop=True)
    gen, fit_s = common.timed(lambda: gm.Generator(model).fit(train, seed=seed))
    synth, sample_s = common.timed(lambda: gen.sample(len(df), seed=seed + 1))
    sensitive = [c for c in ("sex", "race") if c in df.columns]
    log.info("%s: %d train + %d holdout rows, %d columns; %s fit %.1fs, sample %.1fs",
             name, len(train), len(holdout), df.shape[1], model, fit_s, sample_s)
    return {"train": train, "holdout": holdout, "synth": synth, "gen": gen,
            "target": info.get("target"), "sensitive": sensitive or None,
            "rows": len(df), "columns": df.shape[1], "fit_s": fit_s, "sample_s": sample_s}


def time_calls(call, repeats: int) -> tuple[Any, list[float]]:
    times, report = [], None
    for _ in range(repeats):
        report, seconds = common.timed(call)
        times.append(seconds)
    return report, times


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.pin_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    import sklearn.ensemble  # noqa: F401  (imports outside the clock)
    import sklearn.linear_model  # noqa: F401

    import genmodels as gm

    d = prepare(args.dataset, args.model, args.seed)
    full, full_times = time_calls(lambda: gm.evaluate(
        d["train"], d["synth"], target=d["target"], sensitive=d["sensitive"], model=d["gen"],
        holdout=d["holdout"], seed=args.seed), args.repeats)
    _, minimal_times = time_calls(lambda: gm.evaluate(d["train"], d["synth"], seed=args.seed),
                                  args.repeats)
    median = statistics.median(full_times)
    rows = [["every group", args.dataset, median, min(full_times), max(full_times)],
            ["fidelity + privacy", args.dataset, statistics.median(minimal_times),
             min(minimal_times), max(minimal_times)]]
    common.print_table(f"gm.evaluate on {args.dataset} ({d['rows']:,} rows x {d['columns']}, "
                       f"{args.threads} threads, {args.repeats} repeats)",
                       ["call", "data", "median s", "min s", "max s"], rows)
    common.print_table("seconds per group (last full call)", ["group", "seconds"],
                       [[k, v] for k, v in full.timings.items()])
    verdict = "PASS" if median < LIMIT_S else "FAIL"
    print(f"{verdict}: median {median:.1f} s (limit {LIMIT_S:.0f} s); score {full.score:.3f}, "
          f"C2ST AUC {full.c2st_auc:.3f}, MIA AUC {full.privacy.mia_auc:.3f}")
    payload = {"benchmark": "evaluate_speed", "machine": common.machine_info(args.threads),
               "args": vars(args), "rows": d["rows"], "columns": d["columns"],
               "n_train": len(d["train"]), "n_holdout": len(d["holdout"]),
               "n_synth": len(d["synth"]), "fit_s": d["fit_s"], "sample_s": d["sample_s"],
               "full_s": full_times, "minimal_s": minimal_times, "median_full_s": median,
               "timings": full.timings, "limit_s": LIMIT_S, "pass": median < LIMIT_S,
               "summary": full.headline()}
    print(f"wrote {common.write_json(args.out, payload)}")
    return 0 if median < LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
