"""The run directory of a population run, written one committed generation at a time.

Layout::

    RUN_DIR/
      config.yaml, manifest.json            as every run (RunDirectory)
      parts/gen_000007.agents.parquet       per-agent rows (generations the reporter samples)
      parts/gen_000007.generations.parquet  per strategy: counts, shares, payoffs (the commit)
      state/population_000008.parquet       the population entering the next generation
      generations.parquet, agents.parquet   all parts, sorted (written at the end)
      population.parquet                    the final population

Generation ``g`` counts once its ``generations`` part exists; it is written after the
agents part and after the population entering ``g + 1``, so a killed run resumes from the
last committed generation exactly (only that generation's state is kept).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from agora.analysis.records import AGENTS, GENERATIONS, POPULATION_TABLES, SORT_KEYS
from agora.experiments.population.config import EvolveConfig
from agora.experiments.population.population import Population
from agora.experiments.store import RunDirectory, write_atomically

SEED_SCHEME = ("generation g: SeedSequence([seed, g]) children 0 matching, 1 vector key, "
               "2 dynamics; episodes engine: episode_seed(seed, g, match)")


def _number(path: Path) -> int:
    return int(path.name.split(".")[0].rsplit("_", 1)[1])


class PopulationStore(RunDirectory):
    """Reads and writes one population run directory."""

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        self.state = self.root / "state"

    def create(self, cfg: EvolveConfig, first: Population) -> None:
        """Start a new run directory holding the generation-0 population."""
        self.start(cfg, {"kind": "population", "env": cfg.env}, {
            "seed": cfg.seed, "seed_scheme": SEED_SCHEME, "size": first.size,
            "strategies": first.labels(), "generations_planned": cfg.generations,
            "generations_done": 0}, folders=(self.state,))
        self.write_state(0, first)

    def committed(self) -> list[int]:
        """The generations whose commit part exists, in order."""
        return sorted(_number(p) for p in self.parts.glob(f"gen_*.{GENERATIONS}.parquet"))

    def open_for_resume(self, cfg: EvolveConfig) -> int:
        """Check the run was made by this config, drop what a killed run left past the
        last committed generation, and return the next generation to play."""
        manifest = self.check_resume(cfg)
        done = self.committed()
        following = done[-1] + 1 if done else 0
        for path in [*self.parts.glob("gen_*"), *self.state.glob("population_*")]:
            stale = _number(path) > following or (path.parent == self.parts
                                                   and _number(path) >= following)
            if path.name.endswith(".tmp") or stale:
                path.unlink()
        self.mark_resumed(manifest, generations_planned=cfg.generations)
        return following

    def write_state(self, generation: int, pop: Population) -> None:
        """The population entering ``generation``."""
        path = self.state / f"population_{generation:06d}.parquet"
        write_atomically(path, lambda tmp: pq.write_table(pop.to_table(), tmp))

    def read_state(self, generation: int) -> Population:
        return Population.load(self.state / f"population_{generation:06d}.parquet")

    def write_generation(self, generation: int, rows: pa.Table, agents: pa.Table | None,
                         following: Population) -> None:
        """Commit one generation: its agents part, the next population, then its row."""
        if agents is not None:
            self._write(self.parts / f"gen_{generation:06d}.{AGENTS}.parquet", agents)
        self.write_state(generation + 1, following)
        self._write(self.parts / f"gen_{generation:06d}.{GENERATIONS}.parquet", rows)
        old = self.state / f"population_{generation:06d}.parquet"
        old.unlink(missing_ok=True)

    @staticmethod
    def _write(path: Path, table: pa.Table) -> None:
        write_atomically(path, lambda tmp: pq.write_table(table, tmp))

    def read_arrow(self, kind: str) -> pa.Table | None:
        """One population table from the committed parts, sorted, with the parts' types
        (None: no part yet)."""
        done = set(self.committed())
        parts = [pq.read_table(p) for p in sorted(self.parts.glob(f"gen_*.{kind}.parquet"))
                 if _number(p) in done]
        if not parts:
            return None
        table = pa.concat_tables(parts, promote_options="permissive")
        return table.sort_by([(k, "ascending") for k in SORT_KEYS[kind]])

    def read_table(self, kind: str) -> pd.DataFrame:
        """One population table from the committed parts, as a DataFrame."""
        table = self.read_arrow(kind)
        return pd.DataFrame() if table is None else table.to_pandas()

    def consolidate(self, final: Population) -> pd.DataFrame:
        """Write the final tables and population; return the generations table."""
        for kind in POPULATION_TABLES:
            table = self.read_arrow(kind)
            if table is not None:
                self._write(self.root / f"{kind}.parquet", table)
        self._write(self.root / "population.parquet", final.to_table())
        return self.read_table(GENERATIONS)
