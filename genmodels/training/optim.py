"""Optimizers the deep models share."""

from __future__ import annotations

from typing import Any

import torch


def adamw(params: Any, **kwargs: Any) -> torch.optim.Optimizer:
    """AdamW with the fused kernel where this torch build has it (one kernel for every
    tensor: several times faster than ``foreach`` on CPU for small networks), else
    ``foreach``. Same update rule either way."""
    try:
        return torch.optim.AdamW(params, fused=True, **kwargs)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(params, foreach=True, **kwargs)
