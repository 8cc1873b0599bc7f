"""Peak memory of fitting deep table models on the full adult table (48,842 x 15).

Each fit runs in a fresh Python process, so its peak resident set size (``ru_maxrss``
of the child) is that fit's alone: imports, the codec, the model, training and sampling
1,000 rows. Memory does not grow with epochs (the data and the networks are allocated
once), so a few epochs measure the peak of a full run. Target (issue 4): < 2 GB.

    python benchmarks/memory.py --models vae,gan --epochs 3 --out benchmarks/results/memory.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402

CHILD = """
import json, resource, sys, time
import genmodels as gm
model, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
df = gm.datasets.load("adult")
t = time.perf_counter()
gen = gm.Generator(model, epochs=epochs).fit(df, seed=0, run={"threads": threads})
fit_s = time.perf_counter() - t
gen.sample(1000, seed=1)
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
print(json.dumps({"rows": len(df), "fit_s": round(fit_s, 1), "peak_rss_mb": round(peak_mb, 1)}))
"""
LIMIT_MB = 2048


def measure(model: str, epochs: int, threads: int) -> dict:
    """Run one fit in a child process, which reports its own peak RSS (MB) and fit time."""
    done = subprocess.run([sys.executable, "-c", CHILD, model, str(epochs), str(threads)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"model": model, "error": done.stderr.strip().splitlines()[-1:]}
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {"model": model, "epochs": epochs, **out,
            "under_limit": out["peak_rss_mb"] < LIMIT_MB}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default="vae,gan")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", default="benchmarks/results/memory.json")
    args = p.parse_args(argv)
    rows = [measure(m.strip(), args.epochs, args.threads) for m in args.models.split(",")
            if m.strip()]
    common.print_table(f"peak RSS fitting on adult ({args.epochs} epochs, {args.threads} threads)",
                       ["model", "peak RSS MB", "fit s", f"< {LIMIT_MB} MB"],
                       [[r["model"], r.get("peak_rss_mb"), r.get("fit_s"), r.get("under_limit")]
                        for r in rows])
    payload = {"benchmark": "memory", "machine": common.machine_info(args.threads),
               "args": vars(args), "results": rows}
    print(f"wrote {common.write_json(args.out, payload)}")
    return 0 if all(r.get("under_limit") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
