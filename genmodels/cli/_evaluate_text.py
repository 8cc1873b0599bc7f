"""``genmodels evaluate`` on a text corpus: held-out likelihood of a text model and the
diversity and novelty of generated text (``genmodels.evaluation.text``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from genmodels.cli._common import console, print_json


def evaluate_text_cli(*, real: str, synth: str, holdout: str | None, model: Path | None,
                      path: Path | None, as_json: bool, seed: int) -> None:
    """REAL: the training corpus; SYNTH: generated text (a .txt file or a folder such as
    the one `genmodels sample -o DIR` writes); --holdout: held-out text for the NLL."""
    import genmodels as gm
    from genmodels.evaluation.text import evaluate_text

    gen = gm.load(model) if model is not None else None
    if gen is not None and getattr(gen, "_input_type", None) != "text":
        raise ValueError(f"--model: {str(model)!r} is not a text model; REAL is a text corpus")
    start = time.perf_counter()
    report = evaluate_text(real, synth, model=gen, holdout=holdout)
    lk = report["likelihood"] or {}
    metrics = {**(report["diversity"] or {}),
               **{f"{k}_{m}": v for k, d in lk.items() if d for m, v in d.items()
                  if m in ("nats_per_char", "bits_per_char", "perplexity")}}
    finish(report, metrics, data=str(Path(real).resolve()), gen=gen, model=model, synth=synth,
           holdout=holdout, seed=seed, start=start, path=path, as_json=as_json,
           show=lambda: _print(report, real, synth, path))


def finish(report: dict[str, Any], metrics: dict[str, Any], *, data: str, gen: Any,
           model: Path | None, synth: str, holdout: str | None, seed: int, start: float,
           path: Path | None, as_json: bool, show: Any) -> None:
    """The end of a corpus evaluation (text or music): write ``report`` to ``path``
    (atomically), record the run with its headline ``metrics``, then print the JSON or
    call ``show()`` for the tables."""
    from genmodels.cli.train import _record

    if path is not None:
        from genmodels.files import atomic_write_text, dumps

        atomic_write_text(path, dumps(report))
    run_id = _record(kind="evaluate", status="ok", model=gen.model_name if gen else None,
                     data=data, seed=seed, duration_s=time.perf_counter() - start,
                     config={"synth": synth, "holdout": holdout,
                             "model_dir": str(model) if model else None},
                     metrics=metrics, out_dir=str(path.resolve()) if path else None)
    if as_json:
        print_json({"run_id": run_id, **report})
    else:
        show()


def _print(report: dict[str, Any], real: str, synth: str, path: Path | None) -> None:
    from genmodels.cli.evaluate import _table

    out = console()
    out.print(f"{Path(synth).name} vs {Path(real).name} "
              f"({report['n_training_documents']} training documents)", style="bold")
    lk = report["likelihood"]
    if lk is not None:
        rows = [[w, d["nats_per_char"], d["bits_per_char"], d["perplexity"], d["n_tokens"]]
                for w, d in lk.items() if d]
        out.print(_table("Likelihood (lower is better)",
                         ["text", "nats/char", "bits/char", "perplexity/token", "tokens"], rows))
    else:
        out.print("Likelihood: pass --model DIR (and --holdout FILE) for NLL and bits/char")
    dv = report["diversity"]
    rows = [[k, v] for k, v in dv.items() if k.startswith(("distinct", "copy"))]
    out.print(_table(f"Diversity of {dv['n_documents']} generated documents",
                     ["metric", "value"], rows,
                     caption="distinct-n: higher is more varied; copy rate: share of "
                             "generated 8-grams found in REAL (lower is more novel)"))
    if path is not None:
        out.print(f"report written to {path}")
