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
import pyarrow as pa
import pyarrow.parquet as pq

from agora.analysis.records import (
    AGENTS,
    GENERATION,
    GENERATIONS,
    RUN_SEED,
    SOCIETY_COLUMNS,
    SOCIETY_TABLES,
    typed_table,
)
from agora.experiments.store import RunConfig, RunDirectory, write_atomically

_COMMIT = GENERATIONS


def part_name(seed: int, generation: int, table: str) -> str:
    """The file name of one table of one generation.

    Example:
        >>> part_name(3, 7, "agents")
        's3_g0007.agents.parquet'
    """
    return f"s{seed}_g{generation:04d}.{table}.parquet"


class SocietyStore(RunDirectory):
    """Reads and writes one society run directory."""

    def create(self, cfg: RunConfig, body: dict[str, Any]) -> None:
        """Start a new run directory (refuses to overwrite a run)."""
        self.start(cfg, {"kind": "society"}, body)

    def open_for_resume(self, cfg: RunConfig) -> None:
        """Check the fingerprint and delete parts of generations that never committed."""
        manifest = self.check_resume(cfg)
        for path in self.parts.glob("*.parquet"):
            key = path.name.split(".")[0]
            if not (self.parts / f"{key}.{_COMMIT}.parquet").exists():
                path.unlink()
        for tmp in self.parts.glob("*.tmp"):
            tmp.unlink()
        self.mark_resumed(manifest)

    def committed(self, seed: int) -> list[int]:
        """The committed generations of ``seed``, in order."""
        return sorted(int(p.name.split(".")[0].split("_g")[1])
                      for p in self.parts.glob(f"s{seed}_g*.{_COMMIT}.parquet"))

    def write_generation(self, seed: int, generation: int,
                         rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Write one generation's tables, the commit marker (``generations``) last."""
        for table in (*(t for t in SOCIETY_TABLES if t != _COMMIT), _COMMIT):
            data = typed_table(SOCIETY_COLUMNS[table], rows.get(table, ()))
            path = self.parts / part_name(seed, generation, table)
            write_atomically(path, lambda tmp, d=data: pq.write_table(d, tmp))

    def read_part(self, seed: int, generation: int, table: str = AGENTS) -> pd.DataFrame:
        """One committed table of one generation."""
        return pd.read_parquet(self.parts / part_name(seed, generation, table))

    def consolidate(self) -> dict[str, pd.DataFrame]:
        """Write the whole-run tables from the committed parts; return them."""
        out: dict[str, pd.DataFrame] = {}
        commits = sorted(self.parts.glob(f"*.{_COMMIT}.parquet"))
        for table in SOCIETY_TABLES:
            parts = [self.parts / p.name.replace(f".{_COMMIT}.", f".{table}.") for p in commits]
            tables = [pq.read_table(p) for p in parts if p.exists()]
            data = (pa.concat_tables(tables, promote_options="permissive") if tables
                    else typed_table(SOCIETY_COLUMNS[table], []))
            keys = [(k, "ascending") for k in (RUN_SEED, GENERATION) if k in data.column_names]
            data = data.sort_by(keys) if keys and data.num_rows else data
            write_atomically(self.root / f"{table}.parquet",
                             lambda tmp, d=data: pq.write_table(d, tmp))
            out[table] = data.to_pandas()
        return out


def read_society(root: str | Path) -> dict[str, pd.DataFrame]:
    """The consolidated tables of a finished society run."""
    return {t: pd.read_parquet(Path(root) / f"{t}.parquet") for t in SOCIETY_TABLES}
