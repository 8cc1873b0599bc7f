"""``lstm``: a recurrent language model baseline over a token stream — embedding, a
stacked LSTM, an output layer tied to the embedding — trained by the shared Trainer on
random windows of ``bptt`` tokens (truncated back-propagation through time, each window
from a zero state). Its context is unbounded: scoring runs the state through the whole
stream and decoding carries it token by token, so ``log_prob`` is exact for the
sequences ``generate`` draws.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from genmodels.models._lm_params import lm_params
from genmodels.models._sequence import Decoding, NeuralSequenceModel, OnToken, SequenceModel
from genmodels.models.base import Capabilities, Param, positive_int, register

ARCH = ("n_embd", "hidden", "n_layer", "tie")
_CHUNK = 2048  # tokens per forward pass when scoring a stream


@register
class LSTMModel(NeuralSequenceModel):
    """Embedding + LSTM + (tied) softmax language model."""

    name: ClassVar[str] = "lstm"
    description: ClassVar[str] = ("LSTM language model (truncated BPTT, tied embeddings), "
                                  "exact log-likelihood, stateful decoding")
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=True, conditional=True, inputs="discrete",
        modalities=("text", "music"), deep=True)
    params: ClassVar[dict[str, Param]] = {
        "n_embd": Param(256, int, positive_int, "a positive integer", "embedding width"),
        "hidden": Param(256, int, positive_int, "a positive integer", "LSTM state width"),
        "n_layer": Param(1, int, positive_int, "a positive integer", "stacked LSTM layers"),
        "tie": Param(True, bool, lambda v: True, "true or false",
                     "output layer = embedding (needs hidden == n_embd)"),
        "bptt": Param(128, int, lambda v: positive_int(v) and v >= 2, "an integer >= 2",
                      "tokens per training window (truncated back-propagation)"),
        "dropout": Param(0.0, float, lambda v: 0 <= v < 1, "a number in [0, 1)",
                         "locked dropout on the LSTM's input and output (one seeded mask per "
                         "window, the same at every step)"),
        **lm_params(lr=2e-3),
    }

    def _fit_tokens(self, stream: np.ndarray, rng: np.random.Generator, *,
                    budget: float | None, callbacks: tuple,
                    init_from: SequenceModel | None) -> None:
        import torch

        from genmodels.models._lm_train import train_lm

        cfg = self.config
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        self.net_ = self._build(gen)
        if init_from is not None:
            diff = [k for k in ARCH if init_from.config[k] != cfg[k]]
            if diff:
                shown = ", ".join(f"{k}={init_from.config[k]} (here {cfg[k]})" for k in diff)
                raise ValueError(f"init_from: the pretrained lstm has a different "
                                 f"architecture: {shown}")
            self.net_.load_state_dict(init_from.net_.state_dict())
        self.train_result_ = train_lm(self.net_, _logits, stream, cfg["bptt"], cfg, rng,
                                      budget=budget, run=self.run_, callbacks=callbacks)
        self.net_.eval()

    def _build(self, generator):
        from genmodels.nn.recurrent import LSTMLM

        cfg = self.config
        return LSTMLM(self.vocab_size_, n_embd=cfg["n_embd"], hidden=cfg["hidden"],
                      n_layer=cfg["n_layer"], tie=cfg["tie"], dropout=cfg["dropout"],
                      generator=generator)

    def _stream_log_probs(self, stream: np.ndarray) -> np.ndarray:
        import torch

        from genmodels.training.threads import module_threads, torch_threads

        t = torch.from_numpy(np.ascontiguousarray(stream, dtype=np.int64))
        out, state = [], None
        with torch.no_grad(), torch_threads(module_threads(self.net_, 1)):
            for lo in range(0, t.numel() - 1, _CHUNK):
                chunk = t[lo:lo + _CHUNK + 1]
                logits, state = self.net_(chunk[None, :-1], state)
                logp = torch.log_softmax(logits[0].double(), dim=-1)
                out.append(logp.gather(-1, chunk[1:, None])[:, 0].numpy())
        return np.concatenate(out)

    def _generate(self, n: int, prefix: np.ndarray, max_tokens: int, rng: np.random.Generator,
                  decoding: Decoding, stop_at_eos: bool,
                  on_token: OnToken | None) -> list[np.ndarray]:
        from genmodels.models._lm_decode import decode
        from genmodels.training.threads import module_threads, torch_threads

        with torch_threads(module_threads(self.net_, n)):
            return decode(_LSTMStepper(self.net_), prefix, n, max_tokens, rng, decoding,
                          stop_at_eos, on_token)


class _LSTMStepper:
    """Next-token logits carrying the LSTM state: the prefix once, then one token a step."""

    def __init__(self, net) -> None:
        self.net, self.state = net, None

    def next_logits(self, seqs):
        if self.state is None:
            logits, self.state = self.net(seqs)
        else:
            logits, self.state = self.net(seqs[:, -1:], self.state)
        return logits[:, -1]

    def keep(self, rows) -> None:
        self.state = tuple(s[:, rows] for s in self.state)


def _logits(module, idx, generator):
    return module(idx, generator=generator)[0]
