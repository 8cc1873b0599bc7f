"""The tabular codec: a DataFrame <-> an ``(n, d)`` float64 array laid out as a Schema.

Column kinds are inferred (``genmodels.codecs.tabular_meta``) or given as metadata.
``inputs`` says what the model consumes: "mixed" (standardized numbers + discrete
codes), "discrete" (numbers in quantile bins) or "continuous" (one-hot / normal-score
categoricals). Numeric values that many rows hold exactly (spikes, e.g. a 0 in 90% of
rows) get their own level or indicator, so they come back exactly and as often.
Decoding gives back the training frame's columns, order and dtypes, clipped to the
training range and rounded as in training.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from genmodels.codecs.base import Codec, register_codec
from genmodels.codecs.tabular_categorical import CategoricalColumn
from genmodels.codecs.tabular_column import Column, same_values
from genmodels.codecs.tabular_fixed import FixedColumn
from genmodels.codecs.tabular_io import read_table, validate_frame
from genmodels.codecs.tabular_meta import (
    METADATA_FORMAT,
    Inferred,
    check_metadata_columns,
    infer_kind,
    infer_metadata,
    read_metadata,
)
from genmodels.codecs.tabular_numeric import NumericColumn
from genmodels.codecs.tabular_values import shorten
from genmodels.models.base import Schema

logger = logging.getLogger(__name__)

__all__ = ["TabularCodec", "infer_metadata"]

_COLUMN_TYPES = {c.type: c for c in (NumericColumn, CategoricalColumn, FixedColumn)}
_JSON_VERSION = 1


@register_codec
class TabularCodec(Codec):
    """DataFrame <-> model arrays. ``metadata`` overrides column kinds (a dict or a path to
    the JSON of :func:`infer_metadata`); ``bins`` is the number of quantile bins in
    discrete mode; ``max_onehot`` the most levels one-hot encoded in continuous mode.
    A continuous or integer column's value that at least ``spike_min_frac`` of its
    observed values equal is a spike (at most ``max_spikes`` a column, the most frequent
    first; 0 turns spikes off), modelled as its own state (see
    :mod:`genmodels.codecs.tabular_numeric`)."""

    name = "tabular"

    def __init__(
        self,
        metadata: Mapping[str, Any] | str | Path | None = None,
        *,
        inputs: str = "mixed",
        bins: int = 20,
        max_onehot: int = 50,
        spike_min_frac: float = 0.05,
        max_spikes: int = 3,
    ) -> None:
        super().__init__(inputs=inputs)
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 2:
            raise ValueError(f"bins: got {bins!r}; allowed: an integer >= 2")
        if (
            isinstance(max_onehot, bool)
            or not isinstance(max_onehot, int | np.integer)
            or max_onehot < 0
        ):
            raise ValueError(f"max_onehot: got {max_onehot!r}; allowed: an integer >= 0")
        if (
            isinstance(spike_min_frac, bool)
            or not isinstance(spike_min_frac, int | float | np.integer | np.floating)
            or not 0 < spike_min_frac <= 1
        ):
            raise ValueError(
                f"spike_min_frac: got {spike_min_frac!r}; allowed: a number in (0, 1]"
            )
        if isinstance(max_spikes, bool) or not isinstance(max_spikes, int | np.integer) or (
            max_spikes < 0
        ):
            raise ValueError(f"max_spikes: got {max_spikes!r}; allowed: an integer >= 0")
        self.bins, self.max_onehot = int(bins), int(max_onehot)
        self.spike_min_frac, self.max_spikes = float(spike_min_frac), int(max_spikes)
        self.kinds: dict[str, str] = read_metadata(metadata)
        self.columns_: list[Column] | None = None
        self.seed_ = 0

    # ------------------------------------------------------------------- fit
    def fit(self, data: Any, *, seed: int = 0) -> TabularCodec:
        """Learn every column's kind, levels, scale and range from ``data`` (>= 2 rows)."""
        _check_seed(seed)
        df = validate_frame(_as_frame(data), "data", min_rows=2)
        check_metadata_columns(self.kinds, list(df.columns))
        columns = [self._fit_column(df[name]) for name in df.columns]
        self.columns_, self.seed_ = columns, int(seed)
        self.schema_ = Schema(tuple(f for c in columns for f in c.fields()))
        logger.debug(
            "tabular codec: %d columns -> %d fields (%s)",
            len(columns),
            len(self.schema_),
            self.inputs,
        )
        return self

    def _fit_column(self, s: pd.Series) -> Column:
        inferred = infer_kind(s)
        kind = self.kinds.get(s.name, inferred.kind)
        if inferred.kind == "empty" and kind != "empty":
            note = (f"column {s.name!r} is all missing; kind {kind!r} ignored, "
                    "it is decoded as all missing")
            inferred, kind = Inferred("empty", "empty", note), "empty"
        col = make_column(s.name, kind, self.inputs, self.bins, self.max_onehot,
                          self.spike_min_frac, self.max_spikes)
        col.fit(s, inferred.source)
        col.note = inferred.note if kind == inferred.kind else None
        if col.note:
            warnings.warn(col.note, UserWarning, stacklevel=4)
        return col

    @property
    def columns(self) -> list[Column]:
        if self.columns_ is None:
            raise ValueError("tabular codec is not fitted; call fit() first")
        return self.columns_

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def _offsets(self) -> list[int]:
        return (
            np.concatenate([[0], np.cumsum([c.width for c in self.columns])]).astype(int).tolist()
        )

    # --------------------------------------------------------------- encode
    def _frame(self, data: Any, what: str = "data") -> pd.DataFrame:
        df = validate_frame(_as_frame(data), what)
        names = self.names
        missing = [c for c in names if c not in df.columns]
        extra = [c for c in df.columns if c not in set(names)]
        if missing or extra:
            parts = ([f"missing column(s) {shorten(missing)}"] if missing else []) + (
                [f"unknown column(s) {shorten(extra)}"] if extra else []
            )
            raise ValueError(
                f"{what}: {'; '.join(parts)}; allowed: the training columns "
                f"{shorten(names, 20, quote=False)}"
            )
        return df[names]

    def encode(self, data: Any) -> np.ndarray:
        """DataFrame -> ``(n, d)`` float64 laid out as ``schema_``; deterministic."""
        df = self._frame(data)
        out = np.empty((len(df), len(self.schema)), dtype=np.float64)
        offsets = self._offsets()
        for j, col in enumerate(self.columns):
            if col.width:
                rng = np.random.default_rng([self.seed_, j])
                out[:, offsets[j] : offsets[j + 1]] = col.encode(df[col.name], rng)
        return out

    def decode(
        self, x: np.ndarray, *, condition: Mapping[str, Any] | None = None, seed: int = 0
    ) -> pd.DataFrame:
        """``x: (n, d)`` -> a DataFrame with the training columns, order and dtypes.
        Conditioned columns take exactly the requested values."""
        x = self._check_x(x)
        _check_seed(seed)
        self.encode_condition(condition or {})  # validates
        condition = {str(k): v for k, v in (condition or {}).items()}
        offsets = self._offsets()
        out: dict[str, pd.Series] = {}
        for j, col in enumerate(self.columns):
            rng = np.random.default_rng([int(seed), j])
            if col.name in condition:
                out[col.name] = col.fill(condition[col.name], x.shape[0])
            else:
                out[col.name] = col.decode(x[:, offsets[j] : offsets[j + 1]], rng)
        for s in out.values():
            s.index = pd.RangeIndex(x.shape[0])
        return pd.DataFrame(out, columns=self.names)

    def _check_x(self, x: Any) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        d = len(self.schema)
        if arr.ndim != 2 or arr.shape[1] != d:
            raise ValueError(f"x: expected shape (n, {d}), got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError("x: contains NaN or infinite values; allowed: finite numbers")
        return arr

    def log_det_jacobian(self, data: Any) -> np.ndarray:
        """``(n,)``: -log(std) per standardized value, -log(bin width) per binned value,
        0 for a missing value, a spike or a per-value level (a probability mass)."""
        df = self._frame(data)
        total = np.zeros(len(df))
        for col in self.columns:
            total += col.log_det(df[col.name])
        return total

    @property
    def exact_units(self) -> bool:
        """False in continuous mode with categorical columns, missing or spike indicators: a
        density over one-hot or normal scores (or a 0/1 indicator) is not a probability mass."""
        if self.inputs != "continuous":
            return True
        return not any(
            isinstance(c, CategoricalColumn) or (isinstance(c, NumericColumn) and c.n_states > 1)
            for c in self.columns
        )

    # ----------------------------------------------------------- conditions
    def _column(self, name: Any) -> Column:
        for col in self.columns:
            if col.name == str(name):
                return col
        raise ValueError(
            f"condition: unknown column {str(name)!r}; "
            f"allowed: {shorten(self.names, 20, quote=False)}"
        )

    def encode_condition(self, condition: Mapping[str, Any]) -> dict[int, float]:
        if not isinstance(condition, Mapping):
            raise ValueError(
                f"condition: got {type(condition).__name__}; allowed: a dict {{column: value}}"
            )
        offsets = dict(zip(self.names, self._offsets(), strict=False))
        out: dict[int, float] = {}
        for name, value in condition.items():
            col = self._column(name)
            for k, v in col.condition(value).items():
                out[offsets[col.name] + k] = float(v)
        return out

    def check_decoded(self, data: Any, condition: Mapping[str, Any]) -> None:
        for name, value in (condition or {}).items():
            col = self._column(name)
            if col.name not in data:
                raise ValueError(
                    f"decoded rows do not meet the condition: column {col.name!r} is absent"
                )
            got = data[col.name].reset_index(drop=True)
            ok = same_values(got, col.fill(value, len(got)))
            if not ok.all():
                raise ValueError(
                    f"decoded rows do not meet the condition: column {col.name!r} "
                    f"differs from {value!r} in {int((~ok).sum())} of {len(ok)} rows"
                )

    def n_rows(self, data: Any) -> int:
        return len(_as_frame(data))

    # -------------------------------------------------------------- reports
    def summary(self) -> list[dict]:
        """One row per column: name, kind, fields, levels/min/max, missing rate, spikes
        (numeric columns: ``[{"value", "share"}]``, share of the observed values)."""
        return [c.summary() for c in self.columns]

    def metadata(self) -> dict:
        """The fitted kinds and facts, in the format
        :func:`~genmodels.codecs.tabular_meta.infer_metadata` returns."""
        return {
            "format": METADATA_FORMAT,
            "columns": {
                c.name: {**c.facts(), **({"note": c.note} if c.note else {})} for c in self.columns
            },
        }

    # -------------------------------------------------------- serialization
    def to_json(self) -> dict:
        return {
            "codec": self.name,
            "version": _JSON_VERSION,
            "inputs": self.inputs,
            "bins": self.bins,
            "max_onehot": self.max_onehot,
            "spike_min_frac": self.spike_min_frac,
            "max_spikes": self.max_spikes,
            "seed": self.seed_,
            "kinds": dict(self.kinds),
            "columns": [c.to_json() for c in self.columns],
            "schema": self.schema.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TabularCodec:
        if data.get("codec") != cls.name or data.get("version") != _JSON_VERSION:
            raise ValueError(
                f"codec.json: expected codec 'tabular' version {_JSON_VERSION}, got "
                f"{data.get('codec')!r} version {data.get('version')!r}"
            )
        codec = cls(
            {"columns": data["kinds"]},
            inputs=data["inputs"],
            bins=data["bins"],
            max_onehot=data["max_onehot"],
            spike_min_frac=data.get("spike_min_frac", 0.05),
            max_spikes=data.get("max_spikes", 3),
        )
        codec.seed_ = int(data["seed"])
        codec.columns_ = [_COLUMN_TYPES[c["type"]].from_json(c) for c in data["columns"]]
        codec.schema_ = Schema(tuple(f for c in codec.columns_ for f in c.fields()))
        if codec.schema_.to_json() != list(data["schema"]):
            raise ValueError("codec.json: the stored schema does not match the stored columns")
        return codec


def make_column(name: str, kind: str, mode: str, bins: int, max_onehot: int,
                spike_min_frac: float = 0.05, max_spikes: int = 3) -> Column:
    """An unfitted column of ``kind`` for the codec mode ``mode``."""
    if kind in ("continuous", "integer", "datetime"):
        return NumericColumn(name, kind, mode, bins, spike_min_frac, max_spikes)
    if kind in ("categorical", "boolean", "text"):
        return CategoricalColumn(name, kind, mode, max_onehot)
    return FixedColumn(name, kind, mode)


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed: got {seed!r}; allowed: a non-negative integer")


def _as_frame(data: Any) -> Any:
    return read_table(data) if isinstance(data, str | Path) else data
