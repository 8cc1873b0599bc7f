"""Mode collapse: the ``gan`` on grid-25 and ring-8, PacGAN's protocol (Lin et al. 2018).

grid-25: 25 Gaussians at {-4,-2,0,2,4}^2, std 0.05 (variance 0.0025); ring-8: 8 Gaussians
on the unit circle, std 0.01. 100,000 training points, 2,500 generated samples scored:
modes captured (a mode with >= 1 high-quality sample), % high-quality samples (within
3 std of the nearest mode centre) and the reverse KL divergence ``KL(q || uniform)`` of
the high-quality samples' mode histogram ``q`` to the uniform one. Every setting runs
over several seeds, pac=1 (no packing) and pac=4 by default.

    python benchmarks/modes.py --seeds 5 --epochs 20 --threads 2 --out modes.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (before numpy: it pins the thread pools)

log = logging.getLogger("modes")
DATASETS = ("grid25", "ring8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default=",".join(DATASETS), help="grid25 and/or ring8")
    p.add_argument("--pacs", default="1,4", help="comma-separated pac values")
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..seeds-1")
    p.add_argument("--n-train", type=int, default=100_000)
    p.add_argument("--n-samples", type=int, default=2_500)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--budget", type=float, default=None, help="seconds per fit (None = no limit)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="a gan hyperparameter (repeatable), e.g. --set continuous=linear")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="modes.json")
    args = p.parse_args(argv)
    args.datasets = [d for d in args.datasets.split(",") if d]
    for d in args.datasets:
        if d not in DATASETS:
            p.error(f"--datasets: unknown {d!r}; allowed: {', '.join(DATASETS)}")
    args.pacs = [int(v) for v in args.pacs.split(",") if v]
    args.hyper = dict(_parse_set(p, s) for s in args.set)
    return args


def _parse_set(p: argparse.ArgumentParser, item: str) -> tuple[str, Any]:
    if "=" not in item:
        p.error(f"--set: got {item!r}; allowed: NAME=VALUE")
    key, raw = item.split("=", 1)
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw


def centres(name: str):
    """Mode centres ``(k, 2)`` and the per-coordinate std of a benchmark mixture."""
    import numpy as np

    if name == "grid25":
        g = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        return np.array([(a, b) for a in g for b in g]), 0.05
    angles = 2 * np.pi * np.arange(8) / 8
    return np.c_[np.cos(angles), np.sin(angles)], 0.01


def make_data(name: str, n: int, seed: int):
    """``n`` points of the mixture with equal weights: ``(n, 2)``."""
    import numpy as np

    mu, sd = centres(name)
    rng = np.random.default_rng(seed)
    return mu[rng.integers(len(mu), size=n)] + sd * rng.standard_normal((n, 2))


def score(samples, name: str) -> dict[str, float]:
    """PacGAN's figures for ``samples: (m, 2)``."""
    import numpy as np

    mu, sd = centres(name)
    dist = np.linalg.norm(samples[:, None, :] - mu[None], axis=2)
    nearest, d = dist.argmin(axis=1), dist.min(axis=1)
    hq = d <= 3 * sd
    counts = np.bincount(nearest[hq], minlength=len(mu))
    q = counts / max(counts.sum(), 1)
    nz = q > 0
    kl = float((q[nz] * np.log(q[nz] * len(mu))).sum()) if counts.sum() else float("nan")
    return {"modes": int((counts > 0).sum()), "high_quality": float(hq.mean()),
            "reverse_kl": kl}


def run_one(name: str, pac: int, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    import genmodels as gm

    data = make_data(name, args.n_train, seed)
    hyper = {"epochs": args.epochs, **args.hyper, "pac": pac}
    gen = gm.Generator("gan", **hyper)
    start = time.perf_counter()
    gen.fit(data, seed=seed, budget=args.budget)
    fit_s = time.perf_counter() - start
    out = score(gen.sample(args.n_samples, seed=10_000 + seed), name)
    res = gen.model.train_result_
    return {"dataset": name, "pac": pac, "seed": seed, "fit_seconds": round(fit_s, 2),
            "steps": res.steps, "stopped": res.stopped, **out}


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import numpy as np

    out = []
    for key in sorted({(r["dataset"], r["pac"]) for r in rows}):
        sel = [r for r in rows if (r["dataset"], r["pac"]) == key]
        out.append({"dataset": key[0], "pac": key[1], "runs": len(sel),
                    "modes": float(np.mean([r["modes"] for r in sel])),
                    "modes_min": int(min(r["modes"] for r in sel)),
                    "high_quality": float(np.mean([r["high_quality"] for r in sel])),
                    "reverse_kl": float(np.nanmean([r["reverse_kl"] for r in sel])),
                    "fit_seconds": float(np.mean([r["fit_seconds"] for r in sel]))})
    return out


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    common.pin_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = []
    for name in args.datasets:
        for pac in args.pacs:
            for seed in range(args.seeds):
                row = run_one(name, pac, seed, args)
                log.info("%s", row)
                rows.append(row)
                common.write_json(args.out, {"machine": common.machine_info(args.threads),
                                             "settings": {**vars(args)}, "runs": rows,
                                             "summary": summarize(rows)})
    summary = summarize(rows)
    common.print_table("gan mode coverage (PacGAN protocol)",
                       ["dataset", "pac", "runs", "modes", "min", "% high quality",
                        "reverse KL", "fit s"],
                       [[s["dataset"], str(s["pac"]), s["runs"], s["modes"], s["modes_min"],
                         100 * s["high_quality"], s["reverse_kl"], s["fit_seconds"]]
                        for s in summary])


if __name__ == "__main__":
    main()
