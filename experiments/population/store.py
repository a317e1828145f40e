"""The run directory of a population run, written one committed generation at a time.

Layout::

    RUN_DIR/
      config.yaml, manifest.json            as every run (RunDirectory)
      parts/gen_000007.agents.parquet       per-agent rows (generations the reporter samples)
      parts/gen_000007.generations.parquet  per strategy: counts, shares, payoffs (the commit)
      state/population_000000.parquet       the first population (ids, strategies, attributes)
      state/strategy_000008.npy             the strategies entering the next generation
      generations.parquet, agents.parquet   all parts, sorted (written at the end)
      population.parquet                    the final population

Generation ``g`` counts once its ``generations`` part exists; it is written after the
agents part and after the population entering ``g + 1``, so a killed run resumes from the
last committed generation exactly (only that generation's state is kept). Agents keep
their ids and attributes for the whole run (the dynamics change strategies only), so a
generation's state is its strategy vector: 10M agents checkpoint in a fraction of a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from agora.analysis.records import (
    AGENTS,
    GENERATIONS,
    POPULATION_TABLES,
    SORT_KEYS,
    PartLayout,
)
from agora.experiments.population.config import EvolveConfig
from agora.experiments.population.population import Population
from agora.experiments.store import RunDirectory, write_atomically


def _save_npy(path: Path, values: np.ndarray) -> None:
    with open(path, "wb") as f:  # a file object: np.save would add '.npy' to a name
        np.save(f, values)

SEED_SCHEME = ("generation g: SeedSequence([seed, g]) children 0 matching, 1 vector key, "
               "2 dynamics; episodes engine: episode_seed(seed, g, match)")


def _number(path: Path) -> int:
    return int(path.name.split(".")[0].rsplit("_", 1)[1])


class PopulationStore(RunDirectory):
    """Reads and writes one population run directory."""

    layout = PartLayout("gen_{:06d}", GENERATIONS)

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
        return [g for (g,) in self.committed_keys()]

    def open_for_resume(self, cfg: EvolveConfig) -> int:
        """Check the run was made by this config, drop what a killed run left past the
        last committed generation, and return the next generation to play."""
        manifest = self.check_resume(cfg)
        done = self.committed()
        following = done[-1] + 1 if done else 0
        self.drop_uncommitted()
        for path in self.state.glob("strategy_*"):
            if path.name.endswith(".tmp") or _number(path) > following:
                path.unlink()
        self.mark_resumed(manifest, generations_planned=cfg.generations)
        return following

    def write_state(self, generation: int, pop: Population) -> None:
        """The population entering ``generation`` (the first in full, later ones as their
        strategy vector)."""
        if generation == 0:
            path = self.state / "population_000000.parquet"
            write_atomically(path, lambda tmp: pq.write_table(pop.to_table(), tmp))
            return
        path = self.state / f"strategy_{generation:06d}.npy"
        small = pop.strategy.astype(np.min_scalar_type(max(len(pop.strategies) - 1, 0)))
        write_atomically(path, lambda tmp: _save_npy(tmp, small))

    def read_state(self, generation: int) -> Population:
        first = Population.load(self.state / "population_000000.parquet")
        if generation == 0:
            return first
        strategy = np.load(self.state / f"strategy_{generation:06d}.npy")
        return first.with_strategy(strategy.astype(np.int64))

    def write_generation(self, generation: int, rows: pa.Table, agents: pa.Table | None,
                         following: Population) -> None:
        """Commit one generation: the next population, its agents part, then its row."""
        self.write_state(generation + 1, following)
        self.commit_part((generation,), {AGENTS: agents, GENERATIONS: rows})
        (self.state / f"strategy_{generation:06d}.npy").unlink(missing_ok=True)

    def read_arrow(self, kind: str) -> pa.Table | None:
        """One population table from the committed parts, sorted, with the parts' types
        (None: no part yet)."""
        table = self.read_committed(kind)
        return None if table is None else table.sort_by(
            [(k, "ascending") for k in SORT_KEYS[kind]])

    def read_table(self, kind: str) -> pd.DataFrame:
        """One population table from the committed parts, as a DataFrame."""
        table = self.read_arrow(kind)
        return pd.DataFrame() if table is None else table.to_pandas()

    def consolidate(self, final: Population) -> pd.DataFrame:
        """Write the final tables and population; return the generations table."""
        for kind in POPULATION_TABLES:
            self.consolidate_table(kind, SORT_KEYS[kind])
        write_atomically(self.root / "population.parquet",
                         lambda tmp: pq.write_table(final.to_table(), tmp))
        return self.read_table(GENERATIONS)
