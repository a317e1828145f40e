"""The graph metrics panel: one flat row of numbers per graph, one row per iteration.

:func:`metric_panel` measures one graph; :func:`panel_over_iterations` measures each
graph of a sequence (the iterations of a growing graph) and adds how the top-``k`` hubs
and bridges carry over from one iteration to the next. Graphs with at most
``exact_below`` nodes are measured exactly; larger ones are sampled with the sizes in
:class:`Samples`, and every sampled quantity comes with its standard error (or bounds)
and the method used. Each sampled metric draws from its own child of ``seed``, so a row
depends only on the graph and the seed.

Example:
    >>> import networkx as nx
    >>> row = metric_panel(nx.complete_graph(4))
    >>> row["nodes"], row["edges"], row["diameter"], row["path_length"], row["transitivity"]
    (4, 6, 1, 1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from agora.analysis.graphs.centrality import Centrality, centrality, spans_communities, top_k
from agora.analysis.graphs.clustering import clustering_stats, degree_assortativity
from agora.analysis.graphs.entropy import (
    discovery_parameter,
    semantic_entropy,
    von_neumann_entropy,
)
from agora.analysis.graphs.louvain import LouvainMethod, communities, modularity
from agora.analysis.graphs.paths import path_stats
from agora.analysis.graphs.persistence import jaccard, running_persistence
from agora.analysis.graphs.powerlaw import fit_power_law
from agora.analysis.graphs.view import GraphLike, SimpleView, simple_view

Row = dict[str, float | int | str | bool]


@dataclass(frozen=True)
class Samples:
    """Sample sizes for graphs above ``exact_below`` nodes.

    The defaults keep the whole panel of a 10,000-node graph at about 0.6 s of CPU time
    (under 2 s of wall time on our two shared cores); ``benchmarks/bench_graph_metrics.py``
    prints the time and the error against the exact value of each. Hubs' betweenness is
    within a few per cent with 64 sources; the maximum bridging centrality is not
    (it can be overestimated twofold), so raise ``betweenness_sources`` when bridges
    matter more than speed.

    Attributes:
        path_sources: BFS sources for the average path length and diameter bounds.
        betweenness_sources: BFS sources for betweenness and bridging centrality.
        clustering_nodes: Nodes whose local clustering is averaged.
        wedges: Wedges drawn for the transitivity.
        entropy_probes: Probe vectors of the stochastic Lanczos entropy.
        lanczos_steps: Lanczos steps per probe.
        louvain: Louvain implementation (``"auto"``: networkx up to ``exact_below``).
        min_tail: Fewest degrees a power-law tail may hold.
    """

    path_sources: int = 64
    betweenness_sources: int = 64
    clustering_nodes: int = 2000
    wedges: int = 100_000
    entropy_probes: int = 24
    lanczos_steps: int = 40
    louvain: LouvainMethod = "auto"
    min_tail: int = 10


@dataclass(frozen=True)
class _Result:
    """One graph's panel row and its top-``k`` hubs and bridges."""

    row: Row
    hubs: list[Hashable]
    bridges: list[Hashable]


def metric_panel(graph: GraphLike, *, seed: int = 0, exact_below: int = 2000,
                 samples: Samples = Samples(), k: int = 10,
                 embeddings: Mapping[Hashable, np.ndarray] | None = None) -> Row:
    """Every metric of one graph as a flat ``{name: value}`` dict.

    Args:
        graph: Any networkx graph (its simple undirected view is measured) or a view.
        seed: Seed of every sampled metric and of Louvain.
        exact_below: Graphs (components, for paths) up to this size are measured exactly.
        samples: Sample sizes for larger graphs.
        k: Size of the hub and bridge sets (``bridges_spanning`` is over these).
        embeddings: Optional node embeddings; adds ``semantic_entropy`` and ``discovery``.

    Returns:
        Size: ``nodes, edges, average_degree, components, largest_component,
        largest_fraction, degree_max``. Communities: ``modularity, communities,
        louvain_method``. Paths (largest component): ``path_length, path_length_se,
        diameter, diameter_upper, path_sources, path_method``. Clustering:
        ``transitivity, transitivity_se, clustering, clustering_se, clustering_samples,
        clustering_method, assortativity``. Degree power law: ``powerlaw_alpha,
        powerlaw_xmin, powerlaw_ks, powerlaw_tail, powerlaw_R`` (Vuong's normalised
        ratio), ``powerlaw_llr, powerlaw_p, scale_free``. Centrality:
        ``betweenness_max, betweenness_max_se, betweenness_mean, bridging_max,
        betweenness_sources, betweenness_method, bridges_spanning`` (share of the
        top-``k`` bridges whose neighbours span two or more communities). Entropy:
        ``entropy, entropy_se, entropy_method`` and, with embeddings,
        ``semantic_entropy, discovery``.
    """
    return _measure(simple_view(graph), seed, exact_below, samples, k, embeddings).row


