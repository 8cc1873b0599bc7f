"""One training loop for every deep model; see :mod:`genmodels.training.trainer`.

``RunOptions``, ``TrainResult`` and the exceptions import without torch; ``Trainer``
and ``StepContext`` load torch on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from genmodels.training.options import (
    RunOptions,
    TrainingDiverged,
    TrainingInterrupted,
    TrainResult,
)

__all__ = ["RunOptions", "StepContext", "TrainResult", "Trainer", "TrainingDiverged",
           "TrainingInterrupted", "resolve_device"]

_LAZY = {"Trainer": "genmodels.training.trainer", "resolve_device": "genmodels.training.devices",
         "StepContext": "genmodels.training.context"}

if TYPE_CHECKING:  # pragma: no cover
    from genmodels.training.context import StepContext
    from genmodels.training.devices import resolve_device
    from genmodels.training.trainer import Trainer


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'genmodels.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
