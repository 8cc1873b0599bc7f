"""The ``transformer`` language model: it learns a corpus with structure (beats a
unigram baseline on held-out text), its log-probabilities are exact and normalised
(checked against a direct forward pass and by summing over the vocabulary), KV-cache
decoding draws the same tokens as full passes, prompts longer than the context work,
seeds make runs identical, save/load and fine-tuning keep the weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genmodels.models import make_model
from genmodels.models._lm_decode import GPTStepper, window_log_probs, window_start
from genmodels.models._sequence import EOS, Decoding
from genmodels.sampling.decoding import draw_tokens, filter_log_probs

SMALL = {"n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 16, "batch_size": 16,
         "steps": 150, "eval_every": 50, "lr": 3e-3, "warmup": 10}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def grammar_stream(n_docs: int, seed: int) -> np.ndarray:
    """Documents of a cyclic grammar over tokens 1..4 (each token fixes the next one;
    lengths 3..14), separated by EOS: a unigram model needs ~log 5 nats per token, a
    model that learned the rule ~0.2."""
    rng = np.random.default_rng(seed)
    out = [EOS]
    for _ in range(n_docs):
        start = int(rng.integers(4))
        out += [1 + (start + j) % 4 for j in range(int(rng.integers(3, 15)))] + [EOS]
    return np.asarray(out, dtype=np.int64)


def unigram_nll(train: np.ndarray, test: np.ndarray, vocab: int) -> float:
    p = (np.bincount(train[1:], minlength=vocab) + 1.0) / (train.size - 1 + vocab)
    return float(-np.log(p[test[1:]]).mean())


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)
    model = make_model("transformer", **SMALL)
    return model.fit_tokens(grammar_stream(400, 0), vocab_size=5, seed=0)


def test_loss_falls_and_held_out_nll_beats_unigram(fitted):
    hist = fitted.train_result_.history
    assert hist[-1]["loss"] < 0.6 * hist[0]["loss"]
    test = grammar_stream(100, 1)
    nll = fitted.stream_nll(test)
    base = unigram_nll(grammar_stream(400, 0), test, 5)
    assert nll < 0.5 * base, (nll, base)


def test_log_prob_equals_sum_of_log_softmax_of_a_forward_pass(fitted):
    doc = [1, 2, 3, 4, 1, 2]
    full = torch.tensor([[EOS, *doc, EOS]])
    with torch.no_grad():
        logp = torch.log_softmax(fitted.net_(full[:, :-1]).double(), -1)[0]
    direct = float(logp.gather(-1, full[0, 1:, None]).sum())
    assert fitted.log_prob_tokens([doc])[0] == pytest.approx(direct, abs=1e-5)


def test_long_stream_uses_the_moving_window_and_matches_token_by_token():
    """Past block_size, each token is scored from its window w(i)..i-1: compare with a
    direct forward pass per token."""
    net = make_model("transformer", **SMALL).fit_tokens(
        grammar_stream(30, 2), vocab_size=5, seed=1).net_
    stream = grammar_stream(10, 3)[:53]
    b, s = 16, 8
    got = window_log_probs(net, stream, b, s, batch=3)
    t = torch.from_numpy(stream)
    with torch.no_grad():
        for i in range(1, stream.size):
            w = window_start(i, b, s)
            assert i - w <= b and (i <= b or i - w > b - s)
            logp = torch.log_softmax(net(t[None, w:i]).double(), -1)[0, -1, stream[i]]
            assert got[i - 1] == pytest.approx(float(logp), abs=1e-5)


def test_stream_log_probs_are_normalised_over_the_vocabulary(fitted):
    """For every position, exp(log p(v | prefix)) summed over v is one."""
    prefix = grammar_stream(5, 4)[:40]
    total = 0.0
    for v in range(5):
        s = np.concatenate([prefix, [v]])
        total += np.exp(fitted._stream_log_probs(s)[-1])
    assert total == pytest.approx(1.0, abs=1e-6)


def with_and_without_cache(model, n: int, **kw) -> tuple[list, list]:
    """``model.generate(n, **kw)`` with the KV cache, then by full passes."""
    with_cache = model.generate(n, **kw)
    model.config["use_cache"] = False
    try:
        return with_cache, model.generate(n, **kw)
    finally:
        model.config["use_cache"] = True


def test_kv_cache_and_full_passes_draw_the_same_tokens(fitted):
    kw = {"seed": 3, "max_tokens": 40, "prompt": [2, 3], "stop_at_eos": False}
    with_cache, without = with_and_without_cache(fitted, 4, **kw)
    for a, b in zip(with_cache, without, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(len(a) == 40 for a in with_cache)  # ran past block_size: the window moved


def test_one_token_steps_give_the_logits_of_full_passes_across_window_moves(fitted):
    """The lean cached step (and the refills when the window moves) against a full
    forward pass over the window, at every position of a sequence 4 windows long."""
    seqs = torch.from_numpy(np.random.default_rng(0).integers(0, 5, (3, 64)))
    cached, full = (GPTStepper(fitted.net_, 16, 8, c) for c in (True, False))
    with torch.inference_mode():
        for i in range(1, 64):
            a, b = cached.next_logits(seqs[:, :i]), full.next_logits(seqs[:, :i])
            assert a.shape == (3, 5)
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize("decoding", [Decoding(temperature=2.0, top_k=3),
                                      Decoding(temperature=2.0, top_p=0.8),
                                      Decoding(temperature=1.5, top_k=4, top_p=0.9)])
def test_kv_cache_draws_the_tokens_of_full_passes_across_window_moves(fitted, rows, decoding):
    """Prompt + max_tokens = 45 > block_size 16: the window moves four times. Hot
    decoding makes the draws vary, so equal tokens mean equal filtered distributions."""
    kw = {"seed": 5, "max_tokens": 40, "prompt": [1, 2, 3, 4], "stop_at_eos": False,
          "decoding": decoding}
    with_cache, without = with_and_without_cache(fitted, rows, **kw)
    assert len(with_cache) == len(without) == rows
    for a, b in zip(with_cache, without, strict=True):
        np.testing.assert_array_equal(a, b)
        assert len(a) == 40
    seq = np.concatenate([[4], with_cache[0]])
    assert np.mean((seq[1:] - 1) != (seq[:-1] % 4)) > 0.1  # hot: not the grammar's argmax


def test_kv_cache_and_full_passes_agree_when_rows_stop_at_eos(fitted):
    """Rows that draw EOS leave the batch (the cache drops their rows): the others go on
    with the same tokens as full passes, and each row ends where it drew EOS."""
    kw = {"seed": 11, "max_tokens": 40, "prompt": [2], "decoding": Decoding(temperature=1.5)}
    with_cache, without = with_and_without_cache(fitted, 6, **kw)
    for a, b in zip(with_cache, without, strict=True):
        np.testing.assert_array_equal(a, b)
        assert EOS not in a
    lengths = sorted(len(a) for a in with_cache)
    assert lengths[0] < 40 and lengths[0] != lengths[-1]  # some rows stopped early


def test_draw_tokens_follows_the_filtered_distribution_and_never_draws_filtered_tokens():
    logits = np.log(np.array([[0.05, 0.4, 0.3, 0.15, 0.1]])) + 3.0  # logits: any shift
    dec = Decoding(top_k=4, top_p=0.8)  # top-4 drops token 0; top-p keeps 1, 2, 3
    want = np.exp(filter_log_probs(logits, dec))[0]
    np.testing.assert_allclose(want, [0, 0.4 / 0.85, 0.3 / 0.85, 0.15 / 0.85, 0], atol=1e-12)
    rng = np.random.default_rng(0)
    draws = np.concatenate([draw_tokens(np.repeat(logits, 500, 0), rng, dec)
                            for _ in range(40)])
    freq = np.bincount(draws, minlength=5) / draws.size
    assert freq[0] == freq[4] == 0
    np.testing.assert_allclose(freq, want, atol=0.01)  # 20,000 draws: sd < 0.004
    greedy = draw_tokens(logits, np.random.default_rng(1), Decoding(top_k=1))
    assert greedy.tolist() == [1] and greedy.dtype == np.int64


def test_samples_follow_the_grammar_and_prompt(fitted):
    rows = fitted.generate(8, seed=0, max_tokens=30, prompt=[3])
    ok = []
    for r in rows:
        seq = np.concatenate([[3], r])
        ok += list((seq[1:] - 1) == (seq[:-1] % 4))  # token t is followed by t % 4 + 1
    assert len(ok) > 30 and np.mean(ok) > 0.9, np.mean(ok)


def test_prompt_longer_than_the_context_is_refused_and_generation_slides_past_it(fitted):
    prompt = [1 + j % 4 for j in range(40)]  # 40 > block_size 16
    with pytest.raises(ValueError, match="longer than transformer's context of 16"):
        fitted.generate(2, seed=0, max_tokens=5, prompt=prompt, stop_at_eos=False)
    out = fitted.generate(2, seed=0, max_tokens=40, prompt=prompt[-15:], stop_at_eos=False)
    assert all(len(r) == 40 for r in out)  # generation runs on past the context window
    assert out[0][0] == 1  # the prompt ends in 4 -> 1 (the grammar's rule)


def test_same_seed_same_weights_and_tokens():
    stream = grammar_stream(40, 5)
    kw = {**SMALL, "steps": 20, "eval_every": 10}
    a = make_model("transformer", **kw).fit_tokens(stream, vocab_size=5, seed=7)
    b = make_model("transformer", **kw).fit_tokens(stream, vocab_size=5, seed=7)
    for k, v in a.state().items():
        np.testing.assert_array_equal(v, b.state()[k])
    ga, gb = a.generate(3, seed=1, max_tokens=20), b.generate(3, seed=1, max_tokens=20)
    for x, y in zip(ga, gb, strict=True):
        np.testing.assert_array_equal(x, y)


def test_state_round_trip_gives_the_same_log_probs_and_samples(fitted):
    fresh = make_model("transformer", **SMALL)
    fresh.schema_ = fitted.schema_
    fresh.load_state(fitted.state(), fitted.extra())
    stream = grammar_stream(5, 6)
    np.testing.assert_allclose(fresh._stream_log_probs(stream),
                               fitted._stream_log_probs(stream), atol=0)
    for x, y in zip(fresh.generate(2, seed=4, max_tokens=10),
                    fitted.generate(2, seed=4, max_tokens=10), strict=True):
        np.testing.assert_array_equal(x, y)


def test_init_from_starts_from_the_pretrained_weights(fitted):
    stream = grammar_stream(20, 7)
    tuned = make_model("transformer", **{**SMALL, "steps": 5, "eval_every": 5, "lr": 1e-5})
    tuned.fit_tokens(stream, vocab_size=5, seed=0, init_from=fitted)
    scratch = make_model("transformer", **{**SMALL, "steps": 5, "eval_every": 5, "lr": 1e-5})
    scratch.fit_tokens(stream, vocab_size=5, seed=0)
    test = grammar_stream(50, 8)
    assert tuned.stream_nll(test) < fitted.stream_nll(test) + 0.05
    assert tuned.stream_nll(test) < 0.5 * scratch.stream_nll(test)


def test_init_from_a_different_architecture_is_a_clear_error(fitted):
    other = make_model("transformer", **{**SMALL, "n_embd": 64})
    with pytest.raises(ValueError, match="init_from: .*n_embd=32 \\(here 64\\)"):
        other.fit_tokens(grammar_stream(10, 0), vocab_size=5, seed=0, init_from=fitted)


@pytest.mark.parametrize(("key", "value"), [("n_embd", 33), ("stride", 17)])
def test_bad_hyperparameters_are_clear_errors(key, value):
    model = make_model("transformer", **{**SMALL, key: value})
    with pytest.raises(ValueError, match=key):
        model.fit_tokens(grammar_stream(10, 0), vocab_size=5, seed=0)


def test_muon_takes_the_block_matrices_and_learns_the_grammar():
    from genmodels.models._lm_train import hidden_matrices
    from genmodels.nn.transformer import GPT

    net = GPT(5, n_layer=2, n_head=2, n_embd=16, block_size=8)
    names = {id(p): n for n, p in net.named_parameters()}
    picked = sorted(names[id(p)] for p in hidden_matrices(net))
    assert picked == sorted(f"blocks.{i}.{w}.weight" for i in range(2)
                            for w in ("attn.qkv", "attn.proj", "fc", "out"))
    stream = grammar_stream(400, 0)
    model = make_model("transformer", **{**SMALL, "optimizer": "muon"})
    model.fit_tokens(stream, vocab_size=5, seed=0)
    test = grammar_stream(100, 1)
    assert model.stream_nll(test) < 0.5 * unigram_nll(stream, test, 5)
