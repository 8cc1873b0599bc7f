"""torchrun with 2 processes on 127.0.0.1 (gloo): the same Trainer loop runs DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("_ddp_script.py")


def _env() -> dict[str, str]:
    env = dict(os.environ, GLOO_SOCKET_IFNAME="lo", OMP_NUM_THREADS="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return env


@pytest.mark.slow
@pytest.mark.ddp
def test_two_ranks_end_with_identical_weights_and_the_loss_falls(tmp_path):
    import torch

    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(SCRIPT), str(tmp_path)]
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    final = {}
    for mode in ("ddp", "allreduce"):  # the DDP wrapper, then gradients averaged by hand
        w0 = torch.load(tmp_path / f"{mode}-rank0.pt", weights_only=True)
        w1 = torch.load(tmp_path / f"{mode}-rank1.pt", weights_only=True)
        assert w0.keys() == w1.keys()
        assert all(torch.equal(w0[k], w1[k]) for k in w0), mode  # from different inits
        runs = [json.loads((tmp_path / f"{mode}-rank{r}.json").read_text()) for r in (0, 1)]
        assert runs[0]["steps"] == runs[1]["steps"] == 6 * 12  # each rank: half the rows
        for run in runs:
            losses = [h["loss"] for h in run["history"]]
            assert losses[-1] < 0.7 * losses[0], (mode, losses)
        assert (tmp_path / f"ckpt-{mode}" / "last.pt").is_file()  # written by rank 0
        final[mode] = w0


@pytest.mark.slow
@pytest.mark.ddp
def test_cli_nproc_2_fits_and_saves_once(tmp_path):
    out = tmp_path / "model"
    cmd = [sys.executable, "-m", "genmodels", "fit", "penguins", "--model", "vae", "--out",
           str(out), "--set", "epochs=3", "--set", "batch_size=34", "--nproc", "2",
           "--threads", "1", "--json"]
    env = _env() | {"GENMODELS_HOME": str(tmp_path / "home")}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout[done.stdout.index("{"):])  # rank 0 prints, once
    assert summary["metrics"]["training"]["steps"] == 3 * 11  # 344 rows, batch 34, 2 ranks
    assert (out / "weights.safetensors").is_file() and not (tmp_path / "model.ckpt").exists()
    import genmodels as gm

    assert len(gm.load(out).sample(10, seed=0)) == 10


@pytest.mark.slow
@pytest.mark.ddp
def test_cli_nproc_2_trains_a_gan_with_hand_averaged_gradients(tmp_path):
    """The gan steps its critic on a double-backward penalty, which the DDP wrapper cannot
    sync; it averages gradients by hand (grad_sync="allreduce") under torchrun."""
    out = tmp_path / "model"
    cmd = [sys.executable, "-m", "genmodels", "fit", "penguins", "--model", "gan", "--out",
           str(out), "--set", "epochs=3", "--set", "batch_size=100", "--set", "g_width=32",
           "--set", "d_width=32", "--set", "pac=4", "--nproc", "2", "--threads", "1", "--json"]
    env = _env() | {"GENMODELS_HOME": str(tmp_path / "home")}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    # 344 rows: 172 a rank; the global batch of 100 is 50 a rank, so 4 steps an epoch
    assert summary["metrics"]["training"]["steps"] == 3 * 4
    import genmodels as gm

    assert len(gm.load(out).sample(10, seed=0)) == 10
