"""Evaluation of synthetic data: metrics as small pure functions grouped by question —
``fidelity`` (+ ``c2st``, ``mmd``, ``prdc``), ``likelihood``, ``utility``, ``privacy``,
``fairness``, ``diversity``, ``cost`` — and :func:`evaluate`, which runs them on two
tables (plus optionally a holdout and the fitted model) and returns an
:class:`EvaluationReport`; on a text or music corpus it returns the dict of
:func:`~genmodels.evaluation.text.evaluate_text` or
:func:`~genmodels.evaluation.music.evaluate_music`.
"""

from __future__ import annotations

import logging
import numbers
import time
from typing import Any

import numpy as np

from genmodels.evaluation._tables import Kind, align, as_frame
from genmodels.evaluation.report import SCORE_FORMULA, EvaluationReport, TableReport

__all__ = ["SCORE_FORMULA", "EvaluationReport", "TableReport", "evaluate"]

log = logging.getLogger(__name__)

SAMPLE_ROWS = 3000
"""Rows per side for MMD and PRDC (drawn with the seed): both cost O(rows^2)."""


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}: got {value!r}; allowed: an integer >= {minimum}")
    return int(value)


def _check_sensitive(sensitive: Any, kinds: dict[str, Kind], target: str | None
                     ) -> tuple[str, ...]:
    if sensitive is None:
        return ()
    names = (sensitive,) if isinstance(sensitive, str) else sensitive
    if not isinstance(names, list | tuple) or not names:
        raise ValueError(f"sensitive: got {sensitive!r}; allowed: a column name or a list "
                         "of column names")
    for name in names:
        if name not in kinds:
            raise ValueError(f"sensitive: got {name!r}; allowed: one of the columns "
                             f"{', '.join(map(str, kinds))}")
        if name == target:
            raise ValueError(f"sensitive: {name!r} is the target; allowed: another column")
    if len(set(names)) != len(names):
        raise ValueError(f"sensitive: got {sensitive!r}; allowed: each column once")
    return tuple(names)


def _check_model(model: Any) -> None:
    if model is None:
        return
    if not all(callable(getattr(model, a, None)) for a in ("log_prob", "sample")) \
            or not hasattr(model, "capabilities"):
        raise ValueError(f"model: got {type(model).__name__}; allowed: a fitted gm.Generator")
    if getattr(model, "fitted", True) is False:
        raise ValueError("model: the Generator is not fitted; allowed: a fitted gm.Generator")


