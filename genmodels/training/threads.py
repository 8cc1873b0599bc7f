"""How many CPU threads torch uses for a piece of work.

Small networks gain nothing from intra-op threads: each op is too short to split, and
the threads' synchronisation costs more than it saves (on a busy machine, by 10x or
more). So unless told otherwise, work below ``SMALL_WORK`` multiply-adds per forward
pass (rows x parameters) runs on one thread; larger work keeps torch's default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

SMALL_WORK = 1e8


def auto_threads(rows: int, n_params: int) -> int | None:
    """1 for small work (``rows * n_params < SMALL_WORK``), None (torch's default) otherwise."""
    return 1 if rows * n_params < SMALL_WORK else None


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Use ``n`` intra-op threads inside the block (None: leave as is), then restore."""
    old = torch.get_num_threads()
    if n is not None and n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


def module_threads(module: torch.nn.Module, rows: int) -> int | None:
    """:func:`auto_threads` for ``rows`` rows through ``module``."""
    return auto_threads(rows, sum(p.numel() for p in module.parameters()))
