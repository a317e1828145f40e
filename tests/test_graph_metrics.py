"""Graph metrics panel: agreement with networkx, closed forms, sampled vs exact."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from agora.analysis import graph_plots
from agora.analysis import graphs as gm
from agora.analysis.graphs.louvain import fast_louvain, label_modularity
from agora.envs.errors import ConfigError


def _small_graphs() -> list[nx.Graph]:
    return [nx.karate_club_graph(), nx.gnp_random_graph(120, 0.03, seed=1),
            nx.barabasi_albert_graph(200, 2, seed=2), nx.watts_strogatz_graph(150, 4, 0.2, seed=3),
            nx.les_miserables_graph()]


def _lcc(g: nx.Graph) -> nx.Graph:
    return g.subgraph(max(nx.connected_components(g), key=len))


SMALL = _small_graphs()


# --- agreement with networkx ---------------------------------------------------------

@pytest.mark.parametrize("g", SMALL, ids=lambda g: f"n{g.number_of_nodes()}")
def test_paths_clustering_assortativity_agree_with_networkx(g: nx.Graph) -> None:
    paths = gm.path_stats(g)
    assert paths.method == "exact" and paths.average_se == 0.0
    assert paths.average == pytest.approx(nx.average_shortest_path_length(_lcc(g)), rel=1e-12)
    assert paths.diameter == paths.diameter_upper == nx.diameter(_lcc(g))
    clus = gm.clustering_stats(g)
    assert clus.transitivity == pytest.approx(nx.transitivity(g), abs=1e-12)
    assert clus.average_clustering == pytest.approx(nx.average_clustering(g), abs=1e-12)
    assert gm.degree_assortativity(g) == pytest.approx(nx.degree_assortativity_coefficient(g),
                                                       abs=1e-10)


@pytest.mark.parametrize("g", SMALL, ids=lambda g: f"n{g.number_of_nodes()}")
def test_betweenness_and_modularity_agree_with_networkx(g: nx.Graph) -> None:
    ours, ref = gm.betweenness(g), nx.betweenness_centrality(g, weight=None)
    assert max(abs(ours[v] - ref[v]) for v in g) < 1e-12
    parts = gm.communities(g, seed=1)
    assert gm.modularity(g, parts) == pytest.approx(
        nx.community.modularity(g, parts, weight=None), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 40), p=st.floats(0.05, 0.5), seed=st.integers(0, 10_000))
def test_random_graphs_agree_with_networkx(n: int, p: float, seed: int) -> None:
    g = nx.gnp_random_graph(n, p, seed=seed)
    ours, ref = gm.betweenness(g), nx.betweenness_centrality(g)
    assert max(abs(ours[v] - ref[v]) for v in g) < 1e-12
    lcc = _lcc(g)
    assert gm.path_stats(g).average == pytest.approx(
        nx.average_shortest_path_length(lcc) if len(lcc) > 1 else 0.0, rel=1e-12)
    assert gm.clustering_stats(g).average_clustering == pytest.approx(nx.average_clustering(g))


def test_directed_multigraphs_use_the_simple_undirected_view() -> None:
    base = nx.karate_club_graph()
    messy = nx.MultiDiGraph()
    messy.add_nodes_from(base)  # the same node order
    messy.add_edges_from((v, u) for u, v in base.edges)
    messy.add_edges_from(list(base.edges)[:20])  # parallel, reversed edges
    messy.add_edges_from([(0, 0), (5, 5)])  # self-loops
    assert gm.metric_panel(messy) == gm.metric_panel(base)


def test_view_counts_and_components() -> None:
    g = nx.disjoint_union(nx.path_graph(5), nx.complete_graph(3))
    g.add_node("lonely")
    row = gm.metric_panel(g)
    assert (row["nodes"], row["edges"], row["components"]) == (9, 7, 3)
    assert row["largest_component"] == 5 and row["largest_fraction"] == pytest.approx(5 / 9)
    assert row["average_degree"] == pytest.approx(14 / 9)
    with pytest.raises(ConfigError):
        gm.simple_view([(0, 1)])  # type: ignore[arg-type]


# --- closed forms -------------------------------------------------------------------

@pytest.mark.parametrize("n", [4, 10, 31, 64])
def test_cycle_average_path_length_closed_form(n: int) -> None:
    expected = n * n / (4 * (n - 1)) if n % 2 == 0 else (n + 1) / 4
    stats = gm.path_stats(nx.cycle_graph(n))
    assert stats.average == pytest.approx(expected, rel=1e-12)
    assert stats.diameter == n // 2


@pytest.mark.parametrize("n", [5, 12])
def test_path_and_complete_graph_closed_forms(n: int) -> None:
    path = gm.path_stats(nx.path_graph(n))
    assert path.average == pytest.approx((n + 1) / 3) and path.diameter == n - 1
    b = gm.betweenness(nx.path_graph(n))
    for i in range(n):  # node i separates i * (n-1-i) unordered pairs
        assert b[i] == pytest.approx(2 * i * (n - 1 - i) / ((n - 1) * (n - 2)))
    row = gm.metric_panel(nx.complete_graph(n))
    assert row["diameter"] == 1 and row["path_length"] == 1.0
    assert row["transitivity"] == row["clustering"] == 1.0
    assert row["betweenness_max"] == 0.0


@pytest.mark.parametrize("leaves", [3, 8])
def test_star_betweenness_and_bridging(leaves: int) -> None:
    star = nx.star_graph(leaves)
    b, bridge = gm.betweenness(star), gm.bridging_centrality(star)
    assert b[0] == pytest.approx(1.0) and all(b[v] == 0 for v in range(1, leaves + 1))
    # bridging coefficient of the centre: (1/leaves) / (leaves * 1/1)
    assert bridge[0] == pytest.approx(1 / leaves**2)
    assert all(bridge[v] == 0 for v in range(1, leaves + 1))
    assert gm.hubs(star, 1) == [0] and gm.bridges(star, 1) == [0]


def test_mean_betweenness_is_fixed_by_average_path_length() -> None:
    g = nx.barabasi_albert_graph(300, 2, seed=4)
    n = g.number_of_nodes()
    mean_b = float(gm.centrality(g).betweenness.mean())
    assert mean_b == pytest.approx((gm.path_stats(g).average - 1) / (n - 2), rel=1e-10)


def test_barbell_bridge_is_the_middle_node() -> None:
    g = nx.barbell_graph(5, 1)
    parts = [set(range(5)), {5}, set(range(6, 11))]
    assert gm.bridges(g, 1) == [5]
    assert set(gm.bridges(g, 5, parts=parts)) == {4, 5, 6}  # only they touch two communities


# --- communities --------------------------------------------------------------------

@pytest.mark.parametrize("method", ["networkx", "fast"])
def test_louvain_is_seeded_and_finds_two_cliques(method: str) -> None:
    g = nx.disjoint_union(nx.complete_graph(6), nx.complete_graph(6))
    parts = gm.communities(g, seed=3, method=method)  # type: ignore[arg-type]
    assert sorted(map(sorted, parts)) == [list(range(6)), list(range(6, 12))]
    assert gm.modularity(g, parts) == pytest.approx(0.5)
    k = nx.karate_club_graph()
    first = gm.communities(k, seed=7, method=method)  # type: ignore[arg-type]
    assert first == gm.communities(k, seed=7, method=method)  # type: ignore[arg-type]


def test_fast_louvain_matches_networkx_quality() -> None:
    for g in (nx.relaxed_caveman_graph(20, 8, 0.1, seed=1),
              nx.barabasi_albert_graph(1500, 3, seed=1)):
        ours = gm.modularity(g, gm.communities(g, seed=0, method="fast"))
        ref = nx.community.modularity(g, nx.community.louvain_communities(g, seed=0))
        assert ours > ref - 0.015


def test_fast_louvain_labels_cover_every_node() -> None:
    adj = gm.simple_view(nx.les_miserables_graph()).adjacency
    labels = fast_louvain(adj, np.random.default_rng(0))
    assert len(labels) == adj.shape[0] and set(labels) == set(range(labels.max() + 1))
    assert label_modularity(adj, labels) > 0.5
    with pytest.raises(ConfigError):
        gm.communities(nx.path_graph(3), method="leiden")  # type: ignore[arg-type]


# --- power law ----------------------------------------------------------------------

def test_barabasi_albert_is_scale_free_and_erdos_renyi_is_not() -> None:
    n = 3000
    ba = gm.metric_panel(nx.barabasi_albert_graph(n, 2, seed=42))
    er = gm.metric_panel(nx.gnp_random_graph(n, 6 / n, seed=42))
    assert ba["scale_free"] and ba["powerlaw_R"] > 0 and ba["powerlaw_p"] < 0.05
    assert 2.4 < ba["powerlaw_alpha"] < 3.3  # BA's tail exponent is 3
    assert not er["scale_free"]


def test_power_law_fit_recovers_a_known_exponent() -> None:
    sample = np.random.default_rng(0).zipf(2.5, 20000)
    fit = gm.fit_power_law(sample)
    assert abs(fit.alpha - 2.5) < 0.05 and fit.xmin <= 3 and fit.ks < 0.02
    geometric = np.random.default_rng(1).geometric(0.2, 20000)
    fit = gm.fit_power_law(geometric)
    assert not fit.scale_free  # a geometric tail is no power law
    assert math.isnan(gm.fit_power_law(np.array([3, 3, 3])).alpha)


# --- sampled vs exact ---------------------------------------------------------------

@pytest.mark.parametrize("g", [nx.barabasi_albert_graph(3000, 3, seed=5),
                               nx.watts_strogatz_graph(3000, 6, 0.1, seed=5)],
                         ids=["ba", "ws"])
def test_sampled_estimates_lie_within_standard_errors(g: nx.Graph) -> None:
    view = gm.simple_view(g)
    exact_p, exact_c = gm.path_stats(view, exact_below=10**6), gm.clustering_stats(view)
    p = gm.path_stats(view, exact_below=500, sources=64, rng=1)
    c = gm.clustering_stats(view, exact_below=500, nodes=800, wedges=20000, rng=1)
    assert p.method == c.method == "sampled" and p.sources == 64
    assert abs(p.average - exact_p.average) < 4 * p.average_se
    assert p.diameter <= exact_p.diameter <= p.diameter_upper
    assert abs(c.transitivity - exact_c.transitivity) < 4 * c.transitivity_se
    assert abs(c.average_clustering - exact_c.average_clustering) < 4 * c.average_clustering_se


def test_sampled_betweenness_of_hubs_within_standard_errors() -> None:
    # Hubs lie on paths from almost every source, so few sources estimate them well. (On
    # a Watts-Strogatz graph a node's dependencies come from a few sources and 64 sources
    # can miss them: the benchmark reports that error.)
    view = gm.simple_view(nx.barabasi_albert_graph(3000, 3, seed=5))
    exact = gm.centrality(view).betweenness
    b = gm.centrality(view, exact_below=500, sources=64, rng=1)
    assert b.method == "sampled" and b.sources == 64
    for top in np.argsort(-exact)[:3]:
        assert abs(b.betweenness[top] - exact[top]) < 4 * b.betweenness_se[top]


# --- entropy ------------------------------------------------------------------------

@pytest.mark.parametrize("n", [3, 10, 50])
def test_complete_graph_entropy_is_log_n_minus_one(n: int) -> None:
    ent = gm.von_neumann_entropy(nx.complete_graph(n))
    assert ent.method == "exact" and ent.value == pytest.approx(math.log(n - 1), rel=1e-10)


def test_exact_entropy_matches_networkx_laplacian() -> None:
    g = nx.disjoint_union(nx.karate_club_graph(), nx.empty_graph(3))  # isolated nodes add 0
    lam = linalg.eigvalsh(nx.normalized_laplacian_matrix(g, weight=None).toarray())
    mu = lam[lam > 1e-12] / lam.sum()
    assert gm.von_neumann_entropy(g).value == pytest.approx(-(mu * np.log(mu)).sum(), rel=1e-10)


@pytest.mark.parametrize("g", [nx.barabasi_albert_graph(1200, 3, seed=2),
                               nx.watts_strogatz_graph(1200, 6, 0.1, seed=2)], ids=["ba", "ws"])
def test_lanczos_entropy_is_close_to_exact(g: nx.Graph) -> None:
    exact = gm.von_neumann_entropy(g)
    est = gm.von_neumann_entropy(g, exact_below=100, rng=0)
    assert est.method == "slq" and 0 < est.se < 0.005
    assert abs(est.value - exact.value) < max(4 * est.se, 1e-3)


def test_semantic_entropy_and_discovery_parameter() -> None:
    n = 6
    assert gm.semantic_entropy(np.eye(n)) == pytest.approx(math.log(n))
    assert gm.semantic_entropy(np.ones((n, 3))) == pytest.approx(0.0, abs=1e-12)
    g = nx.complete_graph(n)
    row = gm.metric_panel(g, embeddings={v: np.eye(n)[v] for v in g})
    s = math.log(n - 1)
    assert row["discovery"] == pytest.approx((s - math.log(n)) / (s + math.log(n)))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(0, 10), min_size=1, max_size=30))
def test_spectral_entropy_is_between_zero_and_log_rank(values: list[float]) -> None:
    lam = np.array(values)
    s = gm.entropy.spectral_entropy(lam)
    assert 0.0 <= s <= math.log(max(1, int((lam > 0).sum()))) + 1e-9


# --- panel over iterations ----------------------------------------------------------

def test_panel_over_a_growing_graph() -> None:
    final = nx.barabasi_albert_graph(600, 2, seed=9)
    graphs = [final.subgraph(range(n)).copy() for n in (40, 80, 160, 320, 600)]
    df = gm.panel_over_iterations(graphs, k=5, exact_below=200, seed=1)
    assert len(df) == 5 and df["iteration"].tolist() == list(range(5))
    assert df["nodes"].is_monotonic_increasing and df["edges"].is_monotonic_increasing
    assert df["path_method"].tolist() == ["exact"] * 3 + ["sampled"] * 2
    assert math.isnan(df["hubs_jaccard"].iloc[0])
    for col in ("hubs_jaccard", "bridges_jaccard", "hubs_persistence", "bridges_persistence"):
        values = df[col].dropna()
        assert ((values >= 0) & (values <= 1)).all() and len(values) >= 4
    again = gm.panel_over_iterations(graphs, k=5, exact_below=200, seed=1)
    assert again.equals(df)
    assert gm.panel_over_iterations([]).empty


def test_persistence_by_hand() -> None:
    p = gm.top_set_persistence([{"a", "b"}, {"a", "c"}, {"a", "b"}, {"a", "b"}])
    assert p.per_node == {"a": 1.0, "b": 0.75, "c": 1 / 3}
    assert p.jaccard == pytest.approx((1 / 3, 1 / 3, 1.0))
    stars = [nx.star_graph(n) for n in (3, 5, 8)]
    assert gm.persistence(stars, 1).per_node == {0: 1.0}
    assert gm.persistence(stars, 1, by="bridging").per_node == {0: 1.0}


# --- plots --------------------------------------------------------------------------

def test_plots_write_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    graphs = [nx.barabasi_albert_graph(n, 2, seed=0) for n in (50, 100, 200)]
    df = gm.panel_over_iterations(graphs)
    for path in (graph_plots.plot_panel_over_iterations(df, tmp_path / "panel.png"),
                 graph_plots.plot_panel_over_iterations(df, tmp_path / "two.png",
                                                        ["path_length", "entropy"]),
                 graph_plots.plot_degree_distribution(graphs[-1], tmp_path / "deg.png")):
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 1000
