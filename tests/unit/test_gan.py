"""The ``gan``: its pieces against analytic values, then the model's contract and a
mode-coverage property (8 Gaussians on a ring)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import genmodels as gm
from genmodels.models._gan_cond import CondSampler
from genmodels.models._gan_density import kde_log_prob, kernel_weights
from genmodels.models._gan_drs import acceptance, calibrate
from genmodels.models._gan_layout import Layout, gumbel_softmax
from genmodels.models._gan_modes import ModeNormalizer
from genmodels.models._gan_train import gradient_penalty
from genmodels.models.base import Field, Schema, make_model
from genmodels.nn.gan_blocks import pack

TINY = {"epochs": 4, "batch_size": 64, "g_width": 32, "d_width": 32, "noise_dim": 16,
        "pac": 2, "max_modes": 3, "diag_every": 2}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def mixed(n: int = 400, seed: int = 0) -> tuple[np.ndarray, Schema]:
    """A continuous field tied to a 3-level field, a rare 2-level field, and noise."""
    rng = np.random.default_rng(seed)
    cat = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    rare = (rng.random(n) < 0.05).astype(float)
    x = np.c_[cat * 2.0 + 0.3 * rng.standard_normal(n), cat, rare, rng.standard_normal(n)]
    schema = Schema((Field("x", "continuous"), Field("cat", "discrete", 3),
                     Field("rare", "discrete", 2), Field("z", "continuous")))
    return x, schema


def tiny_gan(x: np.ndarray, schema: Schema, seed: int = 0, **kw) -> gm.models.Model:
    return make_model("gan", **{**TINY, **kw}).fit(x, seed=seed, schema=schema)


# ------------------------------------------------------------------ pieces
def test_gumbel_softmax_is_seeded_and_gumbel_max_draws_follow_the_softmax():
    logits = torch.tensor([[0.0, 1.0, -1.0, 2.0]]).repeat(40_000, 1)
    a = gumbel_softmax(logits, 0.5, torch.Generator().manual_seed(1))
    b = gumbel_softmax(logits, 0.5, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and torch.allclose(a.sum(1), torch.ones(len(a)))
    layout = Layout(Schema((Field("c", "discrete", 4),)), None)
    drawn = layout.draw(logits, torch.Generator().manual_seed(2))
    freq = drawn.mean(0).numpy()
    np.testing.assert_allclose(freq, torch.softmax(logits[0], 0).numpy(), atol=0.01)


def test_training_by_sampling_frequencies_and_matching_real_rows():
    x, schema = mixed(2000)
    layout = Layout(schema, None)
    cond = CondSampler.build(x, layout)
    assert cond.dim == 5
    entries = cond.draw(100_000, torch.Generator().manual_seed(0), train=True)
    freq = np.bincount(entries.numpy(), minlength=5) / entries.numpy().size
    counts = cond.counts
    want = np.r_[np.log1p(counts[:3]) / np.log1p(counts[:3]).sum(),
                 np.log1p(counts[3:]) / np.log1p(counts[3:]).sum()] / 2
    np.testing.assert_allclose(freq, want, atol=0.006)
    rows = cond.real_rows(entries[:5000], torch.Generator().manual_seed(1)).numpy()
    e = entries[:5000].numpy()
    field = np.array(cond.fields)[cond.field_of[e]]
    assert (x[rows, field] == cond.level_of[e]).all()  # every real row has its level
    data = cond.draw(100_000, torch.Generator().manual_seed(3), train=False).numpy()
    got = np.bincount(data, minlength=5) / data.size
    np.testing.assert_allclose(got, np.r_[counts[:3] / 2000, counts[3:] / 2000] / 2, atol=0.006)


def test_cond_loss_is_the_cross_entropy_of_the_conditioned_field():
    x, schema = mixed(50)
    layout = Layout(schema, None)
    cond = CondSampler.build(x, layout)
    raw = torch.randn(6, layout.dim, generator=torch.Generator().manual_seed(0))
    entries = torch.tensor([0, 1, 2, 3, 4, 2])
    manual = []
    for e in entries.tolist():
        span = layout.discrete_span(cond.fields[cond.field_of[e]])
        manual.append(-torch.log_softmax(raw[:, span.start:span.stop], 1)[:, cond.level_of[e]])
    want = torch.stack([m[i] for i, m in enumerate(manual)]).mean()
    torch.testing.assert_close(cond.cond_loss(raw, entries), want)


def test_pack_puts_consecutive_rows_side_by_side():
    rows = torch.arange(12.0).reshape(6, 2)
    assert pack(rows, 3).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    with pytest.raises(ValueError, match="pac=4"):
        pack(rows, 4)


def test_wide_rows_get_a_factorized_critic_that_still_scores_packs():
    from genmodels.nn.gan_blocks import PackedCritic

    g = torch.Generator().manual_seed(0)
    wide, narrow = PackedCritic(500, 4, 16, 2, g), PackedCritic(60, 4, 16, 2, g)
    assert wide.proj is not None and narrow.proj is None
    assert sum(p.numel() for p in wide.parameters()) < 500 * 4 * 16 / 2
    rows = torch.randn(8, 500, generator=g)
    scores = wide(rows)
    assert scores.shape == (2,)
    swapped = rows.clone()
    swapped[4:] = rows[:4]  # the second pack becomes a copy of the first
    out = wide(swapped)
    assert out[1] == out[0] and out[0] == scores[0]


def test_gradient_penalty_of_a_linear_critic_is_analytic():
    w = torch.tensor([0.3, -1.2, 0.5, 2.0])  # a linear critic on packs of 2 rows of 2

    def critic(rows):
        return pack(rows, 2) @ w

    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    gp = gradient_penalty(critic, real, fake, 2, torch.Generator().manual_seed(0))
    torch.testing.assert_close(gp, (w.norm() - 1) ** 2)


def test_drs_calibration_recovers_a_logistic_model_and_acceptance_is_monotone():
    rng = np.random.default_rng(0)
    s = rng.normal(0, 2, 200_000)
    y = rng.random(s.size) < 1 / (1 + np.exp(-(1.5 * s - 0.5)))
    a, b = calibrate(s[y], s[~y])
    assert abs(a - 1.5) < 0.05 and abs(b + 0.5) < 0.05
    logits = np.linspace(-3, 2, 101)
    p, m = acceptance(logits, max_logit=1.0, quantile=0.8)
    assert m == 2.0 and (np.diff(p) > 0).all() and ((p > 0) & (p <= 1)).all()
    assert abs(np.quantile(p, 0.8) - 0.5) < 0.02  # gamma puts the 80 % quantile at 1/2


def test_mode_normalizer_finds_modes_and_round_trips():
    rng = np.random.default_rng(0)
    v = np.r_[rng.normal(-5, 0.1, 900), rng.normal(3, 0.5, 300)]
    norm = ModeNormalizer.fit(v[:, None], 4, np.random.default_rng(1))
    assert norm.counts[0] >= 2
    assert np.isclose(np.sort(norm.mu[0])[[0, -1]], [-5, 3], atol=0.2).all()
    alpha, mode = norm.encode(0, v, np.random.default_rng(2))
    assert np.abs(alpha).max() <= 0.99
    np.testing.assert_allclose(norm.decode(0, alpha, mode), v, atol=1e-9)


def test_layout_round_trips_mixed_rows():
    x, schema = mixed(300)
    modes = ModeNormalizer.fit(x[:, [0, 3]], 5, np.random.default_rng(0))
    layout = Layout(schema, modes)
    h = layout.encode(x, np.random.default_rng(0))
    assert h.shape == (300, layout.dim) and layout.dim == 2 + sum(modes.counts) + 5
    np.testing.assert_allclose(layout.decode(h), x, atol=1e-5)


def test_kde_log_prob_integrates_to_one():
    rng = np.random.default_rng(0)
    schema = Schema((Field("x", "continuous"), Field("c", "discrete", 3)))
    ref = np.c_[rng.normal(size=500), rng.integers(0, 3, 500)]
    grid = np.linspace(-8, 8, 4001)
    total = sum(np.exp(kde_log_prob(np.c_[grid, np.full_like(grid, c)], ref, schema)).sum()
                * (grid[1] - grid[0]) for c in range(3))
    assert abs(total - 1) < 1e-3


def test_kernel_weights_favour_rows_near_the_value():
    rows = np.c_[np.linspace(-3, 3, 61), np.zeros(61)]
    w = kernel_weights(rows, {0: 1.0})
    assert w.argmax() == 40 and w[0] < 1e-10


# ------------------------------------------------------------------ the model
def test_same_seed_same_bits_and_other_seeds_differ():
    x, schema = mixed()
    a, b, c = tiny_gan(x, schema, 1), tiny_gan(x, schema, 1), tiny_gan(x, schema, 2)
    for k, v in a.state().items():
        np.testing.assert_array_equal(v, b.state()[k], err_msg=k)
    np.testing.assert_array_equal(a.sample(50, seed=3), b.sample(50, seed=3))
    assert not np.array_equal(a.sample(50, seed=3), c.sample(50, seed=3))
    assert not np.array_equal(a.sample(50, seed=3), a.sample(50, seed=4))


@pytest.mark.parametrize("drs", [False, True])
def test_state_round_trip_is_bitwise(drs):
    x, schema = mixed()
    model = tiny_gan(x, schema, drs=drs)
    fresh = make_model("gan", **{**TINY, "drs": drs})
    fresh.schema_ = schema
    fresh.load_state(model.state(), model.extra())
    np.testing.assert_array_equal(model.sample(80, seed=5), fresh.sample(80, seed=5))
    np.testing.assert_array_equal(model.sample(30, seed=5, condition={1: 2.0}),
                                  fresh.sample(30, seed=5, condition={1: 2.0}))
    np.testing.assert_array_equal(model.log_prob(x[:50]), fresh.log_prob(x[:50]))


def test_generator_save_load(tmp_path):
    from tests.conftest import make_mixed_frame

    df = make_mixed_frame()
    gen = gm.Generator("gan", **TINY).fit(df, seed=0)
    back = gm.load(gen.save(tmp_path / "gan"))
    assert gen.sample(40, seed=1).equals(back.sample(40, seed=1))
    assert gen.sample(9, seed=1, condition={"cat": "low"}).equals(
        back.sample(9, seed=1, condition={"cat": "low"}))


def test_conditional_sampling_gives_exactly_n_rows():
    x, schema = mixed()
    model = tiny_gan(x, schema)
    for cond in ({1: 2.0}, {2: 1.0}, {1: 0.0, 2: 1.0}, {0: 0.5}, {0: 2.0, 1: 1.0}):
        out = model.sample(37, seed=1, condition=cond)
        assert out.shape == (37, 4)
        for j, v in cond.items():
            assert (out[:, j] == v).all(), cond


def test_conditions_the_gan_cannot_meet_are_clear_errors():
    x, schema = mixed()
    x[:, 2] = 0.0  # the level "rare = 1" never occurs
    model = tiny_gan(x, schema)
    with pytest.raises(ValueError, match="'rare'.*never occurs"):
        model.sample(5, seed=0, condition={2: 1.0})
    with pytest.raises(ValueError, match="'x'.*no rows"):
        model.sample(5, seed=0, condition={0: 1e6})


def test_history_holds_losses_and_coverage_diagnostics():
    x, schema = mixed()
    hist = tiny_gan(x, schema).train_result_.history
    assert len(hist) == TINY["epochs"]
    assert {"wasserstein", "loss_d", "loss_g", "gp", "cond_ce"} <= set(hist[0])
    assert "tv_discrete" not in hist[0] and "tv_discrete" in hist[1]
    assert {"levels_missed", "tv_continuous"} <= set(hist[3])
    assert all(0 <= r["tv_discrete"] <= 1 for r in hist if "tv_discrete" in r)


def test_log_prob_prefers_generated_like_rows():
    x, schema = mixed()
    model = tiny_gan(x, schema)
    near = model.sample(300, seed=0)
    far = near + np.array([6.0, 0, 0, 6.0])
    assert model.log_prob(near).mean() > model.log_prob(far).mean() + 5


def test_bad_hyperparameters_name_themselves():
    for name, bad in (("pac", 0), ("continuous", "spline"), ("drs_quantile", 1.5),
                      ("ema", 1.0), ("diag_every", -1), ("drs", "yes")):
        with pytest.raises(ValueError, match=name):
            make_model("gan", **{name: bad})


@pytest.mark.slow
def test_training_by_sampling_learns_the_condition_link():
    """x depends on cat; conditioning must move x's mean to cat's (2 * level)."""
    x, schema = mixed(600)
    model = tiny_gan(x, schema, epochs=60, g_width=64, d_width=64, lr=1e-3, pac=1,
                     n_critic=2, ema=0.99, diag_every=0)
    means = [model.sample(400, seed=1, condition={1: float(k)})[:, 0].mean() for k in range(3)]
    assert means[0] < means[1] < means[2] and means[2] - means[0] > 2.0, means


@pytest.mark.slow
def test_ring_of_8_gaussians_covers_at_least_7_modes_and_drs_sharpens_it():
    rng = np.random.default_rng(0)
    angles = 2 * np.pi * np.arange(8) / 8
    centres = 2.0 * np.c_[np.cos(angles), np.sin(angles)]
    data = centres[rng.integers(8, size=20_000)] + 0.02 * rng.standard_normal((20_000, 2))
    hyper = {"epochs": 6, "batch_size": 500, "pac": 4, "g_width": 128, "d_width": 128,
             "lr": 1e-3, "diag_every": 0, "ema": None}
    model = make_model("gan", **hyper).fit(data, seed=0)

    def coverage(m):
        out = m.sample(2500, seed=1)
        dist = np.linalg.norm(out[:, None] - centres[None], axis=2)
        good = dist.min(1) < 3 * 0.02
        return np.unique(dist.argmin(1)[good]).size, good.mean()

    covered, quality = coverage(model)
    # a uniform scatter over the square would put ~0.6 % of rows within 3 std of a mode
    assert covered >= 7 and quality > 0.25, (covered, quality)
    drs = make_model("gan", **hyper, drs=True)
    drs.schema_ = model.schema_
    drs.load_state(model.state(), model.extra())
    covered_drs, quality_drs = coverage(drs)
    assert covered_drs >= 7 and quality_drs > quality + 0.03, (quality, quality_drs)


def test_the_budget_covers_the_preparation_before_training(monkeypatch):
    """Mode fitting happens before the Trainer starts: the Trainer gets what is left of
    the budget, not all of it (the gan used to overrun its budget by that much)."""
    import time

    from genmodels import training

    slow = 0.5
    original = ModeNormalizer.fit.__func__

    def slow_fit(cls, *args, **kwargs):
        time.sleep(slow)
        return original(cls, *args, **kwargs)

    budgets = []
    real_init = training.Trainer.__init__

    def spy(self, *args, **kwargs):
        budgets.append(kwargs.get("budget"))
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(ModeNormalizer, "fit", classmethod(slow_fit))
    monkeypatch.setattr(training.Trainer, "__init__", spy)
    x, schema = mixed()
    make_model("gan", **TINY).fit(x, seed=0, schema=schema, budget=5.0)
    assert len(budgets) == 1 and budgets[0] is not None
    assert budgets[0] <= 5.0 - slow
