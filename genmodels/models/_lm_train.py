"""Training of the neural language models (``transformer``, ``lstm``) by the shared
Trainer.

The stream's last ``val_fraction`` of tokens is held out. Each training step draws
``batch_size`` windows of ``window + 1`` tokens at random positions of the training
part (from the step's seeded generator, so checkpoints/resume and DDP ranks work as for
every model) and minimises the mean next-token cross-entropy. The tensor the Trainer
batches over is a column of placeholder rows: it only sets the number of steps per
"epoch" (``eval_every``), after which the validation loss on fixed held-out windows is
computed and the best weights kept. The learning rate follows a linear warmup and a
cosine decay that ends with the run: at ``steps``, or at the wall-clock ``budget``
when one is given, whichever comes first.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from genmodels.training.options import RunOptions
from genmodels.training.threads import auto_threads

logger = logging.getLogger(__name__)

Logits = Callable[[torch.nn.Module, torch.Tensor, torch.Generator | None], torch.Tensor]
"""``logits(module, idx (b, t), generator)`` -> ``(b, t, V)``."""

VAL_WINDOWS = 64


class LMTask:
    """Next-token cross-entropy on random windows of ``train`` (Trainer task)."""

    def __init__(self, net: torch.nn.Module, logits: Logits, train: torch.Tensor,
                 val: torch.Tensor | None, *, window: int, cfg: dict[str, Any],
                 budget: float | None) -> None:
        self.net, self.logits, self.window = net, logits, window
        self.train, self.cfg, self.budget = train, cfg, budget
        self.offsets = torch.arange(window + 1)
        self.val = None if val is None else val_windows(val, window)
        self.t0: float | None = None

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"net": self.net}

    def optimizers(self, lr: float, weight_decay: float) -> dict[str, Any]:
        """AdamW (matrices decayed, vectors not); with ``optimizer="muon"`` the hidden
        matrices (not the embeddings or the output layer) go to Muon instead."""
        from genmodels.training.optim import Muon, Optimizers, adamw

        muon = hidden_matrices(self.net) if self.cfg.get("optimizer") == "muon" else []
        taken = {id(p) for p in muon}
        rest = [p for p in self.net.parameters() if id(p) not in taken]
        groups = [{"params": [p for p in rest if p.ndim >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in rest if p.ndim < 2], "weight_decay": 0.0}]
        adam = adamw([g for g in groups if g["params"]], lr=lr, betas=(0.9, self.cfg["beta2"]))
        if not muon:
            return {"net": adam}
        return {"net": Optimizers(adam, Muon(muon, lr=self.cfg["muon_lr"]))}  # logs AdamW's lr

    def lr_factor(self, step: int, total: int) -> float:
        """Warmup, then constant or cosine over the run (steps or budget, what ends first)."""
        warm = self.cfg["warmup"]
        if warm and step < warm:
            return (step + 1) / warm
        if self.cfg["schedule"] == "constant":
            return 1.0
        progress = (step - warm) / max(total - warm, 1)
        if self.budget is not None and self.t0 is not None:
            progress = max(progress, (time.perf_counter() - self.t0) / self.budget)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    def training_step(self, batch: torch.Tensor, ctx: Any) -> dict[str, float]:
        if self.t0 is None:
            self.t0 = time.perf_counter()
        f = self.lr_factor(ctx.step_index, ctx.total_steps)
        opt = ctx.optimizer("net")
        for g in opt.param_groups:
            g["lr"] = g["initial_lr"] * f
        b = batch.shape[0]
        high = self.train.numel() - self.window
        starts = torch.randint(0, high, (b,), generator=ctx.generator, device=ctx.device)
        chunk = self.train[starts[:, None] + self.offsets.to(ctx.device)]
        logits = self.logits(ctx.module("net"), chunk[:, :-1], ctx.generator)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))
        ctx.step("net", loss)
        return {"loss": float(loss.detach())}

    def validation_loss(self, data: torch.Tensor, generator: torch.Generator) -> float:
        """Mean nats/token on fixed windows of the held-out tail (``data`` is unused)."""
        if self.val is None:
            raise ValueError("val_fraction: no held-out tokens")
        total = count = 0.0
        for chunk in self.val.split(16):
            logits = self.logits(self.net, chunk[:, :-1], None)
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           chunk[:, 1:].reshape(-1), reduction="sum"))
            count += chunk[:, 1:].numel()
        return total / count


def hidden_matrices(net: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The 2-D weights of ``net`` other than those of its embeddings and of an output
    layer named ``head``: the matrices Muon is meant for."""
    skip = {id(p) for m in net.modules() if isinstance(m, torch.nn.Embedding)
            for p in m.parameters()}
    head = getattr(net, "head", None)
    if isinstance(head, torch.nn.Module):
        skip |= {id(p) for p in head.parameters()}
    return [p for p in net.parameters() if p.ndim == 2 and id(p) not in skip]


