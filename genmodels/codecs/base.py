"""The codec contract: a fitted, reversible transform between raw data and model arrays.

A codec knows nothing of models. It says how its output is laid out (a
:class:`~genmodels.models.base.Schema`) and how much the change of variables
contributes to a log-density, so that likelihoods come out in the data's own units.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from genmodels.models.base import Inputs, Schema

_CODECS: dict[str, type[Codec]] = {}


class Codec:
    """Base class. ``fit`` learns the transform, ``encode``/``decode`` apply it."""

    name: ClassVar[str] = ""

    def __init__(self, *, inputs: Inputs = "mixed") -> None:
        if inputs not in ("continuous", "discrete", "mixed"):
            raise ValueError(f"inputs: got {inputs!r}; allowed: 'continuous', 'discrete', 'mixed'")
        self.inputs: Inputs = inputs
        self.schema_: Schema | None = None

    def fit(self, data: Any, *, seed: int = 0) -> Codec:
        raise NotImplementedError

    def encode(self, data: Any) -> np.ndarray:
        """Raw data -> ``(n, d)`` float64 laid out as ``schema_``."""
        raise NotImplementedError

    def decode(self, x: np.ndarray, *, condition: Mapping[str, Any] | None = None,
               seed: int = 0) -> Any:
        """``(n, d)`` array -> raw data of the fitted type. Conditioned columns take
        exactly the requested values."""
        raise NotImplementedError

    def log_det_jacobian(self, data: Any) -> np.ndarray:
        """Per-row ``log |d encode(data) / d data|`` : ``(n,)``; add it to a model's
        log-density of ``encode(data)`` to get the log-density of ``data``."""
        raise NotImplementedError

    def encode_condition(self, condition: Mapping[str, Any]) -> dict[int, float]:
        """User condition ``{column: value}`` -> ``{encoded index: value}``; a clear
        ``ValueError`` for an unknown column or an unseen level."""
        raise NotImplementedError

    def check_decoded(self, data: Any, condition: Mapping[str, Any]) -> None:
        """Raise if decoded rows do not meet ``condition`` (a model bug, never silent)."""

    def n_rows(self, data: Any) -> int:
        return len(data)

    def to_json(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Codec:
        raise NotImplementedError

    @property
    def schema(self) -> Schema:
        if self.schema_ is None:
            raise ValueError(f"{self.name} codec is not fitted; call fit() first")
        return self.schema_


def register_codec(cls: type[Codec]) -> type[Codec]:
    _CODECS[cls.name] = cls
    return cls


def codec_from_json(data: Mapping[str, Any]) -> Codec:
    from genmodels import codecs  # noqa: F401  (registers the built-in codecs)

    name = data.get("codec")
    if name not in _CODECS:
        raise ValueError(f"codec.json: unknown codec {name!r}; allowed: {', '.join(sorted(_CODECS))}")
    return _CODECS[name].from_json(data)
