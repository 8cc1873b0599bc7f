"""Shared building blocks: seeded init without the global RNG, shapes, inputs, learning."""

from __future__ import annotations

import math

import pytest
import torch

from genmodels.nn import (
    MLP,
    CategoricalEmbedding,
    ConditionalMLP,
    FieldInput,
    ResidualBlock,
    linear,
    one_hot,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_same_generator_same_weights_and_the_global_rng_is_untouched():
    state = torch.random.get_rng_state()
    a = MLP(5, 3, (16, 16), residual=True, generator=gen(1))
    b = MLP(5, 3, (16, 16), residual=True, generator=gen(1))
    c = MLP(5, 3, (16, 16), residual=True, generator=gen(2))
    emb = CategoricalEmbedding([4, 7], generator=gen(1))
    assert torch.equal(state, torch.random.get_rng_state())
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(next(a.parameters()), next(c.parameters()))
    assert emb.out_features == sum(emb.dims)


def test_linear_init_matches_torch_default_scale():
    layer = linear(400, 300, gen(0))
    bound = 1.0 / math.sqrt(400)  # kaiming_uniform(a=sqrt 5) gives U(-1/sqrt(fan_in), ...)
    assert layer.weight.abs().max() <= bound + 1e-6
    assert abs(layer.weight.std().item() - bound / math.sqrt(3)) < 0.02 * bound
    assert layer.bias.abs().max() <= bound
    zero = linear(4, 2, gen(0), zero=True)
    assert not zero.weight.any() and not zero.bias.any()


def test_residual_block_with_zero_last_is_the_identity_at_init():
    block = ResidualBlock(8, 32, zero_last=True, generator=gen(0))
    x = torch.randn(10, 8, generator=gen(3))
    assert torch.equal(block(x), x)


@pytest.mark.parametrize("kw", [{}, {"residual": True}, {"norm": "layer"}, {"norm": "batch"},
                                {"act": "silu"}, {"zero_out": True}])
def test_mlp_shapes(kw):
    net = MLP(6, 4, (32, 32), generator=gen(0), **kw)
    out = net(torch.randn(9, 6, generator=gen(1)))
    assert out.shape == (9, 4) and torch.isfinite(out).all()
    if kw.get("zero_out"):
        assert not out.any()


def test_mlp_learns_a_nonlinear_function():
    torch.set_num_threads(1)
    x = torch.linspace(-2, 2, 256)[:, None]
    y = torch.sin(2 * x)
    net = MLP(1, 1, (32, 32), act="tanh", generator=gen(0))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(300):
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.02  # a linear fit leaves ~0.2


def test_bad_arguments_are_value_errors():
    with pytest.raises(ValueError, match="activation"):
        MLP(2, 2, (4,), act="swish2")
    with pytest.raises(ValueError, match="norm"):
        MLP(2, 2, (4,), norm="group")
    with pytest.raises(ValueError, match="hidden"):
        MLP(2, 2, (4, 8), residual=True)
    with pytest.raises(ValueError, match="in_features"):
        MLP(0, 2)


def test_one_hot_and_field_input():
    codes = torch.tensor([[0.0, 2.0], [1.0, 0.0]])
    oh = one_hot(codes, [2, 3])
    assert torch.equal(oh, torch.tensor([[1.0, 0, 0, 0, 1], [0, 1, 1, 0, 0]]))
    x = torch.tensor([[0.5, 1.0, 99.0, -1.0], [1.5, 0.0, 3.0, 2.0]])
    inp = FieldInput(["continuous", "discrete", "discrete", "continuous"], [0, 2, 100, 0],
                     embed_dim=4, max_one_hot=10, generator=gen(0))
    out = inp(x)
    assert out.shape == (2, inp.out_features) and inp.out_features == 2 + 2 + 4
    assert torch.equal(out[:, :2], x[:, [0, 3]]) and torch.equal(out[:, 2:4], one_hot(x[:, [1]], [2]))
    plain = FieldInput(["discrete"], [3])
    assert torch.equal(plain(torch.tensor([[2.0]])), torch.tensor([[0.0, 0.0, 1.0]]))


def test_conditional_mlp_uses_the_condition():
    net = ConditionalMLP(3, 2, 1, (16,), generator=gen(0))
    x = torch.randn(4, 3, generator=gen(1))
    a = net(x, torch.tensor([[1.0, 0.0]] * 4))
    b = net(x, torch.tensor([[0.0, 1.0]] * 4))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="cond"):
        net(x)
