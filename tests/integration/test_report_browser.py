"""The report of a real ``compare`` run, rendered by headless Chromium: a full-page
screenshot that is not blank, the key sections in the DOM, every image decoded.

Needs the ``playwright`` Python package (dev extra) and Chromium at /usr/bin/chromium
(Debian's package; `make system-deps` installs it). Never downloads a browser. Skipped
when Chromium is missing outside CI; in CI (``CI=true``) a missing browser fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECTIONS = ("leaderboard", "marginals", "correlations", "cards")
SCREENSHOT_DIR_ENV = "GENMODELS_SCREENSHOT_DIR"
"""Set it to keep the screenshot (e.g. to look at it); otherwise it goes to tmp_path."""


def _need_browser() -> None:
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    problems = []
    if not Path(CHROMIUM).is_file():
        problems.append(f"Chromium is not installed at {CHROMIUM} "
                        "(apt-get install chromium, or `make system-deps` as root)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright Python package is missing (pip install -e '.[dev]')")
    if problems:
        if in_ci:
            pytest.fail("; ".join(problems) + " — required in CI")
        pytest.skip("; ".join(problems))


BROKEN_IMAGES = ("Array.from(document.images)"
                 ".filter(i => !(i.complete && i.naturalWidth > 0)).length")


@contextmanager
def _page(path: Path, requests: list[str]) -> Iterator[Any]:
    """``path`` loaded in headless Chromium (1400 x 900); every URL it requests is
    appended to ``requests``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda r: requests.append(r.url))
            page.goto(path.resolve().as_uri(), wait_until="load")
            yield page
        finally:
            browser.close()


def _compare_report(out: Path) -> Path:
    """A real run: two fast models on penguins, each in its own process."""
    from genmodels.compare import compare

    result = compare("penguins", models="independent,copula", budget=60, target="species",
                     out=out, processes=2)
    assert [r.status for r in result.runs] == ["ok", "ok"], [r.error for r in result.runs]
    assert result.report_path
    return Path(result.report_path)


@pytest.mark.slow
def test_report_renders_in_chromium(tmp_path: Path) -> None:
    _need_browser()
    report_path = _compare_report(tmp_path / "penguins")
    import numpy as np
    from PIL import Image

    shots = Path(os.environ.get(SCREENSHOT_DIR_ENV) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "report.png"
    requests: list[str] = []
    with _page(report_path, requests) as page:
        page.screenshot(path=str(shot), full_page=True)
        for key in SECTIONS:
            section = page.locator(f"section#{key}")
            assert section.count() == 1, key
            assert section.locator("h2").inner_text().strip(), key
            assert page.locator(f'nav.toc a[href="#{key}"]').count() == 1, key
        assert page.locator("#leaderboard table tbody tr").count() == 2
        assert page.locator("#marginals img").count() == 8  # penguins: 8 columns
        assert page.locator("#correlations img").count() == 1
        assert page.locator("#cards details").count() == 2
        assert page.evaluate(BROKEN_IMAGES) == 0
        height = page.evaluate("document.body.scrollHeight")
    # nothing fetched from anywhere but the file itself and its data: URIs
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    img = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert img.shape[1] == 1400 and img.shape[0] == pytest.approx(height, abs=2)
    assert img.std() > 20, "the screenshot is (nearly) blank"
    # the page is not blank anywhere large: every 900-px screen has some ink
    for top in range(0, img.shape[0] - 900, 900):
        assert img[top:top + 900].std() > 5, f"blank screen at y={top}"


@pytest.mark.slow
def test_music_report_plays_in_chromium(tmp_path: Path) -> None:
    """The report of a saved music model: every piano roll decodes, every <audio>
    player loads its inlined WAV (metadata read, duration > 0)."""
    _need_browser()
    pytest.importorskip("symusic")
    if not Path("/usr/bin/fluidsynth").is_file():
        why = "FluidSynth is not installed (apt-get install fluidsynth fluid-soundfont-gm)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why + " — required in CI")
        pytest.skip(why + ": no audio to play")
    import genmodels as gm
    from genmodels.report import write_report
    from genmodels.report.sources import REPORT_PIECES
    from tests.unit.test_music_eval import folder_of

    corpus = folder_of(tmp_path, "corpus", [0, 2, 5], chords=True)
    model = tmp_path / "ngram"
    gm.Generator("ngram", order=4).fit(corpus, seed=0).save(model)
    report = write_report([model], tmp_path / "music-report.html", data=corpus)
    requests: list[str] = []
    with _page(report, requests) as page:
        assert page.locator("#audio img").count() == REPORT_PIECES
        assert page.locator("#audio audio").count() == REPORT_PIECES
        assert page.evaluate(BROKEN_IMAGES) == 0
        page.wait_for_function(
            "Array.from(document.querySelectorAll('audio')).every(a => a.readyState >= 1)",
            timeout=20_000)
        durations = page.evaluate(
            "Array.from(document.querySelectorAll('audio')).map(a => a.duration)")
        errors = page.evaluate(
            "Array.from(document.querySelectorAll('audio')).filter(a => a.error).length")
    assert errors == 0 and len(durations) == REPORT_PIECES
    assert all(d > 0 for d in durations), durations
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
