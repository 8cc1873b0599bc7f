"""HTML building blocks of the report and the page itself.

The page is one self-contained file: inline CSS, images as ``data:`` URIs, no scripts,
no external fonts or links. Every text that comes from data is escaped here.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CSS = """
:root { --fg:#1d2433; --muted:#5b6475; --line:#dfe3ea; --bg:#ffffff; --panel:#f6f8fb;
        --accent:#2f5fb3; --ok:#1b7f3b; --bad:#b3261e; --warn:#a15c00; }
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin:0; font:15px/1.55 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color:var(--fg); background:var(--bg); }
header { padding:28px 40px 18px; border-bottom:1px solid var(--line); background:var(--panel); }
header h1 { margin:0 0 4px; font-size:26px; }
header p { margin:0; color:var(--muted); }
.layout { display:flex; align-items:flex-start; }
nav.toc { position:sticky; top:0; flex:0 0 250px; max-height:100vh; overflow:auto;
          padding:20px 18px; border-right:1px solid var(--line); font-size:14px; }
nav.toc h2 { font-size:13px; text-transform:uppercase; letter-spacing:.06em;
             color:var(--muted); margin:0 0 8px; }
nav.toc ol { list-style:none; margin:0; padding-left:0; }
nav.toc ol ol { padding-left:14px; }
nav.toc a { color:var(--fg); text-decoration:none; display:block; padding:2px 0; }
nav.toc a:hover { color:var(--accent); }
main { flex:1; min-width:0; padding:8px 40px 60px; max-width:1400px; }
section { margin-top:28px; }
h2 { font-size:22px; border-bottom:2px solid var(--line); padding-bottom:4px; }
h3 { font-size:18px; margin-top:26px; }
h4 { font-size:15px; margin:18px 0 6px; }
p.note, p.empty { color:var(--muted); }
p.empty { font-style:italic; padding:10px 14px; background:var(--panel);
          border-left:3px solid var(--line); }
.table-wrap { overflow-x:auto; margin:10px 0 16px; }
table { border-collapse:collapse; font-size:13.5px; min-width:40%; }
th, td { padding:5px 10px; border-bottom:1px solid var(--line); text-align:left;
         vertical-align:top; }
