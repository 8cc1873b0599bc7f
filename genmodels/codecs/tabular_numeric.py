"""Numeric columns (continuous, integer, datetime) in the three encodings.

Each row is in a *state* (:mod:`genmodels.codecs.tabular_spikes`): a value, missing
(if training had missing values), or one of the column's spikes (values that at least
``spike_min_frac`` of the observed values equal exactly; continuous and integer only).

* mixed / continuous: one standardized field ``z = (v - mean) / scale``, mean and scale
  of the non-spike values. With missing values or spikes, the state goes in extra
  fields: mixed mode, one discrete field, ``<col>__missing`` (0 value, 1 missing) if
  there are no spikes, else ``<col>__state`` (value, [missing], spike 1..S); continuous
  mode, continuous 0/1 fields ``<col>__missing`` and ``<col>__spike=<value>``, decoded
  by argmax if above 0.5. ``z`` of a missing or spike row is a draw from the non-spike
  values (from the codec's seed: ``encode`` is deterministic); its density enters
  ``log_prob`` as for any value (the codec adds no correction for it).
* discrete: the non-spike values in quantile bins (at most ``bins``, unique edges), or
  one level per value when there are at most ``bins`` distinct values; then one level
  per spike; then missing values as one last level.

A row is decoded as a spike only by its state: a non-spike row whose value would round
to a spike is moved one rounding step off it (training's non-spike rows never hold one).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from genmodels.codecs.tabular_axes import axis_from_json, make_axis
from genmodels.codecs.tabular_column import Column
from genmodels.codecs.tabular_spikes import find_spikes, spike_index
from genmodels.codecs.tabular_values import is_missing, jsonable, robust_scale, shorten
from genmodels.models.base import Field

_FILL_POINTS = 257  # quantiles kept to fill missing values and spike rows


class NumericColumn(Column):
    type = "numeric"

    def __init__(self, name: str, kind: str, mode: str, bins: int = 20,
                 spike_min_frac: float = 0.05, max_spikes: int = 3) -> None:
        super().__init__(name, kind, mode)
        self.bins, self.spike_min_frac, self.max_spikes = bins, spike_min_frac, max_spikes
        self.axis = make_axis(name, kind)
        self.has_missing = False
        self.mean, self.scale = 0.0, 1.0
        self.quantiles = np.zeros(1)  # of the non-spike values
        self.spikes = np.zeros(0)  # spike values, the most frequent first
        self.spike_shares = np.zeros(0)  # their shares of the observed values
        self.values: np.ndarray | None = None  # discrete mode, one level per value
        self.edges: np.ndarray | None = None  # discrete mode, bins

    # ------------------------------------------------------------------ fit
    def fit(self, s: pd.Series, source: str) -> None:
        v = self.axis.fit(s)
        missing = np.isnan(v)
        obs = v[~missing]
        self.has_missing = bool(missing.any())
        self.missing_rate = float(missing.mean())
        if self.kind != "datetime":
            self.spikes, self.spike_shares = find_spikes(obs, self.spike_min_frac, self.max_spikes)
        rest = obs[spike_index(self.spikes, obs) < 0]
        self.mean, self.scale = robust_scale(rest)
        m = min(len(rest), _FILL_POINTS)
        self.quantiles = np.quantile(rest, np.linspace(0, 1, m)) if m > 1 else rest[:1].copy()
        if self.mode == "discrete":
            uniq = np.unique(rest)
            if len(uniq) <= self.bins:
                self.values = uniq
            else:
                self.edges = np.unique(np.quantile(rest, np.linspace(0, 1, self.bins + 1)))

    @property
    def n_states(self) -> int:
        """Row states: value, [missing], spike 1..S."""
        return 1 + int(self.has_missing) + len(self.spikes)

    @property
    def n_values(self) -> int:
        """Discrete mode: the levels of the non-spike values."""
        return len(self.values) if self.values is not None else len(self.edges) - 1

    @property
    def n_levels(self) -> int:
        return self.n_values + len(self.spikes) + int(self.has_missing)

    def fields(self) -> list[Field]:
        if self.mode == "discrete":
            return [Field(self.name, "discrete", self.n_levels)]
        out = [Field(self.name, "continuous")]
        if self.mode == "mixed" and self.n_states > 1:
            name = f"{self.name}__state" if len(self.spikes) else f"{self.name}__missing"
            out.append(Field(name, "discrete", self.n_states))
        elif self.mode == "continuous":
            names = [f"{self.name}__missing"] if self.has_missing else []
            names += [f"{self.name}__spike={self.axis.typed(v)}" for v in self.spikes]
            out += [Field(n, "continuous") for n in names]
        return out

    # --------------------------------------------------------------- encode
    def _read(self, s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Floats and the state of each row: ``(n,)`` and ``(n,)`` int."""
        v = self.axis.to_float(s)
        missing = np.isnan(v)
        if missing.any() and not self.has_missing:
            raise ValueError(
                f"data: column {self.name!r} has {int(missing.sum())} missing value(s) "
                "but had none in training; allowed: values only"
            )
        state = np.where(missing, 1, 0)
        k = spike_index(self.spikes, v)
        return v, np.where(k >= 0, self._spike_state(k), state)

    def _spike_state(self, k: np.ndarray | int) -> np.ndarray | int:
        return 1 + int(self.has_missing) + k

    def encode(self, s: pd.Series, rng: np.random.Generator) -> np.ndarray:
        v, state = self._read(s)
        if self.mode == "discrete":
            return self._codes(v, state).astype(np.float64)[:, None]
        fill = state != 0
        if fill.any():
            v = v.copy()
            grid = np.linspace(0, 1, len(self.quantiles))
            draws = np.interp(rng.random(int(fill.sum())), grid, self.quantiles)
            v[fill] = np.round(draws) if self.kind == "integer" else draws
        z = (v - self.mean) / self.scale
        if self.mode == "mixed":
            return np.column_stack([z, state]) if self.n_states > 1 else z[:, None]
        onehot = state[:, None] == np.arange(1, self.n_states)[None, :]
        return np.column_stack([z, onehot.astype(np.float64)])

    def _codes(self, v: np.ndarray, state: np.ndarray) -> np.ndarray:
        """Discrete-mode levels: value levels, then spikes, then missing."""
        vv = np.where(state == 0, v, self.quantiles[0])
        if self.values is not None:
            codes = _nearest(self.values, vv)
        else:
            codes = np.clip(
                np.searchsorted(self.edges, vv, side="right") - 1, 0, len(self.edges) - 2
            )
        hm = int(self.has_missing)
        codes = np.where(state > hm, self.n_values + state - 1 - hm, codes)
        return np.where(state == 1, self.n_levels - 1, codes) if hm else codes

    # --------------------------------------------------------------- decode
    def decode(self, block: np.ndarray, rng: np.random.Generator) -> pd.Series:
        n = block.shape[0]
        hm = int(self.has_missing)
        if self.mode == "discrete":
            codes = np.clip(np.rint(block[:, 0]), 0, self.n_levels - 1).astype(np.int64)
            base = np.where(codes < self.n_values, codes, 0)
            if self.values is not None:
                v = self.values[base]
            else:
                lo, hi = self.edges[base], self.edges[base + 1]
                v = lo + rng.random(n) * (hi - lo)
            k = codes - self.n_values
            missing = (codes == self.n_levels - 1) & bool(hm)
        else:
            v = block[:, 0] * self.scale + self.mean
            if self.n_states == 1:
                state = np.zeros(n, np.int64)
            elif self.mode == "mixed":
                state = np.clip(np.rint(block[:, 1]), 0, self.n_states - 1).astype(np.int64)
            else:  # the largest indicator, if above 0.5
                state = np.argmax(np.column_stack([np.full(n, 0.5), block[:, 1:]]), axis=1)
            k = state - 1 - hm
            missing = (state == 1) & bool(hm)
        spike = (k >= 0) & (k < len(self.spikes))
        if len(self.spikes):
            v = self._off_spikes(v, ~spike & ~missing)
            v = np.where(spike, self.spikes[np.where(spike, k, 0)], v)
        return self.axis.from_float(v, missing)

    def _off_spikes(self, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Move ``rows`` of ``v`` that would round to a spike one rounding step off it
        (inwards at the range's ends): non-spike rows never hold a spike's value."""
        decimals, lo, hi = self.axis.decimals, self.axis.lo, self.axis.hi
        if decimals is None:
            return v  # no rounding: landing on a spike has probability 0
        k = spike_index(self.spikes, np.round(np.clip(v, lo, hi), decimals))
        hit = rows & (k >= 0)
        if not hit.any():
            return v
        s, step = self.spikes[k[hit]], 10.0**-decimals
        up = np.where(s <= lo, True, np.where(s >= hi, False, v[hit] >= s))
        out = v.copy()
        out[hit] = s + np.where(up, step, -step)
        return out

    def log_det(self, s: pd.Series) -> np.ndarray:
        """``-log(scale)`` or ``-log(bin width)`` for values; 0 for missing and spikes
        (masses), and for per-value levels."""
        v, state = self._read(s)
        if self.mode != "discrete":
            return np.where(state == 0, -np.log(self.scale), 0.0)
        if self.values is not None:
            return np.zeros(len(v))
        codes = self._codes(v, state)
        width = np.diff(self.edges)
        return np.where(state == 0, -np.log(width[np.where(state == 0, codes, 0)]), 0.0)

    # ----------------------------------------------------------- conditions
    def condition(self, value: Any) -> dict[int, float]:
        if is_missing(value):
            if not self.has_missing:
                raise ValueError(
                    f"condition: column {self.name!r} had no missing values in "
                    "training; allowed: a value"
                )
            if self.mode == "discrete":
                return {0: float(self.n_levels - 1)}
            return self._state_condition(1)
        v = self.axis.parse(value)
        k = int(spike_index(self.spikes, np.array([v]))[0])
        if k >= 0:  # the spike's level; the filler value is left to the model
            if self.mode == "discrete":
                return {0: float(self.n_values + k)}
            return self._state_condition(int(self._spike_state(k)))
        if self.mode != "discrete":
            return {0: (v - self.mean) / self.scale, **self._state_condition(0)}
        if self.values is not None:
            code = int(_nearest(self.values, np.array([v]))[0])
            if abs(self.values[code] - v) > 1e-9 * max(1.0, abs(v)):
                seen = np.sort(np.concatenate([self.values, self.spikes]))
                allowed = [self.axis.typed(x) for x in seen[:10]]
                raise ValueError(
                    f"condition: value {value!r} for {self.name!r} was not seen in "
                    f"training; allowed: {shorten(allowed)}"
                )
            return {0: float(code)}
        return {0: float(self._codes(np.array([v]), np.zeros(1, np.int64))[0])}

    def _state_condition(self, state: int) -> dict[int, float]:
        """Mixed / continuous mode: the state fields of a row in ``state``."""
        if self.n_states == 1:
            return {}
        if self.mode == "mixed":
            return {1: float(state)}
        return {j: float(state == j) for j in range(1, self.n_states)}

    def fill(self, value: Any, n: int) -> pd.Series:
        if is_missing(value):
            return self.axis.from_float(np.zeros(n), np.ones(n, bool))
        v = self.axis.parse(value)
        return self.axis.from_float(
            np.full(n, v), np.zeros(n, bool), exact=self.kind != "datetime" or self.axis.fmt is None
        )

    # ---------------------------------------------------------------- facts
    def spike_facts(self) -> list[dict]:
        """``[{"value": v, "share": share of the observed values}]``, most frequent first."""
        return [
            {"value": jsonable(self.axis.typed(v)), "share": round(float(p), 6)}
            for v, p in zip(self.spikes, self.spike_shares, strict=True)
        ]

    def facts(self) -> dict:
        out = {**super().facts(), **self.axis.facts()}
        return out if self.kind == "datetime" else {**out, "spikes": self.spike_facts()}

    def summary(self) -> dict:
        facts = self.axis.facts()
        return {
            **super().summary(),
            "min": facts["min"],
            "max": facts["max"],
            "levels": self.n_levels if self.mode == "discrete" else None,
            "spikes": None if self.kind == "datetime" else self.spike_facts(),
        }

    def to_json(self) -> dict:
        def arr(a: np.ndarray | None) -> list | None:
            return None if a is None else a.tolist()

        return {
            **super().to_json(),
            "bins": self.bins,
            "spike_min_frac": self.spike_min_frac,
            "max_spikes": self.max_spikes,
            "axis": self.axis.to_json(),
            "has_missing": self.has_missing,
            "mean": self.mean,
            "scale": self.scale,
            "quantiles": arr(self.quantiles),
            "spikes": arr(self.spikes),
            "spike_shares": arr(self.spike_shares),
            "values": arr(self.values),
            "edges": arr(self.edges),
        }

    @classmethod
    def from_json(cls, d: dict) -> NumericColumn:
        col = cls(d["name"], d["kind"], d["mode"], d["bins"],
                  d.get("spike_min_frac", 0.05), d.get("max_spikes", 3))
        col._load_common(d)
        col.axis = axis_from_json(col.name, d["axis"])
        col.has_missing, col.mean, col.scale = d["has_missing"], d["mean"], d["scale"]
        col.quantiles = np.asarray(d["quantiles"], dtype=np.float64)
        col.spikes = np.asarray(d.get("spikes", []), dtype=np.float64)
        col.spike_shares = np.asarray(d.get("spike_shares", []), dtype=np.float64)
        col.values = None if d["values"] is None else np.asarray(d["values"], dtype=np.float64)
        col.edges = None if d["edges"] is None else np.asarray(d["edges"], dtype=np.float64)
        return col


def _nearest(sorted_values: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Index of the nearest value in ``sorted_values`` for each of ``v``."""
    k = len(sorted_values)
    if k == 1:
        return np.zeros(len(v), np.int64)
    i = np.clip(np.searchsorted(sorted_values, v), 1, k - 1)
    left_closer = np.abs(v - sorted_values[i - 1]) <= np.abs(sorted_values[i] - v)
    return np.where(left_closer, i - 1, i)
