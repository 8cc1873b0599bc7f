"""The HTML report: one self-contained file (images embedded, no external assets).

``write_report(["genmodels-runs/compare/<id>"], "report.html")`` reads compare
directories and/or saved model directories and writes one page with a section per
run; ``build_report`` returns the HTML text. Extra sections (a study's HTML fragment,
for instance) are appended with ``extra=[(title, html), ...]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from genmodels.report.html import Section, document
from genmodels.report.sources import RunView, load_source

__all__ = ["RunView", "build_report", "load_source", "write_report"]


def build_report(runs: Sequence[str | Path | RunView], *, data: Any = None,
                 result: Any = None, title: str | None = None,
                 extra: Sequence[tuple[str, str]] = ()) -> str:
    """The report's HTML for ``runs`` (compare directories, saved model directories or
    :class:`RunView` objects). ``data``: the real table of a saved model (else looked up
    in the run registry). ``result``: a CompareResult for a single compare directory
    whose results.json is not written yet."""
    from genmodels.report.sections import run_sections

    if not runs:
        raise ValueError("runs: got none; allowed: at least one compare or model directory")
    views = [r if isinstance(r, RunView) else load_source(r, data=data, result=result)
             for r in runs]
    sections: list[Section] = []
    if len(views) == 1:
        sections = run_sections(views[0], "")
    else:
        for i, view in enumerate(views):
            sections.append(Section(f"run{i}", view.title,
                                    children=run_sections(view, f"run{i}-")))
    for i, (heading, fragment) in enumerate(extra):
        sections.append(Section(f"extra{i}-{_slug(heading)}", heading, fragment))
    if title is None:
        title = "genmodels report: " + ", ".join(v.title for v in views)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    import genmodels

    subtitle = (f"{sum(len(v.runs) for v in views)} model run(s) on {len(views)} "
                f"dataset(s) · genmodels {genmodels.__version__} · written {stamp}")
    return document(title, subtitle, sections)


def write_report(runs: Sequence[str | Path | RunView], out: str | Path, *, data: Any = None,
                 result: Any = None, title: str | None = None,
                 extra: Sequence[tuple[str, str]] = ()) -> Path:
    """Write :func:`build_report`'s page to ``out`` atomically; returns the path."""
    from genmodels.files import atomic_write_text

    text = build_report(runs, data=data, result=result, title=title, extra=extra)
    return atomic_write_text(Path(out), text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
