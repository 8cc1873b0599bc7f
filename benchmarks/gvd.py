"""Generative vs discriminative study on the bundled classification sets, default settings.

Runs :func:`genmodels.studies.gvd.gvd_study` (defaults: 12 log-spaced sizes from 2 rows a
class, 20 repeats, up to 8,000 training rows) on each dataset with one BLAS thread, prints
the naive Bayes / logistic regression verdict and the timing, and writes
``benchmarks/results/gvd.json`` (merged by dataset with what is there; and the HTML page with ``--html PATH``).

    .venv/bin/python benchmarks/gvd.py [DATASET ...] [--repeats R] [--html out.html]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


def main() -> None:
    from genmodels.studies import gvd

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("datasets", nargs="*", default=list(gvd.SUITE_DATASETS))
    ap.add_argument("--repeats", type=int, default=gvd.DEFAULT_REPEATS)
    ap.add_argument("--classifiers", default=",".join(gvd.DEFAULT_CLASSIFIERS))
    ap.add_argument("--html", type=Path, default=None)
    args = ap.parse_args()
    results, rows = [], []
    for name in args.datasets:
        t0 = time.perf_counter()
        r = gvd.gvd_study(name, repeats=args.repeats, classifiers=args.classifiers)
        secs = time.perf_counter() - t0
        results.append(r)
        v = r.verdicts()
        pair, fam = v.get("pair", {}), v.get("family", {})
        row = {"dataset": name, "seconds": round(secs, 1), "sizes": r.sizes,
               "pair": pair.get("pattern"), "crossover_n": pair.get("crossover_n"),
               "small": pair.get("small"), "large": pair.get("large"),
               "family": fam.get("pattern"), "failures": len(r.failures)}
        rows.append(row)
        print(f"{name:14s} {secs:6.1f}s  NB vs LR: {row['pair']:26s} "
              f"small {pair['small']['diff']:+.3f}±{pair['small']['se']:.3f} "
              f"large {pair['large']['diff']:+.3f}±{pair['large']['se']:.3f} "
              f"crossover n≈{row['crossover_n']}  | best-family: {row['family']}", flush=True)
    study = gvd.collect(results)
    print(gvd.pattern_summary(results))
    out = Path(__file__).parent / "results" / "gvd.json"
    old = json.loads(out.read_text()) if out.is_file() else {}
    merged = {r["dataset"]: r for r in old.get("results", [])} | {r["dataset"]: r for r in rows}
    out.write_text(json.dumps({"repeats": args.repeats, "results": list(merged.values())},
                              indent=1))
    if args.html:
        args.html.write_text(study.page(), encoding="utf-8")


if __name__ == "__main__":
    main()
