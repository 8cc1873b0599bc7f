"""Training checkpoints: one file, written atomically, read with ``weights_only=True``.

A checkpoint holds plain containers of tensors and numbers only (module and
optimizer state dicts, EMA weights, torch.Generator states, counters, history), so
``torch.load(weights_only=True)`` reads it without unpickling arbitrary objects.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

log = logging.getLogger(__name__)

FORMAT = 1
FILENAME = "last.pt"


def path_in(directory: str | Path) -> Path:
    return Path(directory) / FILENAME


def save(directory: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` to ``directory/last.pt`` atomically (temp file + os.replace)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = path_in(directory)
    fd, tmp = tempfile.mkstemp(prefix=f".{FILENAME}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        torch.save({"format": FORMAT, **payload}, tmp)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    log.info("checkpoint written: %s (step %s)", target, payload.get("step"))
    return target


def load(directory: str | Path) -> dict[str, Any] | None:
    """The checkpoint in ``directory``, or None when there is none."""
    target = path_in(directory)
    if not target.is_file():
        return None
    try:
        payload = torch.load(target, map_location="cpu", weights_only=True)
    except Exception as e:  # a truncated or foreign file: say which and why
        raise ValueError(f"resume: cannot read the checkpoint {str(target)!r} ({e}); "
                         "delete it to start afresh") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"resume: {str(target)!r} is not a genmodels checkpoint of format "
                         f"{FORMAT}; delete it to start afresh")
    return payload


def check_compatible(payload: dict[str, Any], meta: dict[str, Any], target: Path) -> None:
    """Refuse a checkpoint written for other data, network or batch layout."""
    saved = payload.get("meta", {})
    for key in ("n_rows", "n_cols", "batch_size", "val_fraction", "params", "world_size"):
        if saved.get(key) != meta.get(key):
            raise ValueError(
                f"resume: the checkpoint {str(target)!r} was written with {key}="
                f"{saved.get(key)!r}, this run has {meta.get(key)!r}; resume with the same "
                "data, hyperparameters and number of processes, or delete the checkpoint")
    for key in ("epochs", "lr", "schedule"):
        if saved.get(key) != meta.get(key):
            log.warning("resume: %s changed from %r to %r; the result will differ from an "
                        "uninterrupted run", key, saved.get(key), meta.get(key))
