"""Launch ``python -m genmodels ...`` under torchrun on this machine (``--nproc N``).

Uses the current interpreter's ``torch.distributed.run`` (torchrun) in standalone
mode: one node, a local rendezvous, N processes; gloo talks over the loopback
interface unless ``GLOO_SOCKET_IFNAME`` says otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence


def torchrun_command(nproc: int, module_args: Sequence[str]) -> list[str]:
    """The command that runs ``python -m genmodels <module_args>`` on ``nproc`` ranks."""
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f"--nproc: got {nproc!r}; allowed: a positive integer")
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={nproc}", "-m", "genmodels", *module_args]


def launch(nproc: int, module_args: Sequence[str]) -> int:
    """Run the command and return its exit code (the first failing rank's)."""
    env = dict(os.environ)
    if sys.platform.startswith("linux"):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.call(torchrun_command(nproc, module_args), env=env)


def rank() -> int:
    """This process's rank under torchrun (0 when not launched by it)."""
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0
