"""Report sections every run has (config, provenance, failures, language-model calls) and
those of graph growth, populations and training runs."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import special

from agora.analysis.records import CELL, EPISODE, ERROR, OK, STATUS
from agora.analysis.report import figures
from agora.analysis.report.data import GENERATIONS, ITERATIONS, LEARNING_CURVES, ReportRun
from agora.analysis.report.page import Page, heading, note, pre, table

_PROVENANCE = ("kind", "env", "status", "started", "ended", "attempts", "agora_version",
               "git_commit", "base_seed", "seed", "seed_scheme", "episodes_planned",
               "iterations_planned", "iterations_done", "fingerprint", "model", "strategy",
               "rewards")
_AGENT_STATS = ("llm_calls", "requests", "reasks", "invalid_answers", "fallbacks",
                "model_errors", "cache_hits", "tokens_in", "tokens_out")


def overview(page: Page, run: ReportRun) -> None:
    """The config snapshot and provenance: versions, commit, seeds, status, failures."""
    parts = page.section(f"{run.label}: config and provenance")
    m = run.manifest
    rows = [{"key": k, "value": _text(m[k])} for k in _PROVENANCE if k in m]
    rows.append({"key": "kind (report)", "value": run.kind.value})
    rows.append({"key": "run directory", "value": str(run.root)})
    rows.append({"key": "command", "value": " ".join(map(str, m.get("command", [])))})
    packages = m.get("packages", {})
    rows += [{"key": f"version {k}", "value": str(v)} for k, v in packages.items()]
    parts.append(table(pd.DataFrame(rows)))
    parts.append(heading("Config"))
    parts.append(pre(yaml.safe_dump(run.config, sort_keys=False) if run.config else "(none)"))
    eps = run.episodes
    if len(eps) and STATUS in eps.columns:
        failed = eps[eps[STATUS] != OK]
        parts.append(heading(f"Failed episodes: {len(failed)} of {len(eps)}"))
        if len(failed):
            reasons = failed[ERROR].fillna("(no reason)").str.slice(0, 300)
            parts.append(table(failed[[CELL, EPISODE, "seed"]].assign(reason=reasons), 100))


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def llm_calls(page: Page, run: ReportRun) -> None:
    """Cost and calls: tokens, latency, cache hits, errors per model; re-asks and
    fallbacks per role (from the episodes' ``stat.<role>.*``)."""
    calls, eps = run.calls, run.episodes
    stats = [c for c in eps.columns if c.startswith("stat.") and c.rsplit(".", 1)[-1]
             in _AGENT_STATS] if len(eps) else []
    if calls.empty and not stats:
        return
    parts = page.section("Language-model cost and calls")
    if not calls.empty:
        parts.append(table(call_summary(calls)))
        lat = {model: g["latency_s"].dropna().to_numpy(dtype=float)
               for model, g in calls.groupby("model")}
        parts.append(page.figure(_latency_boxes(lat)))
    if stats:
        per_role = eps[stats].sum().rename("total").reset_index()
        per_role[["role", "counter"]] = per_role["index"].str.removeprefix("stat.").str.rsplit(
            ".", n=1, expand=True)
        pivot = per_role.pivot(index="role", columns="counter", values="total").reset_index()
        parts.append(heading("Per role (episodes' counters): re-asks, fallbacks, cache hits"))
        parts.append(table(pivot))


def call_summary(calls: pd.DataFrame) -> pd.DataFrame:
    """One row per model (and purpose, where calls have one)."""
    keys = ["model", *(["purpose"] if "purpose" in calls.columns
                       and calls["purpose"].notna().any() else [])]
    grouped = calls.assign(failed=calls[ERROR].notna(), cached=calls["cached"].fillna(False)
                           .astype(bool)).groupby(keys, dropna=False)
    out = grouped.agg(calls=("model", "size"), requests=("requests", "sum"),
                      tokens_in=("tokens_in", "sum"), tokens_out=("tokens_out", "sum"),
                      cost=("cost", "sum"), cache_hits=("cached", "sum"),
                      retries=("retries", "sum"), errors=("failed", "sum"),
                      latency_mean_s=("latency_s", "mean"),
                      latency_p95_s=("latency_s", lambda s: s.quantile(0.95)))
    return out.reset_index()


def _latency_boxes(latencies: dict[str, np.ndarray]) -> figures.Figure:
    """Box plots from precomputed quartiles (no raw values in the page)."""
    data = []
    for model, x in latencies.items():
        if len(x) == 0:
            continue
        q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
        data.append({"type": "box", "name": model, "q1": [q1], "median": [med], "q3": [q3],
                     "lowerfence": [x.min()], "upperfence": [x.max()], "x": [model]})
    return {"data": data, "layout": {"title": {"text": "Latency per call (s)"},
                                     "yaxis": {"title": {"text": "seconds"}},
                                     "showlegend": False}}


# ----- graph growth --------------------------------------------------------------------
def growth(page: Page, run: ReportRun) -> None:
    """The metric panel over iterations and the last graph's degree distribution."""
    from agora.analysis.graphs import panel_over_iterations

    parts = page.section("Graph growth")
    its = run.tables.get(ITERATIONS, pd.DataFrame())
    if len(its):
        cols = [c for c in ("nodes", "edges", "triples_valid", "triples_rejected",
                            "duplicate_triples") if c in its.columns]
        parts.append(page.figure(figures.lines(
            its["iteration"].tolist(), {c: its[c].tolist() for c in cols},
            "Growth per iteration", "iteration", "count"), its[["iteration", *cols]]))
    graphs = _read_graphs(run)
    if not graphs:
        parts.append(note("no saved graphs (graphs/iter_*.graphml)"))
        return
    panel = panel_over_iterations([g for _, g in graphs])
    panel["iteration"] = [i for i, _ in graphs]
    names = [c for c in ("average_degree", "modularity", "communities", "path_length",
                         "diameter", "clustering", "transitivity", "assortativity",
                         "largest_fraction", "entropy", "powerlaw_alpha", "hubs_persistence",
                         "bridges_persistence") if c in panel.columns]
    panels = {n: figures.lines(panel["iteration"].tolist(), {n: panel[n].tolist()}, n,
                               "iteration", n) for n in names}
    parts.append(page.figure(figures.selectable("Metric panel over iterations", panels),
                             panel[["iteration", *names]]))
    parts.append(page.figure(*degree_figure(graphs[-1][1], graphs[-1][0])))


def _read_graphs(run: ReportRun) -> list[tuple[int, Any]]:
    """The saved graphs ``graphs/iter_NNNN.graphml`` in iteration order."""
    import networkx as nx

    paths = sorted((run.root / "graphs").glob("iter_*.graphml"))
    return [(int(p.stem.removeprefix("iter_")),
             nx.read_graphml(p, node_type=str, force_multigraph=True)) for p in paths]


def degree_figure(graph: Any, iteration: int) -> tuple[figures.Figure, pd.DataFrame]:
    """The degree CCDF on log-log axes with the fitted power law and exponential tails."""
    from agora.analysis.graphs.powerlaw import degree_distribution, fit_power_law

    values, counts = degree_distribution(graph)
    counts, values = counts[values > 0], values[values > 0]
    ccdf = counts[::-1].cumsum()[::-1] / max(int(counts.sum()), 1)
    series: dict[str, tuple[Any, Any]] = {"data P(X >= x)": (values.tolist(), ccdf.tolist())}
    title = f"Degree distribution (iteration {iteration})"
    if len(values) > 1:
        fit = fit_power_law(np.repeat(values, counts), min_tail=min(10, int(counts.sum())))
        if fit.n_tail > 0:
            share = fit.n_tail / counts.sum()
            xs = np.arange(fit.xmin, values.max() + 1, dtype=float)
            power = share * special.zeta(fit.alpha, xs) / special.zeta(fit.alpha, fit.xmin)
            expo = share * np.exp(-fit.rate * (xs - fit.xmin))
            series[f"power law alpha={fit.alpha:.2f}, xmin={fit.xmin}"] = (xs.tolist(),
                                                                          power.tolist())
            series[f"exponential (R={fit.vuong:.2f}, p={fit.p_value:.2g})"] = (xs.tolist(),
                                                                              expo.tolist())
    fig = figures.xy_lines(series, title, "degree x", "P(X >= x)", log_x=True, log_y=True,
                           modes={"data P(X >= x)": "markers"})
    return fig, pd.DataFrame({"degree": values, "nodes": counts, "ccdf": ccdf})


# ----- populations and training --------------------------------------------------------
def population(page: Page, run: ReportRun) -> None:
    """Strategy shares (stacked) and mean payoff per strategy over generations."""
    gens = run.tables[GENERATIONS]
    if "label" in gens.columns:  # name the strategies, not their indices
        gens = gens.assign(strategy=gens["label"].astype(str))
    parts = page.section("Population dynamics")
    shares = gens.pivot_table(index="generation", columns="strategy", values="share",
                              aggfunc="mean").sort_index()
    x = shares.index.tolist()
    parts.append(page.figure(figures.stacked_shares(
        x, {str(s): shares[s].fillna(0.0).tolist() for s in shares.columns},
        "Strategy shares over generations", "generation"), shares.reset_index()))
    payoff = gens.pivot_table(index="generation", columns="strategy", values="mean_payoff",
                              aggfunc="mean").sort_index()
    parts.append(page.figure(figures.lines(
        payoff.index.tolist(), {str(s): payoff[s].tolist() for s in payoff.columns},
        "Mean payoff per strategy", "generation", "mean payoff"), payoff.reset_index()))
    if "coop_rate" in gens.columns and "count" in gens.columns:
        weighted = gens.assign(w=gens["coop_rate"] * gens["count"]).groupby("generation")
        coop = (weighted["w"].sum() / weighted["count"].sum()).sort_index()
        parts.append(page.figure(figures.lines(coop.index.tolist(), {"cooperation": coop.tolist()},
                                               "Cooperation rate of the population",
                                               "generation", "cooperation rate")))


def tournament(page: Page, run: ReportRun) -> None:
    """The ranked strategies with their intervals, and every repetition's score."""
    ranked = run.tables["ranked"].sort_values("rank")
    parts = page.section("Tournament ranking")
    names = ranked["strategy"].astype(str).tolist()
    parts.append(page.figure(figures.bars_ci(
        names, {"mean score": (ranked["mean"].tolist(), ranked["ci_low"].tolist(),
                               ranked["ci_high"].tolist())},
        "Mean score per strategy (95% CI over repetitions)", "score", "strategy"), ranked))
    scores = run.tables["scores"]
    if {"repetition", "strategy", "score"} <= set(scores.columns):
        wide = scores.pivot_table(index="repetition", columns="strategy", values="score",
                                  aggfunc="mean").sort_index()
        parts.append(page.figure(figures.lines(
            wide.index.tolist(), {str(c): wide[c].tolist() for c in wide.columns},
            "Score per repetition", "repetition", "score"), scores))


SOCIETY_MEASURES = ("mean_donation", "final_resources", "cooperation_rate", "mean_score",
                    "strategy_words", "reciprocity_words", "punishment_words",
                    "strategy_change")


def society(page: Page, run: ReportRun) -> None:
    """A language-model society over generations: one line per seed for each measure."""
    gens = run.tables[GENERATIONS]
    parts = page.section("Society over generations")
    seed = "run_seed" if "run_seed" in gens.columns else None
    panels = {}
    for measure in (m for m in SOCIETY_MEASURES if m in gens.columns):
        groups = gens.groupby(seed) if seed else [("run", gens)]
        series = {f"seed {k}": g.sort_values("generation")[measure].tolist() for k, g in groups}
        x = sorted(gens["generation"].unique().tolist())
        panels[measure] = figures.lines(x, series, measure.replace("_", " "), "generation",
                                        measure.replace("_", " "))
    if panels:
        parts.append(page.figure(figures.selectable("Society measure", panels), gens))
    agents = run.tables["agents"]
    if {"strategy", "generation", "score"} <= set(agents.columns):
        parts.append(table(agents[[c for c in (seed, "generation", "agent", "score",
                                                    "strategy") if c and c in agents.columns]]
                                .head(200)))


def archetypes(page: Page, run: ReportRun) -> None:
    """An archetype population: action shares, payoff and model calls per step."""
    pop = run.tables["population"].sort_values("step")
    parts = page.section("Archetype population")
    steps = pop["step"].tolist()
    if "share_action" in pop.columns:
        shares = [list(v) for v in pop["share_action"]]
        k = max((len(v) for v in shares), default=0)
        parts.append(page.figure(figures.stacked_shares(
            steps, {f"action {a}": [v[a] if a < len(v) else 0.0 for v in shares]
                    for a in range(k)}, "Action shares of the population", "step"),
            pop.drop(columns=["share_action"])))
    cols = {c: pop[c].tolist() for c in ("mean_payoff", "cooperation_rate") if c in pop}
    if cols:
        parts.append(page.figure(figures.lines(steps, cols, "Payoff and cooperation", "step",
                                               "value"), pop.drop(columns=["share_action"],
                                                                  errors="ignore")))


def training(page: Page, run: ReportRun) -> None:
    """Learning curves: every metric of ``learning_curves.parquet`` against its x column
    (``step`` or ``iteration``); several seeds or runs in a ``seed`` column are averaged
    with a 95% interval."""
    from agora.analysis.stats import mean_ci

    curves = run.tables[LEARNING_CURVES]
    x = "step" if "step" in curves.columns else "iteration"
    parts = page.section("Learning curves")
    panels = {}
    for metric, g in curves.groupby("metric", sort=True):
        stats = g.groupby(x)["value"].apply(lambda v: mean_ci(v.to_numpy())).sort_index()
        mean, lo, hi = (list(t) for t in zip(*stats.tolist(), strict=True))
        panels[str(metric)] = figures.lines(stats.index.tolist(), {str(metric): (mean, lo, hi)},
                                            str(metric), x, str(metric))
    if panels:
        parts.append(page.figure(figures.selectable("Learning curve", panels), curves))