def panel_over_iterations(graphs: Sequence[GraphLike], *, seed: int = 0,
                          exact_below: int = 2000, samples: Samples = Samples(), k: int = 10,
                          embeddings: Mapping[Hashable, np.ndarray] | None = None
                          ) -> pd.DataFrame:
    """One :func:`metric_panel` row per graph, plus hub and bridge persistence.

    Added columns: ``iteration``; ``hubs_jaccard`` / ``bridges_jaccard``, the Jaccard
    similarity of this iteration's top-``k`` set with the previous one (NaN first);
    ``hubs_persistence`` / ``bridges_persistence``, the mean over this iteration's
    top-``k`` nodes of the fraction of iterations since their first entry in which they
    were in the set (1.0 means no current hub ever dropped out).

    Example:
        >>> import networkx as nx
        >>> df = panel_over_iterations([nx.path_graph(n) for n in (3, 5, 8)], k=2)
        >>> df["nodes"].tolist(), df["diameter"].tolist()
        ([3, 5, 8], [2, 4, 7])
    """
    results = [_measure(simple_view(g), seed, exact_below, samples, k, embeddings)
               for g in graphs]
    df = pd.DataFrame([r.row for r in results])
    df.insert(0, "iteration", np.arange(len(results)))
    for name in ("hubs", "bridges"):
        tops = [getattr(r, name) for r in results]
        df[f"{name}_jaccard"] = ([math.nan] + [jaccard(a, b) for a, b in zip(tops, tops[1:])]
                                 )[:len(tops)]
        running = running_persistence(tops)
        df[f"{name}_persistence"] = [float(np.mean([run[v] for v in top])) if top else math.nan
                                     for run, top in zip(running, tops)]
    return df


def _measure(view: SimpleView, seed: int, exact_below: int, samples: Samples, k: int,
             embeddings: Mapping[Hashable, np.ndarray] | None) -> _Result:
    """The panel row of one view, and its top-``k`` hubs and bridges."""
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    row: Row = _size(view)
    parts = communities(view, seed=seed, method=samples.louvain, exact_below=exact_below)
    row |= {"modularity": modularity(view, parts), "communities": len(parts),
            "louvain_method": _louvain_used(samples, view.n, exact_below)}
    paths = path_stats(view, exact_below=exact_below, sources=samples.path_sources, rng=rngs[0])
    row |= {"path_length": paths.average, "path_length_se": paths.average_se,
            "diameter": paths.diameter, "diameter_upper": paths.diameter_upper,
            "path_sources": paths.sources, "path_method": paths.method}
    clus = clustering_stats(view, exact_below=exact_below, nodes=samples.clustering_nodes,
                            wedges=samples.wedges, rng=rngs[1])
    row |= {"transitivity": clus.transitivity, "transitivity_se": clus.transitivity_se,
            "clustering": clus.average_clustering, "clustering_se": clus.average_clustering_se,
            "clustering_samples": clus.samples, "clustering_method": clus.method,
            "assortativity": degree_assortativity(view)}
    row |= _power_law(view, samples.min_tail)
    cent = centrality(view, exact_below=exact_below, sources=samples.betweenness_sources,
                      rng=rngs[2])
    bridge_set = top_k(view, cent.bridging, k)
    row |= _centrality_row(view, cent, bridge_set, parts)
    row |= _entropy_row(view, exact_below, samples, rngs[3], embeddings)
    return _Result(row, top_k(view, view.degrees, k), bridge_set)


def _size(view: SimpleView) -> Row:
    count, _ = view.components
    largest = len(view.largest)
    return {"nodes": view.n, "edges": view.m,
            "average_degree": 2 * view.m / view.n if view.n else 0.0,
            "components": count, "largest_component": largest,
            "largest_fraction": largest / view.n if view.n else 0.0,
            "degree_max": int(view.degrees.max()) if view.n else 0}


def _louvain_used(samples: Samples, n: int, exact_below: int) -> str:
    if samples.louvain != "auto":
        return samples.louvain
    return "networkx" if n <= exact_below else "fast"


def _power_law(view: SimpleView, min_tail: int) -> Row:
    fit = fit_power_law(view.degrees, min_tail=min_tail)
    return {"powerlaw_alpha": fit.alpha, "powerlaw_xmin": fit.xmin, "powerlaw_ks": fit.ks,
            "powerlaw_tail": fit.n_tail, "powerlaw_R": fit.vuong, "powerlaw_llr": fit.llr,
            "powerlaw_p": fit.p_value, "scale_free": fit.scale_free}


def _centrality_row(view: SimpleView, cent: Centrality, bridge_set: list[Hashable],
                    parts: list[set[Hashable]]) -> Row:
    spanning = spans_communities(view, parts)
    index = {v: i for i, v in enumerate(view.nodes)}
    span = [bool(spanning[index[v]]) for v in bridge_set]
    top = int(np.argmax(cent.betweenness)) if view.n else 0
    return {"betweenness_max": float(cent.betweenness[top]) if view.n else 0.0,
            "betweenness_max_se": float(cent.betweenness_se[top]) if view.n else 0.0,
            "betweenness_mean": float(cent.betweenness.mean()) if view.n else 0.0,
            "bridging_max": float(cent.bridging.max()) if view.n else 0.0,
            "betweenness_sources": cent.sources, "betweenness_method": cent.method,
            "bridges_spanning": float(np.mean(span)) if span else math.nan}


def _entropy_row(view: SimpleView, exact_below: int, samples: Samples, rng: np.random.Generator,
                 embeddings: Mapping[Hashable, np.ndarray] | None) -> Row:
    ent = von_neumann_entropy(view, exact_below=exact_below, probes=samples.entropy_probes,
                              steps=samples.lanczos_steps, rng=rng)
    row: Row = {"entropy": ent.value, "entropy_se": ent.se, "entropy_method": ent.method}
    if embeddings is not None:
        sem = semantic_entropy({v: embeddings[v] for v in view.nodes if v in embeddings})
        row |= {"semantic_entropy": sem, "discovery": discovery_parameter(ent.value, sem)}
    return row
