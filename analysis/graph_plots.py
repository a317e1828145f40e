"""Plots of graph metrics (needs the ``plot`` extra: matplotlib, imported on use).

Example:
    >>> import networkx as nx
    >>> from agora.analysis.graphs import panel_over_iterations
    >>> graphs = [nx.barabasi_albert_graph(n, 2, seed=0) for n in (100, 200, 400)]
    >>> df = panel_over_iterations(graphs)
    >>> plot_panel_over_iterations(df, "panel.png")          # doctest: +SKIP
    >>> plot_degree_distribution(graphs[-1], "degrees.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pandas as pd
from scipy import special

from agora.analysis.graphs.powerlaw import degree_distribution, fit_power_law

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Columns shown by default, when present and numeric.
DEFAULT_METRICS = (
    "nodes", "edges", "average_degree", "largest_fraction", "modularity", "communities",
    "path_length", "diameter", "transitivity", "clustering", "assortativity",
    "powerlaw_alpha", "betweenness_max", "bridging_max", "entropy", "discovery",
    "hubs_jaccard", "hubs_persistence", "bridges_jaccard", "bridges_persistence",
)


def plot_panel_over_iterations(df: pd.DataFrame, path: str | Path,
                               metrics: Sequence[str] | None = None) -> Path:
    """Small multiples: each metric against the iteration, with a band of +-2 standard errors.

    Args:
        df: A table from :func:`agora.analysis.graphs.panel_over_iterations`.
        path: Where to write the PNG.
        metrics: Columns to plot (default: those of ``DEFAULT_METRICS`` present).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = list(metrics) if metrics is not None else [
        c for c in DEFAULT_METRICS if c in df and pd.api.types.is_numeric_dtype(df[c])]
    x = df["iteration"].to_numpy() if "iteration" in df else np.arange(len(df))
    cols = min(4, max(1, len(chosen)))
    rows = max(1, math.ceil(len(chosen) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), chosen):
        y = df[name].to_numpy(dtype=float)
        ax.plot(x, y, marker="o", markersize=3)
        if f"{name}_se" in df:
            se = df[f"{name}_se"].to_numpy(dtype=float)
            ax.fill_between(x, y - 2 * se, y + 2 * se, alpha=0.25)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(chosen):]:
        ax.set_visible(False)
    fig.supxlabel("iteration", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_degree_distribution(graph: nx.Graph, path: str | Path, *, min_tail: int = 10) -> Path:
    """Degree CCDF on log-log axes with the fitted discrete power law and exponential.

    Both fits are drawn over the tail ``x >= x_min``, scaled to the tail's share of nodes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    values, counts = degree_distribution(graph)
    counts, values = counts[values > 0], values[values > 0]
    ccdf = counts[::-1].cumsum()[::-1] / max(int(counts.sum()), 1)
    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    ax.loglog(values, ccdf, "o", markersize=3, label="data (P(X >= x))")
    fit = fit_power_law(np.repeat(values, counts), min_tail=min_tail)
    if fit.n_tail > 0:
        share = fit.n_tail / counts.sum()
        xs = np.arange(fit.xmin, values.max() + 1, dtype=float)
        power = share * special.zeta(fit.alpha, xs) / special.zeta(fit.alpha, fit.xmin)
        expo = share * np.exp(-fit.rate * (xs - fit.xmin))
        ax.loglog(xs, power, "-", label=f"power law alpha={fit.alpha:.2f}, xmin={fit.xmin}")
        ax.loglog(xs, expo, "--", label=f"exponential (R={fit.vuong:.1f}, p={fit.p_value:.2g})")
    ax.set_xlabel("degree x")
    ax.set_ylabel("P(X >= x)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as a PNG and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
