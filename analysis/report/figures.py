"""plotly.js figure specs (plain dicts) for the report's plots.

Example:
    >>> fig = bars_ci(["a", "b"], {"x": ([1.0, 2.0], [0.5, 1.5], [1.5, 2.5])}, "t", "y")
    >>> fig["data"][0]["error_y"]["array"]
    [0.5, 0.5]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from agora.analysis.report.page import Figure

Series = tuple[Sequence[float], Sequence[float], Sequence[float]]
"""Means with their interval: ``(mean, low, high)``."""


def _errors(mean: Sequence[float], lo: Sequence[float], hi: Sequence[float]) -> dict[str, Any]:
    m, lo_, hi_ = (np.asarray(v, dtype=float) for v in (mean, lo, hi))
    return {"type": "data", "symmetric": False, "array": (hi_ - m).tolist(),
            "arrayminus": (m - lo_).tolist(), "visible": True}


def _layout(title: str, xtitle: str, ytitle: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, "xaxis": {"title": {"text": xtitle}, "automargin": True},
            "yaxis": {"title": {"text": ytitle}, "automargin": True}, **extra}


def bars_ci(categories: Sequence[str], series: Mapping[str, Series], title: str,
            ytitle: str, xtitle: str = "") -> Figure:
    """Grouped bars, one group per category, one bar per series, with interval whiskers."""
    data = [{"type": "bar", "name": name, "x": list(categories), "y": list(mean),
             "error_y": _errors(mean, lo, hi)} for name, (mean, lo, hi) in series.items()]
    return {"data": data, "layout": _layout(title, xtitle, ytitle, barmode="group")}


def lines(x: Sequence[Any], series: Mapping[str, Series | Sequence[float]], title: str,
          xtitle: str, ytitle: str, log_x: bool = False, log_y: bool = False) -> Figure:
    """Lines over ``x``; a series given as ``(mean, low, high)`` gets whiskers."""
    data = []
    for name, values in series.items():
        trace: dict[str, Any] = {"type": "scatter", "mode": "lines+markers", "name": name,
                                 "x": list(x)}
        if isinstance(values, tuple):  # (mean, low, high); a plain series is a list
            mean, lo, hi = cast(Series, values)
            trace["y"] = list(mean)
            trace["error_y"] = _errors(mean, lo, hi)
        else:
            trace["y"] = list(cast(Sequence[float], values))
        data.append(trace)
    layout = _layout(title, xtitle, ytitle)
    layout["xaxis"]["type"] = "log" if log_x else "-"
    layout["yaxis"]["type"] = "log" if log_y else "-"
    return {"data": data, "layout": layout}


def xy_lines(series: Mapping[str, tuple[Sequence[Any], Sequence[float]]], title: str,
             xtitle: str, ytitle: str, log_x: bool = False, log_y: bool = False,
             modes: Mapping[str, str] | None = None) -> Figure:
    """Lines each with its own x values (``{name: (x, y)}``)."""
    modes = modes or {}
    data = [{"type": "scatter", "mode": modes.get(name, "lines"), "name": name,
             "x": list(x), "y": list(y)} for name, (x, y) in series.items()]
    layout = _layout(title, xtitle, ytitle)
    layout["xaxis"]["type"] = "log" if log_x else "-"
    layout["yaxis"]["type"] = "log" if log_y else "-"
    return {"data": data, "layout": layout}


def stacked_shares(x: Sequence[Any], shares: Mapping[str, Sequence[float]], title: str,
                   xtitle: str) -> Figure:
    """Stacked areas of shares summing to one at every ``x``."""
    data = [{"type": "scatter", "mode": "lines", "stackgroup": "shares", "name": name,
             "x": list(x), "y": list(y)} for name, y in shares.items()]
    layout = _layout(title, xtitle, "share")
    layout["yaxis"]["range"] = [0, 1]
    return {"data": data, "layout": layout}


def selectable(title: str, panels: Mapping[str, Figure]) -> Figure:
    """One figure showing one of several panels at a time, chosen from a dropdown (each
    panel's traces are toggled; the axis titles follow the panel)."""
    data: list[dict[str, Any]] = []
    owner: list[int] = []
    for i, fig in enumerate(panels.values()):
        for trace in fig["data"]:
            data.append({**trace, "visible": i == 0})
            owner.append(i)
    buttons = []
    for i, (name, fig) in enumerate(panels.items()):
        lay = fig["layout"]
        buttons.append({"label": name, "method": "update", "args": [
            {"visible": [o == i for o in owner]},
            {"title.text": f"{title}: {name}",
             "yaxis.title.text": lay["yaxis"]["title"]["text"],
             "xaxis.title.text": lay["xaxis"]["title"]["text"]}]})
    first_name, first = next(iter(panels.items()))
    layout = {**first["layout"], "title": {"text": f"{title}: {first_name}"},
              "updatemenus": [{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.18,
                               "yanchor": "top", "direction": "down"}]}
    return {"data": data, "layout": layout}
