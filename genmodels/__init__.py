"""genmodels: train, sample, evaluate, compare and publish generative models.

Importing the package is cheap: submodules load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Generator": ("genmodels.generator", "Generator"),
    "load": ("genmodels.generator", "load"),
    "read_table": ("genmodels.codecs.tabular_io", "read_table"),
    "evaluate": ("genmodels.evaluation", "evaluate"),
    "datasets": ("genmodels.datasets", None),
    "models": ("genmodels.models", None),
    "codecs": ("genmodels.codecs", None),
    "runs": ("genmodels.runs", None),
    "augment": ("genmodels.studies.augment", "augment"),
    "studies": ("genmodels.studies", None),
}

__all__ = ["Generator", "__version__", "augment", "datasets", "evaluate", "load",
           "models", "read_table"]

if TYPE_CHECKING:  # pragma: no cover
    from genmodels import datasets, models
    from genmodels.codecs.tabular_io import read_table
    from genmodels.evaluation import evaluate
    from genmodels.generator import Generator, load


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'genmodels' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value
