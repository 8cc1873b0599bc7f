"""Evaluation of synthetic data: metrics as small pure functions, grouped by question
(``fidelity``, ``c2st`` detection, ``utility``, ``privacy``), and ``evaluate`` which
runs them all on two tables and returns a :class:`TableReport`.
"""

from __future__ import annotations

import logging
import numbers
import time
from typing import Any

from genmodels.evaluation._tables import align, as_frame
from genmodels.evaluation.report import TableReport

__all__ = ["TableReport", "evaluate"]

log = logging.getLogger(__name__)


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: got {value!r}; allowed: an integer >= {minimum}")
    return int(value)


def evaluate(real: Any, synth: Any, *, target: str | None = None, seed: int = 0,
             max_rows: int = 20_000) -> TableReport:
    """Compare a synthetic table with the real one.

    ``real``/``synth``: DataFrames with the same columns (or 2-D arrays, or CSV/Parquet
    paths). Per column: KS statistic (numeric, datetime) or total-variation distance
    (categorical, boolean; missing is a level) and the missing-rate difference. Per pair:
    |Pearson correlation difference| (numeric pairs) or contingency-table TV
    (categorical pairs; categorical x numeric-decile pairs). Detection: 5-fold ROC AUC of
    gradient-boosted trees telling real from synthetic rows (at most ``max_rows`` a side,
    drawn with ``seed``). With ``target``: train-on-synthetic / test-on-real utility.

    ``score = mean(1 - column_distance, 1 - pairwise_distance, 1 - 2*max(AUC - 0.5, 0))``
    in [0, 1], higher is better; the utility and the exact-copy rate are reported but
    not scored.
    """
    from genmodels.evaluation.c2st import c2st_auc
    from genmodels.evaluation.fidelity import column_metrics, pairwise_metrics
    from genmodels.evaluation.privacy import exact_match_rate
    from genmodels.evaluation.utility import tstr

    seed = _check_int("seed", seed, 0)
    max_rows = _check_int("max_rows", max_rows, 2)
    start = time.perf_counter()
    real = as_frame(real, "real")
    synth, kinds = align(real, as_frame(synth, "synth"))
    if target is not None and target not in kinds:
        raise ValueError(f"target: got {target!r}; allowed: one of the columns "
                         f"{', '.join(map(str, kinds))}")
    columns = column_metrics(real, synth, kinds)
    pairwise = pairwise_metrics(real, synth, kinds)
    c2st = c2st_auc(real, synth, kinds, seed=seed, max_rows=max_rows)
    utility = None
    if target is not None:
        utility = tstr(real, synth, kinds, target, seed=seed, max_rows=max_rows)
    copies = exact_match_rate(real, synth, kinds)
    seconds = time.perf_counter() - start
    log.info("evaluate: %d real x %d synth rows, %d columns in %.2f s",
             len(real), len(synth), len(kinds), seconds)
    return TableReport(columns, pairwise, c2st, copies, len(real), len(synth), seed,
                       round(seconds, 3), utility)
