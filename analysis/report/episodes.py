"""Report sections of episode runs (game sweeps, design runs, graph tasks): returns and
metrics per cell with intervals, medians and shares with bootstrap intervals, GLEE's
regression on the grid, error against budget (design) and F1 against steps (graphs)."""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from agora.analysis.plots import cell_labels
from agora.analysis.records import CELL, EPISODE, METRIC, OK, RETURN, STATUS
from agora.analysis.regression import grid_factors, regress_on_grid
from agora.analysis.report import figures
from agora.analysis.report.data import ReportRun, RunKind
from agora.analysis.report.page import Page, fmt, heading, note, table
from agora.analysis.runs import summarize
from agora.analysis.stats import bootstrap_ci, ratio_ci
from agora.envs import ConfigError

GLEE_OUTCOMES = ("efficiency", "fairness", "self_gain", "distance_to_benchmark")
"""Outcomes regressed first when a run records them (GLEE's measures, then theory)."""
MAX_REGRESSIONS = 6
BIG_CELL, RESAMPLES, BIG_CELL_RESAMPLES = 2000, 999, 199
"""Bootstrap resamples per interval; cells of more episodes than ``BIG_CELL`` get fewer
(their intervals are narrow, and a report of 100,000 episodes builds in seconds)."""
_CHECKPOINT = re.compile(r"^metric\.z@(\d+)$")


def value_columns(episodes: pd.DataFrame, prefix: str) -> list[str]:
    """Numeric columns of one family (``return.`` or ``metric.``)."""
    return [c for c in episodes.columns
            if c.startswith(prefix) and pd.api.types.is_numeric_dtype(episodes[c])]


def _short(column: str) -> str:
    return column.split(".", 1)[1]


def _series(summary: pd.DataFrame, column: str) -> figures.Series:
    return (summary[f"{column}.mean"].tolist(), summary[f"{column}.lo"].tolist(),
            summary[f"{column}.hi"].tolist())


def per_cell(page: Page, run: ReportRun) -> None:
    """Returns and metrics per cell with 95% Student-t intervals."""
    eps = run.episodes
    parts = page.section("Returns and metrics per cell")
    if eps.empty:
        parts.append(note("no episodes recorded yet"))
        return
    summary = summarize(eps)
    labels = cell_labels(eps)
    returns = value_columns(eps, RETURN)
    parts.append(page.figure(figures.bars_ci(
        labels, {_short(c): _series(summary, c) for c in returns},
        "Mean return per cell (95% CI)", "return"), _ci_table(summary, labels, returns)))
    metrics = sorted(value_columns(eps, METRIC), key=lambda c: (
        "distance" not in c and "benchmark" not in c, c))
    if metrics:
        panels = {_short(c): figures.bars_ci(labels, {_short(c): _series(summary, c)},
                                             _short(c), _short(c)) for c in metrics}
        parts.append(note("Choose the metric in the menu; distances to the game's theoretical "
                          "benchmark come first."))
        parts.append(page.figure(figures.selectable("Metric per cell (95% CI)", panels),
                                 _ci_table(summary, labels, metrics)))
    parts.append(heading("Medians and shares of the total return (bootstrap 95% CI)"))
    parts.append(note(f"Percentile bootstrap, {RESAMPLES} resamples ({BIG_CELL_RESAMPLES} in "
                      f"cells of more than {BIG_CELL} episodes); a share is the ratio of a "
                      "player's mean return to the mean summed return."))
    parts.append(table(robust_table(eps, labels, returns)))


def _ci_table(summary: pd.DataFrame, labels: list[str], columns: list[str]) -> pd.DataFrame:
    out = pd.DataFrame({"cell": labels, "episodes": summary["episodes"],
                        "failed": summary["failed"]})
    for c in columns:
        out[f"{_short(c)} mean"] = summary[f"{c}.mean"]
        out[f"{_short(c)} lo"] = summary[f"{c}.lo"]
        out[f"{_short(c)} hi"] = summary[f"{c}.hi"]
    return out


def robust_table(episodes: pd.DataFrame, labels: list[str], returns: list[str]) -> pd.DataFrame:
    """Per cell: each return's median and each player's share of the summed returns
    (a ratio of means), with percentile bootstrap intervals."""
    ok = episodes[episodes[STATUS] == OK]
    rows = []
    for (_, group), label in zip(ok.groupby(CELL, sort=True), labels, strict=False):
        row: dict[str, Any] = {"cell": label, "n": len(group)}
        values = group[returns].to_numpy(dtype=float)
        total = values.sum(axis=1)
        resamples = RESAMPLES if len(group) <= BIG_CELL else BIG_CELL_RESAMPLES
        for i, c in enumerate(returns):
            m, lo, hi = bootstrap_ci(values[:, i], "median", n_resamples=resamples)
            row[f"{_short(c)} median"] = f"{fmt(m)} [{fmt(lo)}, {fmt(hi)}]"
            if len(returns) > 1:
                r, lo, hi = ratio_ci(values[:, i], total, n_resamples=resamples)
                row[f"{_short(c)} share"] = (  # no share of a total that is zero
                    f"{fmt(r, 3)} [{fmt(lo, 3)}, {fmt(hi, 3)}]" if math.isfinite(r) else "–")
        rows.append(row)
    return pd.DataFrame(rows)


