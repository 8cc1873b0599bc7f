"""``gan``: a conditional WGAN-GP for tables and vectors, CTGAN-style.

* Generator: CTGAN's residual MLP; each field has its own output head: discrete fields
  a Gumbel-softmax, continuous fields a tanh ``alpha`` plus a mode one-hot after
  mode-specific normalization (``continuous="modes"``) or one linear value.
* Critic: an MLP over packs of ``pac`` rows (PacGAN, Lin et al. 2018), trained with the
  Wasserstein loss and a gradient penalty (Gulrajani et al. 2017).
* CTGAN's conditional vector with training-by-sampling for imbalanced categoricals
  (Xu et al. 2019); the generator is pushed to honour it by a cross-entropy term.
* Sampling: optional discriminator rejection sampling (``drs=True``, Azadi et al. 2019,
  adapted to a WGAN critic by Platt scaling: :mod:`genmodels.models._gan_drs`).
* Conditioning: a discrete field natively through the conditional vector (rows whose
  decoded field misses the condition are redrawn, a bounded number of times, then a
  clear error); further discrete fields by rejection; continuous values by kernel
  resampling of generated rows (an ABC approximation, :mod:`._gan_density`).
* ``log_prob`` is a kernel density estimate on 4,096 generated rows: a GAN has no
  likelihood, this is an approximation and says so in its capabilities.
* The history of the run (``train_result_``) holds mode-coverage diagnostics every
  ``diag_every`` epochs (:class:`._gan_train.CoverageDiagnostics`).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np

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

KDE_ROWS = 4096  # generated rows behind log_prob
CHUNK = 8192  # rows per generator forward pass at sampling time
MAX_ROUNDS = 30  # redraws for a condition the generator does not honour
FLOOR = 1e-3  # acceptance below this (after 20,000 draws) is an error


def _choice(*allowed: str):
    return lambda v: v in allowed


@register
class GAN(Model):
    """Conditional WGAN-GP with CTGAN's conditional vector, PacGAN packing and DRS."""

    name: ClassVar[str] = "gan"
    description: ClassVar[str] = ("conditional WGAN-GP, CTGAN-style (training-by-sampling), "
                                  "PacGAN packing, optional rejection sampling")
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=False, conditional=True, inputs="mixed", deep=True,
        likelihood_note=f"kernel density estimate on {KDE_ROWS:,} generated rows "
                        "(a GAN has no likelihood)")
    params: ClassVar[dict[str, Param]] = {
        "epochs": Param(300, int, positive_int, "a positive integer", "passes over the data"),
        "batch_size": Param(500, int, positive_int, "a positive integer",
                            "rows per step (rounded down to a multiple of pac)"),
        "lr": Param(2e-4, float, positive_number, "a number > 0", "Adam learning rate (G and D)"),
        "weight_decay": Param(1e-6, float, nonneg_number, "a number >= 0", "Adam weight decay"),
        "ema": Param(0.99, float, lambda v: 0.0 < v < 1.0, "a decay in (0, 1) or None",
                     "exponential moving average of the weights (sampling uses the average; "
                     "it steadies the adversarial game's oscillation)", nullable=True),
        "schedule": Param("constant", str, _choice("constant", "cosine"),
                          "'constant' or 'cosine'", "learning-rate schedule"),
        "n_critic": Param(1, int, positive_int, "a positive integer",
                          "critic updates per generator update"),
        "gp_weight": Param(10.0, float, nonneg_number, "a number >= 0",
                           "gradient-penalty weight lambda"),
        "pac": Param(10, int, positive_int, "a positive integer",
                     "rows per pack the critic sees (PacGAN; 1 = no packing)"),
        "noise_dim": Param(128, int, positive_int, "a positive integer", "generator noise size"),
        "g_width": Param(128, int, positive_int, "a positive integer", "generator block width"),
        "g_depth": Param(2, int, positive_int, "a positive integer", "generator residual blocks"),
        "d_width": Param(128, int, positive_int, "a positive integer", "critic layer width"),
        "d_depth": Param(2, int, positive_int, "a positive integer", "critic hidden layers"),
        "continuous": Param("modes", str, _choice("modes", "linear"), "'modes' or 'linear'",
                            "continuous heads: mode-specific normalization (tanh + mode) "
                            "or one linear value"),
        "max_modes": Param(10, int, positive_int, "a positive integer",
                           "mixture components per continuous field (continuous='modes')"),
        "tau": Param(0.2, float, positive_number, "a number > 0", "Gumbel-softmax temperature"),
        "drs": Param(False, bool, lambda v: isinstance(v, bool), "True or False",
                     "discriminator rejection sampling at sample time"),
        "drs_quantile": Param(0.8, float, lambda v: 0.0 < v < 1.0, "a number in (0, 1)",
                              "DRS: quantile of F per batch that gamma moves to 0"),
        "diag_every": Param(10, int, lambda v: isinstance(v, int) and not isinstance(v, bool)
                            and v >= 0, "an integer >= 0",
                            "epochs between mode-coverage diagnostics (0 = off)"),
    }

    # ------------------------------------------------------------------- fit
    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        import torch

        from genmodels.models._gan_cond import CondSampler
        from genmodels.models._gan_modes import ModeNormalizer
        from genmodels.models._gan_train import CoverageDiagnostics, GanTask
        from genmodels.training import Trainer

        cfg = self.config
        init = torch.Generator().manual_seed(int(rng.integers(2**63)))
        cont = self.schema_.continuous_idx
        modes = (ModeNormalizer.fit(x[:, cont], cfg["max_modes"], rng)
                 if cfg["continuous"] == "modes" and cont else None)
        self._setup(modes)
        self.cond_ = CondSampler.build(x, self.layout_)
        h = torch.from_numpy(self.layout_.encode(x, rng))
        self._build(init)
        task = GanTask(self.generator_, self.critic_, self.layout_, self.cond_, h, cfg)
        diag = CoverageDiagnostics(self._diag_draw, x, self.layout_, cfg["diag_every"],
                                   cfg["epochs"])
        trainer = Trainer(epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"],
                          weight_decay=cfg["weight_decay"], schedule=cfg["schedule"],
                          ema=cfg["ema"], budget=self._budget_left(),
                          run=getattr(self, "run_", None), rng=rng,
                          callbacks=(diag, *callbacks))
        self.train_result_ = trainer.fit(task, h)
        self._calibrate(h, rng)
        if self.cond_ is not None:
            self.cond_.drop_rows()

    def _setup(self, modes: Any) -> None:
        from genmodels.models._gan_layout import Layout

        self.modes_ = modes
        self.layout_ = Layout(self.schema_, modes)

    def _build(self, init: Any) -> None:
        from genmodels.nn.gan_blocks import PackedCritic, ResidualGenerator

        cfg = self.config
        c = self.cond_.dim if self.cond_ is not None else 0
        self.generator_ = ResidualGenerator(cfg["noise_dim"] + c, self.layout_.dim,
                                            cfg["g_width"], cfg["g_depth"], init)
        self.critic_ = PackedCritic(self.layout_.dim + c, cfg["pac"], cfg["d_width"],
                                    cfg["d_depth"], init)
        self._ref = None

    def _calibrate(self, h: Any, rng: np.random.Generator) -> None:
        """Platt-scale the critic on real vs generated packs for DRS (see ``_gan_drs``)."""
        import torch

        from genmodels.models._gan_drs import calibrate

        tg = torch.Generator().manual_seed(int(rng.integers(2**63)))
        m = self.config["pac"] * 512
        fake = torch.cat(self._raw_rows(m, tg, None), dim=1)
        if self.cond_ is not None:
            entries = self.cond_.draw(m, tg, train=False)
            real = torch.cat([h[self.cond_.real_rows(entries, tg)], self.cond_.onehot(entries)],
                             dim=1)
        else:
            real = h[torch.randint(h.shape[0], (m,), generator=tg)]
        with torch.no_grad():
            s_real = self.critic_(real).numpy().astype(np.float64)
            s_fake = self.critic_(fake).numpy().astype(np.float64)
        a, b = calibrate(s_real, s_fake)
        self.drs_ = np.array([a, b, float((a * s_fake + b).max())])
        logger.info("gan: DRS calibration a=%.4g b=%.4g (critic gap %.4g)", a, b,
                    s_real.mean() - s_fake.mean())

    # ------------------------------------------------------------ generation
    def _raw_rows(self, n: int, tg: Any, entry: int | None) -> tuple[Any, Any]:
        """``n`` generated network rows ``(n, D)`` (one-hots drawn) and their condition
        vectors ``(n, C)``; ``entry`` fixes the condition, else it follows the data."""
        import torch

        G = self.generator_  # noqa: N806
        dev = next(G.parameters()).device
        hs, cs = [], []
        with torch.no_grad():
            for s in range(0, n, CHUNK):
                b = min(CHUNK, n - s)
                z = torch.randn(b, self.config["noise_dim"], generator=tg)
                if self.cond_ is None:
                    c = z.new_zeros(b, 0)
                else:
                    e = (torch.full((b,), entry, dtype=torch.int64) if entry is not None
                         else self.cond_.draw(b, tg, train=False))
                    c = self.cond_.onehot(e)
                raw = G(torch.cat([z, c], dim=1).to(dev)).cpu()
                hs.append(self.layout_.draw(raw, tg))
                cs.append(c)
        return torch.cat(hs), torch.cat(cs)

    def _draw(self, n: int, tg: Any, rng: np.random.Generator, entry: int | None) -> np.ndarray:
        """``n`` encoded rows ``(n, d)`` from the generator (through DRS when ``drs``)."""
        if not self.config["drs"]:
            h, _ = self._raw_rows(n, tg, entry)
            return self.layout_.decode(h.numpy())
        return self._draw_drs(n, tg, rng, entry)

    def _draw_drs(self, n: int, tg: Any, rng: np.random.Generator, entry: int | None) -> np.ndarray:
        import torch

        from genmodels.models._gan_drs import acceptance

        pac, (a, b, max_logit) = self.config["pac"], self.drs_
        kept, got, drawn = [], 0, 0
        while got < n:
            m = pac * -(-max(2 * (n - got), 1024) // pac)
            h, c = self._raw_rows(m, tg, entry)
            with torch.no_grad():
                scores = self.critic_(torch.cat([h, c], dim=1)).numpy().astype(np.float64)
            p, max_logit = acceptance(a * scores + b, max_logit, self.config["drs_quantile"])
            ok = np.repeat(rng.random(p.size) < p, pac)
            kept.append(self.layout_.decode(h.numpy()[ok]))
            got, drawn = got + int(ok.sum()), drawn + m
            if drawn >= 20_000 and got / drawn < FLOOR:
                raise ValueError(f"drs: accepted {got} of {drawn:,} generated rows; "
                                 "set drs=False or raise drs_quantile")
        return np.concatenate(kept)[:n]

    def _diag_draw(self, n: int, epoch: int) -> np.ndarray:
        """Rows for the coverage diagnostics: a fixed seed, eval mode, no DRS."""
        import torch

        G = self.generator_  # noqa: N806
        G.eval()
        try:
            h, _ = self._raw_rows(n, torch.Generator().manual_seed(epoch), None)
        finally:
            G.train()
        return self.layout_.decode(h.numpy())

    # ---------------------------------------------------------------- sample
    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        import torch

        tg = torch.Generator().manual_seed(int(rng.integers(2**63)))
        if not condition:
            return self._draw(n, tg, rng, None)
        fields = self.schema_.fields
        disc = {j: v for j, v in condition.items() if fields[j].kind == "discrete"}
        cont = {j: v for j, v in condition.items() if fields[j].kind == "continuous"}
        if not cont:
            return self._draw_given(n, disc, tg, rng)
        return self._draw_near(n, disc, cont, tg, rng)

    def _draw_given(self, n: int, disc: dict[int, float], tg: Any,
                    rng: np.random.Generator) -> np.ndarray:
        """``n`` rows whose discrete fields equal ``disc``: the rarest through the
        conditional vector, rows that miss any condition redrawn (bounded)."""
        first = min(disc, key=lambda j: self.cond_.counts[self.cond_.entry(j, int(disc[j]))])
        entry = self.cond_.entry(first, int(disc[first]))
        if self.cond_.counts[entry] == 0:
            raise ValueError(f"condition: {self.schema_.fields[first].name!r} = code "
                             f"{int(disc[first])} never occurs in the training data, so "
                             "the gan never learned to generate it")
        idx = np.fromiter(disc, dtype=np.int64)
        want = np.array([disc[j] for j in idx])
        kept, got, drawn = [], 0, 0
        for _ in range(MAX_ROUNDS):
            x = self._draw(max(2 * (n - got), 256), tg, rng, entry)
            ok = (x[:, idx] == want).all(axis=1)
            kept.append(x[ok])
            got, drawn = got + int(ok.sum()), drawn + x.shape[0]
            if got >= n or (drawn >= 20_000 and got / drawn < FLOOR):
                break
        if got < n:
            names = ", ".join(f"{self.schema_.fields[j].name!r}" for j in idx)
            raise ValueError(f"condition: on {names} the gan met the condition in only {got} "
                             f"of {drawn:,} draws; it has not learned this combination "
                             "(train longer, or condition on fewer columns)")
        return np.concatenate(kept)[:n]

    def _draw_near(self, n: int, disc: dict[int, float], cont: dict[int, float], tg: Any,
                   rng: np.random.Generator) -> np.ndarray:
        """Approximate conditioning on continuous values: kernel-weighted resampling."""
        from genmodels.models._gan_density import (
            effective_size,
            kernel_resample,
            kernel_weights,
        )

        size, pool = max(20 * n, 2000), []
        cap = max(50 * n, 100_000)
        while True:
            pool.append(self._draw_given(size, disc, tg, rng) if disc
                        else self._draw(size, tg, rng, None))
            rows = np.concatenate(pool)
            w = kernel_weights(rows, cont)
            ess = effective_size(w)
            if ess >= n or rows.shape[0] >= cap:
                break
            size = rows.shape[0]
        if ess < 2:
            j = next(iter(cont))
            raise ValueError(f"condition: {self.schema_.fields[j].name!r} = {cont[j]:g} "
                             f"(encoded) lies where the gan generates (almost) no rows: "
                             f"effective sample size {ess:.2g} of {rows.shape[0]:,} draws")
        if ess < n:
            logger.info("gan: conditional rows repeat (effective sample size %.0f for %d rows)",
                        ess, n)
        return kernel_resample(rows, w, {**disc, **cont}, n, rng)

    # -------------------------------------------------------------- log_prob
    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        import torch

        from genmodels.models._gan_density import kde_log_prob

        if getattr(self, "_ref", None) is None:
            self._ref = self._draw(KDE_ROWS, torch.Generator().manual_seed(0),
                                   np.random.default_rng(0), None)
        return kde_log_prob(x, self._ref, self.schema_)

    # ------------------------------------------------------------ save / load
    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        out = {f"G.{k}": v.detach().cpu().numpy() for k, v in self.generator_.state_dict().items()}
        out |= {f"D.{k}": v.detach().cpu().numpy() for k, v in self.critic_.state_dict().items()}
        if self.modes_ is not None:
            out |= self.modes_.state()
        if self.cond_ is not None:
            out |= self.cond_.state()
        out["drs"] = self.drs_.copy()
        return out

    def extra(self) -> dict[str, Any]:
        res = getattr(self, "train_result_", None)
        summary = None if res is None else {"steps": res.steps, "stopped": res.stopped,
                                            "epochs": len(res.history)}
        return {"mode_counts": [] if self.modes_ is None else self.modes_.counts,
                "training": summary}

    def load_state(self, state: dict[str, np.ndarray], extra: dict[str, Any]) -> None:
        import torch

        from genmodels.models._gan_cond import CondSampler
        from genmodels.models._gan_modes import ModeNormalizer

        counts = list(extra.get("mode_counts") or [])
        use_modes = self.config["continuous"] == "modes" and self.schema_.continuous_idx
        if bool(use_modes) != bool(counts):
            raise ValueError(f"extra: mode_counts {counts} do not fit continuous="
                             f"{self.config['continuous']!r} and this schema")
        self._setup(ModeNormalizer.from_state(state, counts) if counts else None)
        self.cond_ = (CondSampler(self.layout_, state["cond.counts"])
                      if self.schema_.discrete_idx else None)
        self._build(torch.Generator().manual_seed(0))
        for prefix, module in (("G.", self.generator_), ("D.", self.critic_)):
            weights = {k[2:]: torch.from_numpy(np.array(v)) for k, v in state.items()
                       if k.startswith(prefix)}
            try:
                module.load_state_dict(weights)
            except RuntimeError as e:
                raise ValueError(f"state: the {prefix[0]} weights do not fit the "
                                 f"hyperparameters: {e}") from None
            module.eval()
        self.drs_ = np.asarray(state["drs"], dtype=np.float64).reshape(3)