def val_windows(val: torch.Tensor, window: int, most: int = VAL_WINDOWS) -> torch.Tensor:
    """Up to ``most`` evenly spread, non-overlapping windows of ``window + 1`` tokens of
    ``val``: ``(k, window + 1)`` (one shorter window when ``val`` is short)."""
    n = val.numel()
    if n < window + 1:
        return val[None, :]
    k = n // (window + 1)
    picks = np.linspace(0, k - 1, min(k, most)).round().astype(np.int64)
    return val[: k * (window + 1)].view(k, window + 1)[torch.from_numpy(picks)]


def split_stream(stream: np.ndarray, val_fraction: float,
                 window: int) -> tuple[torch.Tensor, torch.Tensor | None, int]:
    """Training part, held-out tail (or None) and the training window (shortened when
    the training part is shorter than ``window + 1`` tokens)."""
    n = stream.size
    n_val = round(n * val_fraction) if val_fraction > 0 else 0
    if n_val and (n_val < 2 or n - n_val < 2):
        logger.info("val_fraction: the stream (%d tokens) is too short to hold out %d; "
                    "training on all of it", n, n_val)
        n_val = 0
    t = torch.from_numpy(np.ascontiguousarray(stream, dtype=np.int64))
    train, val = (t[: n - n_val], t[n - n_val:]) if n_val else (t, None)
    return train, val, min(window, train.numel() - 1)


def run_options(run: Any, tokens_per_step: int, n_params: int) -> Any:
    """The run options with threads set from the work per step (tokens, not windows)."""
    if run is not None and getattr(run, "threads", None) is not None:
        return run
    threads = auto_threads(tokens_per_step, n_params) or torch.get_num_threads()
    if run is None:
        return RunOptions(threads=threads)
    if dataclasses.is_dataclass(run):
        return dataclasses.replace(run, threads=threads)
    return run


def train_lm(net: torch.nn.Module, logits: Logits, stream: np.ndarray, window: int,
             cfg: dict[str, Any], rng: np.random.Generator, *, budget: float | None,
             run: Any, callbacks: tuple) -> Any:
    """Train ``net`` on ``stream`` with the shared Trainer; returns its TrainResult."""
    from genmodels.training import Trainer

    train, val, window = split_stream(stream, cfg["val_fraction"], window)
    if train.numel() < 2:
        raise ValueError(f"stream: need at least 2 training tokens, got {train.numel()}")
    steps = cfg["steps"]
    epochs = -(-steps // cfg["eval_every"]) if val is not None else 1
    every = -(-steps // epochs)  # evaluations spread evenly; epochs * every >= steps
    rows = every * cfg["batch_size"] + (1 if val is not None else 0)
    data = torch.zeros((rows, 1))
    task = LMTask(net, logits, train, val, window=window, cfg=cfg, budget=budget)
    n_params = sum(p.numel() for p in net.parameters())
    trainer = Trainer(epochs=epochs, batch_size=cfg["batch_size"], lr=cfg["lr"],
                      weight_decay=cfg["weight_decay"], schedule="constant",
                      grad_clip=None if cfg["grad_clip"] is None else float(cfg["grad_clip"]),
                      val_fraction=1.0 / rows if val is not None else 0.0, budget=budget,
                      run=run_options(run, cfg["batch_size"] * window, n_params), rng=rng,
                      callbacks=callbacks)
    return trainer.fit(task, data)


def net_tensors(net: torch.nn.Module, state: Any) -> dict[str, torch.Tensor]:
    """``net``'s state dict read back from ``net.``-prefixed arrays (shapes checked)."""
    from genmodels.models._stats import state_array

    out = {}
    for k, v in net.state_dict().items():
        arr = state_array(state, f"net.{k}", tuple(v.shape), dtype=np.float32)
        out[k] = torch.from_numpy(np.array(arr, dtype=np.float32))
    return out
