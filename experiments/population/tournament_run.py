"""``agora tournament``: a tournament config in, a ranked table and Parquet records out.

Layout::

    RUN_DIR/
      config.yaml, manifest.json   as every run (RunDirectory; kind "tournament")
      ranked.parquet               rank, strategy, mean, ci_low, ci_high, ...
      scores.parquet               repetition, player, strategy, score (tidy)
      payoff_matrix.parquet        row strategy x column strategy

Example:
    >>> import tempfile
    >>> cfg = TournamentConfig(name="t", strategies=["tit_for_tat", "always_defect"],
    ...                        turns=10, repetitions=2)
    >>> run_tournament(cfg, tempfile.mkdtemp()).ranked["strategy"].tolist()
    ['always_defect', 'tit_for_tat']
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from agora.agents import AgentSpec
from agora.experiments.population.config import TournamentConfig
from agora.experiments.population.population import parse_spec
from agora.experiments.population.tournament import Tournament
from agora.experiments.store import RunDirectory, write_atomically


@dataclass
class TournamentRun:
    """A finished tournament: where it is written and its tables."""

    run_dir: Path
    ranked: pd.DataFrame
    scores: pd.DataFrame
    payoff_matrix: pd.DataFrame


def _label(spec: AgentSpec) -> str:
    return spec.name if not spec.params else spec.to_json()


def run_tournament(cfg: TournamentConfig, out: str | Path) -> TournamentRun:
    """Play the tournament ``cfg`` and write its tables into ``out``."""
    specs = [parse_spec(s, f"strategies[{k}]") for k, s in enumerate(cfg.strategies)]
    store = RunDirectory(out)
    store.start(cfg, {"kind": "tournament", "env": cfg.env},
                {"seed": cfg.seed, "strategies": [_label(s) for s in specs]})
    result = Tournament(specs, env=cfg.env, params=cfg.params, turns=cfg.turns,
                        repetitions=cfg.repetitions, noise=cfg.noise, seed=cfg.seed).play()
    labels = [_label(s) for s in specs]
    scores = pd.DataFrame([{"repetition": r, "player": p, "strategy": labels[p],
                            "score": float(result.scores[r, p])}
                           for r in range(result.scores.shape[0])
                           for p in range(result.scores.shape[1])])
    matrix = pd.DataFrame(result.payoff_matrix, index=labels, columns=labels)
    matrix = matrix.reset_index(names="strategy")
    for name, df in {"ranked": result.ranked, "scores": scores,
                     "payoff_matrix": matrix}.items():
        write_atomically(store.root / f"{name}.parquet",
                         lambda tmp, df=df: df.to_parquet(tmp, index=False))
    store.finish("completed")
    return TournamentRun(store.root, result.ranked, scores, matrix)
