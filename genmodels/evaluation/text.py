"""Text evaluation: held-out likelihood of a fitted text model (nats and bits per
character, perplexity) and the diversity and novelty of generated text (distinct-n,
share of generated 8-grams copied from the training corpus)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genmodels.evaluation.diversity import distinct_n, ngram_copy_rate

COPY_N = 8


def text_diversity(generated: Sequence[str], training: Sequence[str], *,
                   copy_n: int = COPY_N) -> dict[str, float]:
    """Distinct-1/2/3 of the generated words (higher: more varied), and the share of
    generated word ``copy_n``-grams and character ``copy_n``-grams found in the
    training documents (lower: more novel; 1: a copy). Words are whitespace-separated."""
    words = [d.split() for d in generated]
    train_words = [d.split() for d in training]
    out = {f"distinct_{n}": distinct_n(words, n) for n in (1, 2, 3)}
    out[f"copy_rate_words_{copy_n}"] = ngram_copy_rate(words, train_words, copy_n)
    out[f"copy_rate_chars_{copy_n}"] = ngram_copy_rate(generated, training, copy_n)
    out["n_documents"] = len(generated)
    out["mean_chars"] = sum(map(len, generated)) / max(len(generated), 1)
    return out


def evaluate_text(training: Any, generated: Any = None, *, model: Any = None,
                  holdout: Any = None) -> dict[str, Any]:
    """A text report: ``likelihood`` (``model``'s :meth:`Generator.stream_nll` on
    ``holdout`` and on ``training``) and ``diversity`` (:func:`text_diversity` of
    ``generated`` against ``training``). Corpora are anything the text codec reads (.txt
    path, folder of .txt, str, list of str); parts without their inputs are None."""
    from genmodels.codecs.text import read_documents

    train_docs = read_documents(training, "training")
    out: dict[str, Any] = {"likelihood": None, "diversity": None,
                           "n_training_documents": len(train_docs)}
    if model is not None:
        out["likelihood"] = {
            "holdout": model.stream_nll(read_documents(holdout, "holdout"))
            if holdout is not None else None,
            "train": model.stream_nll(train_docs),
        }
    if generated is not None:
        out["diversity"] = text_diversity(read_documents(generated, "generated"), train_docs)
    return out
