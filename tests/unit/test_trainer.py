"""The Trainer: determinism, resume to the same bits, NaN handling, budget, early stop."""

from __future__ import annotations

import math
import os
import signal
import time

import numpy as np
import pytest
import torch

from genmodels.nn import MLP
from genmodels.training import (
    RunOptions,
    Trainer,
    TrainingDiverged,
    TrainingInterrupted,
)
from genmodels.training import checkpoint as ckpt

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_data(n: int = 512, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, generator=g)
    y = torch.sin(2 * x) + 0.1 * torch.randn(n, 1, generator=g)
    return torch.cat([x, y], 1)


class Regression:
    """y ~ f(x) with input noise from ctx.generator (so the noise stream matters)."""

    def __init__(self, seed: int = 0, nan_at: int | None = None) -> None:
        self.net = MLP(1, 1, (16, 16), generator=torch.Generator().manual_seed(seed))
        self.nan_at = nan_at

    def modules(self):
        return {"net": self.net}

    def training_step(self, batch, ctx):
        x = batch[:, :1] + 0.01 * torch.randn(batch.shape[0], 1, generator=ctx.generator)
        loss = ((ctx.module("net")(x) - batch[:, 1:]) ** 2).mean()
        if self.nan_at is not None and ctx.step_index == self.nan_at:
            loss = loss * float("nan")
        ctx.step("net", loss)
        return {"loss": loss.item()}

    def validation_loss(self, data, generator):
        return float(((self.net(data[:, :1]) - data[:, 1:]) ** 2).mean())


class MuonRegression(Regression):
    """The same task with two optimizers stepped as one: Muon for the matrices, AdamW
    for the vectors (the language models' ``optimizer="muon"``)."""

    def optimizers(self, lr, weight_decay):
        from genmodels.training.optim import Muon, Optimizers, adamw

        mats = [p for p in self.net.parameters() if p.ndim == 2]
        vecs = [p for p in self.net.parameters() if p.ndim != 2]
        return {"net": Optimizers(adamw(vecs, lr=lr), Muon(mats, lr=lr))}


def trainer(**kw) -> Trainer:
    base = dict(epochs=4, batch_size=64, lr=2e-2, schedule="cosine", warmup_steps=3,
                grad_clip=1.0, ema=0.9, val_fraction=0.2, rng=np.random.default_rng(7))
    base.update(kw)
    return Trainer(**base)


def params(task) -> list[torch.Tensor]:
    return [p.detach().clone() for p in task.net.parameters()]


def assert_same(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)


def test_loss_falls_and_history_is_per_epoch():
    task = Regression()
    res = trainer(epochs=10, ema=None).fit(task, make_data())
    hist = res.history
    assert [h["epoch"] for h in hist] == list(range(1, 11))
    assert hist[-1]["loss"] < 0.5 * hist[0]["loss"]
    assert hist[-1]["val_loss"] < 0.5 * hist[0]["val_loss"]
    assert res.steps == 10 * math.ceil(410 / 64) and res.stopped == "done"
    assert hist[-1]["lr"] < hist[0]["lr"]  # cosine decays
    compact = res.compact()
    assert compact["history"]["loss"] == [h["loss"] for h in hist]


def test_same_seed_same_bits_and_global_rng_untouched():
    state = torch.random.get_rng_state()
    a, b = Regression(), Regression()
    trainer().fit(a, make_data())
    trainer().fit(b, make_data())
    assert_same(params(a), params(b))
    c = Regression()
    trainer(rng=np.random.default_rng(8)).fit(c, make_data())
    assert not torch.equal(params(a)[0], params(c)[0])
    assert torch.equal(state, torch.random.get_rng_state())


class SigintAt:
    """Send ourselves SIGINT at a given epoch end or step: the real signal path."""

    def __init__(self, epoch: int | None = None, step: int | None = None) -> None:
        self.epoch, self.step = epoch, step

    def on_epoch_end(self, epoch, row):
        if epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)

    def on_step_end(self, step, logs):
        if step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("task", [Regression, MuonRegression], ids=["adamw", "muon+adamw"])
@pytest.mark.parametrize("where", [{"epoch": 2}, {"step": 11}], ids=["epoch_end", "mid_epoch"])
def test_interrupt_then_resume_gives_bitwise_the_same_weights(tmp_path, where, task):
    straight = task()
    res_a = trainer(run=RunOptions(checkpoint_dir=tmp_path / "a")).fit(straight, make_data())

    run = RunOptions(checkpoint_dir=tmp_path / "b", checkpoint_every=5)
    with pytest.raises(TrainingInterrupted) as info:
        trainer(run=run, callbacks=[SigintAt(**where)]).fit(task(), make_data())
    assert info.value.checkpoint == ckpt.path_in(tmp_path / "b")
    saved = ckpt.load(tmp_path / "b")
    assert 0 < saved["step"] < res_a.steps

    resumed = task(seed=123)  # other init: the checkpoint must overwrite it
    run = RunOptions(checkpoint_dir=tmp_path / "b", resume=True)
    res_b = trainer(run=run).fit(resumed, make_data())
    assert res_b.resumed_from == saved["step"] and res_b.steps == res_a.steps
    assert_same(params(straight), params(resumed))
    assert [h["loss"] for h in res_a.history] == [h["loss"] for h in res_b.history]


def test_resume_refuses_a_checkpoint_of_other_data(tmp_path):
    run = RunOptions(checkpoint_dir=tmp_path)
    trainer(epochs=1, run=run).fit(Regression(), make_data())
    with pytest.raises(ValueError, match="n_rows"):
        trainer(run=RunOptions(checkpoint_dir=tmp_path, resume=True)).fit(
            Regression(), make_data(n=300))


