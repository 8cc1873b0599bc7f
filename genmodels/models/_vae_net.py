"""The VAE's network on encoded table rows: encoder, decoder with per-field heads,
the (β-)ELBO and importance-weighted log-likelihood estimates.

Rows ``x: (n, d)`` float32 hold continuous values and discrete codes. Fields listed
in ``cond_idx`` (discrete) are the CVAE's condition ``c``: the encoder reads them
with the rest of the row, the decoder gets their one-hot next to ``z`` and does not
reconstruct them. The decoder models every other field independently given
``(z, c)``: a Gaussian with a learned per-field sigma (continuous) or a softmax
(discrete).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from genmodels.nn import MLP, FieldInput, one_hot

_LOG_2PI = math.log(2 * math.pi)
LOG_SIGMA_MIN, LOG_SIGMA_MAX = math.log(1e-3), math.log(10.0)


class VAENet(nn.Module):
    """Encoder ``q(z | x)`` and decoder ``p(x_rest | z, c)``; ``(n, d)`` float32 rows."""

    def __init__(self, kinds: Sequence[str], levels: Sequence[int], cond_idx: Sequence[int],
                 *, latent: int, hidden: Sequence[int], generator: torch.Generator) -> None:
        super().__init__()
        kinds, levels = list(kinds), [int(k) for k in levels]
        self.cond_idx = [int(j) for j in cond_idx]
        self.cond_levels = [levels[j] for j in self.cond_idx]
        self.cont = [j for j, k in enumerate(kinds) if k == "continuous"]
        self.disc = [j for j, k in enumerate(kinds) if k == "discrete" and j not in self.cond_idx]
        self.disc_levels = [levels[j] for j in self.disc]
        self.latent = latent
        self.inp = FieldInput(kinds, levels, embed_dim=16, max_one_hot=64, generator=generator)
        self.encoder = MLP(self.inp.out_features, 2 * latent, hidden, generator=generator)
        n_cond = sum(self.cond_levels)
        n_out = len(self.cont) + sum(self.disc_levels)
        self.decoder = MLP(latent + n_cond, max(n_out, 1), list(reversed(list(hidden))),
                           generator=generator)
        # sigma starts at 0.3 of a standardized unit: small enough that the decoder uses z
        self.log_sigma = nn.Parameter(torch.full((len(self.cont),), math.log(0.3)))
        offsets = [0]
        for k in self.disc_levels:
            offsets.append(offsets[-1] + k)
        self.offsets = offsets
        # padded layout of the discrete logits: (n, F, Kmax), index sum(K) = a -inf column
        kmax = max(self.disc_levels, default=1)
        pad = torch.full((len(self.disc), kmax), offsets[-1], dtype=torch.long)
        for i, k in enumerate(self.disc_levels):
            pad[i, :k] = torch.arange(offsets[i], offsets[i] + k)
        self.register_buffer("pad_index", pad.reshape(-1), persistent=False)
        self.kmax = kmax
        field_of_col = [i for i, k in enumerate(self.disc_levels) for _ in range(k)]
        self.register_buffer("field_of_col", torch.tensor(field_of_col, dtype=torch.long),
                             persistent=False)
        self.register_buffer("starts", torch.tensor(offsets[:-1], dtype=torch.long),
                             persistent=False)
        for name, values in (("cont_index", self.cont), ("disc_index", self.disc)):
            self.register_buffer(name, torch.tensor(values, dtype=torch.long), persistent=False)

    # ------------------------------------------------------------ pieces
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(n, d)`` -> mean and log-variance of ``q(z | x)``, each ``(n, latent)``."""
        h = self.encoder(self.inp(x))
        mu, logvar = h.chunk(2, dim=1)
        return mu, logvar.clamp(-12.0, 8.0)

    def cond_vector(self, x: torch.Tensor) -> torch.Tensor:
        """One-hot of the condition fields of ``x: (n, d)``: ``(n, sum(cond levels))``."""
        if not self.cond_idx:
            return x.new_zeros((x.shape[0], 0))
        return one_hot(x[:, self.cond_idx], self.cond_levels)

    def decode(self, z: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``z: (n, latent)``, ``c: (n, n_cond)`` -> continuous means ``(n, C)`` and the
        concatenated logits of the discrete fields ``(n, sum K)``."""
        out = self.decoder(torch.cat([z, c], dim=1) if c.shape[1] else z)
        return out[:, : len(self.cont)], out[:, len(self.cont):]

    def sigma(self) -> torch.Tensor:
        return self.log_sigma.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX).exp()

    def recon_logp(self, x: torch.Tensor, mean: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """``log p(x_rest | z, c)`` per row: ``(n,)``."""
        out = x.new_zeros(x.shape[0])
        if self.cont:
            log_sigma = self.log_sigma.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
            resid = (x.index_select(1, self.cont_index) - mean) / log_sigma.exp()
            out = out - (0.5 * resid.pow(2) + log_sigma + 0.5 * _LOG_2PI).sum(dim=1)
        if self.disc:
            out = out + self.disc_logp(logits, x.index_select(1, self.disc_index).long())
        return out

    def disc_logp(self, logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """``sum_f log softmax(logits_f)[code_f]`` per row, all fields at once on the
        concatenated logits ``(n, sum K)`` (segment log-sum-exp; no padding): ``(n,)``."""
        n, nf = logits.shape[0], len(self.disc)
        idx = self.field_of_col.expand(n, -1)
        with torch.no_grad():  # a per-field shift for stability; any constant is exact
            peak = logits.new_full((n, nf), -torch.inf).scatter_reduce(
                1, idx, logits, "amax", include_self=True)
        shifted = logits - peak.gather(1, idx)
        lse = logits.new_zeros((n, nf)).index_add_(1, self.field_of_col, shifted.exp()).log()
        return (shifted.gather(1, codes + self.starts) - lse).sum(dim=1)

    def padded(self, logits: torch.Tensor) -> torch.Tensor:
        """Concatenated logits ``(n, sum K)`` -> ``(n, F, Kmax)``, padding at -inf."""
        ext = torch.cat([logits, logits.new_full((logits.shape[0], 1), -torch.inf)], dim=1)
        return ext[:, self.pad_index].reshape(logits.shape[0], len(self.disc), self.kmax)

    # ------------------------------------------------------------ objectives
    def forward(self, x: torch.Tensor, generator: torch.Generator,
                beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The training loss (what DDP wraps): see :meth:`loss`."""
        return self.loss(x, generator, beta)

    def loss(self, x: torch.Tensor, generator: torch.Generator,
             beta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The β-VAE objective averaged over rows, and its two parts (recon, KL)."""
        mu, logvar = self.encode(x)
        std = (0.5 * logvar).exp()
        z = mu + std * torch.randn(mu.shape, generator=generator, device=mu.device)
        mean, logits = self.decode(z, self.cond_vector(x))
        recon = -self.recon_logp(x, mean, logits).mean()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()
        return recon + beta * kl, recon, kl

    def log_weights(self, x: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
        """Importance log-weights ``log p(x|z,c) + log p(z) - log q(z|x)`` of ``k`` draws
        ``z ~ q(z | x)`` per row: ``(n, k)``."""
        n = x.shape[0]
        mu, logvar = self.encode(x)
        std = (0.5 * logvar).exp()
        eps = torch.randn((n, k, self.latent), generator=generator, device=x.device)
        z = mu[:, None] + std[:, None] * eps
        log_q = -(0.5 * eps.pow(2) + 0.5 * logvar[:, None] + 0.5 * _LOG_2PI).sum(-1)
        log_pz = -(0.5 * z.pow(2) + 0.5 * _LOG_2PI).sum(-1)
        xr = x.repeat_interleave(k, dim=0)
        mean, logits = self.decode(z.reshape(n * k, -1), self.cond_vector(xr))
        log_px = self.recon_logp(xr, mean, logits).reshape(n, k)
        return log_px + log_pz - log_q

    @torch.no_grad()
    def fields_logp(self, z: torch.Tensor, c: torch.Tensor,
                    values: dict[int, float]) -> torch.Tensor:
        """``log p(x_j = v_j for every (j, v_j) in values | z, c)`` per row: ``(n,)``."""
        mean, logits = self.decode(z, c)
        out = z.new_zeros(z.shape[0])
        log_sigma = self.log_sigma.clamp(LOG_SIGMA_MIN, LOG_SIGMA_MAX)
        for j, v in values.items():
            if j in self.cont:
                i = self.cont.index(j)
                r = (v - mean[:, i]) / log_sigma[i].exp()
                out = out - 0.5 * r.pow(2) - log_sigma[i] - 0.5 * _LOG_2PI
            else:
                i = self.disc.index(j)
                logp = torch.log_softmax(logits[:, self.offsets[i]:self.offsets[i + 1]], dim=1)
                out = out + logp[:, int(v)]
        return out

    @torch.no_grad()
    def sample_rest(self, z: torch.Tensor, c: torch.Tensor, generator: torch.Generator) -> tuple[
            torch.Tensor, torch.Tensor]:
        """Draw the non-condition fields given ``z`` and ``c``: continuous values ``(n, C)``
        and discrete codes ``(n, len(disc))``."""
        mean, logits = self.decode(z, c)
        cont = mean + self.sigma() * torch.randn(mean.shape, generator=generator, device=z.device)
        if not self.disc:
            return cont, z.new_zeros((z.shape[0], 0))
        probs = torch.softmax(self.padded(logits).double(), dim=2)
        codes = torch.multinomial(probs.reshape(-1, self.kmax), 1, generator=generator)
        return cont, codes.reshape(z.shape[0], len(self.disc)).to(z.dtype)


class VAETask:
    """What the Trainer trains: one module, the β-ELBO, a validation loss."""

    def __init__(self, net: VAENet, beta: float, kl_warmup: float = 0.0) -> None:
        self.net, self.beta, self.kl_warmup = net, beta, kl_warmup

    def beta_at(self, step: int, total: int) -> float:
        """β rises linearly from ~0 to ``beta`` over the first ``kl_warmup`` of the steps
        (KL annealing: keeps the decoder from ignoring z early on)."""
        warm = self.kl_warmup * total
        return self.beta if warm < 1 else self.beta * min(1.0, (step + 1) / warm)

    def modules(self) -> dict[str, nn.Module]:
        return {"vae": self.net}

    def training_step(self, batch: torch.Tensor, ctx) -> dict[str, float]:
        # through ctx.module: DDP syncs gradients of work done inside its forward
        beta = self.beta_at(ctx.step_index, ctx.total_steps)
        loss, recon, kl = ctx.module("vae")(batch, ctx.generator, beta)
        ctx.step("vae", loss)
        values = torch.stack([loss.detach(), recon.detach(), kl.detach()]).tolist()
        return dict(zip(("loss", "recon", "kl"), values, strict=True))

    def validation_loss(self, data: torch.Tensor, generator: torch.Generator) -> float:
        return float(self.net.loss(data, generator, self.beta)[0])
