"""Time of the graph metrics panel on 10,000-node graphs, and the error of its samples.

Two graphs: Barabasi-Albert (``m=3``) and Watts-Strogatz (``k=6``, ``p=0.1``), both
with ``--n`` nodes (default 10,000). For each the script

* times the whole :func:`agora.analysis.graphs.metric_panel` (default sample sizes,
  :class:`~agora.analysis.graphs.Samples`), best and median wall time of ``--repeats``
  runs, and the best CPU time of the process (what the panel costs when no other
  process competes for the cores); the target is <= 2 s wall;
* times each metric on its own with the panel's settings (best of the repeats, wall
  and CPU), the simple-view construction included as its own row;
* measures every sampled quantity once exactly (all BFS sources, every node's triangles,
  networkx's Louvain, a dense eigendecomposition for the entropy) and prints the
  estimate, the exact value, the error and the error in standard errors. The exact
  entropy of a 10,000-node graph needs a dense ``eigvalsh`` (several minutes on two
  cores); ``--exact-entropy-max`` skips it above that size.

Run::

    python benchmarks/bench_graph_metrics.py [--n 10000] [--repeats 3] [--seed 0]
        [--exact-entropy-max 10000] [--json PATH] [--quick]

``--quick`` (about 10 s): 2,001 nodes, just above the size where the panel switches from
exact to sampled metrics, once, without the dense exact entropy.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import networkx as nx
import numpy as np
from _cli import parse_args

from agora.analysis import graphs as gm

TARGET_S = 2.0
QUICK = {"n": 2001, "repeats": 1, "exact_entropy_max": 500}


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, float, float, Any]:
    """Best and median wall time, best CPU time of this process, and the last result.

    The CPU time is what the work costs without other processes competing for the cores
    (the wall time is larger when they do).
    """
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), statistics.median(walls), min(cpus), out


def metric_timings(g: nx.Graph, seed: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Best wall and CPU time of each metric alone, with the panel's sample sizes."""
    s, cut = gm.Samples(), 2000
    rngs = [np.random.default_rng(x) for x in np.random.SeedSequence(seed).spawn(4)]
    view = gm.simple_view(g)
    jobs: dict[str, Callable[[], Any]] = {
        "simple view": lambda: gm.simple_view(g),
        "components": lambda: gm.simple_view(g).largest,
        "louvain + modularity": lambda: gm.modularity(
            view, gm.communities(view, seed=seed, exact_below=cut)),
        "paths (apl, diameter)": lambda: gm.path_stats(
            view, exact_below=cut, sources=s.path_sources, rng=rngs[0]),
        "clustering": lambda: gm.clustering_stats(
            view, exact_below=cut, nodes=s.clustering_nodes, wedges=s.wedges, rng=rngs[1]),
        "assortativity": lambda: gm.degree_assortativity(view),
        "power-law fit": lambda: gm.fit_power_law(view.degrees),
        "betweenness + bridging": lambda: gm.centrality(
            view, exact_below=cut, sources=s.betweenness_sources, rng=rngs[2]),
        "von Neumann entropy": lambda: gm.von_neumann_entropy(
            view, exact_below=cut, probes=s.entropy_probes, steps=s.lanczos_steps, rng=rngs[3]),
    }
    return {name: best_time(fn, repeats)[0:3:2] for name, fn in jobs.items()}


def exact_values(g: nx.Graph, seed: int, entropy_max: int) -> dict[str, Any]:
    """Every sampled quantity computed exactly (slow), with the time it took."""
    view = gm.simple_view(g)
    big = view.n + 1
    start = time.perf_counter()
    paths = gm.path_stats(view, exact_below=big)
    clus = gm.clustering_stats(view, exact_below=big)
    cent = gm.centrality(view, exact_below=big)
    out: dict[str, Any] = {
        "path_length": paths.average, "diameter": paths.diameter,
        "transitivity": clus.transitivity, "clustering": clus.average_clustering,
        "betweenness_max": float(cent.betweenness.max()),
        "bridging_max": float(cent.bridging.max()),
        "top10_betweenness": set(np.argsort(-cent.betweenness)[:10].tolist()),
        "top10_bridging": set(np.argsort(-cent.bridging)[:10].tolist()),
        "modularity": gm.modularity(view, gm.communities(view, seed=seed, method="networkx")),
    }
    out["entropy"] = (gm.von_neumann_entropy(view, exact_below=big).value
                      if view.n <= entropy_max else math.nan)
    out["seconds"] = time.perf_counter() - start
    return out


