"""Studies from the survey, each a function returning a result with ``to_dict()``,
``figures()`` (matplotlib Figures), ``to_html()`` (an HTML fragment with embedded PNGs)
and ``page()`` (a self-contained HTML document):

* :func:`gvd_study` / :func:`gvd_suite` — generative vs discriminative learning curves;
* :func:`mle_vs_bayes_study` — held-out likelihood of MLE vs Bayesian models vs n;
* :func:`augment` — append conditional synthetic rows per class of a target, and
  :func:`augment_study` — downstream accuracy/F1 with and without augmentation.

:func:`load_result` rebuilds any of these results from its JSON (``to_dict()``).

Submodules load on first use (matplotlib and scikit-learn are imported lazily).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "gvd_study": "genmodels.studies.gvd",
    "gvd_suite": "genmodels.studies.gvd",
    "GvdResult": "genmodels.studies.gvd",
    "mle_vs_bayes_study": "genmodels.studies.bayes_vs_mle",
    "mle_vs_bayes_suite": "genmodels.studies.bayes_vs_mle",
    "MleBayesResult": "genmodels.studies.bayes_vs_mle",
    "augment": "genmodels.studies.augment",
    "augment_plan": "genmodels.studies.augment",
    "augment_study": "genmodels.studies.augment_study",
    "AugmentResult": "genmodels.studies.augment_study",
    "BayesRuleClassifier": "genmodels.studies.classifiers",
    "StudySet": "genmodels.studies._common",
    "load_result": "genmodels.studies._common",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'genmodels.studies' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