th { background:var(--panel); font-weight:600; white-space:nowrap; }
td { max-width:420px; overflow-wrap:break-word; }
.status { white-space:nowrap; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tbody tr:nth-child(even) { background:#fafbfd; }
.status { font-weight:600; }
.status-ok { color:var(--ok); } .status-failed { color:var(--bad); }
.status-timeout { color:var(--warn); }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(340px, 1fr)); gap:14px; }
figure { margin:0; padding:8px; border:1px solid var(--line); border-radius:6px;
         background:#fff; }
figure img { width:100%; height:auto; display:block; }
figure.wide img { width:auto; max-width:100%; }
figcaption { font-size:12.5px; color:var(--muted); margin-top:4px; }
.legend { display:flex; flex-wrap:wrap; gap:6px 16px; margin:8px 0 12px; font-size:13px; }
.swatch { display:inline-block; width:12px; height:12px; border-radius:2px;
          margin-right:5px; vertical-align:-1px; }
details { margin:8px 0; border:1px solid var(--line); border-radius:6px; padding:6px 12px; }
details > summary { cursor:pointer; font-weight:600; }
.card h1 { font-size:18px; } .card h2 { font-size:16px; border:0; }
.card code, code { background:var(--panel); padding:1px 4px; border-radius:3px;
                   font-size:12.5px; }
pre { background:var(--panel); padding:10px; overflow-x:auto; border-radius:6px; }
@media (max-width: 900px) { .layout { display:block; } nav.toc { position:static;
  max-height:none; border-right:0; border-bottom:1px solid var(--line); }
  main { padding:8px 16px 40px; } }
"""


@dataclass
class Section:
    """A titled part of the page; ``children`` are nested (and nested in the TOC)."""

    id: str
    title: str
    body: str = ""
    children: list[Section] = field(default_factory=list)


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(value: Any, digits: int = 3) -> str:
    """A cell's text: numbers rounded, None/NaN as an em dash."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != 0 and abs(value) < 10 ** -digits:
            return f"{value:.{digits}g}"
        places = 0 if abs(value) >= 1000 else 1 if abs(value) >= 100 else digits
        return f"{value:,.{places}f}"
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *,
          headers: Mapping[str, str] | None = None, html_columns: Iterable[str] = (),
          digits: int = 3) -> str:
    """A table from records; numbers right-aligned. Cells of ``html_columns`` are
    inserted as they are (the caller escaped them)."""
    if not rows:
        return empty("Nothing to show.")
    columns = list(columns or rows[0].keys())
    headers = headers or {}
    raw = set(html_columns)
    head = "".join(f"<th>{esc(headers.get(c, c))}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c)
            if c in raw:
                cells.append(f"<td>{v if v is not None else ''}</td>")
            elif isinstance(v, int | float) and not isinstance(v, bool):
                cells.append(f'<td class="num">{esc(fmt(v, digits))}</td>')
            else:
                cells.append(f"<td>{esc(fmt(v, digits))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def status(value: str) -> str:
    return f'<span class="status status-{esc(value)}">{esc(value)}</span>'


def figure(png_b64: str, alt: str, caption: str = "", wide: bool = False) -> str:
    """An embedded PNG (``data:`` URI) with an optional caption (plain text)."""
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    cls = ' class="wide"' if wide else ""
    return (f'<figure{cls}><img alt="{esc(alt)}" src="data:image/png;base64,{png_b64}">'
            f"{cap}</figure>")


def empty(text: str) -> str:
    return f'<p class="empty">{esc(text)}</p>'


def note(text: str) -> str:
    return f'<p class="note">{esc(text)}</p>'


def legend(items: Mapping[str, str]) -> str:
    """Colour swatches with names: ``{name: "#rrggbb"}``."""
    spans = "".join(f'<span><span class="swatch" style="background:{esc(c)}"></span>'
                    f"{esc(name)}</span>" for name, c in items.items())
    return f'<div class="legend">{spans}</div>'


_INLINE = [(re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
           (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>")]


def _inline(text: str) -> str:
    out = esc(text)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def markdown(text: str) -> str:
    """The small Markdown of model cards: headings, bullet lists, paragraphs, inline
    ``code`` and **bold**. Everything else is shown as text (escaped)."""
    out: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        s = line.strip()
        heading = re.match(r"(#{1,6})\s+(.*)", s)
        if heading:
            flush()
            level = min(len(heading.group(1)) + 2, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif s.startswith(("- ", "* ")):
            if para:
                flush()
            items.append(s[2:])
        elif not s:
            flush()
        else:
            if items:
                flush()
            para.append(s)
    flush()
    return '<div class="card">' + "\n".join(out) + "</div>"


def _toc(sections: Sequence[Section]) -> str:
    parts = []
    for s in sections:
        sub = _toc(s.children) if s.children else ""
        parts.append(f'<li><a href="#{esc(s.id)}">{esc(s.title)}</a>{sub}</li>')
    return "<ol>" + "".join(parts) + "</ol>"


def _render(section: Section, level: int) -> str:
    h = min(level, 4)
    inner = "".join(_render(c, level + 1) for c in section.children)
    return (f'<section id="{esc(section.id)}"><h{h}>{esc(section.title)}</h{h}>'
            f"{section.body}{inner}</section>")


def document(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole page: header, a table of contents and the sections."""
    body = "".join(_render(s, 2) for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f'<div class="layout"><nav class="toc" aria-label="Contents"><h2>Contents</h2>'
        f"{_toc(sections)}</nav><main>{body}</main></div></body></html>\n"
    )
