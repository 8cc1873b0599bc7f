"""``transformer``: a GPT-style decoder language model over a token stream (characters,
BPE tokens, music events), trained by the shared Trainer
(:mod:`genmodels.models._lm_train`), with exact log-probabilities and KV-cache decoding
(:mod:`genmodels.models._lm_decode`).

The defaults come from the char-level tiny-Shakespeare benchmark
(``benchmarks/charlm.py``, 1 thread on a busy 2-core machine, equal steps): a small
network — 3 layers x 160 wide, 5 heads of 32, context 128, batch 16 windows (at 1,000
steps and the same wall time it beat nanoGPT's 4 x 128 by 0.03 nats/char, as did
2 x 192; DATA.md: deeper/wider ones learn less per CPU-minute) — with a high peak
learning rate (5e-3: at 1,500 steps 6e-3 beat 3e-3 by 0.025, and batch 16 beat batch
32 at equal tokens by 0.07), a linear warmup of 100 steps and a cosine decay to the end
of the run (the ``budget`` when one is given), AdamW betas (0.9, 0.99), weight decay
0.1 on matrices, gradient clipping at 1, no dropout, fp32.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from genmodels.models._lm_params import lm_params
from genmodels.models._sequence import Decoding, NeuralSequenceModel, OnToken, SequenceModel
from genmodels.models.base import Capabilities, Param, positive_int, register

logger = logging.getLogger(__name__)

ARCH = ("n_layer", "n_head", "n_embd", "block_size")


def _stride_ok(v: Any) -> bool:
    return v is None or positive_int(v)


@register
class TransformerModel(NeuralSequenceModel):
    """GPT-style decoder (pre-LayerNorm, causal attention, tied embeddings)."""

    name: ClassVar[str] = "transformer"
    description: ClassVar[str] = ("GPT-style decoder language model: causal self-attention, "
                                  "exact log-likelihood, KV-cache decoding")
    capabilities: ClassVar[Capabilities] = Capabilities(
        exact_likelihood=True, conditional=True, inputs="discrete",
        modalities=("text", "music"), deep=True)
    params: ClassVar[dict[str, Param]] = {
        "n_layer": Param(3, int, positive_int, "a positive integer", "transformer blocks"),
        "n_head": Param(5, int, positive_int, "a positive integer", "attention heads"),
        "n_embd": Param(160, int, positive_int, "a positive integer (a multiple of n_head)",
                        "width of the residual stream"),
        "block_size": Param(128, int, lambda v: positive_int(v) and v >= 2, "an integer >= 2",
                            "context length (tokens)"),
        "stride": Param(None, int, _stride_ok, "a positive integer <= block_size or null",
                        "how far the context window moves once a sequence outgrows it "
                        "(null: block_size // 2)"),
        "dropout": Param(0.0, float, lambda v: 0 <= v < 1, "a number in [0, 1)",
                         "dropout on embeddings and residual branches (seeded masks)"),
        "use_cache": Param(True, bool, lambda v: True, "true or false",
                           "KV cache when generating (false: a full pass per token)"),
        **lm_params(optimizer="muon"),
    }

    # ------------------------------------------------------------------ fit
    def _fit_tokens(self, stream: np.ndarray, rng: np.random.Generator, *,
                    budget: float | None, callbacks: tuple,
                    init_from: SequenceModel | None) -> None:
        import torch

        from genmodels.models._lm_train import train_lm

        cfg = self.config
        if cfg["n_embd"] % cfg["n_head"]:
            raise ValueError(f"n_embd: got {cfg['n_embd']}; allowed: a multiple of n_head "
                             f"({cfg['n_head']})")
        self._stride()
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        self.net_ = self._build(gen)
        if init_from is not None:
            self._init_from(init_from)
        self.context = cfg["block_size"]
        self.train_result_ = train_lm(
            self.net_, _logits, stream, cfg["block_size"], cfg, rng, budget=budget,
            run=self.run_, callbacks=callbacks)
        self.net_.eval()

    def _build(self, generator):
        from genmodels.nn.transformer import GPT

        cfg = self.config
        return GPT(self.vocab_size_, n_layer=cfg["n_layer"], n_head=cfg["n_head"],
                   n_embd=cfg["n_embd"], block_size=cfg["block_size"],
                   dropout=cfg["dropout"], generator=generator)

    def _init_from(self, other: SequenceModel) -> None:
        diff = [k for k in ARCH if other.config[k] != self.config[k]]
        if diff:
            shown = ", ".join(f"{k}={other.config[k]} (here {self.config[k]})" for k in diff)
            raise ValueError(f"init_from: the pretrained transformer has a different "
                             f"architecture: {shown}; fine-tune with the same {', '.join(ARCH)}")
        self.net_.load_state_dict(other.net_.state_dict())
        logger.info("transformer: starting from the weights of the given model")

    def _stride(self) -> int:
        b, s = self.config["block_size"], self.config["stride"]
        if s is None:
            return max(1, b // 2)
        if s > b:
            raise ValueError(f"stride: got {s}; allowed: a positive integer <= block_size ({b})")
        return s

    # ------------------------------------------------------ likelihood, decoding
    def _stream_log_probs(self, stream: np.ndarray) -> np.ndarray:
        from genmodels.models._lm_decode import window_log_probs
        from genmodels.training.threads import module_threads, torch_threads

        b = self.config["block_size"]
        with torch_threads(module_threads(self.net_, min(stream.size, 32 * b))):
            return window_log_probs(self.net_, stream, b, self._stride())

    def _generate(self, n: int, prefix: np.ndarray, max_tokens: int, rng: np.random.Generator,
                  decoding: Decoding, stop_at_eos: bool,
                  on_token: OnToken | None) -> list[np.ndarray]:
        from genmodels.models._lm_decode import GPTStepper, decode
        from genmodels.training.threads import module_threads, torch_threads

        b, s = self.config["block_size"], self._stride()
        stepper = GPTStepper(self.net_, b, s, self.config["use_cache"])
        with torch_threads(module_threads(self.net_, n)):
            return decode(stepper, prefix, n, max_tokens, rng, decoding, stop_at_eos, on_token)

    # --------------------------------------------------------------- state
    def load_state(self, state: Mapping[str, np.ndarray], extra: Mapping[str, Any]) -> None:
        self.context = self.config["block_size"]
        super().load_state(state, extra)


def _logits(module, idx, generator):
    return module(idx, generator=generator)
