"""The flow transforms' shared contract (zuko-style: one test over every transform):
inverse(forward(x)) == x, and log|det J| equals the log-determinant of the Jacobian
computed by autograd, in both directions; plus the properties of each piece."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genmodels.nn.flows import (
    MADE,
    Affine,
    Coupling,
    Flow,
    LULinear,
    MaskedAutoregressive,
    Permutation,
    RQSpline,
    build_flow,
)

D, C = 4, 3  # features, context width


def _perturb(module: torch.nn.Module, seed: int = 0, std: float = 0.4) -> torch.nn.Module:
    """Random weights everywhere (the zero-initialised output layers too), float64."""
    g = torch.Generator().manual_seed(seed)
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, std, generator=g)
    return module


TRANSFORMS = {
    "permutation": lambda: Permutation(torch.tensor([2, 0, 3, 1])),
    "lu": lambda: LULinear(D),
    "affine_coupling": lambda: Coupling(D, 2, Affine(), 16, 2),
    "affine_coupling_ctx": lambda: Coupling(D, 1, Affine(), 16, 2, context=C),
    "spline_coupling": lambda: Coupling(D, 2, RQSpline(5, 3.0), 16, 2),
    "spline_coupling_ctx": lambda: Coupling(D, 3, RQSpline(5, 3.0), 16, 1, context=C),
    "coupling_all_transformed": lambda: Coupling(D, 0, RQSpline(4, 3.0), 8, 1, context=C),
    "maf": lambda: MaskedAutoregressive([0, 1, 2, 3], Affine(), 16, 2),
    "maf_ctx_order": lambda: MaskedAutoregressive([3, 1, 0, 2], Affine(), 16, 2, context=C),
    "nsf_ar": lambda: MaskedAutoregressive([0, 1, 2, 3], RQSpline(6, 3.0), 16, 2),
    "nsf_ar_ctx": lambda: MaskedAutoregressive([2, 0, 3, 1], RQSpline(6, 3.0), 16, 1, C),
}


def _has_context(name: str) -> bool:
    return "ctx" in name or name == "coupling_all_transformed"


def _inputs(n: int = 7, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = 1.5 * torch.randn(n, D, generator=g, dtype=torch.float64)
    x[0, 0], x[1, 2] = 4.0, -7.5  # one point near the spline's edge, one in its tail
    return x, torch.randn(n, C, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_inverse_undoes_forward_and_ladj_matches_autograd(name):
    t = _perturb(TRANSFORMS[name]())
    x, c = _inputs()
    if not _has_context(name):
        c = None
    z, ladj = t(x, c)
    back, ladj_inv = t.inverse(z, c)
    # random weights make some spline bins nearly flat: inverting them is ill-conditioned
    torch.testing.assert_close(back, x, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(ladj_inv, -ladj, atol=1e-6, rtol=1e-6)
    assert not torch.allclose(z, x), "the perturbed transform should not be the identity"
    for i in range(x.shape[0]):
        ci = None if c is None else c[i:i + 1]
        jac = torch.autograd.functional.jacobian(lambda r, ci=ci: t(r[None], ci)[0][0], x[i])
        assert abs(torch.linalg.slogdet(jac)[1] - ladj[i]) < 1e-7
        jac_inv = torch.autograd.functional.jacobian(
            lambda r, ci=ci: t.inverse(r[None], ci)[0][0], z[i])
        assert abs(torch.linalg.slogdet(jac_inv)[1] - ladj_inv[i]) < 1e-7


@pytest.mark.parametrize("name", sorted(set(TRANSFORMS) - {"permutation"}))
def test_fresh_transform_is_the_identity(name):
    t = TRANSFORMS[name]().double()
    x, c = _inputs()
    z, ladj = t(x, c if _has_context(name) else None)
    torch.testing.assert_close(z, x)
    torch.testing.assert_close(ladj, torch.zeros(len(x), dtype=torch.float64))


def test_made_is_autoregressive_in_its_order():
    order = [2, 0, 3, 1]
    made = _perturb(MADE(order, 3, 12, 2))
    x = torch.randn(1, 4, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda r: made(r[None])[0], x[0])  # (4, 3, 4)
    dep = (jac.abs().sum(dim=1) > 0).numpy()
    for i in range(4):
        for j in range(4):
            assert dep[i, j] == (order[j] < order[i]), (i, j)
    assert dep.sum() > 0


def test_spline_is_monotonic_continuous_and_identity_outside_its_bound():
    spline = RQSpline(bins=6, bound=2.0)
    g = torch.Generator().manual_seed(3)
    params = 2.0 * torch.randn(1, 1, spline.n_params, generator=g, dtype=torch.float64)
    x = torch.linspace(-3, 3, 2001, dtype=torch.float64)[:, None]
    y, ladj = spline.forward(x, params.expand(len(x), 1, -1))
    assert (y[1:] > y[:-1]).all()
    outside = x.abs() >= 2.0
    torch.testing.assert_close(y[outside], x[outside])
    assert (ladj[outside] == 0).all() and torch.isfinite(ladj).all()
    cw, _, _ = spline._knots(params[0])
    cw = cw[0]
    knots = torch.cat([cw, torch.tensor([-2.0, 2.0], dtype=torch.float64)])
    eps = 1e-9
    at = torch.stack([knots - eps, knots + eps], 1).reshape(-1, 1)
    ya, _ = spline.forward(at, params.expand(len(at), 1, -1))
    assert (ya[1::2] - ya[::2]).abs().max() < 1e-5  # continuous at every knot and the bound
    assert ladj.min() > math.log(1e-3) - 1e-6 and ladj.max() < math.log(1e3) + 1e-6


def test_affine_scale_is_soft_clamped():
    aff = Affine(scale_bound=3.0)
    params = torch.tensor([[[0.0, 1e6], [0.0, -1e6]]], dtype=torch.float64)
    y, ladj = aff.forward(torch.ones(1, 2, dtype=torch.float64), params)
    torch.testing.assert_close(ladj, torch.tensor([[3.0, -3.0]], dtype=torch.float64))
    assert torch.isfinite(y).all()


def test_permutation_rejects_a_non_permutation():
    with pytest.raises(ValueError, match="perm"):
        Permutation(torch.tensor([0, 0, 1]))


@pytest.mark.parametrize("kind", ["realnvp", "maf", "nsf", "nsf_ar"])
@pytest.mark.parametrize("dim", [1, 2, 5])
def test_built_flows_invert_and_sample_deterministically(kind, dim):
    flow = build_flow(kind, dim, generator=torch.Generator().manual_seed(0), n_layers=3,
                      hidden=8, context=2, lu=dim > 2)
    flow = _perturb(flow, std=0.2)
    ctx = torch.randn(5, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    a = flow.sample(5, torch.Generator().manual_seed(4), ctx)
    b = flow.sample(5, torch.Generator().manual_seed(4), ctx)
    assert torch.equal(a, b) and a.shape == (5, dim)
    z, _ = flow.transform(a, ctx)
    back, _ = flow.transform.inverse(z, ctx)
    torch.testing.assert_close(back, a, atol=1e-8, rtol=1e-8)
    assert torch.isfinite(flow.log_prob(a, ctx)).all()


def test_build_flow_is_reproducible_and_rejects_bad_kind():
    a = build_flow("nsf", 6, generator=torch.Generator().manual_seed(5))
    b = build_flow("nsf", 6, generator=torch.Generator().manual_seed(5))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)
    with pytest.raises(ValueError, match="kind"):
        build_flow("glow", 2, generator=torch.Generator())


@pytest.mark.parametrize("kind", ["realnvp", "maf", "nsf", "nsf_ar"])
def test_density_of_a_random_flow_integrates_to_one(kind):
    """A perturbed (non-trivial) 2-D flow's density sums to ~1 on a fine grid."""
    flow = _perturb(build_flow(kind, 2, generator=torch.Generator().manual_seed(2),
                               n_layers=3, hidden=8, bins=6, bound=3.0), std=0.3)
    g = torch.linspace(-12, 12, 401, dtype=torch.float64)
    xx, yy = torch.meshgrid(g, g, indexing="ij")
    pts = torch.stack([xx.ravel(), yy.ravel()], 1)
    with torch.no_grad():
        dens = flow.log_prob(pts).exp().reshape(401, 401).numpy()
    cell = float(g[1] - g[0]) ** 2
    assert abs(np.trapezoid(np.trapezoid(dens)) * cell - 1.0) < 0.02


def test_flow_log_prob_matches_the_change_of_variables_by_hand():
    flow = _perturb(Flow([LULinear(2)], 2), std=0.3)
    x = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    lower, upper, s = flow.transform.transforms[0]._factors()
    w, b = lower @ upper, flow.transform.transforms[0].bias
    cov = torch.linalg.inv(w.T @ w)  # z = W x + b ~ N(0, I)  =>  x ~ N(-W^-1 b, (W^T W)^-1)
    mean = -torch.linalg.solve(w, b)
    ref = torch.distributions.MultivariateNormal(mean, cov).log_prob(x)
    torch.testing.assert_close(flow.log_prob(x), ref)
