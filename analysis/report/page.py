"""One self-contained HTML page: sections of text, tables and plotly figures.

The figures are plain plotly.js specs (dicts, built without plotly's Python layer) drawn by
``Plotly.newPlot``; plotly.js itself is inlined once in the page head from the ``plotly``
package, so the page opens offline with no server. Every figure is followed by its data as
a table in a ``<details>`` element: the static fallback when scripts are off.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

Figure = dict[str, Any]
"""A plotly.js figure: ``{"data": [traces], "layout": {...}}``."""

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 28px}header h1{margin:0;font-size:22px}
main{padding:8px 28px 40px;max-width:1280px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:16px 0;
padding:6px 18px 14px}
h2{font-size:18px;border-bottom:1px solid #eef0f3;padding-bottom:4px}h3{font-size:15px}
table{border-collapse:collapse;font-size:12px;margin:6px 0}
td,th{border:1px solid #dde1e7;padding:2px 7px;text-align:right;vertical-align:top}
th{background:#f0f2f5}td.t,th.t{text-align:left}
pre{background:#f6f7f9;padding:8px;overflow:auto;max-height:360px;font-size:12px}
.plot{width:100%;min-height:380px}.note{color:#5b6372;font-size:12px}
details summary{cursor:pointer;color:#35599c;font-size:12px}
nav a{color:#cfe0ff;margin-right:12px;font-size:13px}
"""


def _clean(value: Any) -> Any:
    """JSON-safe values: NaN and infinities become null, numpy scalars Python ones."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fmt(value: Any, digits: int = 4) -> str:
    """A cell of a table: numbers to ``digits`` significant figures, NaN as a dash."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "–" if not math.isfinite(float(value)) else f"{float(value):.{digits}g}"
    return "" if value is None else str(value)


def table(df: pd.DataFrame, max_rows: int = 200) -> str:
    """An HTML table of ``df`` (at most ``max_rows`` rows, then a count of the rest)."""
    if df.empty:
        return '<p class="note">(none)</p>'
    shown = df.head(max_rows)
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) for c in shown.columns]
    head = "".join(f'<th class="{"" if n else "t"}">{html.escape(str(c))}</th>'
                   for c, n in zip(shown.columns, numeric, strict=True))
    body = []
    for row in shown.itertuples(index=False):
        cells = "".join(f'<td class="{"" if n else "t"}">{html.escape(fmt(v))}</td>'
                        for v, n in zip(row, numeric, strict=True))
        body.append(f"<tr>{cells}</tr>")
    more = (f'<p class="note">{len(df) - max_rows} more rows not shown</p>'
            if len(df) > max_rows else "")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{more}"


@dataclass
class Page:
    """A report page under construction: sections in order, figures numbered."""

    title: str
    sections: list[tuple[str, str, list[str]]] = field(default_factory=list)
    figures: int = 0

    def section(self, title: str) -> list[str]:
        """Start a section; returns the list its HTML parts go to."""
        parts: list[str] = []
        anchor = f"s{len(self.sections)}"
        self.sections.append((anchor, title, parts))
        return parts

    def figure(self, fig: Figure, data: pd.DataFrame | None = None) -> str:
        """The HTML of one figure (and its data as a collapsible table)."""
        self.figures += 1
        div = f"plot{self.figures}"
        layout = {"margin": {"t": 48, "l": 60, "r": 20, "b": 60}, "template": None,
                  **fig.get("layout", {})}
        spec = json.dumps(_clean({"data": fig["data"], "layout": layout,
                                  "config": {"responsive": True, "displaylogo": False}}),
                          separators=(",", ":")).replace("</", "<\\/")
        fallback = ("" if data is None else
                    f"<details><summary>data</summary>{table(data)}</details>")
        return (f'<div class="plot" id="{div}"></div>'
                f'<script>Plotly.newPlot("{div}",{spec});</script>{fallback}')

    def render(self, plotly_js: str) -> str:
        """The whole page."""
        nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _ in self.sections)
        body = "".join(f'<section id="{a}"><h2>{html.escape(t)}</h2>{"".join(parts)}</section>'
                       for a, t, parts in self.sections)
        return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style>"
                f"<script>{plotly_js}</script></head><body><header><h1>"
                f"{html.escape(self.title)}</h1><nav>{nav}</nav></header><main>{body}</main>"
                "</body></html>")


def pre(text: str) -> str:
    """Preformatted text, escaped."""
    return f"<pre>{html.escape(text)}</pre>"


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def heading(text: str) -> str:
    return f"<h3>{html.escape(text)}</h3>"


def plotly_js() -> str:
    """plotly.js from the installed ``plotly`` package (inlined once per page)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def join(parts: Iterable[str]) -> str:
    return "".join(parts)
