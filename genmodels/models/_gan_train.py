"""The ``gan``'s training task for the Trainer: WGAN-GP with CTGAN's conditional vector
and PacGAN packing, and the mode-coverage diagnostics logged into the history.

One step: ``n_critic`` critic updates on ``-(E[D(real)] - E[D(fake)]) + lambda GP``,
then one generator update on ``-E[D(fake)] + CE(condition)``. Real rows of a batch are
drawn to match the batch's condition entries (training-by-sampling); the critic scores
packs of ``pac`` rows, each row carrying its condition vector.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from genmodels.models._gan_cond import CondSampler
from genmodels.models._gan_layout import Layout
from genmodels.nn.gan_blocks import PackedCritic, ResidualGenerator


def gradient_penalty(critic: torch.nn.Module, real: torch.Tensor, fake: torch.Tensor, pac: int,
                     generator: torch.Generator) -> torch.Tensor:
    """WGAN-GP penalty ``E[(||grad D(x_hat)|| - 1)^2]`` on packs (Gulrajani et al. 2017).

    ``x_hat`` interpolates real and fake packs with one uniform weight per pack; the
    gradient norm is taken over the whole pack, as the critic sees it. ``real, fake:
    (n, c)`` with ``n`` a multiple of ``pac``; returns a scalar."""
    n, c = real.shape
    alpha = torch.rand(n // pac, 1, 1, generator=generator, device=generator.device)
    alpha = alpha.to(real.device).expand(n // pac, pac, c).reshape(n, c)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    norms = grad.reshape(n // pac, pac * c).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


class GanTask:
    """What the Trainer trains: ``{"G": generator, "D": critic}`` and the WGAN-GP step."""

    grad_sync = "allreduce"  # the critic runs twice per step and needs double backward

    def __init__(self, G: ResidualGenerator, D: PackedCritic, layout: Layout,  # noqa: N803
                 cond: CondSampler | None, data: torch.Tensor, config: dict[str, Any]) -> None:
        self.G, self.D, self.layout, self.cond = G, D, layout, cond
        self.data = data
        self.cfg = config
        self.pac = config["pac"]

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"G": self.G, "D": self.D}

    def optimizers(self, lr: float, weight_decay: float) -> dict[str, torch.optim.Optimizer]:
        """Adam with betas (0.5, 0.9), as in WGAN-GP and CTGAN."""
        return {k: torch.optim.Adam(m.parameters(), lr=lr, betas=(0.5, 0.9),
                                    weight_decay=weight_decay, foreach=True)
                for k, m in self.modules().items()}

    # ------------------------------------------------------------------ step
    def _rows(self, batch: torch.Tensor) -> int:
        b = batch.shape[0]
        return max(self.pac, b - b % self.pac)

    def fake(self, G: torch.nn.Module, m: int, entries: torch.Tensor | None,
             gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``m`` generated rows: (critic input rows ``(m, D + C)``, raw outputs, condition)."""
        dev = gen.device
        z = torch.randn(m, self.cfg["noise_dim"], generator=gen, device=dev)
        c = self.cond.onehot(entries).to(dev) if entries is not None else z.new_zeros(m, 0)
        raw = G(torch.cat([z, c], dim=1))
        rows = self.layout.activate(raw, self.cfg["tau"], gen)
        return torch.cat([rows, c], dim=1), raw, c

    def real(self, batch: torch.Tensor, entries: torch.Tensor | None, m: int,
             gen: torch.Generator) -> torch.Tensor:
        """Real critic rows ``(m, D + C)`` matching ``entries`` (shuffled, CTGAN-style)."""
        if entries is None:
            if batch.shape[0] >= m:
                return batch[:m]
            idx = torch.randint(self.data.shape[0], (m,), generator=_cpu(gen))
            return self.data[idx].to(batch.device)
        cpu = _cpu(gen)
        shuffled = entries[torch.randperm(m, generator=cpu)]
        rows = self.cond.real_rows(shuffled, cpu)
        return torch.cat([self.data[rows], self.cond.onehot(shuffled)], dim=1).to(batch.device)

    def training_step(self, batch: torch.Tensor, ctx: Any) -> dict[str, float]:
        gen, G, D = ctx.generator, ctx.module("G"), ctx.module("D")
        m = self._rows(batch)
        packs = m // self.pac
        lam = self.cfg["gp_weight"]
        for _ in range(self.cfg["n_critic"]):
            entries = self._entries(m, gen)
            with torch.no_grad():
                fake, _, _ = self.fake(G, m, entries, gen)
            real = self.real(batch, entries, m, gen)
            scores = D(torch.cat([real, fake]))  # packs never straddle: m % pac == 0
            wdist = scores[:packs].mean() - scores[packs:].mean()
            gp = gradient_penalty(D, real, fake, self.pac, gen)
            ctx.step("D", -wdist + lam * gp)
        entries = self._entries(m, gen)
        self.D.requires_grad_(False)  # the generator step needs no critic gradients
        try:
            fake, raw, _ = self.fake(G, m, entries, gen)
            adv = -D(fake).mean()
            ce = (self.cond.cond_loss(raw, entries.to(raw.device)) if entries is not None
                  else torch.zeros((), device=raw.device))
            ctx.step("G", adv + ce)
        finally:
            self.D.requires_grad_(True)
        wdist, gp = float(wdist.detach()), float(gp.detach())
        return {"wasserstein": wdist, "loss_d": -wdist + lam * gp,
                "loss_g": float(adv.detach()), "gp": gp, "cond_ce": float(ce.detach())}

    def _entries(self, m: int, gen: torch.Generator) -> torch.Tensor | None:
        if self.cond is None:
            return None
        return self.cond.draw(m, _cpu(gen), train=True)


