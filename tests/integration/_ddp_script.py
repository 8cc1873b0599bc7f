"""Run by tests/integration/test_ddp.py under torchrun: train a small VAE-like task with
the Trainer on 2 ranks; every rank writes its final weights and history."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import torch

from genmodels.models._vae_net import VAENet, VAETask
from genmodels.training import RunOptions, Trainer


class ManualSync(VAETask):
    """The same task, gradients averaged by hand instead of by the DDP wrapper."""

    grad_sync = "allreduce"


def main(out: str) -> None:
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1200, 2, generator=g)
    data = 3.0 * torch.cat([x, x[:, :1] * 0.8 + 0.2 * torch.randn(1200, 1, generator=g)], 1) + 2.0
    # One process group for both runs: the script joins it, so each Trainer finds it
    # joined and leaves it alone. (Letting every Trainer join and leave made the second
    # join race the first one's teardown on the same port and hang now and then.)
    torch.distributed.init_process_group("gloo")
    for mode, task_cls in (("ddp", VAETask), ("allreduce", ManualSync)):
        # a different init per rank: the Trainer must start every rank from rank 0's weights
        net = VAENet(["continuous"] * 3, [0, 0, 0], [], latent=2, hidden=[32, 32],
                     generator=torch.Generator().manual_seed(100 + rank))
        ckpt = os.path.join(out, f"ckpt-{mode}")
        res = Trainer(epochs=6, batch_size=100, lr=3e-3, rng=np.random.default_rng(0),
                      run=RunOptions(device="cpu", checkpoint_dir=ckpt, checkpoint_every=7),
                      ).fit(task_cls(net, 1.0), data)
        torch.save({k: v.clone() for k, v in net.state_dict().items()},
                   os.path.join(out, f"{mode}-rank{rank}.pt"))
        with open(os.path.join(out, f"{mode}-rank{rank}.json"), "w") as f:
            json.dump({"history": res.history, "steps": res.steps}, f)
    torch.distributed.barrier()  # every rank done before any leaves (see teardown)
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
