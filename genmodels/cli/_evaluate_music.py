"""``genmodels evaluate`` on a music corpus: held-out likelihood of a music model (nats
per event and per note) and how generated pieces compare with the corpus (pitch-class
and duration distances, polyphony, copy rate: ``genmodels.evaluation.music``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from genmodels.cli._common import console

LIKELIHOOD_KEYS = ("nats_per_token", "bits_per_token", "nats_per_note", "bits_per_note",
                   "perplexity")
IDEAL = {"pitch_class_tv": "0", "pitch_class_kl": "0", "duration_tv": "0",
         "polyphony": "= reference", "copy_rate_8": "low"}


def evaluate_music_cli(*, real: str, synth: str, holdout: str | None, model: Path | None,
                       path: Path | None, as_json: bool, seed: int) -> None:
    """REAL: the training corpus (``bach``, ``essen:N``, a .mid or a folder of them);
    SYNTH: generated pieces (a .mid or the folder `genmodels sample -o DIR` wrote);
    --holdout: held-out pieces, the reference of the distances and the held-out NLL."""
    import genmodels as gm
    from genmodels.cli._evaluate_text import finish
    from genmodels.evaluation.music import evaluate_music

    gen = gm.load(model) if model is not None else None
    if gen is not None and getattr(gen, "_input_type", None) != "music":
        raise ValueError(f"--model: {str(model)!r} is not a music model; REAL is a music corpus")
    start = time.perf_counter()
    try:
        report = evaluate_music(real, synth, model=gen, holdout=holdout, seed=seed)
    except ValueError as e:  # name the CLI's arguments, not the function's
        msg = str(e)
        for arg, opt in (("training", "REAL"), ("generated", "SYNTH"), ("holdout", "--holdout")):
            if msg.startswith(f"{arg}:"):
                msg = opt + msg[len(arg):]
        raise ValueError(msg) from None
    lk = report["likelihood"] or {}
    metrics = {**(report["music"] or {}),
               **{f"{k}_{m}": v for k, d in lk.items() if d for m, v in d.items()
                  if m in LIKELIHOOD_KEYS}}
    label = real if not Path(real).exists() else str(Path(real).resolve())
    finish(report, metrics, data=label, gen=gen, model=model, synth=synth, holdout=holdout,
           seed=seed, start=start, path=path, as_json=as_json,
           show=lambda: _print(report, real, synth, path))


def _print(report: dict[str, Any], real: str, synth: str, path: Path | None) -> None:
    from genmodels.cli.evaluate import _table

    out = console()
    n_hold = report["n_holdout_pieces"]
    out.print(f"{Path(synth).name} vs {Path(real).name} ({report['n_training_pieces']} "
              f"training pieces" + (f", {n_hold} held-out" if n_hold else "") + ")",
              style="bold")
    lk = report["likelihood"]
    if lk is not None:
        rows = [[w, d["nats_per_token"], d["bits_per_token"], d.get("nats_per_note"),
                 d["perplexity"], d["n_tokens"]] for w, d in lk.items() if d]
        out.print(_table("Likelihood (lower is better)",
                         ["pieces", "nats/event", "bits/event", "nats/note",
                          "perplexity/event", "events"], rows))
    else:
        out.print("Likelihood: pass --model DIR (and --holdout PIECES) for the NLL per event")
    m = report["music"]
    rows = [[k, v, IDEAL.get(k, "")] for k, v in m.items()
            if k not in ("n_pieces", "notes_per_piece", "polyphony_reference")]
    rows.insert(rows.index(next(r for r in rows if r[0] == "polyphony")) + 1,
                ["polyphony of the reference", m["polyphony_reference"], ""])
    out.print(_table(f"Music: {int(m['n_pieces'])} generated pieces "
                     f"({m['notes_per_piece']:.0f} notes each on average) vs the "
                     f"{report['reference']} pieces", ["metric", "value", "ideal"], rows,
                     caption="pitch-class / duration: distances of the pooled histograms "
                             "(tv in [0, 1], kl in nats); polyphony: notes sounding at "
                             "once; copy rate: share of generated 8-note runs (intervals "
                             "and durations) found in REAL (lower is more novel)"))
    if path is not None:
        out.print(f"report written to {path}")
