"""What a report is made of, read from a compare directory or a saved model directory."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genmodels.compare import RESULTS_FILE, CompareResult, ModelRun, composite_score

log = logging.getLogger(__name__)

MAX_SYNTH = 20_000
"""Rows drawn from a saved model for its report (at most its training size)."""
REPORT_TEXTS, TEXT_MAX_TOKENS = 5, 300
"""Snippets drawn from a saved text model for its report, and their token cap."""
REPORT_PIECES, PIECE_MAX_TOKENS = 4, 512
"""Pieces drawn from a saved music model for its report, and their token cap."""


@dataclass
class RunView:
    """One run as the report shows it: the leaderboard's models, the real table the
    models learned from (None when it is not available), each model's samples and card.
    ``images``, ``texts``, ``audio`` and ``music`` (per model) fill the sections for
    those modalities: ``(n, h, w[, c])`` arrays, lists of strings, lists of
    ``(sample_rate, (n,) float array)``, lists of ``symusic.Score`` (drawn as piano
    rolls, played through FluidSynth). ``modality`` is ``"table"``, or ``"text"`` /
    ``"music"`` for a sequence model (the table-only sections then say so)."""

    title: str
    info: dict[str, Any]
    runs: list[ModelRun]
    real: Any = None
    synth: dict[str, Any] = field(default_factory=dict)
    cards: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    images: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    audio: dict[str, list] = field(default_factory=dict)
    music: dict[str, list] = field(default_factory=dict)
    modality: str = "table"


def load_source(path: str | Path, *, data: Any = None,
                result: CompareResult | None = None) -> RunView:
    """A compare directory (with ``results.json``) or a saved model directory."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"run: {str(path)!r} is not a directory; allowed: a compare output "
                         "directory or a saved model directory")
    if (path / RESULTS_FILE).is_file() or result is not None:
        return load_compare(path, result)
    if (path / "manifest.json").is_file():
        return load_model_dir(path, data=data)
    raise ValueError(f"run: {str(path)!r} has neither {RESULTS_FILE} (a compare run) nor "
                     "manifest.json (a saved model)")


def load_compare(path: Path, result: CompareResult | None = None) -> RunView:
    """A compare directory: its results, train split, samples and model cards."""
    import pandas as pd

    result = result or CompareResult.load(path)
    real = _parquet(path / "train.parquet")
    synth, cards = {}, {}
    for r in result.runs:
        if r.status != "ok":
            continue
        frame = _parquet(path / "synth" / f"{r.model}.parquet",
                         Path(r.synth_path) if r.synth_path else None)
        if frame is not None:
            synth[r.model] = frame
        card = _text(path / "models" / r.model / "card.md",
                     Path(r.model_dir) / "card.md" if r.model_dir else None)
        if card is not None:
            cards[r.model] = card
    info = {"data": result.data, "run id": result.run_id, "created (UTC)": result.created,
            "train rows": result.n_train, "holdout rows": result.n_holdout,
            "columns": len(result.columns), "target": result.target,
            "sensitive": result.sensitive, "seed": result.seed,
            "budget per model (s)": result.budget, "grace (s)": result.grace,
            "processes": result.processes, "total time (s)": result.seconds,
            "directory": str(path)}
    title = f"{Path(result.data).name if '/' in result.data else result.data}"
    notes = [] if real is not None else ["train.parquet is missing: no real-data plots."]
    if real is not None and not isinstance(real, pd.DataFrame):  # pragma: no cover
        real = None
    return RunView(title=title, info=info, runs=list(result.runs), real=real, synth=synth,
                   cards=cards, notes=notes)


def load_model_dir(path: Path, *, data: Any = None, seed: int = 0) -> RunView:
    """A saved model: its card, metrics and training curves; samples drawn now; the real
    table from ``data`` or from the registry's record of the fit (checked against the
    saved data fingerprint), and then an evaluation."""
    import numpy as np
    import pandas as pd

    import genmodels as gm
    from genmodels._compare_worker import headline, training_history

    gen = gm.load(path)
    from genmodels._sequence_generator import is_sequence

    if is_sequence(gen):
        return load_sequence_model(path, gen, data=data, seed=seed)
    info_fit = gen.fit_info_ or {}
    real, label, notes = _real_table(path, data, gen)
    n = int(min(info_fit.get("n_rows") or 1000, MAX_SYNTH))
    synth = gen.sample(n, seed=seed + 1)
    if isinstance(synth, np.ndarray):
        synth = pd.DataFrame(synth, columns=[f"x{i}" for i in range(synth.shape[1])])
    evaluation = metrics = None
    if real is not None:
        evaluation = gm.evaluate(real, synth, seed=seed).to_dict()
        metrics = headline(evaluation)
    run = ModelRun(model=gen.model_name, status="ok", hyperparams=gen.hyperparams, rank=1,
                   metrics=metrics or {}, composite=composite_score(metrics or {}),
                   fit_seconds=info_fit.get("fit_seconds"),
                   peak_rss_mb=info_fit.get("peak_rss_mb"), n_synth=n,
                   model_dir=str(path), history=training_history(gen), evaluation=evaluation)
    info = {"model": gen.model_name, "directory": str(path), "data": label or "unknown",
            "training rows": info_fit.get("n_rows"), "columns": info_fit.get("n_columns"),
            "seed": info_fit.get("seed"), "created (UTC)": info_fit.get("created"),
            "samples drawn for this report": n}
    card = _text(path / "card.md")
    return RunView(title=f"{gen.model_name} ({path.name})", info=info, runs=[run], real=real,
                   synth={gen.model_name: synth}, cards={gen.model_name: card} if card else {},
                   notes=notes)


