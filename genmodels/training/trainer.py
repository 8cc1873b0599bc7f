"""The one training loop of every deep model (single process and torchrun DDP alike).

A deep model hands the Trainer a *task* — an object with these methods::

    class MyTask:
        def modules(self) -> dict[str, torch.nn.Module]: ...          # e.g. {"G": g, "D": d}
        def optimizers(self, lr, weight_decay) -> dict[str, Optimizer]: ...  # optional;
            # default: one AdamW per module, keyed like the modules
        def training_step(self, batch, ctx: StepContext) -> dict[str, float]: ...
            # batch: (b, d) rows of the data on ctx.device. Forward with
            # ctx.module("G"); ctx.step("G", loss) zero_grads, back-propagates, syncs,
            # checks NaN/Inf, clips and steps that optimizer; noise comes from
            # ctx.generator only. Return logged floats; the first key is the main loss.
        def validation_loss(self, data, generator) -> float: ...     # optional; needed
            # when val_fraction > 0. Runs under torch.no_grad(), modules in eval().
        grad_sync = "ddp"  # optional attribute: "allreduce" when a step calls a module
            # more than once or uses double backward (gradient penalty): the Trainer then
            # averages gradients by hand in ctx.step instead of wrapping in DDP.

    result = Trainer(epochs=100, batch_size=500, lr=1e-3, rng=rng, run=run,
                     budget=budget, callbacks=callbacks).fit(task, data)   # data: (n, d)

What the loop does: an epoch is a permutation of the training rows drawn from a
seeded ``torch.Generator`` and cut into index slices (under torchrun each rank takes
its DistributedSampler-like shard, and the per-rank batch is ``batch_size //
world_size``); AdamW; a constant or cosine LR schedule with linear warmup; gradient
clipping; an optional EMA of the weights; a validation split with early stopping that
keeps the best weights; a wall-clock ``budget`` that stops cleanly; checkpoints every
``run.checkpoint_every`` steps and on SIGINT/SIGTERM (rank 0 writes); ``run.resume``
continues from the checkpoint to bitwise the same weights as an uninterrupted run.
NaN/Inf in a loss or gradients stops the run before the bad update and raises
:class:`TrainingDiverged`.

At the end the modules hold the final weights — the best validation epoch's when
there is a validation split, else the EMA weights when ``ema`` is set, else the last
— and are on the CPU. Models keep the :class:`TrainResult` as ``self.train_result_``;
the Generator puts ``train_result_.compact()`` into ``metrics_["training"]``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from genmodels.training import checkpoint, distributed, signals
from genmodels.training.callbacks import ProgressBar, dispatch
from genmodels.training.context import NonFinite, OptSlot, StepContext, describe_params
from genmodels.training.devices import resolve_device
from genmodels.training.ema import EMA, lr_factor
from genmodels.training.options import (
    RunOptions,
    TrainingDiverged,
    TrainingInterrupted,
    TrainResult,
)
from genmodels.training.threads import auto_threads

log = logging.getLogger(__name__)

SCHEDULES = ("constant", "cosine")


class Trainer:
    """Train a task's modules on an in-memory tensor. See the module docstring."""

    def __init__(self, *, epochs: int, batch_size: int, lr: float, weight_decay: float = 0.0,
                 schedule: str = "constant", warmup_steps: int = 0,
                 grad_clip: float | None = None, ema: float | None = None,
                 val_fraction: float = 0.0, patience: int | None = None,
                 min_delta: float = 0.0, budget: float | None = None,
                 run: RunOptions | None = None, rng: np.random.Generator | None = None,
                 callbacks: Iterable[Any] = ()) -> None:
        _check_int("epochs", epochs, 1)
        _check_int("batch_size", batch_size, 1)
        _check_int("warmup_steps", warmup_steps, 0)
        if not (isinstance(lr, int | float) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"lr: got {lr!r}; allowed: a positive number")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule: got {schedule!r}; allowed: {', '.join(SCHEDULES)}")
        if grad_clip is not None and not grad_clip > 0:
            raise ValueError(f"grad_clip: got {grad_clip!r}; allowed: a positive number or None")
        if ema is not None and not 0.0 < ema < 1.0:
            raise ValueError(f"ema: got {ema!r}; allowed: a decay in (0, 1) or None")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction: got {val_fraction!r}; allowed: 0 <= v < 1")
        if patience is not None:
            _check_int("patience", patience, 1)
            if val_fraction <= 0:
                raise ValueError("patience: early stopping needs a validation split; "
                                 "set val_fraction > 0")
        if budget is not None and not budget > 0:
            raise ValueError(f"budget: got {budget!r}; allowed: a positive number of seconds")
        self.epochs, self.batch_size, self.lr = epochs, batch_size, float(lr)
        self.weight_decay, self.schedule, self.warmup_steps = weight_decay, schedule, warmup_steps
        self.grad_clip, self.ema, self.val_fraction = grad_clip, ema, val_fraction
        self.patience, self.min_delta, self.budget = patience, min_delta, budget
        self.run = run if run is not None else RunOptions()
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.callbacks = tuple(callbacks)

    def fit(self, task: Any, data: torch.Tensor) -> TrainResult:
        """Train ``task``'s modules on ``data: (n, d)``; returns the history and why it stopped."""
        if not isinstance(data, torch.Tensor) or data.ndim < 2 or data.shape[0] < 2:
            raise ValueError(f"data: expected a tensor (n, d) with n >= 2, got "
                             f"{getattr(data, 'shape', type(data).__name__)}")
        return _Loop(self, task, data).run()


