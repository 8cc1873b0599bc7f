"""ngram: interpolated modified Kneser-Ney, checked against a plain-Python reference,
normalisation, document boundaries, fine-tuning by adding counts, and speed/quality on
tiny Shakespeare (slow)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from genmodels.models.ngram import NGram, discounts

SHAKESPEARE = Path("/work/shared/data/tinyshakespeare.txt")


def markov_stream(n: int, seed: int, v: int = 6) -> np.ndarray:
    """Documents from one fixed second-order Markov chain over tokens 1..v-1 (``seed``
    draws the documents), EOS-separated."""
    trans = np.random.default_rng(123).dirichlet(np.full(v - 1, 0.3), size=(v, v))
    rng = np.random.default_rng(seed)
    out = [0]
    while len(out) < n:
        a, b = 0, 0
        for _ in range(rng.integers(20, 60)):
            c = 1 + rng.choice(v - 1, p=trans[a, b])
            out.append(int(c))
            a, b = b, c
        out.append(0)
    return np.asarray(out, np.int64)


# ----------------------------------------------------------------- reference
def ref_log_probs(train: np.ndarray, test: np.ndarray, order: int, v: int) -> np.ndarray:
    """Interpolated modified Kneser-Ney written out with dicts (same definitions)."""
    def grams(stream):
        out = []
        for i in range(1, len(stream)):
            hist = [0] * (order - 1) + list(stream[max(0, i - order + 1):i])
            hist = hist[len(hist) - (order - 1):] if order > 1 else []
            last = max((j for j, t in enumerate(hist) if t == 0), default=-1)
            hist = [0 if j < last else t for j, t in enumerate(hist)]
            out.append(tuple(hist) + (int(stream[i]),))
        return out

    top = grams(train)
    counts = {order: Counter(top)}
    distinct = set(top)
    for k in range(order - 1, 0, -1):
        counts[k] = Counter(g[1:] for g in distinct)
        distinct = set(counts[k])
    disc = {k: discounts(np.array(list(c.values()))) for k, c in counts.items()}
    ctx = {k: Counter() for k in counts}
    mass = {k: Counter() for k in counts}
    for k, c in counts.items():
        for g, n in c.items():
            ctx[k][g[:-1]] += n
            mass[k][g[:-1]] += disc[k][min(n, 3) - 1]

    def prob(g):
        p = 1.0 / v
        for k in range(1, order + 1):
            h, full = g[order - k:-1], g[order - k:]
            if ctx[k][h] > 0:
                n = counts[k].get(full, 0)
                d = disc[k][min(n, 3) - 1] if n else 0.0
                p = (max(n - d, 0.0) + mass[k][h] * p) / ctx[k][h]
        return p

    return np.log([prob(g) for g in grams(test)])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_the_reference_implementation(order):
    train, test = markov_stream(3000, 0), markov_stream(600, 1)
    m = NGram(order=order).fit_tokens(train, vocab_size=7, seed=0)  # token 6 never seen
    np.testing.assert_allclose(m._stream_log_probs(test),
                               ref_log_probs(train, test, order, 7), rtol=1e-10)


def test_next_token_distributions_are_normalised_and_positive():
    train = markov_stream(4000, 2)
    m = NGram(order=5).fit_tokens(train, vocab_size=8, seed=0)
    rng = np.random.default_rng(3)
    prefixes = [np.concatenate([[0], rng.integers(1, 8, rng.integers(0, 9))])
                for _ in range(200)]
    p = np.exp(m._next_log_probs(prefixes))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    assert p.min() > 0  # unseen token 7 keeps some probability


def test_stream_log_probs_agree_with_next_token_distributions():
    train = markov_stream(3000, 4)
    m = NGram(order=3).fit_tokens(train, vocab_size=6, seed=0)
    doc = markov_stream(80, 5)
    doc = doc[:np.flatnonzero(doc == 0)[1] + 1]  # the first document and its EOS
    assert doc[0] == 0 and doc[-1] == 0 and 0 not in doc[1:-1]
    direct = [m._next_log_probs([doc[:i]])[0, doc[i]] for i in range(1, doc.size)]
    np.testing.assert_allclose(m._stream_log_probs(doc), direct, rtol=1e-12)


def test_histories_stop_at_document_boundaries():
    m = NGram(order=4).fit_tokens(markov_stream(3000, 6), vocab_size=6, seed=0)
    doc = [3, 1, 4, 1, 5]
    a = m._stream_log_probs(np.array([0, 2, 2, 2, 0, *doc, 0]))[-len(doc) - 1:]
    b = m._stream_log_probs(np.array([0, 5, 1, 0, *doc, 0]))[-len(doc) - 1:]
    np.testing.assert_array_equal(a, b)
    assert m.log_prob_tokens([doc])[0] == pytest.approx(a.sum())


def test_higher_orders_learn_the_chain_and_beat_lower_ones():
    train, val = markov_stream(40_000, 7), markov_stream(5000, 8)
    nll = {k: NGram(order=k).fit_tokens(train, vocab_size=6, seed=0).stream_nll(val)
           for k in (1, 2, 3)}
    assert nll[3] < nll[2] - 0.1 < nll[1] - 0.2
    assert nll[3] < np.log(6) - 0.5


def test_deterministic_text_is_continued():
    stream = np.array([0] + [1, 2, 3] * 200 + [0])
    m = NGram(order=3).fit_tokens(stream, vocab_size=4, seed=0)
    out = m.generate(3, seed=0, max_tokens=30, prompt=[1, 2])
    successor = {1: 2, 2: 3, 3: 1}
    for row in out:
        steps = np.concatenate([[2], row])
        follows = [successor.get(int(a)) == b for a, b in zip(steps[:-1], steps[1:], strict=True)]
        assert row.size >= 20 and np.mean(follows) > 0.9


def test_state_round_trip_and_fine_tuning_adds_counts():
    a, b = markov_stream(2000, 9), markov_stream(2000, 10)
    base = NGram(order=3).fit_tokens(a, vocab_size=6, seed=0)
    fresh = NGram(order=3)
    fresh.schema_ = base.schema_
    fresh.load_state(base.state(), base.extra())
    np.testing.assert_array_equal(fresh._stream_log_probs(b), base._stream_log_probs(b))
    tuned = NGram(order=3).fit_tokens(b, vocab_size=6, seed=0, init_from=base)
    joint = NGram(order=3).fit_tokens(np.concatenate([a, b[1:]]), vocab_size=6, seed=0)
    np.testing.assert_array_equal(tuned.state()["keys_3"], joint.state()["keys_3"])
    np.testing.assert_array_equal(tuned.state()["counts_3"], joint.state()["counts_3"])
    with pytest.raises(ValueError, match="order"):
        NGram(order=2).fit_tokens(b, vocab_size=6, seed=0, init_from=base)


def test_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        NGram(order=0)
    with pytest.raises(ValueError, match="overflows"):
        NGram(order=8).fit_tokens(np.array([0, 1, 2, 0]), vocab_size=50_000, seed=0)


@pytest.mark.slow
@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="tiny Shakespeare is not available")
def test_tiny_shakespeare_speed_and_quality():
    from genmodels.codecs.text import TextCodec

    text = SHAKESPEARE.read_text("utf-8")
    cut = int(len(text) * 0.9)
    codec = TextCodec().fit(text)
    train, val = codec.encode(text[:cut]), codec.encode(text[cut:])
    nll = {}
    for order in (3, 5):
        start = time.perf_counter()
        m = NGram(order=order).fit_tokens(train, vocab_size=codec.n_tokens, seed=0)
        mid = time.perf_counter()
        nll[order] = m.stream_nll(val)
        assert mid - start < 20 and time.perf_counter() - mid < 30
    assert nll[3] <= 2.046 + 0.05  # DATA.md trigram floor
    assert nll[5] < nll[3] - 0.3