def test_resume_without_a_checkpoint_starts_afresh(tmp_path):
    a, b = Regression(), Regression()
    trainer(epochs=2).fit(a, make_data())
    trainer(epochs=2, run=RunOptions(checkpoint_dir=tmp_path, resume=True)).fit(b, make_data())
    assert_same(params(a), params(b))


def test_nan_loss_stops_keeps_last_good_weights_and_says_what_to_try(tmp_path):
    task = Regression(nan_at=9)
    run = RunOptions(checkpoint_dir=tmp_path, checkpoint_every=4)
    with pytest.raises(TrainingDiverged, match=r"lower lr.*grad_clip.*standardized") as info:
        trainer(run=run, ema=None).fit(task, make_data())
    assert "step 10" in str(info.value) and str(ckpt.path_in(tmp_path)) in str(info.value)
    assert all(torch.isfinite(p).all() for p in task.net.parameters())
    assert ckpt.load(tmp_path)["step"] == 8  # the last good checkpoint was kept
    # the weights are those after 9 good steps: same as a run stopped there
    ref = Regression()
    with pytest.raises(RuntimeError, match="stop"):
        trainer(ema=None, callbacks=[StopAtStep(9)]).fit(ref, make_data())
    assert_same(params(task), params(ref))
    assert isinstance(info.value, RuntimeError)


class StopAtStep:
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, step, logs):
        if step == self.step:
            raise RuntimeError("stop")


def test_nan_gradient_is_caught():
    class BadGrad(Regression):
        def training_step(self, batch, ctx):
            out = ctx.module("net")(batch[:, :1])
            loss = (out - batch[:, 1:]).abs().mean()
            if ctx.step_index == 3:  # finite loss, infinite gradient
                loss = loss + 0.0 * torch.sqrt(torch.zeros(1, requires_grad=True)).sum()
                loss = loss + 0.0 * torch.sqrt(out * 0).sum()
            ctx.step("net", loss)
            return {"loss": loss.item()}

    task = BadGrad()
    with pytest.raises(TrainingDiverged, match="gradients"):
        trainer(ema=None, val_fraction=0.0).fit(task, make_data())
    assert all(torch.isfinite(p).all() for p in task.net.parameters())


def test_budget_stops_cleanly_and_keeps_the_best_weights():
    class Slow(Regression):
        def training_step(self, batch, ctx):
            time.sleep(0.002)
            return super().training_step(batch, ctx)

    task = Slow()
    start = time.perf_counter()
    res = trainer(epochs=1000, budget=0.5).fit(task, make_data())
    assert time.perf_counter() - start < 3.0
    assert res.stopped == "budget" and res.steps < 1000 * 7
    full = [h for h in res.history if "partial" not in h]
    best = min(full, key=lambda h: h["val_loss"])
    assert res.best_epoch == best["epoch"]
    val = make_data()  # the modules hold the best epoch's weights: recompute its val loss
    assert task.net.training is False and next(task.net.parameters()).device.type == "cpu"
    with torch.no_grad():
        assert np.isfinite(task.validation_loss(val, None))


def test_early_stopping_restores_the_best_epoch():
    class Overfit(Regression):
        def validation_loss(self, data, generator):  # best at epoch 2, then worse
            return [3.0, 1.0, 2.0, 2.5, 2.6, 2.7, 2.8][int(self.calls.pop(0))]

    task = Overfit()
    task.calls = list(range(7))
    snapshots = []

    def keep(epoch, row):
        snapshots.append(params(task))

    res = trainer(epochs=7, patience=2, ema=None, callbacks=[keep]).fit(task, make_data())
    assert res.stopped == "early_stop" and len(res.history) == 4 and res.best_epoch == 2
    assert_same(params(task), snapshots[1])


def test_bad_arguments_are_value_errors():
    for kw, word in [({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"),
                     ({"schedule": "step"}, "schedule"), ({"ema": 1.5}, "ema"),
                     ({"patience": 3, "val_fraction": 0.0}, "patience"),
                     ({"val_fraction": 1.0}, "val_fraction")]:
        with pytest.raises(ValueError, match=word):
            trainer(**kw)
    with pytest.raises(ValueError, match="device"):
        RunOptions(device="tpu")
    with pytest.raises(ValueError, match="resume"):
        RunOptions(resume=True)
    with pytest.raises(ValueError, match="unknown optimizer"):
        class Wrong(Regression):
            def training_step(self, batch, ctx):
                ctx.step("nope", batch.sum())

        trainer().fit(Wrong(), make_data())


def test_threads_option_is_applied_and_restored():
    seen = []

    class Peek(Regression):
        def training_step(self, batch, ctx):
            seen.append(torch.get_num_threads())
            return super().training_step(batch, ctx)

    trainer(epochs=1, run=RunOptions(threads=2)).fit(Peek(), make_data())
    assert set(seen) == {2} and torch.get_num_threads() == 1


def test_checkpoint_is_read_with_weights_only(tmp_path):
    trainer(epochs=1, run=RunOptions(checkpoint_dir=tmp_path)).fit(Regression(), make_data())
    payload = torch.load(ckpt.path_in(tmp_path), weights_only=True)
    assert payload["format"] == ckpt.FORMAT and "optimizers" in payload
    (tmp_path / "last.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot read the checkpoint"):
        ckpt.load(tmp_path)