def load_sequence_model(path: Path, gen: Any, *, data: Any = None, seed: int = 0) -> RunView:
    """A saved text or music model: snippets or pieces drawn now (seeded, capped in
    tokens), its training curves and card, and with the training corpus (``data`` or the
    registry's record, checked against the saved fingerprint) its likelihood and the
    text or music metrics of the samples (``gm.evaluate``'s corpus branch)."""
    from genmodels._compare_worker import training_history

    kind = gen._input_type or "text"
    info_fit = gen.fit_info_ or {}
    corpus, label, notes = _corpus(path, data, gen)
    if kind == "music":
        samples = gen.sample(REPORT_PIECES, seed=seed + 1, max_tokens=PIECE_MAX_TOKENS)
        extra, cap = {"music": {gen.model_name: samples}}, PIECE_MAX_TOKENS
    else:
        samples = gen.sample(REPORT_TEXTS, seed=seed + 1, max_tokens=TEXT_MAX_TOKENS)
        extra, cap = {"texts": {gen.model_name: samples}}, TEXT_MAX_TOKENS
    evaluation = None
    if corpus is not None:
        import genmodels as gm

        generated = samples if kind == "music" else [t for t in samples if t] or None
        evaluation = gm.evaluate(corpus, generated, model=gen, seed=seed)
    run = ModelRun(model=gen.model_name, status="ok", hyperparams=gen.hyperparams, rank=1,
                   likelihood="exact", fit_seconds=info_fit.get("fit_seconds"),
                   peak_rss_mb=info_fit.get("peak_rss_mb"), n_synth=len(samples),
                   model_dir=str(path), history=training_history(gen), evaluation=evaluation)
    info = {"model": gen.model_name, "directory": str(path), "data": label or "unknown",
            "input": kind, "documents" if kind == "text" else "pieces":
            info_fit.get("n_documents"), "tokens": info_fit.get("n_tokens"),
            "vocabulary": info_fit.get("vocab_size"), "tokenizer": info_fit.get("tokenizer"),
            "seed": info_fit.get("seed"), "created (UTC)": info_fit.get("created"),
            "samples drawn for this report": f"{len(samples)} (seed {seed + 1}, at most "
                                             f"{cap} tokens each)"}
    card = _text(path / "card.md")
    return RunView(title=f"{gen.model_name} ({path.name})", info=info, runs=[run],
                   cards={gen.model_name: card} if card else {}, notes=notes,
                   modality=kind, **extra)


def _corpus(path: Path, data: Any, gen: Any) -> tuple[Any, str | None, list[str]]:
    """The corpus a sequence model was fitted on: ``data`` when given, else the
    registry's record of the fit; used only if its token stream's fingerprint matches."""
    from genmodels._sequence_generator import stream_fingerprint

    kind = gen._input_type or "text"
    label = None
    if data is None:
        data = label = _registry_data(path, gen.model_name)
        if data is None:
            return None, None, [f"The training corpus is unknown (pass --data CORPUS): the "
                                f"report shows the model's {kind} alone, without likelihood "
                                "or comparison with the corpus."]
    elif isinstance(data, str | Path):
        label = str(data)
    if not isinstance(data, str | Path | list | tuple):
        return None, None, [f"--data: got {type(data).__name__}; a {kind} model needs its "
                            f"{kind} corpus (a path, a folder or a bundled name)."]
    try:
        stream = gen.codec.encode(data)
    except (ValueError, OSError) as e:
        return None, label, [f"The training corpus could not be read ({e})."]
    saved = (gen.fit_info_ or {}).get("data_fingerprint")
    if saved and stream_fingerprint(stream, gen.codec.to_json()) != saved:
        return None, label, [f"{label or 'data'} is not the corpus this model was fitted on "
                             "(its fingerprint differs): no likelihood or comparison."]
    return data, label or f"{type(data).__name__} of {len(data)}", []


def _real_table(path: Path, data: Any, gen: Any) -> tuple[Any, str | None, list[str]]:
    """The table the model was fitted on: ``data`` when given, else the registry's
    record of the fit; used only if its fingerprint matches the saved one."""
    from genmodels.compare import _read
    from genmodels.generator import fingerprint

    saved = (gen.fit_info_ or {}).get("data_fingerprint")
    label = None
    if data is None:
        label = _registry_data(path, gen.model_name)
        if label is None:
            return None, None, ["The training data is unknown (pass --data DATA to compare "
                                "with it): the plots show the synthetic data only."]
        data = label
    try:
        frame, label = _read(data)
    except (ValueError, OSError) as e:
        return None, label, [f"The training data could not be read ({e})."]
    if saved and fingerprint(frame) != saved:
        return None, label, [f"{label} is not the table this model was fitted on (its "
                             "fingerprint differs): the plots show the synthetic data only."]
    return frame, label, []


def _registry_data(path: Path, model: str) -> str | None:
    """The DATA of the newest successful fit recorded with ``out_dir == path``."""
    from genmodels import runs

    try:
        rows = runs.list_runs(limit=1000, model=model)
    except Exception as e:  # a missing or unreadable registry: no lookup
        log.debug("registry lookup failed: %s", e)
        return None
    target = str(path.resolve())
    for r in rows:
        if r["status"] == "ok" and r["out_dir"] and str(Path(r["out_dir"]).resolve()) == target:
            return r["data"]
    return None


def _parquet(*paths: Path | None) -> Any:
    import pandas as pd

    for p in paths:
        if p is not None and p.is_file():
            return pd.read_parquet(p)
    return None


def _text(*paths: Path | None) -> str | None:
    for p in paths:
        if p is not None and p.is_file():
            return p.read_text("utf-8")
    return None
