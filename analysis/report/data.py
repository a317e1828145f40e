"""What a report reads from a run directory: its kind, provenance and tables.

Kinds and the files that make them (the manifest's ``kind`` wins when it names one):

* ``games``, ``design``, ``graph``: episode runs (``episodes.parquet`` or committed parts;
  ``calls.parquet``); the env's registry family tells design and graph tasks from games;
* ``graph_growth``: ``iterations.parquet``, ``calls.parquet`` and ``graphs/iter_*.graphml``;
* ``population``: ``generations.parquet`` (generation, strategy, count, share,
  mean_payoff, coop_rate);
* ``tournament``: ``ranked.parquet`` (rank, strategy, mean, ci_low, ci_high) and
  ``scores.parquet``;
* ``society``: ``generations.parquet`` per seed and generation (mean donation, final
  resources, cooperation rate, strategy-text measures), ``agents.parquet``, ``calls.parquet``;
* ``archetypes``: ``population.parquet`` (per step: action shares, payoff, calls),
  ``archetype_steps.parquet``, ``calls.parquet``;
* ``training``: ``learning_curves.parquet`` (``iteration`` or ``step``, metric, value).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from agora.analysis.records import CALLS, EPISODES
from agora.analysis.runs import load_run
from agora.envs import AgoraError, ConfigError


class RunKind(StrEnum):
    """The kinds of run directory a report knows."""

    GAMES = "games"
    DESIGN = "design"
    GRAPH = "graph"
    GROWTH = "graph_growth"
    POPULATION = "population"
    TOURNAMENT = "tournament"
    SOCIETY = "society"
    ARCHETYPES = "archetypes"
    TRAINING = "training"


EPISODE_KINDS = (RunKind.GAMES, RunKind.DESIGN, RunKind.GRAPH)
GENERATIONS, LEARNING_CURVES, ITERATIONS = "generations", "learning_curves", "iterations"


@dataclass
class ReportRun:
    """One run directory as a report sees it."""

    root: Path
    kind: RunKind
    manifest: dict[str, Any]
    config: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    label: str = ""

    @property
    def episodes(self) -> pd.DataFrame:
        return self.tables.get(EPISODES, pd.DataFrame())

    @property
    def calls(self) -> pd.DataFrame:
        return self.tables.get(CALLS, pd.DataFrame())


def _kind_of_env(env: str | None) -> RunKind:
    """Games unless the registry names ``env`` a design or graph task."""
    from agora.envs.registry import lookup

    try:
        family = getattr(lookup(env), "family", "") if env else ""
    except AgoraError:
        family = ""
    return {"design": RunKind.DESIGN, "graph": RunKind.GRAPH}.get(family, RunKind.GAMES)


def detect_kind(root: Path, manifest: dict[str, Any]) -> RunKind:
    """The kind of the run in ``root`` (see the module doc)."""
    declared = manifest.get("kind")
    if declared in {k.value for k in RunKind}:
        return RunKind(declared)
    if (root / f"{GENERATIONS}.parquet").exists():
        return RunKind.POPULATION
    if (root / f"{LEARNING_CURVES}.parquet").exists():
        return RunKind.TRAINING
    if (root / f"{ITERATIONS}.parquet").exists() or (root / "graphs").is_dir():
        return RunKind.GROWTH
    return _kind_of_env(manifest.get("env"))


def _read(root: Path, name: str) -> pd.DataFrame:
    path = root / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def load_report_run(root: str | Path) -> ReportRun:
    """Read a run directory for a report.

    Raises:
        ConfigError: ``root`` is not a run directory, or its kind's table is missing.

    Example:
        >>> load_report_run("/nonexistent")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        agora.envs.errors.ConfigError: /nonexistent is not a run directory (no manifest.json)
    """
    root = Path(root)
    path = root / "manifest.json"
    if not path.is_file():
        raise ConfigError(f"{root} is not a run directory (no manifest.json)")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from exc
    kind = detect_kind(root, manifest)
    if kind in EPISODE_KINDS:
        run = load_run(root)
        tables = {EPISODES: run.episodes, CALLS: _read(root, CALLS)}
        config = run.config
    else:
        config_path = root / "config.yaml"
        config = yaml.safe_load(config_path.read_text()) if config_path.exists() else {}
        names = {RunKind.GROWTH: (ITERATIONS, CALLS, "triples"),
                 RunKind.POPULATION: (GENERATIONS,), RunKind.TRAINING: (LEARNING_CURVES,),
                 RunKind.TOURNAMENT: ("ranked", "scores"),
                 RunKind.SOCIETY: (GENERATIONS, "agents", CALLS),
                 RunKind.ARCHETYPES: ("population", "archetype_steps", CALLS)}
        tables = {name: _read(root, name) for name in names[kind]}
        main = names[kind][0]
        if tables[main].empty and kind is not RunKind.GROWTH:
            raise ConfigError(f"{root} is a {kind.value} run without {main}.parquet")
    label = str(manifest.get("name") or root.name)
    return ReportRun(root, kind, manifest, config or {}, tables, label)
