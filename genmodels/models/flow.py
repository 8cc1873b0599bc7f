"""``flow``: normalizing flows on tables and vectors — RealNVP, MAF and neural spline
flows (coupling and autoregressive), with exact likelihood, trained by the shared Trainer.

Continuous fields are robustly standardized and tail-compressed, discrete fields are
uniformly dequantized (:mod:`genmodels.models._flow_data`); the flow
(:mod:`genmodels.nn.flows`) maps them to a standard normal. ``log_prob`` is exact for
continuous fields; a discrete field's share is a quasi-Monte-Carlo estimate of the
dequantization lower bound of its log-mass.

``condition_columns`` makes a conditional flow: those fields feed every transform as a
context vector (one-hot codes, standardized values) and sampling given them is native
and exact, continuous ones included. Their own distribution ``p(c)`` is the smoothed
empirical table (:class:`~genmodels.models._cond_table.ConditionTable`) when they are
all discrete, else a second, unconditional flow. Conditions on other discrete fields
are met by rejection (exact); conditions on other continuous fields by
sampling-importance-resampling with the exact density as target
(:mod:`genmodels.models._flow_condition`, a consistent approximation).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from genmodels.models._flow_data import Preprocessor, make_layout
from genmodels.models._stats import state_array
from genmodels.models.base import (
    Capabilities,
    Model,
    Param,
    Schema,
    nonneg_number,
    positive_int,
    positive_number,
    register,
)

logger = logging.getLogger(__name__)

KINDS = ("realnvp", "maf", "nsf", "nsf_ar")  # == genmodels.nn.flows.KINDS (no torch at import)
_CHUNK = 8192  # rows per forward pass when sampling and scoring
_MAX_REDRAWS = 100


def _columns(v: Any) -> bool:
    return isinstance(v, list | tuple) and all(
        isinstance(c, str) or (isinstance(c, int) and not isinstance(c, bool) and c >= 0)
        for c in v)


def _opt(check):
    return lambda v: v is None or check(v)


@register
class FlowModel(Model):
    """Normalizing flow (``kind``: realnvp, maf, nsf, nsf_ar) with a standard normal base."""

    name: ClassVar[str] = "flow"
    description: ClassVar[str] = ("normalizing flow: RealNVP, MAF or neural spline flow "
                                  "(coupling/autoregressive), exact likelihood")
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=True, conditional=True, inputs="mixed", deep=True,
        likelihood_note="exact density of continuous fields; a discrete field that is not a "
                        "condition column is uniformly dequantized, so its part of log_prob "
                        "is an estimate (dequant_samples quasi-random draws) of a lower bound "
                        "of its log-mass; discrete condition columns get an exact table")
    params: ClassVar[dict[str, Param]] = {
        "kind": Param("nsf", str, lambda v: v in KINDS, "one of " + ", ".join(KINDS),
                      "realnvp (affine coupling), maf (masked affine autoregressive), nsf "
                      "(spline coupling), nsf_ar (spline autoregressive)"),
        "n_layers": Param(5, int, positive_int, "a positive integer", "flow transforms"),
        "hidden": Param(128, int, positive_int, "a positive integer",
                        "width of the conditioner networks"),
        "depth": Param(2, int, positive_int, "a positive integer",
                       "hidden layers per conditioner network"),
        "bins": Param(8, int, lambda v: positive_int(v) and v >= 2, "an integer >= 2",
                      "spline bins (nsf, nsf_ar)"),
        "tail_bound": Param(5.0, float, positive_number, "a number > 0",
                            "splines act on [-tail_bound, tail_bound], identity outside"),
        "lu": Param(True, bool, lambda v: True, "true or false",
                    "a learned LU-factored linear layer before each transform"),
        "condition_columns": Param((), (list, tuple), _columns,
                                   "a list of field names or indices",
                                   "fields given to every transform as context (native "
                                   "conditioning on them)"),
        "dequant_samples": Param(8, int, positive_int, "a positive integer",
                                 "quasi-random dequantization draws per row in log_prob"),
        "epochs": Param(100, int, positive_int, "a positive integer", "passes over the data"),
        "batch_size": Param(256, int, positive_int, "a positive integer",
                            "rows per step (at most n/10: small tables get 10 steps an epoch)"),
        "lr": Param(1e-3, float, positive_number, "a positive number", "AdamW learning rate"),
        "weight_decay": Param(0.0, float, nonneg_number, "a number >= 0", "AdamW weight decay"),
        "grad_clip": Param(5.0, (int, float, type(None)), _opt(positive_number),
                           "a positive number or null", "clip the gradient norm (null: off)"),
        "schedule": Param("cosine", str, lambda v: v in ("constant", "cosine"),
                          "'constant' or 'cosine'", "learning-rate schedule"),
        "val_fraction": Param(0.1, float, lambda v: 0 <= v < 1, "a number in [0, 1)",
                              "held-out share; the best epoch's weights are kept (0 = last)"),
        "patience": Param(None, int, _opt(positive_int), "a positive integer or null",
                          "epochs without validation gain before stopping"),
        "ema": Param(None, float, _opt(lambda v: 0 < v < 1), "a decay in (0, 1) or null",
                     "EMA of the weights"),
    }

    # ------------------------------------------------------------------ fit
    def _fit(self, x: np.ndarray, rng: np.random.Generator, *, budget: float | None,
             callbacks: tuple) -> None:
        import torch

        from genmodels.models._flow_task import FlowTask
        from genmodels.training import Trainer

        cfg = self.config
        self.layout_ = make_layout(self.schema_, cfg["condition_columns"])
        self.prep_ = Preprocessor.fit(self.layout_, x)
        share = len(self.layout_.ctx) / x.shape[1]
        left = self._budget_left()
        self._fit_prior(x, rng, None if left is None else left * share)
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        self.flow_ = self._build(gen)
        data = torch.from_numpy(self.prep_.matrix(x).astype(np.float32))
        n_train = len(x) - round(len(x) * cfg["val_fraction"])
        trainer = Trainer(
            epochs=cfg["epochs"], batch_size=int(min(cfg["batch_size"], max(16, n_train // 10))),
            lr=cfg["lr"], weight_decay=cfg["weight_decay"], schedule=cfg["schedule"],
            grad_clip=None if cfg["grad_clip"] is None else float(cfg["grad_clip"]),
            ema=cfg["ema"], val_fraction=cfg["val_fraction"],
            patience=cfg["patience"], budget=self._budget_left(),
            run=self.run_, rng=rng, callbacks=callbacks)
        task = FlowTask(self.flow_, self.layout_, self.prep_.disc_ladj)
        self.train_result_ = trainer.fit(task, data)
        self.flow_.eval()
        if self.layout_.disc:
            logger.info("flow: %d discrete field(s) are dequantized; their part of log_prob "
                        "is a lower-bound estimate", len(self.layout_.disc))

    def _build(self, generator):
        from genmodels.nn.flows import build_flow

        cfg = self.config
        return build_flow(cfg["kind"], self.layout_.dim, generator=generator,
                          n_layers=cfg["n_layers"], hidden=cfg["hidden"], depth=cfg["depth"],
                          bins=cfg["bins"], bound=cfg["tail_bound"], context=self.layout_.width,
                          lu=cfg["lu"])

    def _fit_prior(self, x: np.ndarray, rng: np.random.Generator, budget: float | None) -> None:
        """``p(context)``: a table when the context is all discrete, else a flow."""
        from genmodels.models._cond_table import ConditionTable

        lay = self.layout_
        self.table_ = self.prior_ = None
        if not lay.ctx:
            return
        if not lay.ctx_cont:
            self.table_ = ConditionTable.fit(x[:, list(lay.ctx_disc)], lay.ctx_levels)
            return
        self.prior_ = self._prior_model()
        run = self.run_
        if run is not None and dataclasses.is_dataclass(run):
            run = dataclasses.replace(run, checkpoint_dir=None, resume=False, progress=False)
        self.prior_.fit(x[:, list(lay.ctx)], seed=int(rng.integers(2**31)),
                        schema=self._prior_schema(), budget=budget, run=run)

    def _prior_model(self) -> FlowModel:
        return FlowModel(**{**self.config, "condition_columns": ()})

    def _prior_schema(self) -> Schema:
        return Schema(tuple(self.schema_.fields[j] for j in self.layout_.ctx))

    # ------------------------------------------------------------- sampling
    def _sample(self, n: int, rng: np.random.Generator,
                condition: dict[int, float] | None) -> np.ndarray:
        from genmodels.models._flow_condition import importance_resample
        from genmodels.training.threads import module_threads, torch_threads

        condition = condition or {}
        ctx = set(self.layout_.ctx)
        native = {j: v for j, v in condition.items() if j in ctx}
        others = {j: v for j, v in condition.items() if j not in ctx}
        fields = self.schema_.fields
        with torch_threads(module_threads(self.flow_, min(n, _CHUNK))):
            if not others:
                return self._draw(n, rng, native)
            if any(fields[j].kind == "continuous" for j in others):
                return importance_resample(self, n, rng, condition)
            return self._sample_by_rejection(
                n, rng, others, draw=lambda size: self._draw(size, rng, native),
                hint='; make it a condition column (condition_columns)')

    def _draw(self, n: int, rng: np.random.Generator, native: Mapping[int, float]) -> np.ndarray:
        """``n`` rows with the context fields in ``native`` fixed: ``(n, d)`` float64.
        Draws whose dequantized discrete values fall outside every level are redrawn
        (the model's distribution restricted to the levels, as ``log_prob`` scores it)."""
        import torch

        out = np.zeros((n, len(self.schema_)))
        if self.layout_.ctx:
            out[:, list(self.layout_.ctx)] = self._draw_context(n, rng, native)
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        context = self.prep_.context(out).astype(np.float32)
        y = self._flow_draws(context, gen)
        todo = np.flatnonzero(~self.prep_.in_range(y))
        for _ in range(_MAX_REDRAWS):
            if not todo.size:
                break
            y[todo] = self._flow_draws(context[todo], gen)
            todo = todo[~self.prep_.in_range(y[todo])]
        if todo.size:
            logger.warning("flow: %d of %d draws stayed outside the discrete levels after %d "
                           "redraws; clipped to the nearest level", todo.size, n, _MAX_REDRAWS)
        self.prep_.decode(y, out)
        return out

    def _flow_draws(self, context: np.ndarray, gen) -> np.ndarray:
        import torch

        n, parts = len(context), []
        with torch.no_grad():
            for lo in range(0, n, _CHUNK):
                c = torch.from_numpy(context[lo:lo + _CHUNK]) if self.layout_.width else None
                parts.append(self.flow_.sample(min(_CHUNK, n - lo), gen, c).double().numpy())
        return np.concatenate(parts)

    def _draw_context(self, n: int, rng: np.random.Generator,
                      native: Mapping[int, float]) -> np.ndarray:
        lay = self.layout_
        pos = {j: i for i, j in enumerate(lay.ctx)}
        if len(native) == len(lay.ctx):
            return np.tile([native[j] for j in lay.ctx], (n, 1))
        if self.table_ is not None:
            return self.table_.sample(n, rng, {pos[j]: int(v) for j, v in native.items()})
        fixed_cont = [j for j in native if self.schema_.fields[j].kind == "continuous"]
        if fixed_cont:
            names = ", ".join(repr(self.schema_.fields[j].name) for j in lay.ctx)
            raise ValueError(f"condition: {self.schema_.fields[fixed_cont[0]].name!r} is a "
                             f"continuous condition column; give all condition columns "
                             f"({names}) together, or none of the continuous ones")
        return self.prior_._sample(n, rng, {pos[j]: v for j, v in native.items()} or None)

    # ----------------------------------------------------------- likelihood
    def _log_prob(self, x: np.ndarray) -> np.ndarray:
        from genmodels.models._flow_task import score
        from genmodels.training.threads import module_threads, torch_threads

        lay = self.layout_
        with torch_threads(module_threads(self.flow_, min(len(x), _CHUNK))):
            out = score(self.flow_, lay, self.prep_, x, self.config["dequant_samples"], _CHUNK)
        if self.table_ is not None:
            out = out + self.table_.log_prob(x[:, list(lay.ctx_disc)].astype(np.int64))
        elif self.prior_ is not None:
            out = out + self.prior_._log_prob(x[:, list(lay.ctx)])
        return out

    @property
    def log_prob_is_exact(self) -> bool:
        """False when discrete fields are dequantized (their part is a bound estimate)."""
        self._check_fitted()
        return not self.layout_.disc and (self.prior_ is None or self.prior_.log_prob_is_exact)

    # --------------------------------------------------------------- state
    def state(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        out = {f"flow.{k}": v.detach().cpu().numpy() for k, v in self.flow_.state_dict().items()}
        out["prep.center"], out["prep.scale"] = self.prep_.center, self.prep_.scale
        if self.table_ is not None:
            out.update(self.table_.state("cond."))
        if self.prior_ is not None:
            out.update({f"prior.{k}": v for k, v in self.prior_.state().items()})
        return out

    def extra(self) -> dict[str, Any]:
        self._check_fitted()
        return {"log_prob": "exact" if self.log_prob_is_exact else "dequantization bound",
                "cond_n": self.table_.n if self.table_ is not None else 0,
                "prior": self.prior_.extra() if self.prior_ is not None else None}

    def load_state(self, state: Mapping[str, np.ndarray], extra: Mapping[str, Any]) -> None:
        import torch

        from genmodels.models._cond_table import ConditionTable

        self.layout_ = lay = make_layout(self.schema_, self.config["condition_columns"])
        n_cont = len(lay.cont) + len(lay.ctx_cont)
        self.prep_ = Preprocessor(lay, state_array(state, "prep.center", (n_cont,)),
                                  state_array(state, "prep.scale", (n_cont,)))
        self.flow_ = self._build(torch.Generator().manual_seed(0))
        loaded = {}
        for k, v in self.flow_.state_dict().items():
            dtype = v.numpy().dtype.type
            arr = state_array(state, f"flow.{k}", tuple(v.shape), dtype=dtype)
            loaded[k] = torch.from_numpy(np.array(arr, dtype=dtype))
        self.flow_.load_state_dict(loaded)
        self.flow_.eval()
        self.table_ = self.prior_ = None
        if lay.ctx and not lay.ctx_cont:
            combos = state_array(state, "cond.combos", (-1, len(lay.ctx_levels)), dtype=np.int64)
            counts = state_array(state, "cond.counts", (combos.shape[0],))
            self.table_ = ConditionTable(lay.ctx_levels, combos, counts, int(extra["cond_n"]))
        elif lay.ctx:
            self.prior_ = self._prior_model()
            self.prior_.schema_ = self._prior_schema()
            sub = {k[len("prior."):]: v for k, v in state.items() if k.startswith("prior.")}
            self.prior_.load_state(sub, extra.get("prior") or {})
