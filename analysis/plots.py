"""Plots of run summaries and population runs (needs the ``plot`` extra: matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agora.analysis.runs import _cell_columns, _short, summarize


def cell_labels(episodes: pd.DataFrame) -> list[str]:
    """One short label per cell from the parameters and agents that vary."""
    varying = _cell_columns(episodes)
    first = episodes.groupby("cell", sort=True).first()
    labels = []
    for cell, row in first.iterrows():
        parts = [f"{c.split('.', 1)[1]}={_short(row[c])}" for c in varying]
        labels.append(" ".join(parts) if parts else f"cell {cell}")
    return labels


def plot_returns(episodes: pd.DataFrame, path: str | Path, level: float = 0.95) -> Path:
    """Bar chart of each player's mean return per cell with confidence intervals.

    Example:
        >>> from agora.analysis import load_run                        # doctest: +SKIP
        >>> plot_returns(load_run("runs/x").episodes, "returns.png")  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = summarize(episodes, level)
    players = [c[: -len(".mean")] for c in table.columns
               if c.startswith("return.") and c.endswith(".mean")]
    labels = cell_labels(episodes)
    x = np.arange(len(table))
    width = 0.8 / max(len(players), 1)
    fig, ax = plt.subplots(figsize=(min(14.0, max(6.0, 0.6 * len(table) * len(players))), 5.0))
    for k, col in enumerate(players):
        mean = table[f"{col}.mean"].to_numpy()
        err = np.nan_to_num((table[f"{col}.hi"] - table[f"{col}.lo"]).to_numpy() / 2)
        ax.bar(x + (k - (len(players) - 1) / 2) * width, mean, width, yerr=err, capsize=3,
               label=col.removeprefix("return."))
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"mean return ({int(level * 100)}% CI)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_shares(generations: pd.DataFrame, path: str | Path) -> Path:
    """Stacked area of the strategies' shares over the generations of a population run.

    Example:
        >>> df = pd.DataFrame({"generation": [0, 0, 1, 1], "label": ["a", "b"] * 2,
        ...                    "share": [0.5, 0.5, 0.75, 0.25]})
        >>> import tempfile, os
        >>> plot_shares(df, os.path.join(tempfile.mkdtemp(), "s.png")).exists()
        True
    """
    plt = _pyplot()
    wide = generations.pivot_table(index="generation", columns="label", values="share",
                                   sort=False).fillna(0.0)
    fig, ax = plt.subplots(figsize=(8.0, 4.5))
    ax.stackplot(wide.index.to_numpy(), wide.to_numpy().T,
                 labels=[str(c)[:40] for c in wide.columns])
    ax.set_xlabel("generation")
    ax.set_ylabel("share")
    ax.set_ylim(0.0, 1.0)
    ax.margins(x=0)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_population_graph(graph: Any, strategies: Sequence[str], path: str | Path,
                          seed: int = 0) -> Path:
    """The population on its interaction graph, each node coloured by its strategy.

    Args:
        graph: a networkx graph whose nodes are the agents' indices.
        strategies: the strategy label of each agent, in node order.
        path: the image file to write.
        seed: the layout's seed (lattices are drawn as grids when their size is square).
    """
    import networkx as nx

    plt = _pyplot()
    nodes = list(graph.nodes)
    labels = sorted(set(strategies), key=list(strategies).index)
    colour = {s: plt.get_cmap("tab10")(k % 10) for k, s in enumerate(labels)}
    side = int(round(len(nodes) ** 0.5))
    if side * side == len(nodes) and all(d in (4, 8) for _, d in graph.degree):
        pos = {v: (v % side, -(v // side)) for v in nodes}
    else:
        pos = nx.spring_layout(graph, seed=seed)
    fig, ax = plt.subplots(figsize=(6.0, 6.0))
    size = max(4.0, min(80.0, 4000.0 / max(len(nodes), 1)))
    if len(nodes) <= 2000:
        nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.2, width=0.5)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=size,
                           node_color=[colour[strategies[v]] for v in nodes])
    for s in labels:
        ax.scatter([], [], color=colour[s], label=str(s)[:40])
    ax.legend(fontsize=7, loc="upper right")
    ax.set_axis_off()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


SOCIETY_PANELS = (("mean_donation", "mean donation"), ("final_resources", "final resources"),
                  ("cooperation_rate", "cooperation rate"),
                  ("strategy_words", "strategy words (reciprocity, punishment dashed)"))


def plot_society(generations: pd.DataFrame, path: str | Path) -> Path:
    """A society run over generations: mean donation, final resources, cooperation rate and
    the strategy texts' measures, one line per seed (the ``generations`` table).

    Example:
        >>> from agora.experiments.population.society_store import read_society  # doctest: +SKIP
        >>> plot_society(read_society("runs/vh")["generations"], "vh.png")     # doctest: +SKIP
    """
    plt = _pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for ax, (column, title) in zip(axes.flat, SOCIETY_PANELS, strict=True):
        for seed, g in generations.groupby("run_seed"):
            g = g.sort_values("generation")
            line, = ax.plot(g["generation"], g[column], marker="o", label=f"seed {seed}")
            if column == "strategy_words":
                for extra in ("reciprocity_words", "punishment_words"):
                    ax.plot(g["generation"], g[extra], ls="--", color=line.get_color())
        ax.set_title(title)
        ax.set_xlabel("generation")
    axes.flat[0].legend(fontsize="small")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
