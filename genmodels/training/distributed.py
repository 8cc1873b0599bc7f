"""torchrun support: one process per rank, the same loop (DESIGN.md: no home-made
distribution). Under ``torchrun`` the environment holds ``WORLD_SIZE``/``RANK``; the
Trainer then joins the process group (gloo on CPU, NCCL on CUDA), wraps the modules
in DistributedDataParallel and takes this rank's shard of every epoch's permutation.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the run: ``world_size == 1`` is a single process."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_world_size() -> int:
    """``WORLD_SIZE`` set by torchrun (1 when not launched by it)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def setup(device: torch.device) -> DistInfo:
    """Join the process group when launched by torchrun; a no-op otherwise."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(),
                        int(os.environ.get("LOCAL_RANK", "0")), owns_group=False)
    if env_world_size() <= 1:
        return DistInfo()
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend)
    info = DistInfo(dist.get_rank(), dist.get_world_size(),
                    int(os.environ.get("LOCAL_RANK", "0")), owns_group=True)
    log.info("joined process group: rank %d of %d (%s)", info.rank, info.world_size, backend)
    return info


def teardown(info: DistInfo, wait: bool = True) -> None:
    """Leave the process group we joined; with ``wait``, after every rank got here (a
    rank destroying its group while another is still in a collective can abort the
    other, with gloo). No wait when this rank failed alone: the others may never come."""
    if info.owns_group and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def shard(perm: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """This rank's part of a permutation, as DistributedSampler does: pad to a multiple
    of the world size by wrapping around, then take every ``world_size``-th index."""
    if not info.active:
        return perm
    n = perm.numel()
    total = -(-n // info.world_size) * info.world_size
    if total > n:
        perm = torch.cat([perm, perm[: total - n]])
    return perm[info.rank::info.world_size]


def any_flag(flags: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Element-wise max of small int flags over all ranks (so every rank stops together)."""
    if info.active:
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return flags


def average_gradients(params: list[torch.nn.Parameter], info: DistInfo) -> None:
    """All-reduce and average gradients by hand (for tasks that cannot use the DDP
    wrapper, e.g. several forwards or double backward per step)."""
    if not info.active:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= info.world_size
    offset = 0
    for g in grads:
        g.copy_(flat[offset: offset + g.numel()].view_as(g))
        offset += g.numel()


def gather_states(state: torch.Tensor, info: DistInfo) -> list[torch.Tensor]:
    """Every rank's generator state (same-size byte tensors), on every rank."""
    if not info.active:
        return [state]
    out = [torch.empty_like(state) for _ in range(info.world_size)]
    dist.all_gather(out, state)
    return out


def barrier(info: DistInfo) -> None:
    if info.active:
        dist.barrier()
