"""The run directory of a graph-growth run, written one committed iteration at a time.

Layout::

    RUN_DIR/
      config.yaml                   the validated config
      manifest.json                 versions, git commit, seed scheme, times, status, counts
      graphs/iter_0001.graphml      the graph after each iteration (pruned when
                                    min_component is set)
      state/iter_NNNN.graphml       the full graph of the last iteration, kept only when
                                    the saved graphs are pruned (what --resume reads)
      parts/iter_0001.calls.parquet, .triples.parquet, then .iterations.parquet (the commit)
      calls.parquet                 every model call (iteration, call_id, purpose, messages,
                                    completion, tokens, latency, cached, error)
      triples.parquet               every extracted item, with its call_id and what became of it
      iterations.parquet            per iteration: intrinsic rewards, sizes, focus, questions

An iteration counts once its ``iterations`` part exists (the parts are named and
committed by :data:`LAYOUT`, one :class:`~agora.analysis.records.PartLayout` like every
run's); resuming deletes the parts of uncommitted iterations and the graphs a killed run
wrote past the last committed iteration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
import pyarrow as pa

from agora.analysis.records import MODEL_CALL_COLUMNS, PartLayout
from agora.experiments.growth.config import GrowthConfig
from agora.experiments.growth.graph import read_graph, write_graph
from agora.experiments.store import RunDirectory

CALLS, TRIPLES, ITERATIONS = "calls", "triples", "iterations"
TABLES = (CALLS, TRIPLES, ITERATIONS)
COLUMNS = {
    CALLS: ("iteration", "call_id", *MODEL_CALL_COLUMNS),
    TRIPLES: ("iteration", "call_id", "source_raw", "relation_raw", "target_raw", "source",
              "relation", "target", "status", "new_source", "new_target", "embed_merged",
              "item", "reason"),
}
"""Columns of the side tables (their empty tables keep these)."""
SEED_SCHEME = "numpy SeedSequence([seed, iteration]) per iteration"
LAYOUT = PartLayout("iter_{:04d}", ITERATIONS)
"""An iteration's parts, committed by its ``iterations`` part."""


def _frame_table(frame: pd.DataFrame) -> pa.Table:
    """A part's table; a column with no value in this iteration (every triple of it
    unparsed, say) is typed null, so consolidation promotes it to the other iterations'
    type instead of meeting pandas' float NaN column against their strings."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, column in enumerate(table.columns):
        if len(column) and column.null_count == len(column) and column.type != pa.null():
            table = table.set_column(i, pa.field(table.field(i).name, pa.null()),
                                     pa.nulls(len(column)))
    return table


class GrowthStore(RunDirectory):
    """Reads and writes one graph-growth run directory (the shared life cycle of
    :class:`~agora.experiments.store.RunDirectory`, with iteration parts and graphs)."""

    layout = LAYOUT

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        self.graphs = self.root / "graphs"
        self.state = self.root / "state"

    def create(self, cfg: GrowthConfig) -> None:
        """Start a new run directory; refuses to overwrite an existing run."""
        self.start(cfg, {"kind": "graph_growth"}, {
            "seed": cfg.seed, "seed_scheme": SEED_SCHEME, "model": cfg.model.model,
            "strategy": cfg.strategy, "iterations_planned": cfg.iterations,
            "iterations_done": 0,
            "rewards": "intrinsic only (novelty, bridging, surprise); verifiable: false",
        }, folders=(self.graphs, self.state))

    def committed(self) -> list[int]:
        """The iterations whose commit part exists, in order."""
        return [i for (i,) in self.committed_keys()]

    def open_for_resume(self, cfg: GrowthConfig) -> int:
        """Check the run was made by this config, drop what a killed run left (the parts
        of uncommitted iterations, graphs past the last committed one, half-written
        files), return the last committed iteration (0 if none)."""
        manifest = self.check_resume(cfg)
        done = self.committed()
        last = done[-1] if done else 0
        self.drop_uncommitted()
        for folder in (self.graphs, self.state):
            for path in folder.glob("iter_*"):
                if path.name.endswith(".tmp") or _graph_iteration(path) > last:
                    path.unlink()
        self.mark_resumed(manifest, iterations_planned=cfg.iterations)
        return last

    def last_record(self) -> dict[str, Any] | None:
        """The iterations row of the last committed iteration."""
        done = self.committed()
        if not done:
            return None
        df = pd.read_parquet(self.layout.path(self.parts, ITERATIONS, done[-1]))
        return dict(df.iloc[0])

    def load_graph(self, iteration: int) -> nx.MultiDiGraph:
        """The full graph after ``iteration`` (the unpruned state file when there is one)."""
        state = _graph_path(self.state, iteration)
        return read_graph(state if state.exists() else _graph_path(self.graphs, iteration))

    def write_iteration(self, iteration: int, saved: nx.MultiDiGraph,
                        full: nx.MultiDiGraph | None, tables: dict[str, list[dict[str, Any]]]
                        ) -> None:
        """Write one iteration: graph(s), then its parts (calls and triples when it has
        any, the commit part last)."""
        write_graph(saved, _graph_path(self.graphs, iteration), iteration=iteration)
        if full is not None:
            write_graph(full, _graph_path(self.state, iteration), iteration=iteration)
        sides = {kind: _frame_table(pd.DataFrame(tables[kind], columns=list(COLUMNS[kind])))
                 if tables.get(kind) else None for kind in (CALLS, TRIPLES)}
        self.commit_part((iteration,), {
            **sides, ITERATIONS: _frame_table(pd.DataFrame(list(tables[ITERATIONS])))})
        keep = _graph_path(self.state, iteration)
        for old in self.state.glob("iter_*.graphml"):
            if old != keep:
                old.unlink()

    def consolidate(self) -> dict[str, pd.DataFrame]:
        """Write the three tables from the committed parts, in iteration order; return
        them."""
        out = {}
        for kind in TABLES:
            empty = _frame_table(pd.DataFrame(columns=list(COLUMNS.get(kind, ("iteration",)))))
            table = self.consolidate_table(kind, empty=empty)
            out[kind] = pd.DataFrame() if table is None else table.to_pandas()
        return out


def _graph_path(folder: Path, iteration: int) -> Path:
    """The GraphML file of one iteration, named like its parts: ``iter_0007.graphml``."""
    return folder / f"{LAYOUT.stem.format(iteration)}.graphml"


def _graph_iteration(path: Path) -> int:
    return int(path.name.split(".")[0].removeprefix("iter_"))