def outcomes(episodes: pd.DataFrame) -> list[str]:
    """The outcomes to regress: GLEE's measures first, then other metrics, then returns."""
    metrics = value_columns(episodes, METRIC)
    first = [c for name in GLEE_OUTCOMES for c in metrics if _short(c) == name
             or _short(c).startswith(f"{name}.")]
    rest = [c for c in metrics if c not in first]
    found = first + rest + value_columns(episodes, RETURN)
    return [c for c in found if episodes[c].std(skipna=True) > 0][:MAX_REGRESSIONS]


def glee_regression(page: Page, run: ReportRun) -> None:
    """GLEE's analysis: every outcome on the grid's factors (effect coding, clustered SEs)."""
    eps = run.episodes
    ok = eps[eps[STATUS] == OK] if len(eps) else eps
    if ok.empty or not grid_factors(ok) or ok[CELL].nunique() < 2:
        return
    parts = page.section("Regression on the grid (GLEE's analysis)")
    parts.append(note("OLS of each outcome on every swept parameter and agent as a categorical "
                      "factor with effect (sum-to-zero) coding, as GLEE reports: a level's "
                      "coefficient is its deviation from the mean over that factor's levels. "
                      "Standard errors are clustered by configuration (cell)."))
    panels, tables = {}, []
    for column in outcomes(ok):
        try:
            fit = regress_on_grid(ok, column)
        except ConfigError as exc:
            parts.append(note(f"{column}: {exc}"))
            continue
        t = fit.table
        panels[_short(column)] = figures.bars_ci(
            t["term"].tolist(), {_short(column): (t["coef"], t["lo"], t["hi"])},
            _short(column), "effect (95% CI, clustered)")
        tables.append(t.assign(outcome=_short(column), n=fit.n, clusters=fit.clusters,
                               r2=fit.r2)[["outcome", "term", "coef", "se", "lo", "hi", "p",
                                           "n", "clusters", "r2"]])
    if panels:
        parts.append(page.figure(figures.selectable("Effect of each level", panels),
                                 pd.concat(tables, ignore_index=True)))


def error_against_budget(page: Page, run: ReportRun) -> None:
    """Design runs: the mean standardised prediction error ``z`` at each checkpoint."""
    eps = run.episodes
    checkpoints = sorted((int(m.group(1)), c) for c in eps.columns
                         if (m := _CHECKPOINT.match(c)))
    parts = page.section("Error against budget")
    if not checkpoints:
        parts.append(note("no checkpoint scores (metric.z@k) recorded"))
        return
    labels = cell_labels(eps)
    summary = summarize(eps[[CELL, STATUS, *(c for _, c in checkpoints),
                             *[c for c in eps.columns if c.startswith(("param.", "agent."))]]])
    budgets = [k for k, _ in checkpoints]
    series = {label: tuple(list(col) for col in zip(*[
        (summary[f"{c}.mean"].iloc[i], summary[f"{c}.lo"].iloc[i], summary[f"{c}.hi"].iloc[i])
        for _, c in checkpoints], strict=True)) for i, label in enumerate(labels)}
    parts.append(note("z: the prediction error standardised by the prior-predictive error "
                      "(0 = as good as the prior; lower is better)."))
    parts.append(page.figure(figures.lines(budgets, series, "Prediction error z against "
                                           "experiments spent (95% CI)", "experiments", "z"),
                             _ci_table(summary, labels, [c for _, c in checkpoints])))


def f1_against_steps(page: Page, run: ReportRun) -> None:
    """Graph tasks: the mean F1 after each step, per cell (from the events' ``f1``)."""
    parts = page.section("F1 against steps")
    events = _events(run)
    if events.empty or "f1" not in events.columns:
        eps = run.episodes
        parts.append(note("the events carry no per-step F1 (recorded since this release); "
                          "final F1 against the steps taken per episode instead"))
        if {"metric.f1", "metric.steps"} <= set(eps.columns):
            labels = dict(zip(sorted(eps[CELL].unique()), cell_labels(eps), strict=True))
            series = {labels[c]: (g["metric.steps"].tolist(), g["metric.f1"].tolist())
                      for c, g in eps.groupby(CELL)}
            parts.append(page.figure(figures.xy_lines(
                series, "Final F1 against steps", "steps", "F1",
                modes=dict.fromkeys(series, "markers"))))
        return
    labels = dict(zip(sorted(run.episodes[CELL].unique()), cell_labels(run.episodes),
                      strict=True))
    steps = events.groupby([CELL, EPISODE]).cumcount()
    mean = events.assign(k=steps + 1).groupby([CELL, "k"])["f1"].mean()
    series = {labels[c]: (g.index.get_level_values("k").tolist(), g.tolist())
              for c, g in mean.groupby(level=CELL)}
    data = mean.reset_index().rename(columns={"k": "step", "f1": "mean F1"})
    data[CELL] = data[CELL].map(labels)
    parts.append(page.figure(figures.xy_lines(series, "Mean F1 after each step", "step",
                                              "F1"), data))


def _events(run: ReportRun) -> pd.DataFrame:
    path = run.root / "events.parquet"
    if not path.exists():
        return pd.DataFrame()
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    wanted = [c for c in (CELL, EPISODE, "f1") if c in names]
    return pd.read_parquet(path, columns=wanted)


def episode_sections(page: Page, run: ReportRun) -> None:
    """Every section of an episode run, by kind."""
    per_cell(page, run)
    if run.kind is RunKind.DESIGN:
        error_against_budget(page, run)
    if run.kind is RunKind.GRAPH:
        f1_against_steps(page, run)
    glee_regression(page, run)

