"""`genmodels fit` stopped by SIGINT keeps a checkpoint; `--resume` ends with bitwise
the same weights as an uninterrupted run with the same seed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fit_cmd(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "genmodels", "fit", "penguins", "--model", "vae",
            "--out", str(out), "--set", "epochs=60", "--set", "hidden=[32,32]",
            "--seed", "3", "--threads", "1", *extra]


def _weights(path: Path) -> dict:
    from safetensors.numpy import load_file

    return load_file(str(path / "weights.safetensors"))


@pytest.mark.slow
def test_sigint_then_resume_gives_the_uninterrupted_weights(tmp_path):
    env = dict(os.environ, GENMODELS_HOME=str(tmp_path / "home"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    straight = tmp_path / "straight"
    done = subprocess.run(_fit_cmd(straight), env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr

    out = tmp_path / "stopped"
    ckpt = tmp_path / "stopped.ckpt" / "last.pt"
    proc = subprocess.Popen(_fit_cmd(out, "--checkpoint-every", "20"), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err and str(ckpt) in err
    assert ckpt.is_file() and not out.exists()

    done = subprocess.run(_fit_cmd(out, "--resume"), env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    a, b = _weights(straight), _weights(out)
    assert a.keys() == b.keys()
    for k in a:
        assert (a[k] == b[k]).all() and a[k].dtype == b[k].dtype, k
    assert not ckpt.parent.exists()  # spent after the model was saved


def test_cli_divergence_is_exit_1_with_advice(tmp_path, capsys):
    from genmodels.cli.main import main

    code = main(["fit", "penguins", "--model", "vae", "--out", str(tmp_path / "m"),
                 "--set", "lr=1e30", "--set", "epochs=3", "--set", "hidden=[16]",
                 "--threads", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "diverged" in err and "lower lr" in err, err
    assert not (tmp_path / "m").exists()


def test_cli_bad_device_is_a_usage_error(tmp_path, capsys):
    from genmodels.cli.main import main

    code = main(["fit", "penguins", "--model", "vae", "--out", str(tmp_path / "m"),
                 "--device", "tpu"])
    assert code == 2 and "device" in capsys.readouterr().err
