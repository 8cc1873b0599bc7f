"""Trainer overhead: steps/s of the MLP VAE under the Trainer vs a bare PyTorch loop.

The same network (genmodels' VAENet, same init), the same optimizer (AdamW, same
arguments), the same batch size, the same data and the same threads. The bare loop
does only what any loop must: a seeded permutation per epoch, index slicing, forward,
zero_grad, backward, step. The Trainer adds its NaN/Inf checks, gradient-norm,
logging, history, budget and signal checks. Runs are interleaved (bare, trainer,
bare, ...) and the median of ``--repeats`` is reported, so load from other processes
hits both alike. Target: ratio >= 0.90.

    python benchmarks/trainer_overhead.py --data adult --threads 1 --epochs 2 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (before numpy: it pins the thread pools)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="adult", help="bundled dataset, or 'synthetic'")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--max-rows", type=int, default=20_000)
    p.add_argument("--out", default=None, help="JSON file to write (optional)")
    return p.parse_args(argv)


def load_encoded(name: str, max_rows: int):
    """Encoded rows (float32 tensor) and the field kinds/levels of a table."""
    import numpy as np
    import torch

    if name == "synthetic":
        rng = np.random.default_rng(0)
        x = np.concatenate([rng.normal(size=(max_rows, 6)),
                            rng.integers(0, 8, size=(max_rows, 8))], axis=1)
        kinds = ["continuous"] * 6 + ["discrete"] * 8
        levels = [0] * 6 + [8] * 8
    else:
        import genmodels as gm
        from genmodels.codecs import TabularCodec

        df = gm.datasets.load(name).head(max_rows)
        codec = TabularCodec(inputs="mixed")
        codec.fit(df, seed=0)
        x = codec.encode(df)
        kinds = [f.kind for f in codec.schema.fields]
        levels = codec.schema.levels
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), kinds, levels


def make_net(kinds, levels):
    import torch

    from genmodels.models._vae_net import VAENet

    return VAENet(kinds, levels, [], latent=64, hidden=[128, 128],
                  generator=torch.Generator().manual_seed(0))


def optimizer(net, lr: float = 1e-3):
    import torch

    return torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-5, foreach=True)


def bare(data, kinds, levels, batch_size: int, epochs: int) -> float:
    """A plain PyTorch loop; returns steps/s."""
    import torch

    net = make_net(kinds, levels)
    opt = optimizer(net)
    gen = torch.Generator().manual_seed(1)
    n = data.shape[0]
    steps = 0
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for lo in range(0, n, batch_size):
            loss, _, _ = net(data[perm[lo:lo + batch_size]], gen, 1.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
    return steps / (time.perf_counter() - start)


class _Task:
    """The VAE task with the same optimizer as the bare loop."""

    def __init__(self, net):
        from genmodels.models._vae_net import VAETask

        self.inner = VAETask(net, 1.0)
        self.net = net

    def modules(self):
        return self.inner.modules()

    def optimizers(self, lr, weight_decay):
        return {"vae": optimizer(self.net)}

    def training_step(self, batch, ctx):
        return self.inner.training_step(batch, ctx)


def trainer(data, kinds, levels, batch_size: int, epochs: int) -> float:
    import numpy as np

    from genmodels.training import Trainer

    net = make_net(kinds, levels)
    tr = Trainer(epochs=epochs, batch_size=batch_size, lr=1e-3, rng=np.random.default_rng(1))
    start = time.perf_counter()
    res = tr.fit(_Task(net), data)
    return res.steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.pin_threads(args.threads)
    data, kinds, levels = load_encoded(args.data, args.max_rows)
    bare(data, kinds, levels, args.batch_size, 1)  # warm-up (allocator, kernels)
    rates: dict[str, list[float]] = {"bare": [], "trainer": []}
    for _ in range(args.repeats):
        rates["bare"].append(bare(data, kinds, levels, args.batch_size, args.epochs))
        rates["trainer"].append(trainer(data, kinds, levels, args.batch_size, args.epochs))
    med = {k: statistics.median(v) for k, v in rates.items()}
    ratio = med["trainer"] / med["bare"]
    common.print_table(
        f"Trainer overhead: VAE on {args.data} ({data.shape[0]:,} x {data.shape[1]}), "
        f"batch {args.batch_size}, {args.threads} thread(s)",
        ["loop", "median steps/s", "runs"],
        [[k, f"{med[k]:.1f}", " ".join(f"{r:.1f}" for r in v)] for k, v in rates.items()])
    print(f"ratio trainer/bare = {ratio:.3f} (target >= 0.90)")
    if args.out:
        common.write_json(args.out, {"machine": common.machine_info(args.threads),
                                     "args": vars(args), "steps_per_s": rates,
                                     "median": med, "ratio": ratio})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
