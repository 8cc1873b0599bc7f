"""Normalizing flows: genmodels' ``flow`` (NSF and MAF) vs zuko's, same budget each.

Datasets: two-moons (sklearn, noise 0.05), grid-25 (25 Gaussians at {-4..4}^2, std
0.05) and the 64-d digits (sklearn's 8x8 digits, integer pixels 0..16, dequantized
once with uniform noise, so both libraries see the same continuous data). Pairs of the
same architecture (``--layers`` transforms, two hidden layers of ``--hidden`` units, 8
spline bins, no LU layer): ours ``nsf_ar`` vs zuko ``NSF`` (autoregressive), ours
``maf`` vs zuko ``MAF``, and ours ``nsf`` (coupling) vs zuko ``NSF(passes=2)``. Each
fit gets the same wall-clock budget, batch size, learning rate (AdamW, constant) and
torch threads; ours through ``Model.fit(budget=...)`` (the shared Trainer, robust
standardization inside, its default validation split of 10% whose best epoch is kept:
``--val-fraction 0`` turns it off), zuko through a bare PyTorch loop on standardized
data. Reported, averaged over ``--seeds`` seeds: test NLL in nats per example in the
data's units (zuko's is corrected by the standardization's log-Jacobian), steps/s, and
ours minus zuko / ours over zuko. Grid-25 is a hard, high-variance target (25 modes of
std 0.05): use several seeds.

    /work/benchvenv/bin/python benchmarks/flows.py --budget 60 --seeds 3 --threads 1 \
        --out flows.json
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (before numpy: it pins the thread pools)

log = logging.getLogger("flows")
DATASETS = ("moons", "grid25", "digits")
PAIRS = {"nsf_ar": "NSF", "maf": "MAF", "nsf": "NSF(passes=2)"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default=",".join(DATASETS), help="moons, grid25, digits")
    p.add_argument("--kinds", default="nsf_ar,maf,nsf", help="our kinds: nsf_ar, maf, nsf")
    p.add_argument("--budget", type=float, default=60.0, help="wall seconds per fit")
    p.add_argument("--layers", type=int, default=5)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--n-train", type=int, default=20_000, help="moons and grid25")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..seeds-1 (data and models)")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="our validation split (the best epoch is kept); 0 = off")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="flows.json")
    args = p.parse_args(argv)
    args.datasets = [d for d in args.datasets.split(",") if d]
    args.kinds = [k for k in args.kinds.split(",") if k]
    for d in args.datasets:
        if d not in DATASETS:
            p.error(f"--datasets: unknown {d!r}; allowed: {', '.join(DATASETS)}")
    for k in args.kinds:
        if k not in PAIRS:
            p.error(f"--kinds: unknown {k!r}; allowed: {', '.join(PAIRS)}")
    return args


# ------------------------------------------------------------------------- data
def make_data(name: str, n_train: int, seed: int):
    """``(train, test)`` float64 arrays (digits: a seeded split and dequantization)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if name == "moons":
        from sklearn.datasets import make_moons

        x = make_moons(n_train + 10_000, noise=0.05, random_state=seed)[0]
        return x[:n_train], x[n_train:]
    if name == "grid25":
        g = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        mu = np.array([(a, b) for a in g for b in g])
        x = mu[rng.integers(25, size=n_train + 10_000)] + 0.05 * rng.standard_normal(
            (n_train + 10_000, 2))
        return x[:n_train], x[n_train:]
    from sklearn.datasets import load_digits

    x = load_digits().data.astype(np.float64)
    x = x[rng.permutation(len(x))] + rng.random(x.shape)  # uniform dequantization, once
    n = int(0.8 * len(x))
    return x[:n], x[n:]


