"""The HTML report: one self-contained page (embedded PNGs, no external assets), every
section present with its figures or an empty-state note, data escaped, the association
measures right on known cases."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from genmodels.compare import ModelRun
from genmodels.report import RunView, build_report, plots, write_report
from genmodels.report.html import fmt, markdown
from genmodels.report.sections import wav_base64
from tests.conftest import make_mixed_frame

SECTIONS = ("overview", "leaderboard", "fidelity", "marginals", "correlations", "training",
            "utility", "likelihood", "privacy", "fairness", "cost", "cards", "images",
            "text", "audio")
PNG = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Collects ids, links, image sources and the tags used."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _view(**kw) -> RunView:
    real = make_mixed_frame(200, seed=0)
    good = make_mixed_frame(200, seed=1)
    bad = real.sample(frac=1.0, random_state=0).reset_index(drop=True)
    bad["y"] = bad["y"].sample(frac=1.0, random_state=1).to_numpy()  # breaks x-y
    ev = {"fidelity": {"score": 0.9, "columns": [
        {"column": "x", "metric": "ks", "statistic": 0.05}]},
        "privacy": {"exact_copy_rate": 0.0, "mia_auc": 0.51},
        "utility": {"learners": {"hgb": {"ratio": 0.97}}}}
    runs = [
        ModelRun("good", "ok", rank=1, composite=0.9,
                 metrics={"fidelity": 0.9, "utility": 0.97, "privacy": 0.98},
                 holdout_nll=3.2, likelihood="exact", fit_seconds=0.5, evaluation=ev,
                 history={"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.2, None]}),
        ModelRun("shuffled", "ok", rank=2, composite=0.6, metrics={"fidelity": 0.6},
                 evaluation=ev),
        ModelRun("broken", "failed", error="ValueError: <b>boom</b>"),
        ModelRun("slow", "timeout", error="fit + sample took longer than the budget"),
    ]
    args = {"title": "mixed", "info": {"data": "mixed.csv", "budget (s)": 30.0},
            "runs": runs, "real": real, "synth": {"good": good, "shuffled": bad},
            "cards": {"good": "# Model card: good\n\nA *test* model.\n\n- `alpha` = 1\n"}}
    return RunView(**(args | kw))


@pytest.fixture(scope="module")
def page() -> str:
    return build_report([_view()])


def test_every_section_is_there_and_in_the_table_of_contents(page) -> None:
    parsed = _parse(page)
    for key in SECTIONS:
        assert key in parsed.ids, key
        assert f"#{key}" in parsed.hrefs, key
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_the_page_is_self_contained(page) -> None:
    parsed = _parse(page)
    assert not {"script", "link", "iframe"} & parsed.tags
    assert all(h.startswith("#") for h in parsed.hrefs)
    assert not re.search(r"(?i)https?://|url\(", page)
    assert parsed.srcs and all(s.startswith("data:image/png;base64,") for s in parsed.srcs)
    for src in parsed.srcs:
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)


def test_figures_one_marginal_per_column_and_the_rest(page) -> None:
    alts = re.findall(r'<img alt="([^"]+)"', page)
    marginals = [a for a in alts if a.startswith("marginal of ")]
    assert sorted(marginals) == sorted(f"marginal of {c}" for c in make_mixed_frame(5).columns)
    assert "association heatmaps, real and synthetic" in alts
    assert "training curves of good" in alts
    assert "leaderboard chart" in alts
    assert "ks 0.050" in page  # the column's distance in its caption


def test_failures_cards_and_escaping(page) -> None:
    assert "status-failed" in page and "status-timeout" in page
    assert "ValueError: &lt;b&gt;boom&lt;/b&gt;" in page and "<b>boom</b>" not in page
    assert "<h3>Model card: good</h3>" in page and "<code>alpha</code>" in page
    # empty states for what this run does not have
    assert "No sensitive attribute was given" in page
    assert "No image model in this run" in page and "No audio or music model" in page


def test_malicious_names_are_escaped() -> None:
    real = pd.DataFrame({"<script>x</script>": [1.0, 2.0, 3.0, 4.0], "b": [1, 0, 1, 0]})
    view = _view(real=real, synth={"good": real.copy()}, title="<img src=x>",
                 info={"data": "<i>"}, cards={"good": "# <script>alert(1)</script>"})
    text = build_report([view])
    assert "<script>" not in text and "<img src=x>" not in text
    assert "&lt;script&gt;x&lt;/script&gt;" in text


def test_without_real_data_or_samples() -> None:
    small = make_mixed_frame(50)[["x", "cat"]]
    view = _view(real=None, synth={"good": small, "shuffled": small},
                 notes=["The training data is unknown."])
    text = build_report([view])
    assert "The training data is unknown." in text
    assert text.count('alt="marginal of ') == 2  # the samples alone still get plots
    none = _view(runs=[ModelRun("broken", "failed", error="x")], synth={}, cards={},
                 real=make_mixed_frame(50)[["x"]])
    text = build_report([none])
    assert "No model produced samples" in text and "No model card" in text


def test_several_runs_nest_in_the_toc(tmp_path) -> None:
    small = make_mixed_frame(50)[["x", "cat"]]
    views = [_view(title=t, real=small, synth={"good": small}) for t in ("one", "two")]
    out = write_report(views, tmp_path / "r.html", extra=[("A study", "<p>study body</p>")])
    parsed = _parse(out.read_text("utf-8"))
    for prefix in ("run0-", "run1-"):
        assert all(f"{prefix}{k}" in parsed.ids for k in SECTIONS)
    assert {"run0", "run1", "extra0-a-study"} <= set(parsed.ids)
    assert "<p>study body</p>" in out.read_text("utf-8")


def test_sources_are_checked(tmp_path) -> None:
    with pytest.raises(ValueError, match="not a directory"):
        build_report([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="neither"):
        build_report([tmp_path / "empty"])
    with pytest.raises(ValueError, match="runs"):
        build_report([])


# ------------------------------------------------------------------ plots and helpers
def test_association_matrix_on_known_cases() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    x = rng.normal(size=n)
    cat = rng.choice(["a", "b", "c"], n)
    frame = pd.DataFrame({
        "x": x, "neg": -2 * x + 1, "noise": rng.normal(size=n), "cat": cat,
        "cat_copy": pd.Series(cat).map({"a": "p", "b": "q", "c": "r"}),
        "by_cat": pd.Series(cat).map({"a": 0.0, "b": 5.0, "c": 10.0}),
        "cat_noise": rng.choice(["u", "v"], n),
    })
    m = pd.DataFrame(plots.association_matrix(frame), index=frame.columns,
                     columns=frame.columns)
    assert np.allclose(np.diag(m), 1) and np.allclose(m, m.T)
    assert m.loc["x", "neg"] == pytest.approx(-1)
    assert abs(m.loc["x", "noise"]) < 0.08
    assert m.loc["cat", "cat_copy"] == pytest.approx(1)  # Cramér's V of a relabelling
    assert m.loc["cat", "by_cat"] == pytest.approx(1)  # eta: the category fixes the value
    assert m.loc["cat", "cat_noise"] < 0.08 and m.loc["cat", "x"] < 0.08


def test_marginal_and_grid_pngs() -> None:
    real = make_mixed_frame(100)
    for col in ("x", "cat", "flag", "count"):
        png = plots.marginal_png(col, real[col], {"m": real[col]}, {"m": "#ff0000"})
        assert base64.b64decode(png).startswith(PNG)
    imgs = np.random.default_rng(0).integers(0, 255, (5, 8, 8), dtype=np.uint8)
    assert base64.b64decode(plots.image_grid_png(imgs)).startswith(PNG)


def test_small_helpers() -> None:
    assert fmt(None) == "—" and fmt(float("nan")) == "—" and fmt(1234) == "1,234"
    assert fmt(0.12345) == "0.123" and fmt(True) == "yes" and fmt(2.5e-7) == "2.5e-07"
    assert fmt(204.31) == "204.3" and fmt(6288.9) == "6,289" and fmt(18.5041) == "18.504"
    html = markdown("# Title\n\nSome `code` and **bold** <x>.\n\n- one\n- two\n")
    assert "<h3>Title</h3>" in html and "<li>one</li><li>two</li>" in html
    assert "<code>code</code>" in html and "<strong>bold</strong>" in html
    assert "&lt;x&gt;" in html
    wav = base64.b64decode(wav_base64(np.sin(np.linspace(0, 100, 800)), 8000))
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) == 44 + 2 * 800


# ------------------------------------------------------------------ saved models
@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    import genmodels as gm

    frame = make_mixed_frame(150)
    path = tmp_path_factory.mktemp("model") / "gmm"
    gm.Generator("gmm", n_components=2).fit(frame, seed=0).save(path)
    return path, frame


@pytest.mark.slow
def test_report_of_a_saved_model(saved_model, tmp_path) -> None:
    path, frame = saved_model
    text = build_report([path], data=frame)
    assert "marginal of x" in text and "<h3>Model card: gmm</h3>" in text
    assert 'id="leaderboard"' in text and "status-ok" in text
    # another table than the one it was fitted on is refused (fingerprint)
    text = build_report([path], data=make_mixed_frame(150, seed=9))
    assert "not the table this model was fitted on" in text
    # without data: no registry record, so the samples alone
    text = build_report([path])
    assert "training data is unknown" in text


@pytest.mark.slow
def test_report_finds_the_training_data_in_the_registry(saved_model, tmp_path) -> None:
    from genmodels import runs
    from genmodels.report.sources import load_model_dir

    path, frame = saved_model
    csv = tmp_path / "table.csv"
    frame.to_csv(csv, index=False)
    import genmodels as gm

    runs.record_run(kind="fit", model="gmm", data=str(csv), out_dir=str(path), status="ok")
    view = load_model_dir(path)
    assert view.real is not None and len(view.real) == 150 and not view.notes
    assert view.info["data"] == str(csv.resolve())
    assert view.runs[0].metrics["fidelity"] is not None
    assert len(view.synth["gmm"]) == gm.load(path).fit_info_["n_rows"]


@pytest.mark.slow
def test_cli_report_of_a_saved_model(saved_model, tmp_path) -> None:
    import shutil

    from typer.testing import CliRunner

    from genmodels.cli import app

    path, frame = saved_model
    model = tmp_path / "gmm"
    shutil.copytree(path, model)
    csv = tmp_path / "table.csv"
    frame.to_csv(csv, index=False)
    runner = CliRunner()
    res = runner.invoke(app, ["report", str(model), "--data", str(csv)])
    assert res.exit_code == 0, res.output
    out = tmp_path / "gmm-report.html"
    assert out.is_file() and "marginal of x" in out.read_text("utf-8")
    assert sorted(p.name for p in model.iterdir()) == sorted(p.name for p in path.iterdir())
    again = runner.invoke(app, ["report", str(model), "--data", str(csv)])
    assert again.exit_code == 2 and "--force" in again.output
    bad = runner.invoke(app, ["report", str(model), "--out", str(tmp_path / "r.txt")])
    assert bad.exit_code == 2 and ".html" in bad.output
    missing = runner.invoke(app, ["report", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


# ------------------------------------------------------------------ sequence models
def _fluidsynth() -> bool:
    """Whether FluidSynth is installed; outside CI its absence skips the audio checks,
    in CI (``CI=true``) it fails the test."""
    import os
    from pathlib import Path

    if Path("/usr/bin/fluidsynth").is_file():
        return True
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("/usr/bin/fluidsynth is missing (apt-get install fluidsynth "
                    "fluid-soundfont-gm) — required in CI")
    return False


def _section(text: str, key: str) -> str:
    m = re.search(rf'<section id="{key}">(.*?)</section>', text, flags=re.S)
    assert m, key
    return m.group(1)


@pytest.fixture(scope="module")
def music_model(tmp_path_factory):
    import genmodels as gm

    pytest.importorskip("symusic")
    from tests.unit.test_music_eval import folder_of

    root = tmp_path_factory.mktemp("music")
    corpus = folder_of(root, "corpus", [0, 2, 5], chords=True)
    other = folder_of(root, "other", [1])
    path = root / "ngram"
    gm.Generator("ngram", order=4).fit(corpus, seed=0).save(path)
    return path, corpus, other


@pytest.fixture
def no_fluidsynth(monkeypatch):
    from genmodels.music import render

    monkeypatch.setattr(render, "render_available", lambda: False)


def test_report_of_a_music_model_has_piano_rolls_and_players(music_model) -> None:
    from genmodels.report.sources import REPORT_PIECES

    path, corpus, _ = music_model
    text = build_report([path], data=corpus)
    audio = _section(text, "audio")
    rolls = re.findall(r'<img alt="piano roll of ngram: piece \d" '
                       r'src="data:image/png;base64,([^"]+)"', audio)
    assert len(rolls) == REPORT_PIECES
    assert all(base64.b64decode(r).startswith(PNG) for r in rolls)
    if _fluidsynth():
        wavs = re.findall(r'<audio [^>]*src="data:audio/wav;base64,([^"]+)"', audio)
        assert len(wavs) == REPORT_PIECES
        for w in wavs:
            data = base64.b64decode(w)
            assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) > 10_000
    assert "could not be drawn" not in text
    for key in ("marginals", "correlations", "utility", "privacy", "fairness"):
        assert "Not applicable to a sequence model (music)" in _section(text, key), key
    # the model's likelihood and the pieces' metrics against the corpus it learned
    assert "nats_per_note" in _section(text, "likelihood")
    fidelity = _section(text, "fidelity")
    assert "pitch_class_tv" in fidelity and "copy_rate_8" in fidelity
    assert f"{REPORT_PIECES} (seed 1, at most 512 tokens each)" in _section(text, "overview")


def test_music_report_without_fluidsynth_or_corpus(music_model, no_fluidsynth) -> None:
    path, corpus, other = music_model
    text = build_report([path])  # no --data and no registry record
    audio = _section(text, "audio")
    assert "<audio" not in text and "apt-get install fluidsynth fluid-soundfont-gm" in audio
    assert audio.count('<img alt="piano roll of') == 4  # the rolls are still there
    assert "training corpus is unknown" in _section(text, "overview")
    assert "training corpus is unknown" in _section(text, "likelihood")
    wrong = build_report([path], data=other)
    assert "is not the corpus this model was fitted on" in wrong
    assert "nats_per_note" not in wrong


def test_music_report_finds_the_corpus_in_the_registry(music_model, no_fluidsynth) -> None:
    from genmodels import runs
    from genmodels.report.sources import load_model_dir

    path, corpus, _ = music_model
    runs.record_run(kind="fit", model="ngram", data=str(corpus), out_dir=str(path), status="ok")
    view = load_model_dir(path)
    assert view.modality == "music" and view.info["data"] == str(corpus) and not view.notes
    ev = view.runs[0].evaluation
    assert ev["n_training_pieces"] == 3 and ev["likelihood"]["train"]["nats_per_token"] > 0
    assert len(view.music["ngram"]) == 4


def test_report_of_a_text_model(tmp_path) -> None:
    import genmodels as gm

    docs = ["the cat sat on the mat. the dog ran.", "a cat ran to the mat.",
            "the dog sat on the cat."] * 5
    path = tmp_path / "text"
    gm.Generator("ngram", order=3).fit(docs, seed=0).save(path)
    text = build_report([path], data=docs)
    snippets = re.findall(r"<pre>(.*?)</pre>", _section(text, "text"), flags=re.S)
    assert len(snippets) == 5 and all(set(s) <= set("".join(docs)) for s in snippets)
    assert "bits_per_char" in _section(text, "likelihood")
    assert "distinct_1" in _section(text, "fidelity")
    assert "Not applicable to a sequence model (text)" in _section(text, "privacy")
    assert "could not be drawn" not in text