def _cpu(gen: torch.Generator) -> torch.Generator:
    """``gen`` itself on the CPU; on an accelerator a CPU generator seeded from it (the
    condition entries and row indices live on the CPU)."""
    if gen.device.type == "cpu":
        return gen
    seed = int(torch.randint(2**62, (1,), generator=gen, device=gen.device))
    return torch.Generator().manual_seed(seed)


class CoverageDiagnostics:
    """Every ``every`` epochs, draw ``n`` rows with a fixed seed and add to the epoch's
    history row: ``tv_discrete`` (mean total-variation distance between generated and
    real level frequencies over discrete fields), ``levels_missed`` (levels with >= 1 %
    of the real rows that no generated row took) and ``tv_continuous`` (mean TV between
    the generated distribution over the real deciles of each continuous field and the
    uniform 10 %). A mode-collapsing GAN shows up as rising TVs and missed levels."""

    def __init__(self, draw: Any, x: np.ndarray, layout: Layout, every: int, epochs: int,
                 n: int = 1000) -> None:
        self.draw, self.every, self.epochs, self.n = draw, every, epochs, n
        schema = layout.schema
        self.disc = schema.discrete_idx
        self.freq = [np.bincount(x[:, j].astype(np.int64), minlength=schema.fields[j].levels)
                     / x.shape[0] for j in self.disc]
        self.cont = schema.continuous_idx
        self.cuts = [np.quantile(x[:, j], np.linspace(0.1, 0.9, 9)) for j in self.cont]

    def on_epoch_end(self, epoch: int, row: dict[str, float]) -> None:
        if not self.every or ((epoch + 1) % self.every and epoch + 1 != self.epochs):
            return
        row.update(self.measure(self.draw(self.n, epoch)))

    def measure(self, x: np.ndarray) -> dict[str, float]:
        """The coverage figures of generated rows ``x: (n, d)``."""
        out: dict[str, float] = {}
        if self.disc:
            tvs, missed = [], 0
            for j, f in zip(self.disc, self.freq, strict=True):
                g = np.bincount(x[:, j].astype(np.int64), minlength=f.size) / x.shape[0]
                tvs.append(0.5 * np.abs(g - f).sum())
                missed += int(((f >= 0.01) & (g == 0)).sum())
            out["tv_discrete"] = float(np.mean(tvs))
            out["levels_missed"] = float(missed)
        if self.cont:
            tvs = []
            for j, cuts in zip(self.cont, self.cuts, strict=True):
                g = np.bincount(np.searchsorted(cuts, x[:, j]), minlength=10) / x.shape[0]
                tvs.append(0.5 * np.abs(g - 0.1).sum())
            out["tv_continuous"] = float(np.mean(tvs))
        return out
