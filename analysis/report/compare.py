"""Several runs side by side, aligned on their shared parameters.

Episode runs of one environment align cell by cell on a key: the ``param.*`` columns every
run has, and the ``agent.*`` columns that every run sweeps over the same values (a role
whose agent differs between runs, say three models, is what is compared, not a key).
Episodes pair by (key, episode index): runs made with the same seed play the same episode
seeds there, so the paired tests compare agents on identical draws.

Example:
    >>> import pandas as pd
    >>> a = pd.DataFrame({"param.x": [1, 2], "agent.player_0": ["m1", "m1"]})
    >>> b = pd.DataFrame({"param.x": [2, 3], "agent.player_0": ["m2", "m2"]})
    >>> alignment_keys([a, b])
    ['param.x']
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from agora.analysis.records import AGENT, EPISODE, METRIC, OK, PARAM, RETURN, STATUS
from agora.analysis.report import figures
from agora.analysis.report.data import (
    EPISODE_KINDS,
    GENERATIONS,
    ITERATIONS,
    LEARNING_CURVES,
    ReportRun,
    RunKind,
)
from agora.analysis.report.episodes import value_columns
from agora.analysis.report.page import Page, heading, note, table
from agora.analysis.stats import mean_ci, paired_comparison
from agora.envs import ConfigError

RUN, KEY = "run", "key"


def check_comparable(runs: Sequence[ReportRun]) -> None:
    """Refuse runs that cannot share a page of comparisons.

    Raises:
        ConfigError: runs of different kinds, or episode runs of different environments.
    """
    kinds = {r.kind for r in runs}
    if len(kinds) > 1:
        listed = ", ".join(f"{r.root} ({r.kind.value})" for r in runs)
        raise ConfigError(f"cannot compare runs of different kinds: {listed}")
    envs = {r.manifest.get("env") for r in runs}
    if runs[0].kind in EPISODE_KINDS and len(envs) > 1:
        listed = ", ".join(f"{r.root} ({r.manifest.get('env')})" for r in runs)
        raise ConfigError(f"cannot compare runs of different environments: {listed}")


def alignment_keys(frames: Sequence[pd.DataFrame]) -> list[str]:
    """The columns runs align on (see the module doc)."""
    shared = [c for c in frames[0].columns if all(c in f.columns for f in frames[1:])]
    keys = [c for c in shared if c.startswith(PARAM)]
    for c in (c for c in shared if c.startswith(AGENT)):
        values = [frozenset(f[c].astype(str)) for f in frames]
        if all(v == values[0] for v in values[1:]) and len(values[0]) > 1:
            keys.append(c)
    return keys


def aligned(runs: Sequence[ReportRun]) -> tuple[pd.DataFrame, list[str], int]:
    """All runs' finished episodes in one frame with ``run`` and ``key`` columns, keeping
    the keys every run has; also the key columns and how many keys were dropped."""
    frames = [r.episodes[r.episodes[STATUS] == OK] for r in runs]
    keys = alignment_keys(frames)
    varying = [c for c in keys if pd.concat([f[c].astype(str) for f in frames]).nunique() > 1]
    tagged = []
    for run, f in zip(runs, frames, strict=True):
        label = (f[varying].astype(str).apply(
            lambda row: " ".join(f"{c.split('.', 1)[1]}={v}" for c, v in row.items()), axis=1)
            if varying else pd.Series("all", index=f.index))
        tagged.append(f.assign(**{RUN: run.label, KEY: label}))
    common = set.intersection(*(set(t[KEY]) for t in tagged))
    every = set.union(*(set(t[KEY]) for t in tagged))
    both = pd.concat([t[t[KEY].isin(common)] for t in tagged], ignore_index=True)
    return both, varying, len(every - common)


def _paired(both: pd.DataFrame, runs: Sequence[str], outcomes: list[str]) -> pd.DataFrame:
    """Each run against the first, per outcome, paired by key and episode index."""
    base, rows = runs[0], []
    for other in runs[1:]:
        for c in outcomes:
            wide = both[both[RUN].isin([base, other])].pivot_table(
                index=[KEY, EPISODE], columns=RUN, values=c,
                aggfunc="mean").dropna()
            if wide.empty:
                continue
            r = paired_comparison(wide[other].to_numpy(), wide[base].to_numpy())
            rows.append({"outcome": c.split(".", 1)[1], "run": other, "vs": base, **r})
    return pd.DataFrame(rows)


def compare_episodes(page: Page, runs: Sequence[ReportRun]) -> None:
    """Outcomes per aligned key, side by side, and paired comparisons with the first run."""
    parts = page.section("Comparison of runs")
    both, varying, dropped = aligned(runs)
    labels = [r.label for r in runs]
    keys_text = ", ".join(c.split(".", 1)[1] for c in varying) or "(nothing varies)"
    parts.append(note(f"Aligned on {keys_text}; {both[KEY].nunique()} shared settings, "
                      f"{dropped} settings not in every run left out."))
    if both.empty:
        return
    outcomes = [c for c in value_columns(both, RETURN) + value_columns(both, METRIC)
                if both[c].notna().any()]
    panels, rows = {}, []
    keys = sorted(both[KEY].unique())
    for c in outcomes:
        series = {}
        for label in labels:
            stats = [mean_ci(both.loc[(both[RUN] == label) & (both[KEY] == k), c].to_numpy())
                     for k in keys]
            series[label] = tuple(list(t) for t in zip(*stats, strict=True))
            rows += [{"outcome": c.split(".", 1)[1], KEY: k, RUN: label, "mean": s[0],
                      "lo": s[1], "hi": s[2]} for k, s in zip(keys, stats, strict=True)]
        panels[c.split(".", 1)[1]] = figures.bars_ci(keys, series, c.split(".", 1)[1],
                                                     c.split(".", 1)[1])
    if panels:
        parts.append(page.figure(figures.selectable("Runs side by side (95% CI)", panels),
                                 pd.DataFrame(rows)))
    parts.append(heading(f"Paired comparisons with {labels[0]} (same key and episode)"))
    parts.append(table(_paired(both, labels, outcomes)))


def compare_curves(page: Page, runs: Sequence[ReportRun]) -> None:
    """Growth, population and training runs: their main curves overlaid."""
    parts = page.section("Comparison of runs")
    kind = runs[0].kind
    panels = {}
    if kind is RunKind.GROWTH:
        for col in ("nodes", "edges", "triples_valid"):
            panels[col] = figures.xy_lines({r.label: (r.tables[ITERATIONS]["iteration"].tolist(),
                                                      r.tables[ITERATIONS][col].tolist())
                                            for r in runs if col in r.tables[ITERATIONS]},
                                           col, "iteration", col)
    elif kind is RunKind.POPULATION:
        strategies = sorted({s for r in runs for s in r.tables[GENERATIONS]["strategy"]})
        for s in strategies:
            series = {}
            for r in runs:
                g = r.tables[GENERATIONS]
                g = g[g["strategy"] == s].sort_values("generation")
                series[r.label] = (g["generation"].tolist(), g["share"].tolist())
            panels[f"share of {s}"] = figures.xy_lines(series, str(s), "generation", "share")
    else:
        metrics = sorted({m for r in runs for m in r.tables[LEARNING_CURVES]["metric"]})
        for m in metrics:
            series = {}
            for r in runs:
                g = r.tables[LEARNING_CURVES]
                x = "step" if "step" in g.columns else "iteration"
                mean = g[g["metric"] == m].groupby(x)["value"].mean()
                series[r.label] = (mean.index.tolist(), mean.tolist())
            panels[str(m)] = figures.xy_lines(series, str(m), "step", str(m))
    panels = {k: v for k, v in panels.items() if v["data"]}
    if panels:
        parts.append(page.figure(figures.selectable("Runs overlaid", panels)))
