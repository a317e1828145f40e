"""Graph metrics over any networkx graph and over the iterations of a growing graph.

Every metric works on the graph's simple undirected view (:func:`simple_view`: edge
directions, parallel edges and self-loops dropped) held as a sparse matrix. Small graphs
(``n <= exact_below``) are measured exactly; large ones are sampled, and each sampled
value comes with its standard error or bounds and the method used.

* :func:`metric_panel` / :func:`panel_over_iterations`: everything below as one flat
  row per graph, or a DataFrame with one row per iteration plus hub and bridge
  persistence (:func:`persistence` on its own).
* size and components (:class:`SimpleView`), Louvain :func:`communities` and
  :func:`modularity`, :func:`path_stats`, :func:`clustering_stats`,
  :func:`degree_assortativity`, :func:`fit_power_law` (Clauset-Shalizi-Newman, with
  Vuong's test against an exponential), :func:`centrality` (betweenness and bridging),
  :func:`hubs` and :func:`bridges`, :func:`von_neumann_entropy`,
  :func:`semantic_entropy` and :func:`discovery_parameter`.

Plots are in :mod:`agora.analysis.graph_plots`.

Example:
    >>> import networkx as nx
    >>> row = metric_panel(nx.karate_club_graph(), seed=0)
    >>> row["nodes"], row["edges"], round(row["path_length"], 4), row["diameter"]
    (34, 78, 2.4082, 5)
"""

from agora.analysis.graphs.centrality import (
    Centrality,
    betweenness,
    bridges,
    bridging_centrality,
    centrality,
    hubs,
)
from agora.analysis.graphs.clustering import ClusteringStats, clustering_stats, degree_assortativity
from agora.analysis.graphs.entropy import (
    EntropyEstimate,
    discovery_parameter,
    semantic_entropy,
    von_neumann_entropy,
)
from agora.analysis.graphs.louvain import communities, modularity
from agora.analysis.graphs.panel import Samples, metric_panel, panel_over_iterations
from agora.analysis.graphs.paths import PathStats, path_stats
from agora.analysis.graphs.persistence import Persistence, persistence, top_set_persistence
from agora.analysis.graphs.powerlaw import PowerLawFit, degree_distribution, fit_power_law
from agora.analysis.graphs.view import SimpleView, simple_view

__all__ = [
    "Centrality",
    "ClusteringStats",
    "EntropyEstimate",
    "PathStats",
    "Persistence",
    "PowerLawFit",
    "Samples",
    "SimpleView",
    "betweenness",
    "bridges",
    "bridging_centrality",
    "centrality",
    "clustering_stats",
    "communities",
    "degree_assortativity",
    "degree_distribution",
    "discovery_parameter",
    "fit_power_law",
    "hubs",
    "metric_panel",
    "modularity",
    "panel_over_iterations",
    "path_stats",
    "persistence",
    "semantic_entropy",
    "simple_view",
    "top_set_persistence",
    "von_neumann_entropy",
]