def _check_modes(modes: Any, kinds: dict[str, Kind]) -> np.ndarray | None:
    if modes is None:
        return None
    numeric = [c for c, k in kinds.items() if k != "categorical"]
    if not numeric:
        raise ValueError("modes: the table has no numeric column to place modes in; "
                         "allowed: modes only for tables with numeric columns")
    try:
        arr = np.asarray(modes, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.empty((0, 0))
    if arr.ndim != 2 or len(arr) == 0 or arr.shape[1] != len(numeric) \
            or not np.isfinite(arr).all():
        raise ValueError(f"modes: got an array of shape {arr.shape}; allowed: finite "
                         f"(K, {len(numeric)}) — one row per mode, one column per numeric "
                         f"column ({', '.join(map(str, numeric)) or 'none'})")
    return arr


def evaluate(real: Any, synth: Any, *, target: str | None = None,
             sensitive: str | list[str] | None = None, model: Any = None,
             holdout: Any = None, modes: Any = None, seed: int = 0,
             max_rows: int = 20_000) -> EvaluationReport | dict[str, Any]:
    """Compare a synthetic table with the real one it imitates (or generated text or
    music with its corpus: see the end).

    ``real`` is the training table, ``synth`` the generated one, ``holdout`` real rows
    the generator never saw (all: DataFrames with the same columns, 2-D arrays, or
    CSV/Parquet paths). Groups of the report:

    * fidelity (always): per-column KS/TV and missing rates, pairwise correlation and
      contingency differences, C2ST AUC (at most ``max_rows`` a side), MMD^2 and
      precision/recall/density/coverage on ``SAMPLE_ROWS`` a side in the feature space
      of :mod:`genmodels.evaluation.features`;
    * privacy (always; attack figures need ``holdout``): exact copies, DCR and NNDR of
      synthetic (and holdout) rows to the training rows, membership-inference AUC;
    * utility (``target``): TSTR vs TRTR, boosted trees and a linear model, tested on
      ``holdout`` (or a quarter of ``real``);
    * fairness (``sensitive``: a column or a list): per-group fidelity and utility,
      demographic-parity and equalized-odds gaps;
    * likelihood and cost (``model``, the fitted ``gm.Generator``): NLL and bits/dim on
      the holdout and training rows (labelled when a bound), fit time, memory, speed;
    * diversity (``modes``: ``(K, n_numeric_columns)`` known mode centres): coverage.

    ``score`` (fidelity) = ``mean(1 - column_distance, 1 - pairwise_distance,
    1 - 2*max(AUC - 0.5, 0))`` in [0, 1], higher is better; ``group_scores()`` adds
    utility and privacy composites (formulas in ``SCORE_FORMULA``). Same inputs and
    ``seed`` give the same report.

    Sequences: when ``real`` is a text corpus (a .txt file, a folder of them, a list of
    str) or a music corpus (``"bach"``, ``"essen:N"``, a .mid file, a folder of them, a
    list of those), ``synth`` is the generated text or pieces (``None``: music pieces are
    drawn from ``model`` with ``seed``) and the result is the dict of
    :func:`~genmodels.evaluation.text.evaluate_text` (``likelihood``: NLL, bits/char,
    perplexity of ``model`` on ``holdout`` and ``real``; ``diversity``: distinct-n and
    copy rates) or :func:`~genmodels.evaluation.music.evaluate_music` (``likelihood``:
    NLL per event and per note; ``music``: pitch-class and duration distances to
    ``holdout`` or ``real``, polyphony, copy rate). ``target``, ``sensitive`` and
    ``modes`` are for tables only.
    """
    corpus = _sequence_kind(real)
    if corpus is not None:
        return _evaluate_corpus(corpus, real, synth, model=model, holdout=holdout, seed=seed,
                                table_args={"target": target, "sensitive": sensitive,
                                            "modes": modes})
    seed = _check_int("seed", seed, 0)
    max_rows = _check_int("max_rows", max_rows, 2)
    start = time.perf_counter()
    was_array = isinstance(real, np.ndarray)
    real = as_frame(real, "real")
    synth, kinds = align(real, as_frame(synth, "synth"))
    hold = None if holdout is None else align(real, as_frame(holdout, "holdout"), "holdout")[0]
    if target is not None and target not in kinds:
        raise ValueError(f"target: got {target!r}; allowed: one of the columns "
                         f"{', '.join(map(str, kinds))}")
    sens = _check_sensitive(sensitive, kinds, target)
    _check_model(model)
    modes_arr = _check_modes(modes, kinds)
    from genmodels.evaluation._run import run_groups

    groups, timings = run_groups(real, synth, kinds, hold, target=target, sensitive=sens,
                                 model=model, modes=modes_arr, seed=seed, max_rows=max_rows,
                                 was_array=was_array, sample_rows=SAMPLE_ROWS)
    seconds = round(time.perf_counter() - start, 3)
    log.info("evaluate: %d real x %d synth rows, %d columns in %.2f s (%s)", len(real),
             len(synth), len(kinds), seconds, timings)
    return EvaluationReport(n_real=len(real), n_synth=len(synth), seed=seed, seconds=seconds,
                            n_holdout=None if hold is None else len(hold), target=target,
                            sensitive=sens, timings=timings, **groups)


def _sequence_kind(real: Any) -> str | None:
    """``"music"`` or ``"text"`` when ``real`` is such a corpus (the codecs' own tests,
    in the order the Generator tries them), else None (a table)."""
    from genmodels.music.corpus import is_music_input

    if is_music_input(real):
        return "music"
    from genmodels.codecs.text import is_text_input

    return "text" if is_text_input(real) else None


def _evaluate_corpus(kind: str, real: Any, synth: Any, *, model: Any, holdout: Any,
                     seed: Any, table_args: dict[str, Any]) -> dict[str, Any]:
    for name, value in table_args.items():
        if value is not None:
            raise ValueError(f"{name}: got {value!r}; allowed: None when real is a {kind} "
                             "corpus (it is for tables)")
    seed = _check_int("seed", seed, 0)
    if kind == "text":
        from genmodels.evaluation.text import evaluate_text

        return evaluate_text(real, synth, model=model, holdout=holdout)
    from genmodels.evaluation.music import evaluate_music

    return evaluate_music(real, synth, model=model, holdout=holdout, seed=seed)
