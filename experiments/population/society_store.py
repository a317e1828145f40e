"""The run directory of an LLM society, written one committed generation at a time.

Layout::

    RUN_DIR/
      config.yaml, manifest.json       the shared run-directory life cycle
      parts/s<seed>_g<gen>.agents.parquet       each agent: strategy text, model, score...
      parts/s<seed>_g<gen>.calls.parquet        every model call (strategy texts and moves)
      parts/s<seed>_g<gen>.events.parquet       every move of the game (donations)
      parts/s<seed>_g<gen>.generations.parquet  the generation's summary: its commit marker
      agents.parquet, calls.parquet, events.parquet, generations.parquet   (at the end)

A generation counts once its ``generations`` part exists; a killed run resumes after the
last committed generation of each seed, and the response cache replays the calls the
killed generation had already made. Columns: :data:`agora.analysis.records.SOCIETY_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from agora.analysis.records import (
    AGENTS,
    GENERATIONS,
    SOCIETY_COLUMNS,
    SOCIETY_KEY,
    SOCIETY_TABLES,
    PartLayout,
    typed_table,
)
from agora.experiments.store import RunConfig, RunDirectory

LAYOUT = PartLayout("s{}_g{:04d}", GENERATIONS)
"""A society's parts: one set per seed and generation, committed by ``generations``."""


def part_name(seed: int, generation: int, table: str) -> str:
    """The file name of one table of one generation.

    Example:
        >>> part_name(3, 7, "agents")
        's3_g0007.agents.parquet'
    """
    return LAYOUT.path(Path(), table, seed, generation).name


class SocietyStore(RunDirectory):
    """Reads and writes one society run directory."""

    layout = LAYOUT

    def create(self, cfg: RunConfig, body: dict[str, Any]) -> None:
        """Start a new run directory (refuses to overwrite a run)."""
        self.start(cfg, {"kind": "society"}, body)

    def open_for_resume(self, cfg: RunConfig) -> None:
        """Check the fingerprint and delete parts of generations that never committed."""
        manifest = self.check_resume(cfg)
        self.drop_uncommitted()
        self.mark_resumed(manifest)

    def committed(self, seed: int) -> list[int]:
        """The committed generations of ``seed``, in order."""
        return [g for s, g in self.committed_keys() if s == seed]

    def write_generation(self, seed: int, generation: int,
                         rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Write one generation's tables, the commit marker (``generations``) last."""
        self.commit_part((seed, generation), {
            table: typed_table(SOCIETY_COLUMNS[table], rows.get(table, ()))
            for table in SOCIETY_TABLES})

    def read_part(self, seed: int, generation: int, table: str = AGENTS) -> pd.DataFrame:
        """One committed table of one generation."""
        return pd.read_parquet(self.layout.path(self.parts, table, seed, generation))

    def consolidate(self) -> dict[str, pd.DataFrame]:
        """Write the whole-run tables from the committed parts; return them."""
        tables = {table: self.consolidate_table(table, SOCIETY_KEY,
                                                empty=typed_table(SOCIETY_COLUMNS[table], []))
                  for table in SOCIETY_TABLES}
        return {name: t.to_pandas() for name, t in tables.items() if t is not None}


def read_society(root: str | Path) -> dict[str, pd.DataFrame]:
    """The consolidated tables of a finished society run."""
    return {t: pd.read_parquet(Path(root) / f"{t}.parquet") for t in SOCIETY_TABLES}