def error_rows(g: nx.Graph, row: dict[str, Any], exact: dict[str, Any],
               seed: int) -> list[dict[str, Any]]:
    """Estimate, exact value, error and error in standard errors of each sampled metric."""
    s = gm.Samples()
    cent = gm.centrality(g, sources=s.betweenness_sources,
                         rng=np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[2]))
    rows = []
    for name, se_key, used in (
            ("path_length", "path_length_se", f"{row['path_sources']} sources"),
            ("transitivity", "transitivity_se", f"{s.wedges} wedges"),
            ("clustering", "clustering_se", f"{s.clustering_nodes} nodes"),
            ("betweenness_max", "betweenness_max_se", f"{row['betweenness_sources']} sources"),
            ("bridging_max", None, f"{row['betweenness_sources']} sources"),
            ("entropy", "entropy_se", f"{s.entropy_probes} probes x {s.lanczos_steps} steps"),
            ("modularity", None, "fast vs networkx Louvain")):
        est, ref = float(row[name]), float(exact[name])
        se = float(row[se_key]) if se_key else math.nan
        rows.append({"metric": name, "estimate": est, "exact": ref, "error": est - ref,
                     "rel_error": (est - ref) / ref if ref else math.nan,
                     "z": (est - ref) / se if se and se > 0 else math.nan, "samples": used})
    lo, hi = row["diameter"], row["diameter_upper"]
    rows.append({"metric": "diameter", "estimate": lo, "exact": exact["diameter"],
                 "error": lo - exact["diameter"], "rel_error": math.nan, "z": math.nan,
                 "samples": f"bounds [{lo}, {hi}]"})
    for name, scores in (("top10_betweenness", cent.betweenness),
                         ("top10_bridging", cent.bridging)):
        overlap = len(set(np.argsort(-scores)[:10].tolist()) & exact[name])
        rows.append({"metric": name, "estimate": overlap / 10, "exact": 1.0,
                     "error": overlap / 10 - 1, "rel_error": math.nan, "z": math.nan,
                     "samples": "overlap with exact top 10"})
    return rows


def print_graph(name: str, total: tuple[float, float, float],
                timings: dict[str, tuple[float, float]], errors: list[dict[str, Any]],
                exact_s: float) -> None:
    """One graph's tables."""
    verdict = "PASS" if total[0] <= TARGET_S else "FAIL"
    print(f"\n== {name}: panel wall best {total[0]:.3f} s, median {total[1]:.3f} s, "
          f"CPU {total[2]:.3f} s (target <= {TARGET_S:.1f} s wall) {verdict}")
    print(f"{'metric':<26}{'wall s':>9}{'CPU s':>9}")
    for metric, (wall, cpu) in timings.items():
        print(f"{metric:<26}{wall:>9.3f}{cpu:>9.3f}")
    print(f"{'sum of metrics':<26}{sum(w for w, _ in timings.values()):>9.3f}"
          f"{sum(c for _, c in timings.values()):>9.3f}")
    print(f"\n{'sampled metric':<20}{'estimate':>12}{'exact':>12}{'error':>11}{'rel':>8}"
          f"{'z':>7}  samples   (exact values took {exact_s:.0f} s)")
    for r in errors:
        print(f"{r['metric']:<20}{r['estimate']:>12.5g}{r['exact']:>12.5g}{r['error']:>11.3g}"
              f"{r['rel_error']:>8.3f}{r['z']:>7.2f}  {r['samples']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exact-entropy-max", type=int, default=10_000)
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parse_args(ap, QUICK)
    print(f"python {platform.python_version()}, networkx {nx.__version__}, "
          f"numpy {np.__version__}, n={args.n}, repeats={args.repeats}, {gm.Samples()}")
    graphs = {"barabasi_albert m=3": nx.barabasi_albert_graph(args.n, 3, seed=1),
              "watts_strogatz k=6 p=0.1": nx.watts_strogatz_graph(args.n, 6, 0.1, seed=1)}
    results: dict[str, Any] = {}
    ok = True
    for name, g in graphs.items():
        gm.metric_panel(g, seed=args.seed)  # warm caches and lazy imports
        best, median, cpu, row = best_time(partial(gm.metric_panel, g, seed=args.seed),
                                           args.repeats)
        timings = metric_timings(g, args.seed, args.repeats)
        exact = exact_values(g, args.seed, args.exact_entropy_max)
        errors = error_rows(g, row, exact, args.seed)
        print_graph(name, (best, median, cpu), timings, errors, exact["seconds"])
        ok &= best <= TARGET_S
        results[name] = {"panel_best_s": best, "panel_median_s": median, "panel_cpu_s": cpu,
                         "timings": timings, "errors": errors, "row": row}
    print(f"\noverall: {'PASS' if ok else 'FAIL'}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"target_s": TARGET_S, "graphs": results}, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
