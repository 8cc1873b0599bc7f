"""Muon (orthogonalised momentum for matrices) and several optimizers stepped as one."""

from __future__ import annotations

import copy

import pytest
import torch

from genmodels.training.optim import Muon, Optimizers, adamw, orthogonalize


@pytest.mark.parametrize("shape", [(48, 48), (96, 32), (32, 96)])
def test_orthogonalize_flattens_the_singular_values_and_keeps_the_singular_vectors(shape):
    g = torch.Generator().manual_seed(0)
    # an ill-conditioned matrix: singular values over three orders of magnitude
    u, _ = torch.linalg.qr(torch.randn(shape[0], min(shape), generator=g))
    v, _ = torch.linalg.qr(torch.randn(shape[1], min(shape), generator=g))
    s = torch.logspace(0, -3, min(shape))
    m = u @ torch.diag(s) @ v.T
    o = orthogonalize(m)
    assert o.shape == m.shape and o.dtype == m.dtype
    sv = torch.linalg.svdvals(o)
    assert sv[: min(shape) // 2].min() > 0.6 and sv.max() < 1.3  # was 1 .. 0.001
    # same singular vectors: o ~ u diag(s') v^T with s' > 0, so u^T o v is diagonal
    core = u.T @ o @ v
    off = core - torch.diag(torch.diagonal(core))
    assert off.abs().max() < 1e-3 and torch.diagonal(core).min() > 0


def test_muon_steps_like_torch_muon():
    """Same update rule as torch.optim.Muon (which orthogonalises in bfloat16: close,
    not equal)."""
    g = torch.Generator().manual_seed(1)
    w0 = torch.randn(40, 24, generator=g)
    grads = [torch.randn(40, 24, generator=g) for _ in range(3)]
    ours, ref = torch.nn.Parameter(w0.clone()), torch.nn.Parameter(w0.clone())
    a = Muon([ours], lr=0.05, weight_decay=0.1)
    b = torch.optim.Muon([ref], lr=0.05, weight_decay=0.1)
    for grad in grads:
        ours.grad, ref.grad = grad.clone(), grad.clone()
        a.step()
        b.step()
    da, db = (ours.detach() - w0).flatten(), (ref.detach() - w0).flatten()
    assert torch.nn.functional.cosine_similarity(da, db, dim=0) > 0.995
    assert da.norm() == pytest.approx(float(db.norm()), rel=0.02)


def test_muon_refuses_vectors():
    with pytest.raises(ValueError, match="matrices"):
        Muon([torch.nn.Parameter(torch.zeros(3))])


def test_optimizers_step_both_and_round_trip_their_state():
    def build():
        g = torch.Generator().manual_seed(2)
        w = torch.nn.Parameter(torch.randn(8, 4, generator=g))
        bias = torch.nn.Parameter(torch.randn(8, generator=g))
        return w, bias, Optimizers(adamw([bias], lr=0.1), Muon([w], lr=0.1))

    def run(w, bias, opt, steps):
        for i in range(steps):
            x = torch.full((4,), float(i + 1))
            loss = ((w @ x + bias) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()

    w, bias, opt = build()
    assert all(g["params"][0] is p for g, p in zip(opt.param_groups, (bias, w), strict=True))
    w0, b0 = w.detach().clone(), bias.detach().clone()
    run(w, bias, opt, 3)
    assert not torch.equal(w, w0) and not torch.equal(bias, b0)  # both stepped
    w2, bias2, opt2 = build()
    with torch.no_grad():
        w2.copy_(w)
        bias2.copy_(bias)
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))  # as a checkpoint would
    run(w, bias, opt, 2)
    run(w2, bias2, opt2, 2)
    assert torch.equal(w, w2) and torch.equal(bias, bias2)
    with pytest.raises(ValueError, match="optimizer state"):
        opt2.load_state_dict({"0": opt.state_dict()["0"]})
