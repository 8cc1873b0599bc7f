"""The ``array`` codec: plain ``(n, d)`` float arrays, passed through after a finite check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from genmodels.codecs.base import Codec, register_codec
from genmodels.models.base import Schema


@register_codec
class ArrayCodec(Codec):
    """Identity on continuous ``(n, d)`` arrays; columns are addressed as ``x0, x1, ...``
    or by integer index in conditions."""

    name = "array"

    def __init__(self, *, inputs: str = "continuous") -> None:
        super().__init__(inputs="continuous" if inputs == "mixed" else inputs)
        if self.inputs == "discrete":
            raise ValueError("the array codec carries continuous values only; "
                             "use a table (DataFrame) for a model that needs discrete data")
        self.d_: int | None = None

    def _as_array(self, data: Any, what: str = "data") -> np.ndarray:
        try:
            arr = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{what}: cannot be read as a float array ({e})") from None
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ValueError(f"{what}: expected a 2-D array (n, d), got shape {arr.shape}")
        if arr.shape[0] == 0:
            raise ValueError(f"{what}: has no rows")
        if not np.isfinite(arr).all():
            raise ValueError(f"{what}: contains NaN or ±inf; allowed: finite numbers only")
        if self.d_ is not None and arr.shape[1] != self.d_:
            raise ValueError(f"{what}: expected {self.d_} columns, got {arr.shape[1]}")
        return arr

    def fit(self, data: Any, *, seed: int = 0) -> ArrayCodec:
        arr = self._as_array(data)
        self.d_ = arr.shape[1]
        self.schema_ = Schema.continuous(self.d_)
        return self

    def encode(self, data: Any) -> np.ndarray:
        return self._as_array(data)

    def decode(self, x: np.ndarray, *, condition: Mapping[str, Any] | None = None,
               seed: int = 0) -> np.ndarray:
        out = np.array(x, dtype=np.float64)
        for j, v in self.encode_condition(condition or {}).items():
            out[:, j] = v
        return out

    def log_det_jacobian(self, data: Any) -> np.ndarray:
        return np.zeros(self._as_array(data).shape[0])

    def encode_condition(self, condition: Mapping[Any, Any]) -> dict[int, float]:
        out: dict[int, float] = {}
        for key, value in condition.items():
            j = key
            if isinstance(key, str):
                if not (key.startswith("x") and key[1:].isdigit()):
                    raise ValueError(f"condition: unknown column {key!r}; allowed: x0..x{self.d_ - 1}")
                j = int(key[1:])
            if isinstance(j, bool) or not isinstance(j, int | np.integer) or not 0 <= j < self.d_:
                raise ValueError(f"condition: unknown column {key!r}; allowed: x0..x{self.d_ - 1}")
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"condition: value for {key!r} must be a number, got {value!r}") from None
            if not np.isfinite(v):
                raise ValueError(f"condition: value for {key!r} must be finite, got {value!r}")
            out[int(j)] = v
        return out

    def to_json(self) -> dict:
        return {"codec": self.name, "inputs": self.inputs, "d": self.d_}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ArrayCodec:
        codec = cls(inputs=data.get("inputs", "continuous"))
        codec.d_ = int(data["d"])
        codec.schema_ = Schema.continuous(codec.d_)
        return codec