class _Loop:
    """The state of one ``Trainer.fit`` call."""

    def __init__(self, tr: Trainer, task: Any, data: torch.Tensor) -> None:
        self.tr, self.task, self.opts = tr, task, tr.run
        self.device = resolve_device(self.opts.device)
        self.old_threads = torch.get_num_threads()
        self.dist = distributed.setup(self.device)
        seeds = [int(s) for s in tr.rng.integers(2**62, size=4)]  # same on every rank
        self.data_gen = torch.Generator().manual_seed(seeds[0])
        noise = torch.Generator(device=self.device).manual_seed(seeds[1] + self.dist.rank)
        self.val_seed = seeds[3]
        self._split(data.to(self.device), seeds[2])
        self._build(task, noise)
        threads = self.opts.threads
        if threads is None and self.device.type == "cpu":
            threads = auto_threads(self.bs, sum(describe_params(self.modules).values()))
        if threads:
            torch.set_num_threads(threads)
        self.step = self.epoch = self.batch = 0
        self.epoch_gen_state = self.data_gen.get_state()
        self.history: list[dict[str, float]] = []
        self.sums: dict[str, float] = {}
        self.count = 0
        self.best = {"val": math.inf, "epoch": 0, "bad": 0, "weights": None}
        self.stopped, self.resumed_from = "done", None
        self.signal_flag = self.cb_stop = False
        cbs = list(tr.callbacks)
        if self.opts.progress and self.dist.is_main:
            cbs.append(ProgressBar())
        self.callbacks = cbs
        self.step_callbacks = [cb for cb in cbs if hasattr(cb, "on_step_end")]

    # ----------------------------------------------------------------- setup
    def _split(self, data: torch.Tensor, seed: int) -> None:
        n = data.shape[0]
        n_val = 0 if self.tr.val_fraction == 0 else min(max(1, round(n * self.tr.val_fraction)), n - 1)
        if n_val and not hasattr(self.task, "validation_loss"):
            raise ValueError("val_fraction: this model has no validation loss; set it to 0")
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(self.device)
        self.val = data[perm[:n_val]] if n_val else None
        self.train = data[perm[n_val:]] if n_val else data
        self.n_rows, self.n_cols = n, int(np.prod(data.shape[1:]))
        self.bs = max(1, self.tr.batch_size // self.dist.world_size)
        per_rank = -(-self.train.shape[0] // self.dist.world_size)
        self.n_batches = -(-per_rank // self.bs)
        self.total_steps = self.n_batches * self.tr.epochs

    def _build(self, task: Any, noise: torch.Generator) -> None:
        self.modules = dict(task.modules())
        for m in self.modules.values():
            m.to(self.device).train()
        if hasattr(task, "optimizers"):
            opts = dict(task.optimizers(self.tr.lr, self.tr.weight_decay))
        else:
            from genmodels.training.optim import adamw

            opts = {k: adamw(m.parameters(), lr=self.tr.lr, weight_decay=self.tr.weight_decay)
                    for k, m in self.modules.items()}
        for o in opts.values():
            for g in o.param_groups:
                g.setdefault("initial_lr", g["lr"])
        sync = getattr(task, "grad_sync", "ddp")
        if sync not in ("ddp", "allreduce"):
            raise ValueError(f"grad_sync: got {sync!r}; allowed: 'ddp', 'allreduce'")
        use_ddp = self.dist.active and sync == "ddp"
        if self.dist.active and not use_ddp:  # same start on every rank
            for m in self.modules.values():
                for t in list(m.parameters()) + list(m.buffers()):
                    torch.distributed.broadcast(t.data, 0)
        slots = {k: OptSlot(o, [p for g in o.param_groups for p in g["params"]],
                            manual_sync=self.dist.active and not use_ddp)
                 for k, o in opts.items()}
        self.optimizers = opts
        self.ctx = StepContext(generator=noise, device=self.device, dist=self.dist,
                               grad_clip=self.tr.grad_clip, modules_=self._wrap(use_ddp),
                               slots=slots, total_steps=self.total_steps,
                               steps_per_epoch=self.n_batches)
        self.ema = EMA(self.modules, self.tr.ema) if self.tr.ema else None
        self.scheduled = self.tr.schedule != "constant" or self.tr.warmup_steps > 0

    def _wrap(self, use_ddp: bool) -> dict[str, torch.nn.Module]:
        out = {}
        for k, m in self.modules.items():
            w: torch.nn.Module = m
            if use_ddp and any(p.requires_grad for p in m.parameters()):
                from torch.nn.parallel import DistributedDataParallel as DDP

                w = DDP(m, device_ids=[self.device.index] if self.device.type == "cuda" else None)
            if self.opts.compile:
                w = torch.compile(w)
            out[k] = w
        return out

    # ------------------------------------------------------------------ run
    def run(self) -> TrainResult:
        start = time.perf_counter()
        self.start = start
        handlers = signals.install(self) if self.opts.handle_signals else {}
        result = TrainResult()
        synced = False  # did every rank get to the end together?
        try:
            self._resume()
            dispatch(self.callbacks, "on_train_begin",
                     {"total_steps": self.total_steps, "step": self.step,
                      "epochs": self.tr.epochs, "rank": self.dist.rank})
            if self.stopped != "early_stop":
                self.stopped = self._train() or "done"
            if self.stopped == "interrupted":
                self._interrupt()
            result = self._finish(time.perf_counter() - start)
            synced = True
            return result
        except NonFinite as e:  # every rank stops at the same step
            synced = True
            raise TrainingDiverged(self._diverged_message(e)) from None
        except TrainingInterrupted:  # likewise (the stop flags are all-reduced)
            synced = True
            raise
        finally:
            dispatch(self.callbacks, "on_train_end", result)
            signals.restore(handlers)
            torch.set_num_threads(self.old_threads)
            distributed.teardown(self.dist, wait=synced)

    def _train(self) -> str | None:
        while self.epoch < self.tr.epochs:
            reason = self._run_epoch()
            if reason:
                return reason
        return None

    def _run_epoch(self) -> str | None:
        if self.batch == 0:
            self.epoch_gen_state = self.data_gen.get_state()
        else:  # resuming mid-epoch: redraw this epoch's permutation
            self.data_gen.set_state(self.epoch_gen_state)
        perm = torch.randperm(self.train.shape[0], generator=self.data_gen)
        idx = distributed.shard(perm, self.dist).to(self.device)
        every = self.opts.checkpoint_every
        for b in range(self.batch, self.n_batches):
            self._one_step(self.train[idx[b * self.bs:(b + 1) * self.bs]])
            self.batch = b + 1
            reason = self._check_stop()
            if every and self.step % every == 0 and not reason:
                self._save_checkpoint()
            if reason:
                return reason
        return self._end_epoch()

    def _one_step(self, batch: torch.Tensor) -> None:
        ctx = self.ctx
        if self.scheduled:
            f = lr_factor(self.step, schedule=self.tr.schedule, warmup=self.tr.warmup_steps,
                          total=self.total_steps)
            for o in self.optimizers.values():
                for g in o.param_groups:
                    g["lr"] = g["initial_lr"] * f
        ctx.step_index, ctx.epoch = self.step, self.epoch
        logs = self.task.training_step(batch, ctx)
        self.step += 1
        for k, v in logs.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
        self.count += 1
        if self.ema is not None:
            self.ema.update()
        for cb in self.step_callbacks:
            cb.on_step_end(self.step, logs)

    def _check_stop(self) -> str | None:
        over = self.tr.budget is not None and time.perf_counter() - self.start > self.tr.budget
        if not (self.dist.active or over or self.signal_flag or self.cb_stop or self.ctx.bad_loss):
            return None
        flags = [int(self.signal_flag), int(over), int(self.cb_stop), int(self.ctx.bad_loss is not None)]
        if self.dist.active:
            flags = distributed.any_flag(torch.tensor(flags), self.dist).tolist()
        if flags[3]:
            raise NonFinite("loss", self.ctx.bad_loss or "a module on another rank")
        for flag, reason in zip(flags[:3], ("interrupted", "budget", "callback"), strict=True):
            if flag:
                return reason
        return None

    def _end_epoch(self) -> str | None:
        row = self._row()
        if self.val is not None:
            row["val_loss"] = self._validate()
            self._track_best(row["val_loss"])
        self.history.append(row)
        self.cb_stop = dispatch(self.callbacks, "on_epoch_end", self.epoch, row) or self.cb_stop
        self.epoch, self.batch, self.sums, self.count = self.epoch + 1, 0, {}, 0
        if self.tr.patience is not None and self.best["bad"] >= self.tr.patience:
            log.info("early stop at epoch %d (best %d)", self.epoch, self.best["epoch"])
            return "early_stop"
        return self._check_stop()

    def _row(self) -> dict[str, float]:
        row = {"epoch": float(self.epoch + 1), "step": float(self.step)}
        row.update({k: v / max(self.count, 1) for k, v in self.sums.items()})
        first = next(iter(self.optimizers.values()), None)
        if first is not None:
            row["lr"] = float(first.param_groups[0]["lr"])
        row["seconds"] = round(time.perf_counter() - self.start, 4)
        return row

    def _validate(self) -> float:
        for m in self.modules.values():
            m.eval()
        gen = torch.Generator(device=self.device).manual_seed(self.val_seed)
        try:
            with self.ema.swapped() if self.ema else nullcontext(), torch.no_grad():
                return float(self.task.validation_loss(self.val, gen))
        finally:
            for m in self.modules.values():
                m.train()

    def _track_best(self, val: float) -> None:
        if val < self.best["val"] - self.tr.min_delta:
            with self.ema.swapped() if self.ema else nullcontext():
                weights = {k: {n: t.detach().clone() for n, t in m.state_dict().items()}
                           for k, m in self.modules.items()}
            self.best = {"val": val, "epoch": self.epoch + 1, "bad": 0, "weights": weights}
        else:
            self.best["bad"] += 1

    # -------------------------------------------------------------- the end
    def _finish(self, seconds: float) -> TrainResult:
        if self.opts.checkpoint_dir is not None:
            self._save_checkpoint()
        history = list(self.history)
        if self.batch > 0:  # a partial epoch (budget): shown, not stored in the checkpoint
            history.append({**self._row(), "partial": 1.0})
        if self.best["weights"] is not None:
            for k, m in self.modules.items():
                m.load_state_dict(self.best["weights"][k])
            best_epoch = int(self.best["epoch"])
        else:
            if self.ema is not None:
                self.ema.copy_to_modules()
            best_epoch = len(history)
        for m in self.modules.values():
            m.to("cpu").eval()
        log.info("training %s after %d steps (%.2fs)", self.stopped, self.step, seconds)
        return TrainResult(history=history, steps=self.step, stopped=self.stopped,
                           best_epoch=best_epoch, resumed_from=self.resumed_from,
                           seconds=seconds)

    def _interrupt(self) -> None:
        path = self._save_checkpoint() if self.opts.checkpoint_dir is not None else None
        where = (f"checkpoint saved to {path}; run again with resume to continue"
                 if path else "no checkpoint (no checkpoint_dir was set)")
        raise TrainingInterrupted(f"training interrupted at epoch {self.epoch + 1}, step "
                                  f"{self.step}: {where}", path)

    def _diverged_message(self, e: NonFinite) -> str:
        ckpt = checkpoint.path_in(self.opts.checkpoint_dir) if self.opts.checkpoint_dir else None
        keep = (f"the last good checkpoint is {ckpt}" if ckpt and ckpt.is_file()
                else "no checkpoint was written")
        return (f"training diverged at epoch {self.epoch + 1}, step {self.step + 1}: the {e.what} "
                f"of {e.name!r} became NaN or infinite; the update was not applied and {keep}. "
                f"Try a lower lr (now {self.tr.lr:g}), gradient clipping (grad_clip=1.0), "
                "and check that the data are standardized (no huge or constant columns).")

    # ----------------------------------------------------------- checkpoints
    def _meta(self) -> dict[str, Any]:
        return {"n_rows": self.n_rows, "n_cols": self.n_cols, "batch_size": self.tr.batch_size,
                "val_fraction": self.tr.val_fraction, "params": describe_params(self.modules),
                "world_size": self.dist.world_size, "epochs": self.tr.epochs,
                "lr": self.tr.lr, "schedule": self.tr.schedule}

    def _save_checkpoint(self):
        noise = distributed.gather_states(self.ctx.generator.get_state(), self.dist)
        if not self.dist.is_main:
            return None
        payload = {
            "meta": self._meta(), "step": self.step, "epoch": self.epoch, "batch": self.batch,
            "epoch_gen": self.epoch_gen_state, "data_gen": self.data_gen.get_state(),
            "noise_gens": noise, "stopped": self.stopped,
            "modules": {k: m.state_dict() for k, m in self.modules.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "ema": self.ema.state() if self.ema else None,
            "best": self.best, "history": self.history,
            "sums": self.sums, "count": self.count,
        }
        return checkpoint.save(self.opts.checkpoint_dir, payload)

    def _resume(self) -> None:
        if not (self.opts.resume and self.opts.checkpoint_dir is not None):
            return
        payload = checkpoint.load(self.opts.checkpoint_dir)
        if payload is None:
            log.info("resume: no checkpoint in %s; starting afresh", self.opts.checkpoint_dir)
            return
        checkpoint.check_compatible(payload, self._meta(), checkpoint.path_in(self.opts.checkpoint_dir))
        for k, m in self.modules.items():
            m.load_state_dict(payload["modules"][k])
        for k, o in self.optimizers.items():
            o.load_state_dict(payload["optimizers"][k])
        if self.ema is not None and payload["ema"] is not None:
            self.ema.load(payload["ema"])
        self.step, self.epoch, self.batch = payload["step"], payload["epoch"], payload["batch"]
        self.epoch_gen_state = payload["epoch_gen"]
        self.data_gen.set_state(payload["data_gen"])
        self.ctx.generator.set_state(payload["noise_gens"][self.dist.rank])
        self.best, self.history = payload["best"], list(payload["history"])
        self.sums, self.count = dict(payload["sums"]), payload["count"]
        if payload["stopped"] == "early_stop":
            self.stopped = "early_stop"
        self.resumed_from = self.step
        log.info("resumed from step %d (epoch %d)", self.step, self.epoch + 1)


def _check_int(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: got {value!r}; allowed: an integer >= {low}")
