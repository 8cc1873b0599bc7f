"""Music: NLL per event on held-out Bach chorales, transformer vs ngram vs lstm.

The bundled chorales (music21's corpus, cached as MIDI) are split by piece: a seeded
``--held-out`` share (10 %) is never seen in fitting. The ``music`` codec (REMI-like
events, sixteenth grid) is fitted on the training pieces only. No velocity tokens by
default (every chorale note has velocity 90; ``--velocity-bins 8`` adds them). Each
model is fitted on the training stream (the neural ones for ``--budget`` wall seconds
each; the n-gram's order chosen on the last 10 % of the training pieces, then refitted
on all of them) and scored on the held-out stream: nats per event (token) and per note
(the stream's total nats over notes + piece ends). A unigram (add-one)
row gives the floor. Then ``--samples`` pieces are drawn from each model and compared
with the held-out pieces (pitch-class and duration histogram distances, polyphony) and
the training pieces (copy rate of 8-note n-grams); a held-out-vs-training row shows the
values real music gets.

    .venv/bin/python benchmarks/music.py --budget 120 --threads 1 \
        --out benchmarks/results/music.json
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (before numpy: it pins the thread pools)

log = logging.getLogger("music")
MODELS = ("ngram", "lstm", "transformer")
NEURAL = {  # small CPU settings; the budget ends the run (cosine to the budget)
    "lstm": {"n_embd": 256, "hidden": 256, "n_layer": 1, "bptt": 128, "batch_size": 32,
             "lr": 3e-3, "steps": 1_000_000, "eval_every": 100},
    "transformer": {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 256,
                    "batch_size": 16, "lr": 2e-3, "steps": 1_000_000, "eval_every": 100},
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default="bach", help="bach or essen")
    p.add_argument("--limit", type=int, default=None, help="first N pieces only")
    p.add_argument("--held-out", type=float, default=0.1, help="share of pieces held out")
    p.add_argument("--models", default=",".join(MODELS), help="ngram, lstm, transformer")
    p.add_argument("--budget", type=float, default=60.0, help="wall seconds per neural fit")
    p.add_argument("--orders", default="2,3,4,5,6,7,8,9", help="n-gram orders tried")
    p.add_argument("--velocity-bins", type=int, default=0,
                   help="velocity tokens (0: none; the chorales have one velocity, 90)")
    p.add_argument("--samples", type=int, default=8, help="pieces generated per model")
    p.add_argument("--max-tokens", type=int, default=1500, help="tokens per generated piece")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default="benchmarks/results/music.json")
    args = p.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    args.orders = [int(o) for o in args.orders.split(",") if o]
    if not 0 < args.held_out < 0.5:
        p.error(f"--held-out: got {args.held_out}; allowed: a number in (0, 0.5)")
    return args


def split(paths: list[Path], share: float, seed: int) -> tuple[list[Path], list[Path]]:
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(paths))
    k = max(1, round(share * len(paths)))
    held = sorted(paths[i] for i in order[:k])
    return sorted(paths[i] for i in order[k:]), held


def unigram_nll(train, test, vocab: int) -> float:
    """Add-one unigram: nats per predicted token of ``test[1:]``."""
    import numpy as np

    counts = np.bincount(train[1:], minlength=vocab) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[test[1:]].mean())


def fit_model(name: str, train_docs: list, vocab: int, args) -> tuple[Any, dict[str, Any]]:
    from genmodels.models.base import get_model_class

    cls = get_model_class(name)
    info: dict[str, Any] = {}
    train = _stream(train_docs)
    start = time.perf_counter()
    if name == "ngram":
        cut = round(0.9 * len(train_docs))
        fit_s = _stream(train_docs[:cut])
        val_s = _stream(train_docs[cut:])
        scores = {}
        for order in args.orders:
            try:
                m = cls(order=order).fit_tokens(fit_s, vocab_size=vocab, seed=args.seed)
            except ValueError as e:  # order too high for 64-bit keys
                log.info("ngram order %d skipped: %s", order, e)
                continue
            scores[order] = m.stream_nll(val_s)
        best = min(scores, key=scores.get)
        info["order_val_nll"] = scores
        info["order"] = best
        model = cls(order=best).fit_tokens(train, vocab_size=vocab, seed=args.seed)
    else:
        model = cls(**NEURAL[name]).fit_tokens(train, vocab_size=vocab, seed=args.seed,
                                               budget=args.budget)
        result = getattr(model, "train_result_", None)
        if result is not None and hasattr(result, "compact"):
            compact = result.compact()
            info["steps"] = compact.get("steps") if isinstance(compact, dict) else None
    info["fit_seconds"] = time.perf_counter() - start
    return model, info


def _stream(docs):
    import numpy as np

    parts = [np.zeros(1, np.int64)]
    for d in docs:
        parts += [d, np.zeros(1, np.int64)]
    return np.concatenate(parts)


def sample_metrics(model, codec, held, train_paths, args) -> dict[str, Any]:
    from genmodels.evaluation.music import music_metrics
    from genmodels.models._sequence import Decoding

    start = time.perf_counter()
    rows = model.generate(args.samples, seed=args.seed + 1, max_tokens=args.max_tokens,
                          decoding=Decoding(temperature=args.temperature))
    seconds = time.perf_counter() - start
    pieces = [codec.decode(r) for r in rows]
    out = music_metrics(pieces, held, train_paths)
    out["sample_seconds"] = seconds
    out["ended"] = sum(len(r) < args.max_tokens for r in rows) / len(rows)
    return out, pieces


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.pin_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    from genmodels.codecs.music import MusicCodec
    from genmodels.evaluation.music import music_metrics
    from genmodels.models.base import get_model_class
    from genmodels.music.corpus import bundled_music

    paths = bundled_music(args.corpus, args.limit)
    train_paths, held = split(paths, args.held_out, args.seed)
    codec = MusicCodec(velocity_bins=args.velocity_bins).fit(train_paths)
    train_docs = codec.encode_docs(train_paths)
    train, test = _stream(train_docs), codec.encode(held)
    vocab = codec.vocab_size
    n_notes = codec.count_units(held)  # notes + one end per piece
    log.info("%d train / %d held-out pieces; %d / %d tokens; vocabulary %d", len(train_paths),
             len(held), train.size, test.size, vocab)
    results: dict[str, Any] = {"machine": common.machine_info(args.threads), "args": vars(args),
                               "data": {"train_pieces": len(train_paths),
                                        "held_out_pieces": len(held),
                                        "train_tokens": int(train.size),
                                        "held_out_tokens": int(test.size),
                                        "held_out_notes_plus_ends": n_notes,
                                        "vocab_size": vocab, "codec": codec.to_json()},
                               "models": {}}
    n_pred = test.size - 1
    uni = unigram_nll(train, test, vocab)
    results["models"]["unigram"] = {"nats_per_event": uni,
                                    "nats_per_note": uni * n_pred / n_notes}
    results["reference"] = music_metrics(held, held, train_paths)
    for name in args.models:
        try:
            get_model_class(name)
        except ValueError as e:
            log.warning("%s: not registered (%s); skipped", name, e)
            continue
        model, info = fit_model(name, train_docs, vocab, args)
        nll = model.stream_nll(test)
        info.update(nats_per_event=nll, nats_per_note=nll * n_pred / n_notes)
        info["samples"], pieces = sample_metrics(model, codec, held, train_paths, args)
        out_dir = Path(args.out).with_suffix("") / name
        codec.write_pieces(pieces, out_dir)
        results["models"][name] = info
        log.info("%s: %.4f nats/event", name, nll)
    report(results)
    common.write_json(args.out, results)
    return 0


def report(results: dict[str, Any]) -> None:
    rows = []
    for name, r in results["models"].items():
        s = r.get("samples", {})
        rows.append([name, r.get("order") or r.get("steps"), r["nats_per_event"],
                     r["nats_per_note"], r.get("fit_seconds"), s.get("pitch_class_tv"),
                     s.get("duration_tv"), s.get("polyphony"), s.get("copy_rate_8")])
    ref = results["reference"]
    rows.append(["held-out (real)", None, None, None, None, ref["pitch_class_tv"],
                 ref["duration_tv"], ref["polyphony"], ref["copy_rate_8"]])
    common.print_table("Held-out chorales: NLL and samples",
                       ["model", "order/steps", "nats/event", "nats/note", "fit s",
                        "pc TV", "dur TV", "polyphony", "copy 8"], rows)


if __name__ == "__main__":
    sys.exit(main())
