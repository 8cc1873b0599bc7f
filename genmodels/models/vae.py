"""``vae``: a TVAE-style variational autoencoder on tables — β-VAE and conditional VAE.

The encoder reads a row (continuous fields as they are, discrete ones one-hot or
embedded); the decoder has one head per field: a Gaussian with a learned per-field
sigma for continuous fields, a softmax for discrete ones. Mode-specific
normalisation lives in the codec: the model just sees more continuous and discrete
fields. ``condition_columns`` (discrete fields, by name or index) make it a CVAE:
both networks get their one-hot, sampling conditioned on them is native, and
``p(c)`` is their smoothed empirical joint (:mod:`._cond_table`). Conditions on
other discrete fields are met by rejection (exact); conditions on continuous fields
by sampling-importance-resampling of ``z`` (a consistent approximation).

``log_prob`` is an importance-weighted estimate (IWAE, ``iwae_k`` draws), not the
exact likelihood; ``elbo(x)`` is the evidence lower bound. Both use a fixed internal
seed, so they are deterministic.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from genmodels.models._stats import state_array
from genmodels.models.base import (
    Capabilities,
    Model,
    Param,
    nonneg_number,
    positive_int,
    positive_number,
    register,
)

logger = logging.getLogger(__name__)

_EVAL_SEED = 20240401  # IWAE/ELBO draws: fixed, so log_prob is a function of x
_CHUNK = 65_536  # rows x draws per forward pass in IWAE/ELBO and sampling


def effective_batch(batch_size: int, n: int) -> int:
    """``batch_size``, at most ``n``: a table smaller than a batch takes one step an epoch
    (as TVAE does), which the higher default learning rate makes up for."""
    return int(min(batch_size, n))


def _widths(v: Any) -> bool:
    return isinstance(v, list | tuple) and all(positive_int(h) for h in v)


def _columns(v: Any) -> bool:
    return isinstance(v, list | tuple) and all(
        isinstance(c, str) or (isinstance(c, int) and not isinstance(c, bool)) for c in v)


def _opt(check):
    return lambda v: v is None or check(v)


@register
class VAE(Model):
    """TVAE-style (conditional, β-) VAE trained by the shared Trainer."""

    name: ClassVar[str] = "vae"
    description: ClassVar[str] = "TVAE-style variational autoencoder (β-VAE, conditional VAE, IWAE)"
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=False, conditional=True, inputs="mixed", deep=True,
        likelihood_note="IWAE estimate (k=iwae_k importance samples), a stochastic lower "
                        "bound in expectation")
    params: ClassVar[dict[str, Param]] = {
        "epochs": Param(300, int, positive_int, "a positive integer", "passes over the data"),
        "batch_size": Param(500, int, positive_int, "a positive integer",
                            "rows per step (at most the number of rows)"),
        "lr": Param(3e-3, float, positive_number, "a positive number", "AdamW learning rate"),
        "weight_decay": Param(1e-5, float, nonneg_number, "a number >= 0", "AdamW weight decay"),
        "hidden": Param((96, 96), (list, tuple), _widths, "a list of positive widths ([] = linear)",
                        "hidden widths of the encoder (the decoder mirrors them)"),
        "latent_dim": Param(16, int, positive_int, "a positive integer", "size of z"),
        "beta": Param(1.0, float, positive_number, "a positive number",
                      "weight of the KL term (β-VAE; 1 = the ELBO)"),
        "kl_warmup": Param(0.3, float, lambda v: 0 <= v <= 1, "a number in [0, 1]",
                           "share of the steps over which beta rises from 0 (KL annealing)"),
        "iwae_k": Param(64, int, positive_int, "a positive integer",
                        "importance samples per row in log_prob"),
        "condition_columns": Param((), (list, tuple), _columns, "a list of discrete field "
                                   "names or indices", "fields the CVAE conditions on"),
        "val_fraction": Param(0.0, float, lambda v: 0 <= v < 1, "a number in [0, 1)",
                              "held-out share for early stopping (0 = none)"),
        "patience": Param(None, int, _opt(positive_int), "a positive integer or null",
                          "epochs without validation gain before stopping"),
        "grad_clip": Param(None, float, _opt(positive_number), "a positive number or null",
                           "clip the gradient norm"),
        "ema": Param(None, float, _opt(lambda v: 0 < v < 1), "a decay in (0, 1) or null",
                     "EMA of the weights, used for sampling"),
        "schedule": Param("constant", str, lambda v: v in ("constant", "cosine"),
                          "'constant' or 'cosine'", "learning-rate schedule"),
    }

    # ------------------------------------------------------------------ fit
    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        import torch

        from genmodels.models._cond_table import ConditionTable
        from genmodels.models._vae_net import VAETask
        from genmodels.training import Trainer

        cfg = self.config
        self.cond_idx_ = self._resolve_condition_columns()
        levels = self.schema_.levels
        self.cond_table_ = (ConditionTable.fit(x[:, self.cond_idx_], [levels[j] for j in self.cond_idx_])
                            if self.cond_idx_ else None)
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        self.net_ = self._build_net(gen)
        trainer = Trainer(epochs=cfg["epochs"], batch_size=effective_batch(cfg["batch_size"], len(x)),
                          lr=cfg["lr"],
                          weight_decay=cfg["weight_decay"], schedule=cfg["schedule"],
                          grad_clip=cfg["grad_clip"], ema=cfg["ema"],
                          val_fraction=cfg["val_fraction"], patience=cfg["patience"],
                          budget=self._budget_left(), run=self.run_, rng=rng,
                          callbacks=callbacks)
        data = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        self.train_result_ = trainer.fit(VAETask(self.net_, cfg["beta"], cfg["kl_warmup"]), data)
        self.net_.eval()

    def _build_net(self, generator):
        from genmodels.models._vae_net import VAENet

        fields = self.schema_.fields
        return VAENet([f.kind for f in fields], self.schema_.levels, self.cond_idx_,
                      latent=self.config["latent_dim"], hidden=list(self.config["hidden"]),
                      generator=generator)

    def _resolve_condition_columns(self) -> list[int]:
        fields = self.schema_.fields
        names = {f.name: j for j, f in enumerate(fields)}
        allowed = ", ".join(repr(f.name) for f in fields if f.kind == "discrete") or "(none)"
        out: list[int] = []
        for c in self.config["condition_columns"]:
            j = names.get(c) if isinstance(c, str) else c
            if j is None or not 0 <= j < len(fields) or fields[j].kind != "discrete":
                raise ValueError(f"condition_columns: {c!r} is not a discrete field; "
                                 f"allowed: {allowed}")
            if j not in out:
                out.append(int(j))
        return sorted(out)

    # ------------------------------------------------------------- sampling
    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        from genmodels.training.threads import module_threads, torch_threads

        condition = condition or {}
        native = {j: int(v) for j, v in condition.items() if j in self.cond_idx_}
        others = {j: v for j, v in condition.items() if j not in self.cond_idx_}
        with torch_threads(module_threads(self.net_, min(n, _CHUNK))):
            if not others:
                return self._draw(n, rng, native)
            if any(self.schema_.fields[j].kind == "continuous" for j in others):
                return self._importance_resample(n, rng, native, others)
            if not native:
                return self._sample_by_rejection(n, rng, condition)
            return self._sample_by_rejection(
                n, rng, others, draw=lambda size: self._draw(size, rng, native))

    def _prior_draws(self, n: int, rng: np.random.Generator, native: Mapping[int, int]):
        """``n`` draws of ``(z, c one-hot, c codes)`` from the prior, ``c`` given ``native``."""
        import torch

        from genmodels.nn import one_hot

        net = self.net_
        pos = {j: i for i, j in enumerate(self.cond_idx_)}
        codes = (self.cond_table_.sample(n, rng, {pos[j]: v for j, v in native.items()})
                 if self.cond_idx_ else np.zeros((n, 0), dtype=np.int64))
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        z = torch.randn((n, net.latent), generator=gen)
        return z, one_hot(torch.from_numpy(codes), net.cond_levels), codes, gen

    def _decode_rows(self, z, c, codes: np.ndarray, gen) -> np.ndarray:
        """Rows ``(n, d)`` float64 drawn from ``p(x_rest | z, c)``, condition fields = codes."""
        net = self.net_
        out = np.empty((z.shape[0], len(self.schema_)), dtype=np.float64)
        step = max(1, _CHUNK // 4)
        for lo in range(0, z.shape[0], step):
            cont, disc = net.sample_rest(z[lo:lo + step], c[lo:lo + step], gen)
            out[lo:lo + step, net.cont] = cont.double().numpy()
            out[lo:lo + step, net.disc] = disc.double().numpy()
        out[:, self.cond_idx_] = codes
        return out

    def _draw(self, n: int, rng: np.random.Generator, native: Mapping[int, int]) -> np.ndarray:
        """``n`` rows with the condition fields in ``native`` fixed: ``(n, d)`` float64."""
        z, c, codes, gen = self._prior_draws(n, rng, native)
        return self._decode_rows(z, c, codes, gen)

    def _importance_resample(self, n: int, rng: np.random.Generator, native: Mapping[int, int],
                             others: Mapping[int, float]) -> np.ndarray:
        """Conditions on continuous (and other) fields by sampling-importance-resampling
        of ``z``: ``m`` prior draws weighted by ``p(conditioned fields | z, c)``, ``n``
        of them resampled, the other fields drawn given each. A consistent
        approximation of the model's conditional (exact as ``m`` grows)."""
        import torch

        m = int(min(max(100 * n, 20_000), 500_000))
        z, c, codes, gen = self._prior_draws(m, rng, native)
        step = max(1, _CHUNK // 4)
        logw = torch.cat([self.net_.fields_logp(z[lo:lo + step], c[lo:lo + step], dict(others))
                          for lo in range(0, m, step)]).double().numpy()
        w = np.exp(logw - logw.max())
        w /= w.sum()
        ess = 1.0 / float(np.sum(w * w))
        if not np.isfinite(ess) or ess < 5:
            names = ", ".join(self.schema_.fields[j].name for j in others)
            raise ValueError(f"condition: the values of {names} are too improbable under vae "
                             f"(effective sample size {ess:.1f} of {m:,} draws); condition "
                             "on values nearer the data")
        pick = np.sort(rng.choice(m, size=n, p=w))
        out = self._decode_rows(z[pick], c[pick], codes[pick], gen)
        for j, v in others.items():
            out[:, j] = v
        return out

    # ----------------------------------------------------------- likelihood
    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        return self._estimate(x, self.config["iwae_k"], iwae=True)

    def iwae(self, x: np.ndarray, k: int | None = None) -> np.ndarray:
        """Importance-weighted estimate of ``log p(x)`` with ``k`` draws: ``(n,)``."""
        self._check_fitted()
        return self._estimate(self._check_x(x, self.schema_), self._k(k), iwae=True)

    def elbo(self, x: np.ndarray, k: int | None = None) -> np.ndarray:
        """The evidence lower bound (β = 1) per row, averaged over ``k`` draws: ``(n,)``."""
        self._check_fitted()
        return self._estimate(self._check_x(x, self.schema_), self._k(k), iwae=False)

    def _k(self, k: int | None) -> int:
        if k is None:
            return self.config["iwae_k"]
        if not positive_int(k):
            raise ValueError(f"k: got {k!r}; allowed: a positive integer")
        return int(k)

    def _estimate(self, x: np.ndarray, k: int, *, iwae: bool) -> np.ndarray:
        import torch

        from genmodels.training.threads import module_threads, torch_threads

        gen = torch.Generator().manual_seed(_EVAL_SEED)
        xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        step = max(1, _CHUNK // k)
        parts = []
        with torch.no_grad(), torch_threads(module_threads(self.net_, min(step, len(x)) * k)):
            for lo in range(0, x.shape[0], step):
                lw = self.net_.log_weights(xt[lo:lo + step], k, gen).double()
                parts.append(torch.logsumexp(lw, 1) - math.log(k) if iwae else lw.mean(1))
        out = torch.cat(parts).numpy()
        if self.cond_idx_:
            out = out + self.cond_table_.log_prob(x[:, self.cond_idx_].astype(np.int64))
        return out

    # --------------------------------------------------------------- state
    def state(self) -> dict[str, np.ndarray]:
        out = {f"net.{k}": v.detach().cpu().numpy() for k, v in self.net_.state_dict().items()}
        if self.cond_table_ is not None:
            out.update(self.cond_table_.state("cond."))
        return out

    def extra(self) -> dict[str, Any]:
        return {"cond_idx": list(self.cond_idx_),
                "cond_n": self.cond_table_.n if self.cond_table_ is not None else 0}

    def load_state(self, state: Mapping[str, np.ndarray], extra: Mapping[str, Any]) -> None:
        import torch

        from genmodels.models._cond_table import ConditionTable

        self.cond_idx_ = [int(j) for j in extra.get("cond_idx", [])]
        self.net_ = self._build_net(torch.Generator().manual_seed(0))
        own = self.net_.state_dict()
        loaded = {}
        for k, v in own.items():
            dtype = v.detach().numpy().dtype.type
            arr = state_array(state, f"net.{k}", tuple(v.shape), dtype=dtype)
            loaded[k] = torch.from_numpy(np.array(arr, dtype=dtype))
        self.net_.load_state_dict(loaded)
        self.net_.eval()
        self.cond_table_ = None
        if self.cond_idx_:
            levels = [self.schema_.levels[j] for j in self.cond_idx_]
            combos = state_array(state, "cond.combos", (-1, len(levels)), dtype=np.int64)
            counts = state_array(state, "cond.counts", (combos.shape[0],))
            self.cond_table_ = ConditionTable(levels, combos, counts, int(extra["cond_n"]))
