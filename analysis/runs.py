"""Read run directories and summarise them per cell.

Example:
    >>> from agora.analysis import load_run, summarize   # doctest: +SKIP
    >>> run = load_run("runs/pd-tournament")              # doctest: +SKIP
    >>> summarize(run.episodes)                           # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from agora.analysis.records import (
    AGENT,
    CELL,
    EPISODES,
    EVENTS,
    METRIC,
    OK,
    PARAM,
    RETURN,
    STATUS,
    read_parts,
)
from agora.analysis.stats import mean_ci


@dataclass
class Run:
    """A run directory's manifest, config and episodes (events load on demand)."""

    root: Path
    manifest: dict[str, Any]
    config: dict[str, Any]
    episodes: pd.DataFrame

    def events(self) -> pd.DataFrame:
        """One row per actor per step (from ``events.parquet`` or the parts)."""
        path = self.root / f"{EVENTS}.parquet"
        if path.exists():
            return pd.read_parquet(path)
        _, events = read_parts(self.root)  # a partial run: the parts so far
        return events if events is not None else pd.DataFrame()


def load_run(root: str | Path) -> Run:
    """Load a finished or partial run directory.

    Raises:
        FileNotFoundError: ``root`` holds no ``manifest.json``.
    """
    root = Path(root)
    manifest_path = root / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(f"{root} is not a run directory (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    config_path = root / "config.yaml"
    config = yaml.safe_load(config_path.read_text()) if config_path.exists() else {}
    final = root / f"{EPISODES}.parquet"
    if final.exists() and manifest.get("status") != "running":
        episodes = pd.read_parquet(final)
    else:
        episodes, _ = read_parts(root, with_events=False)
    return Run(root, manifest, config, episodes)


def _cell_columns(episodes: pd.DataFrame) -> list[str]:
    """Param and agent columns that vary across cells (what distinguishes them)."""
    keys = [c for c in episodes.columns if c.startswith((PARAM, AGENT))]
    return [c for c in keys if episodes[c].astype(str).nunique() > 1]


def summarize(episodes: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per cell: what varies, episode counts, and mean [CI] of returns and metrics.

    Columns ``<x>.mean``, ``<x>.lo``, ``<x>.hi`` for every ``return.*`` and ``metric.*``.
    """
    if episodes.empty:
        return pd.DataFrame()
    varying = _cell_columns(episodes)
    values = [c for c in episodes.columns if c.startswith((RETURN, METRIC))]
    rows = []
    for cell, group in episodes.groupby(CELL, sort=True):
        ok = group[group[STATUS] == OK]
        row: dict[str, Any] = {CELL: cell}
        for c in varying:
            row[c] = _short(group[c].iloc[0])
        row["episodes"] = len(ok)
        row["failed"] = int((group[STATUS] != OK).sum())
        for c in values:
            m, lo, hi = mean_ci(ok[c].to_numpy(), level)
            row[f"{c}.mean"], row[f"{c}.lo"], row[f"{c}.hi"] = m, lo, hi
        rows.append(row)
    return pd.DataFrame(rows)


def _short(value: Any) -> Any:
    """Agent specs without params print as their bare name."""
    if isinstance(value, str) and value.startswith("{"):
        try:
            spec = json.loads(value)
        except json.JSONDecodeError:
            return value
        if isinstance(spec, dict) and set(spec) == {"name"}:
            return spec["name"]
    return value


def format_summary(summary: pd.DataFrame, digits: int = 3) -> str:
    """A terminal table: ``mean ± half-width`` per value column."""
    if summary.empty:
        return "(no episodes yet)"
    out = summary[[c for c in summary.columns if not c.endswith((".mean", ".lo", ".hi"))]].copy()
    for c in [c[: -len(".mean")] for c in summary.columns if c.endswith(".mean")]:
        m, lo, hi = summary[f"{c}.mean"], summary[f"{c}.lo"], summary[f"{c}.hi"]
        half = (hi - lo) / 2
        half = half.where(~(half.abs() <= 1e-9 * m.abs().clip(lower=1.0)), 0.0)  # float noise
        out[c.replace(RETURN, "ret.").replace(METRIC, "")] = [
            f"{a:.{digits}g}" if pd.isna(h) else f"{a:.{digits}g} ± {h:.2g}"
            for a, h in zip(m, half, strict=True)
        ]
    names = [c.replace(AGENT, "").replace(PARAM, "") for c in out.columns]
    seen: set[str] = set()
    for i, name in enumerate(names):  # a metric may share a param's name
        names[i] = f"m.{name}" if name in seen else name
        seen.add(names[i])
    out.columns = names
    return out.to_string(index=False)
