"""A figure timeline for the journalist's desk: CSV for a spreadsheet, SVG for a chart.

Article text is data in both. In the CSV every cell is quoted; a text cell that starts with
= + - @ (or a tab) gets a leading apostrophe, as OWASP advises against CSV injection, and its
control characters but tab and newline are written as \\xNN, so neither a spreadsheet nor the
terminal `newsqa figures --csv` prints to obeys them. A number this code computed (marker,
update_index, value) is written as the number, so a negative one stays a number. The SVG is
written with every piece of text escaped, so a title or quote cannot become markup, and its
control characters but tab and newline (and U+FFFE, U+FFFF) shown as \\xNN (\\uNNNN): XML 1.0
has no way to write most of them, and a terminal `curl` prints the chart to would obey them.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from api.controls import escape_controls
from api.schemas_figures import AppearanceOut, FiguresResponse

CSV_COLUMNS = ("marker", "timestamp", "timestamp_precision", "section", "update_index", "stated",
               "value", "kind", "currency", "noun", "rate", "match", "group", "article_id", "title",
               "quote")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet shows as written: text '=1+2' becomes "'=1+2" (so does text '-5',
    which an article wrote); the number -5.0 stays "-5.0", a number, not a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    text = escape_controls(str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def timeline_csv(r: FiguresResponse) -> str:
    """One row per appearance, oldest first, with the verbatim quote."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for a in r.appearances:
        row = a.model_dump()
        writer.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


# -- the chart --------------------------------------------------------------------------------

WIDTH, HEIGHT = 640, 320
_LEFT, _RIGHT, _TOP, _BOTTOM = 90, 20, 40, 60


def charted(r: FiguresResponse) -> list[AppearanceOut]:
    """The appearances a chart plots: of a figure, all timed ones; of a topic, its first group's."""
    timed = [a for a in r.appearances if a.timestamp is not None]
    if r.mode == "topic" and r.groups:
        markers = {m for v in r.groups[0].values for m in v.markers}
        timed = [a for a in timed if a.marker in markers]
    return timed


def _moment(a: AppearanceOut) -> float:
    assert a.timestamp is not None
    return datetime.fromisoformat(a.timestamp).timestamp()


_NOT_XML = re.compile("[\ufffe\uffff]")  # not characters in XML 1.0 (C0 is escape_controls')


def _shown(text: str) -> str:
    """`text` with what XML 1.0 cannot hold, or a terminal would obey, written as an escape."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", escape_controls(text))


def _svg_text(text: str) -> str:
    """`text` as XML character data: shown as written, never as markup or a control."""
    return escape(_shown(text))


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 12) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'font-family="sans-serif">{_svg_text(text)}</text>')


def timeline_svg(r: FiguresResponse) -> str:
    """A line of the figure's values over the times they were published, each point labelled
    with its value as stated and its marker; a sentence instead when there is nothing to plot."""
    points = charted(r)
    group = r.groups[0].label if r.mode == "topic" and r.groups else None
    title = f"{r.query}" + (f" ({group})" if group else "")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(_shown(title))}>',
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
             _text(_LEFT, 24, title, size=14)]
    if not points:
        parts.append(_text(WIDTH / 2, HEIGHT / 2, r.note or "No timed figure to chart.", "middle"))
        return "".join(parts) + "</svg>"
    times = [_moment(a) for a in points]
    values = [a.value for a in points]
    t0, t1 = min(times), max(times)
    v0, v1 = min(0.0, min(values)), max(values) or 1.0
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(t: float) -> float:
        return _LEFT + (plot_w * (t - t0) / (t1 - t0) if t1 > t0 else plot_w / 2)

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - (v - v0) / (v1 - v0))

    parts.append(f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" '
                 f'y2="{_TOP + plot_h}" stroke="#888"/>')
    parts.append(f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="#888"/>')
    path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(times, values, strict=True))
    parts.append(f'<polyline points="{path}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for a, t, v in zip(points, times, values, strict=True):
        parts.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="4" fill="#1f5fa8">'
                     f'<title>{_svg_text(f"[{a.marker}] {a.stated} at {a.timestamp}")}</title></circle>')
        parts.append(_text(x(t), y(v) - 8, f"{a.stated} [{a.marker}]", "middle", 10))
    parts.append(_text(_LEFT, HEIGHT - 30, str(points[0].timestamp), size=10))
    parts.append(_text(_LEFT + plot_w, HEIGHT - 30, str(points[-1].timestamp), "end", 10))
    parts.append(_text(_LEFT - 6, _TOP + plot_h, f"{v0:,.0f}", "end", 10))
    parts.append(_text(_LEFT - 6, _TOP + 10, f"{v1:,.6g}", "end", 10))
    return "".join(parts) + "</svg>"
