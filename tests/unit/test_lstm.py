"""The ``lstm`` language model: learns a structured corpus (beats a unigram baseline on
held-out text), exact and normalised log-probabilities (vs a direct forward pass),
stateful decoding that follows the grammar, determinism, save/load, fine-tuning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genmodels.models import make_model
from genmodels.models._sequence import EOS
from tests.unit.test_transformer import grammar_stream, unigram_nll

SMALL = {"n_embd": 32, "hidden": 32, "bptt": 24, "batch_size": 16, "steps": 150,
         "eval_every": 50, "lr": 1e-2, "warmup": 10}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def fitted():
    torch.set_num_threads(1)
    return make_model("lstm", **SMALL).fit_tokens(grammar_stream(400, 0), vocab_size=5, seed=0)


def test_loss_falls_and_held_out_nll_beats_unigram(fitted):
    hist = fitted.train_result_.history
    assert hist[-1]["loss"] < 0.6 * hist[0]["loss"]
    test = grammar_stream(100, 1)
    assert fitted.stream_nll(test) < 0.5 * unigram_nll(grammar_stream(400, 0), test, 5)


def test_log_prob_equals_a_direct_forward_pass_and_is_normalised(fitted):
    doc = [2, 3, 4, 1, 2]
    full = torch.tensor([[EOS, *doc, EOS]])
    with torch.no_grad():
        logp = torch.log_softmax(fitted.net_(full[:, :-1])[0].double(), -1)[0]
    direct = float(logp.gather(-1, full[0, 1:, None]).sum())
    assert fitted.log_prob_tokens([doc])[0] == pytest.approx(direct, abs=1e-5)
    long = grammar_stream(400, 2)[:5000]  # longer than one scoring chunk: state carried
    total = sum(np.exp(fitted._stream_log_probs(np.r_[long, v])[-1]) for v in range(5))
    assert total == pytest.approx(1.0, abs=1e-6)
    with torch.no_grad():
        t = torch.from_numpy(long)
        ref = torch.log_softmax(fitted.net_(t[None, :-1])[0].double(), -1)[0]
    np.testing.assert_allclose(fitted._stream_log_probs(long),
                               ref.gather(-1, t[1:, None])[:, 0].numpy(), atol=1e-4)


def test_samples_follow_the_grammar_and_same_seed_same_tokens(fitted):
    rows = fitted.generate(8, seed=0, max_tokens=30, prompt=[2])
    ok = []
    for r in rows:
        seq = np.concatenate([[2], r])
        ok += list((seq[1:] - 1) == (seq[:-1] % 4))
    assert len(ok) > 30 and np.mean(ok) > 0.9
    again = fitted.generate(8, seed=0, max_tokens=30, prompt=[2])
    for a, b in zip(rows, again, strict=True):
        np.testing.assert_array_equal(a, b)


def test_state_round_trip_and_determinism(fitted):
    fresh = make_model("lstm", **SMALL)
    fresh.schema_ = fitted.schema_
    fresh.load_state(fitted.state(), fitted.extra())
    s = grammar_stream(5, 3)
    np.testing.assert_array_equal(fresh._stream_log_probs(s), fitted._stream_log_probs(s))
    kw = {**SMALL, "steps": 10, "eval_every": 5}
    a = make_model("lstm", **kw).fit_tokens(s, vocab_size=5, seed=3)
    b = make_model("lstm", **kw).fit_tokens(s, vocab_size=5, seed=3)
    for k, v in a.state().items():
        np.testing.assert_array_equal(v, b.state()[k])


def test_init_from_and_tie_errors(fitted):
    tuned = make_model("lstm", **{**SMALL, "steps": 3, "eval_every": 3, "lr": 1e-6})
    tuned.fit_tokens(grammar_stream(10, 4), vocab_size=5, seed=0, init_from=fitted)
    test = grammar_stream(50, 5)
    assert tuned.stream_nll(test) == pytest.approx(fitted.stream_nll(test), abs=0.02)
    with pytest.raises(ValueError, match="init_from: .*hidden"):
        make_model("lstm", **{**SMALL, "hidden": 16, "tie": False}).fit_tokens(
            grammar_stream(10, 4), vocab_size=5, seed=0, init_from=fitted)
    with pytest.raises(ValueError, match="tie"):
        make_model("lstm", **{**SMALL, "hidden": 16}).fit_tokens(
            grammar_stream(10, 4), vocab_size=5, seed=0)


def test_locked_dropout_masks_are_seeded_shared_over_time_and_off_in_eval():
    from genmodels.nn import seeded_dropout
    from genmodels.nn.recurrent import LSTMLM

    def _locked_dropout(x, p, generator):
        return seeded_dropout(x, p, generator, shared=(1,))

    x = torch.ones(4, 50, 8)
    y = _locked_dropout(x, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(y, y[:, :1].expand_as(y))  # one mask per row, every step the same
    assert set(y.unique().tolist()) <= {0.0, 2.0} and 0 < (y == 0).float().mean() < 1
    assert torch.equal(y, _locked_dropout(x, 0.5, torch.Generator().manual_seed(0)))
    net = LSTMLM(5, n_embd=8, hidden=8, n_layer=1, dropout=0.5)
    idx = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        a = net(idx, generator=torch.Generator().manual_seed(1))[0]
        b = net(idx, generator=torch.Generator().manual_seed(2))[0]
        assert not torch.allclose(a, b)  # training mode: masks applied
        net.eval()
        c = net(idx, generator=torch.Generator().manual_seed(1))[0]
        assert torch.equal(c, net(idx)[0])  # eval mode: no dropout
    with pytest.raises(ValueError, match="dropout"):
        LSTMLM(5, n_embd=8, hidden=8, n_layer=1, dropout=1.0)


def test_dropout_fit_still_learns_the_grammar():
    lm = make_model("lstm", **{**SMALL, "dropout": 0.2}).fit_tokens(
        grammar_stream(400, 0), vocab_size=5, seed=0)
    test = grammar_stream(100, 1)
    assert lm.stream_nll(test) < 0.5 * unigram_nll(grammar_stream(400, 0), test, 5)