def effective_batch(batch_size: int, n: int) -> int:
    """The batch size our model uses (at most n/10); zuko gets the same."""
    return int(min(batch_size, max(16, n // 10)))


# ------------------------------------------------------------------------ ours
def run_ours(kind: str, train, test, args, seed: int) -> dict[str, Any]:
    from genmodels.models import make_model

    model = make_model("flow", kind=kind, n_layers=args.layers, hidden=args.hidden, depth=2,
                       bins=8, lu=False, epochs=10**6, batch_size=args.batch_size, lr=args.lr,
                       schedule="constant", val_fraction=args.val_fraction, grad_clip=None)
    start = time.perf_counter()
    model.fit(train, seed=seed, budget=args.budget)
    wall = time.perf_counter() - start
    res = model.train_result_
    nll = float(-model.log_prob(test).mean())
    return {"nll": nll, "steps": res.steps, "steps_per_s": res.steps / res.seconds,
            "fit_s": wall, "params": sum(p.numel() for p in model.flow_.parameters())}


# ------------------------------------------------------------------------ zuko
def make_zuko(kind: str, d: int, args):
    import zuko

    hidden = (args.hidden, args.hidden)
    if kind == "maf":
        return zuko.flows.MAF(d, transforms=args.layers, hidden_features=hidden)
    passes = 2 if kind == "nsf" else None
    return zuko.flows.NSF(d, bins=8, transforms=args.layers, hidden_features=hidden,
                          passes=passes)


def run_zuko(kind: str, train, test, args, seed: int) -> dict[str, Any]:
    import numpy as np
    import torch

    common.seed_global_rngs(seed)  # zuko initialises from the global RNG
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    xtr = torch.from_numpy(((train - mean) / std).astype(np.float32))
    xte = torch.from_numpy(((test - mean) / std).astype(np.float32))
    flow = make_zuko(kind, train.shape[1], args)
    opt = torch.optim.AdamW(flow.parameters(), lr=args.lr, weight_decay=0.0)
    bs = effective_batch(args.batch_size, len(train))
    gen = torch.Generator().manual_seed(seed)
    steps, start = 0, time.perf_counter()
    done = False
    while not done:
        perm = torch.randperm(len(xtr), generator=gen)
        for lo in range(0, len(xtr), bs):
            loss = -flow().log_prob(xtr[perm[lo:lo + bs]]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            if time.perf_counter() - start > args.budget:
                done = True
                break
    seconds = time.perf_counter() - start
    with torch.no_grad():
        lp = torch.cat([flow().log_prob(xte[i:i + 4096]) for i in range(0, len(xte), 4096)])
    nll = float(-lp.double().mean()) + float(np.log(std).sum())  # back to the data's units
    return {"nll": nll, "steps": steps, "steps_per_s": steps / seconds, "fit_s": seconds,
            "params": sum(p.numel() for p in flow.parameters())}


# ------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.pin_threads(args.threads)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)
    rows, runs = [], []
    for name in args.datasets:
        for kind in args.kinds:
            row: dict[str, Any] = {"dataset": name, "kind": kind, "zuko": PAIRS[kind]}
            for seed in range(args.seeds):
                train, test = make_data(name, args.n_train, seed)
                for who, fn in (("ours", run_ours), ("zuko", run_zuko)):
                    try:
                        res = fn(kind, train, test, args, seed)
                    except Exception as err:  # keep going; reported at the end
                        log.exception("%s %s %s seed %d failed", name, kind, who, seed)
                        res = {"error": f"{type(err).__name__}: {err}"}
                    runs.append({"dataset": name, "kind": kind, "who": who, "seed": seed, **res})
                    log.info("%s %-6s %s seed %d: %s", name, kind, who, seed, res)
            summarize(row, [r for r in runs if r["dataset"] == name and r["kind"] == kind])
            rows.append(row)
    cols = {"dataset": "data", "kind": "ours", "zuko": "zuko", "ours_nll": "NLL ours",
            "ours_nll_sd": "sd", "zuko_nll": "NLL zuko", "zuko_nll_sd": "sd",
            "nll_diff": "ours - zuko", "ours_steps_per_s": "steps/s ours",
            "zuko_steps_per_s": "steps/s zuko", "speed_ratio": "ours / zuko"}
    common.print_table(f"flows ({args.budget:g}s each, {args.threads} thread(s), mean of "
                       f"{args.seeds} seed(s))", list(cols.values()),
                       [[r.get(c) for c in cols] for r in rows])
    payload = {"benchmark": "flows", "machine": common.machine_info(args.threads),
               "args": vars(args), "results": rows, "runs": runs}
    payload["machine"]["versions"].update(common.versions(["zuko"]))
    print(f"wrote {common.write_json(args.out, payload)}")
    return 1 if any("error" in r for r in runs) else 0


def summarize(row: dict[str, Any], runs: list[dict[str, Any]]) -> None:
    """Mean and sd over seeds of each side's NLL and steps/s, then the comparisons."""
    import numpy as np

    for who in ("ours", "zuko"):
        ok = [r for r in runs if r["who"] == who and "error" not in r]
        if not ok:
            continue
        nll = np.array([r["nll"] for r in ok])
        row[f"{who}_nll"], row[f"{who}_nll_sd"] = float(nll.mean()), float(nll.std())
        row[f"{who}_steps_per_s"] = float(np.mean([r["steps_per_s"] for r in ok]))
        row[f"{who}_params"] = ok[0]["params"]
    if "ours_nll" in row and "zuko_nll" in row:
        row["nll_diff"] = row["ours_nll"] - row["zuko_nll"]
        row["speed_ratio"] = row["ours_steps_per_s"] / row["zuko_steps_per_s"]
        row["nll_target_met"] = row["nll_diff"] <= 0
        row["speed_target_met"] = row["speed_ratio"] >= 1


if __name__ == "__main__":
    sys.exit(main())
