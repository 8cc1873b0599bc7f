"""The full report of gm.evaluate: every group present when its input is, JSON and
frame exports, composite formulas, determinism and argument checks."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

import genmodels as gm
from genmodels.evaluation import SCORE_FORMULA, EvaluationReport, evaluate


def table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    sex = rng.choice(["f", "m"], n)
    return pd.DataFrame({"x": x, "y": x + 0.5 * rng.normal(size=n), "sex": sex,
                         "band": rng.choice(["lo", "mid", "hi"], n),
                         "label": np.where(x + 0.3 * (sex == "m") > 0, "yes", "no")})


@pytest.fixture(scope="module")
def full() -> tuple[EvaluationReport, gm.Generator]:
    real, holdout = table(900, 0), table(400, 1)
    gen = gm.Generator("gmm").fit(real, seed=0)
    synth = gen.sample(900, seed=1)
    modes = np.array([[0.0, 0.0], [2.0, 2.0]])
    report = evaluate(real, synth, target="label", sensitive=["sex", "band"], model=gen,
                      holdout=holdout, modes=modes, seed=3)
    return report, gen


def test_every_group_is_filled_and_exported(full) -> None:
    report, gen = full
    assert report.n_holdout == 400 and report.sensitive == ("sex", "band")
    for group in ("likelihood", "utility", "fairness", "diversity", "cost"):
        assert getattr(report, group) is not None, group
    d = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert d["format_version"] == 2 and d["score_formula"] == SCORE_FORMULA
    assert set(d["fairness"]) == {"sex", "band"}
    assert d["likelihood"]["kind"] == "exact" and d["cost"]["model"] == "gmm"
    assert d["fidelity"]["prdc"]["k"] == 5 and "one-hot" in d["fidelity"]["feature_space"]
    assert set(d["timings"]) >= {"fidelity", "privacy", "utility", "fairness", "likelihood"}
    frame = report.to_frame()
    assert set(frame["group"]) == {"summary", "fidelity", "likelihood", "utility", "privacy",
                                   "fairness", "diversity", "cost"}
    fair = frame[(frame.group == "fairness") & (frame.name == "sex")].set_index("metric")
    assert fair.loc["dp_gap_synth", "value"] == pytest.approx(
        report.fairness["sex"].dp_gap_synth)
    text = report.summary()
    for word in ("likelihood", "utility", "privacy", "fairness (sex)", "modes", "cost (gmm)"):
        assert word in text


def test_composite_formulas(full) -> None:
    report, _ = full
    p, u = report.privacy, report.utility
    scores = report.group_scores()
    assert scores["fidelity"] == report.score == report.fidelity.score
    assert scores["utility"] == pytest.approx(np.mean([min(max(r.ratio, 0), 1)
                                                       for r in u.results.values()]))
    want = np.mean([1 - 2 * max(p.mia_auc - 0.5, 0),
                    1 - max(p.exact_copy_rate - p.holdout_copy_rate, 0), min(p.dcr_ratio, 1)])
    assert scores["privacy"] == pytest.approx(want)
    h = report.headline()
    assert h["utility_score"] == scores["utility"] and h["privacy_score"] == scores["privacy"]


def test_optional_groups_are_none_without_their_inputs() -> None:
    real = table(300, 0)
    report = evaluate(real, table(300, 1))
    assert report.n_holdout is None and report.sensitive == ()
    for group in ("likelihood", "utility", "fairness", "diversity", "cost"):
        assert getattr(report, group) is None
        assert report.to_dict()[group] is None
    assert report.group_scores()["utility"] is None
    assert report.group_scores()["privacy"] == 1.0 - report.privacy.exact_copy_rate


def test_same_seed_same_report_with_every_group(full) -> None:
    report, gen = full
    real, holdout = table(900, 0), table(400, 1)
    again = evaluate(real, gen.sample(900, seed=1), target="label", sensitive=["sex", "band"],
                     model=gen, holdout=holdout, modes=np.array([[0.0, 0.0], [2.0, 2.0]]),
                     seed=3)
    a, b = report.to_dict(), again.to_dict()
    for d in (a, b):  # wall-clock figures
        d.pop("seconds"), d.pop("timings"), d.pop("cost")
        d["likelihood"].pop("log_prob_rows_per_s")
        d["summary"].pop("sample_rows_per_s")
    assert a == b


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"sensitive": "nope"}, "sensitive: got 'nope'"),
    ({"sensitive": "label", "target": "label"}, "sensitive: 'label' is the target"),
    ({"sensitive": ["sex", "sex"]}, "each column once"),
    ({"sensitive": 3}, "sensitive: got 3"),
    ({"model": "gmm"}, "model: got str"),
    ({"model": gm.Generator("gmm")}, "model: the Generator is not fitted"),
    ({"holdout": pd.DataFrame({"x": [1.0]})}, r"holdout: columns differ .* missing from holdout"),
    ({"holdout": [1, 2]}, "holdout: got list"),
    ({"modes": [[1.0, 2.0, 3.0]]}, r"modes: got an array of shape \(1, 3\)"),
    ({"modes": [[np.nan, 1.0]]}, "modes"),
])
def test_bad_arguments_name_the_argument(kwargs: dict, match: str) -> None:
    real = table(50, 0)
    with pytest.raises(ValueError, match=match):
        evaluate(real, real, **kwargs)


def test_a_holdout_column_of_the_wrong_kind_is_refused() -> None:
    real = table(50, 0)
    bad = real.assign(x="text")
    with pytest.raises(ValueError, match="holdout: column 'x'"):
        evaluate(real, real, holdout=bad)


def test_tiny_tables_still_give_a_report() -> None:
    real = table(6, 0)
    report = evaluate(real, table(5, 1), target="label", sensitive="sex", holdout=table(4, 2))
    assert report.fidelity.prdc is None  # k=5 needs more than 5 rows a side
    assert report.privacy.mia_auc is not None
    assert math.isnan(report.fairness["sex"].dp_gap_real or math.nan)  # groups < 20 rows
    json.dumps(report.to_dict(), allow_nan=False)
