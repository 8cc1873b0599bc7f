"""A GPT-style decoder: token + learned position embeddings, pre-LayerNorm blocks of
causal self-attention (``scaled_dot_product_attention``) and a GELU MLP, a final
LayerNorm and an output layer tied to the token embedding. Incremental decoding with a
key/value cache (:class:`KVCache`): the prefix through :meth:`GPT.forward`, then one token
per step through :class:`OneTokenStep`. Every random draw (init, dropout) comes from a
``torch.Generator`` handed in.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genmodels.nn.mlp import seeded_dropout


class KVCache:
    """Keys and values of every layer for ``batch`` rows, up to ``capacity`` positions."""

    def __init__(self, n_layer: int, batch: int, n_head: int, capacity: int, head_dim: int,
                 dtype: torch.dtype = torch.float32) -> None:
        shape = (batch, n_head, capacity, head_dim)
        self.k = [torch.zeros(shape, dtype=dtype) for _ in range(n_layer)]
        self.v = [torch.zeros(shape, dtype=dtype) for _ in range(n_layer)]
        self.length = 0
        self.capacity = capacity

    @property
    def batch(self) -> int:
        return self.k[0].shape[0] if self.k else 0


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"n_embd: got {n_embd}; allowed: a multiple of n_head ({n_head})")
        self.n_head, self.head_dim = n_head, n_embd // n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None,
                layer: int = 0) -> torch.Tensor:
        """``x: (b, t, c)`` -> ``(b, t, c)``. With ``cache``: ``x`` holds the positions
        after ``cache.length`` (the whole prefix when the cache is empty, else one)."""
        b, t, c = x.shape
        qkv = F.linear(x, self.qkv.weight, self.qkv.bias)  # functional: no hook overhead
        q, k, v = qkv.view(b, t, 3, self.n_head, self.head_dim).permute(2, 0, 3, 1, 4)
        if cache is not None:
            start = cache.length
            if start and t != 1:
                raise ValueError("KV cache: feed the prefix at once, then one token per step")
            cache.k[layer][:, :, start:start + t] = k
            cache.v[layer][:, :, start:start + t] = v
            k = cache.k[layer][:, :, :start + t]
            v = cache.v[layer][:, :, :start + t]
            causal = start == 0 and t > 1
        else:
            causal = True
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        return F.linear(y.transpose(1, 2).reshape(b, t, c), self.proj.weight, self.proj.bias)


class Block(nn.Module):
    """Pre-LayerNorm transformer block: ``x + attn(ln(x))``, then ``x + mlp(ln(x))``."""

    def __init__(self, n_embd: int, n_head: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln2 = nn.LayerNorm(n_embd)
        self.fc = nn.Linear(n_embd, 4 * n_embd)
        self.out = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x: torch.Tensor, cache: KVCache | None, layer: int, p: float,
                generator: torch.Generator | None) -> torch.Tensor:
        c = (x.shape[-1],)
        h = F.layer_norm(x, c, self.ln1.weight, self.ln1.bias)
        x = x + seeded_dropout(self.attn.forward(h, cache, layer), p, generator)
        h = F.layer_norm(x, c, self.ln2.weight, self.ln2.bias)
        h = F.gelu(F.linear(h, self.fc.weight, self.fc.bias))
        return x + seeded_dropout(F.linear(h, self.out.weight, self.out.bias), p, generator)


class GPT(nn.Module):
    """Decoder-only transformer over ``vocab_size`` tokens with a context of ``block_size``."""

    def __init__(self, vocab_size: int, *, n_layer: int, n_head: int, n_embd: int,
                 block_size: int, dropout: float = 0.0,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.vocab_size, self.block_size, self.dropout = vocab_size, block_size, dropout
        self.n_layer, self.n_head = n_layer, n_head
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.reset_parameters(generator or torch.Generator().manual_seed(0))

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator) -> None:
        """GPT-2 init: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2 layers)."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.ndim == 1:  # LayerNorm gains
                p.fill_(1.0)
            else:
                std = 0.02
                if name.endswith(("attn.proj.weight", "out.weight")):
                    std /= math.sqrt(2 * self.n_layer)
                p.normal_(0.0, std, generator=generator)

    def forward(self, idx: torch.Tensor, cache: KVCache | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """``idx: (b, t)`` int64 -> logits ``(b, t, vocab_size)``. ``generator``: dropout
        masks (training only); ``cache``: incremental decoding (see :class:`KVCache`)."""
        t = idx.shape[1]
        start = 0 if cache is None else cache.length
        if start + t > self.block_size:
            raise ValueError(f"idx: {start + t} positions exceed the context of "
                             f"{self.block_size}")
        pos = torch.arange(start, start + t, device=idx.device)
        p = self.dropout if self.training else 0.0
        x = seeded_dropout(self.wte(idx) + self.wpe(pos), p, generator)
        for i, block in enumerate(self.blocks):
            x = block.forward(x, cache, i, p, generator)
        if cache is not None:
            cache.length = start + t
        return F.linear(self.ln_f(x), self.wte.weight)

    def new_cache(self, batch: int) -> KVCache:
        n_embd = self.wte.embedding_dim
        return KVCache(self.n_layer, batch, self.n_head, self.block_size,
                       n_embd // self.n_head, self.wte.weight.dtype)


class OneTokenStep:
    """One new token per row through a GPT whose :class:`KVCache` holds the positions
    before it: ``tok: (b,)`` int64 -> next-token logits ``(b, vocab_size)``. The same
    computation as ``net(tok[:, None], cache=cache)[:, -1]`` (eval mode: no dropout) without
    its module calls, position tensors and Python indexing: on one row, per-op overhead
    is as much of a step's time as the products are. Weights are fetched once;
    matrices are transposed copies ``(in, out)`` (a row times a row-major matrix is the
    faster product for a few rows), so a step is a snapshot of the weights when it was
    made: make a new one after they change."""

    def __init__(self, net: GPT) -> None:
        def t(w: torch.Tensor) -> torch.Tensor:
            return w.detach().t().contiguous()

        def d(w: torch.Tensor) -> torch.Tensor:
            return w.detach()

        self.layers = [
            (d(b.ln1.weight), d(b.ln1.bias), t(b.attn.qkv.weight), d(b.attn.qkv.bias),
             t(b.attn.proj.weight), d(b.attn.proj.bias), d(b.ln2.weight), d(b.ln2.bias),
             t(b.fc.weight), d(b.fc.bias), t(b.out.weight), d(b.out.bias))
            for b in net.blocks]
        self.wte, self.wpe, self.head = d(net.wte.weight), d(net.wpe.weight), t(net.wte.weight)
        self.ln_f = (d(net.ln_f.weight), d(net.ln_f.bias))
        self.n_head = net.n_head

    def __call__(self, tok: torch.Tensor, cache: KVCache) -> torch.Tensor:
        pos, b, n_embd = cache.length, tok.shape[0], self.wte.shape[1]
        if pos >= cache.capacity:
            raise ValueError(f"idx: {pos + 1} positions exceed the context of {cache.capacity}")
        c, nh, hd = (n_embd,), self.n_head, n_embd // self.n_head
        ln = torch.layer_norm  # F.layer_norm without its Python wrapper: ~2 us a call
        x = self.wte.index_select(0, tok) + self.wpe.select(0, pos)
        for i, (g1, b1, wqkv, bqkv, wp, bp, g2, b2, wf, bf, wo, bo) in enumerate(self.layers):
            q, k, v = torch.addmm(bqkv, ln(x, c, g1, b1), wqkv).view(b, 3, nh, 1, hd).unbind(1)
            keys, values = cache.k[i], cache.v[i]  # (b, nh, capacity, hd)
            keys.narrow(2, pos, 1).copy_(k)
            values.narrow(2, pos, 1).copy_(v)
            y = F.scaled_dot_product_attention(q, keys.narrow(2, 0, pos + 1),
                                               values.narrow(2, 0, pos + 1))
            x = x + torch.addmm(bp, y.view(b, n_embd), wp)
            h = F.gelu(torch.addmm(bf, ln(x, c, g2, b2), wf))
            x = x + torch.addmm(bo, h, wo)
        cache.length = pos + 1
        return torch.mm(ln(x, c, *self.ln_f), self.head)
