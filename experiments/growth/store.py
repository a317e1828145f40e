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

An iteration counts once its ``iterations`` part exists; resuming deletes anything a
killed run wrote past the last committed iteration.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd

from agora.analysis.records import MODEL_CALL_COLUMNS
from agora.experiments.growth.config import GrowthConfig
from agora.experiments.growth.graph import read_graph, write_graph
from agora.experiments.store import RunDirectory, write_atomically

TABLES = ("calls", "triples", "iterations")
COLUMNS = {
    "calls": ("iteration", "call_id", *MODEL_CALL_COLUMNS),
    "triples": ("iteration", "call_id", "source_raw", "relation_raw", "target_raw", "source",
                "relation", "target", "status", "new_source", "new_target", "embed_merged",
                "item", "reason"),
}
"""Columns of the side tables (their empty tables keep these)."""
SEED_SCHEME = "numpy SeedSequence([seed, iteration]) per iteration"


def _iter_name(iteration: int) -> str:
    return f"iter_{iteration:04d}"


def _write_frame(path: Path, frame: pd.DataFrame) -> None:
    write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))


def _write_rows(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    _write_frame(path, pd.DataFrame(list(rows)))


class GrowthStore(RunDirectory):
    """Reads and writes one graph-growth run directory (the shared life cycle of
    :class:`~agora.experiments.store.RunDirectory`, with iteration parts and graphs)."""

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
        return sorted(int(p.name.split(".")[0].removeprefix("iter_"))
                      for p in self.parts.glob("iter_*.iterations.parquet"))

    def open_for_resume(self, cfg: GrowthConfig) -> int:
        """Check the run was made by this config, drop half-written files, return the last
        committed iteration (0 if none)."""
        manifest = self.check_resume(cfg)
        done = self.committed()
        last = done[-1] if done else 0
        for folder in (self.graphs, self.state, self.parts):
            for path in folder.glob("iter_*"):
                number = int(path.name.split(".")[0].removeprefix("iter_"))
                if path.name.endswith(".tmp") or number > last:
                    path.unlink()
        self.mark_resumed(manifest, iterations_planned=cfg.iterations)
        return last

    def last_record(self) -> dict[str, Any] | None:
        """The iterations row of the last committed iteration."""
        done = self.committed()
        if not done:
            return None
        df = pd.read_parquet(self.parts / f"{_iter_name(done[-1])}.iterations.parquet")
        return dict(df.iloc[0])

    def load_graph(self, iteration: int) -> nx.MultiDiGraph:
        """The full graph after ``iteration`` (the unpruned state file when there is one)."""
        state = self.state / f"{_iter_name(iteration)}.graphml"
        return read_graph(state if state.exists() else
                          self.graphs / f"{_iter_name(iteration)}.graphml")

    def write_iteration(self, iteration: int, saved: nx.MultiDiGraph,
                        full: nx.MultiDiGraph | None, tables: dict[str, list[dict[str, Any]]]
                        ) -> None:
        """Write one iteration: graph(s), calls and triples, then the commit part."""
        name = _iter_name(iteration)
        write_graph(saved, self.graphs / f"{name}.graphml", iteration=iteration)
        if full is not None:
            write_graph(full, self.state / f"{name}.graphml", iteration=iteration)
        for kind in ("calls", "triples"):
            if tables.get(kind):
                _write_frame(self.parts / f"{name}.{kind}.parquet",
                             pd.DataFrame(tables[kind], columns=list(COLUMNS[kind])))
        _write_rows(self.parts / f"{name}.iterations.parquet", tables["iterations"])
        for old in self.state.glob("iter_*.graphml"):
            if old.name != f"{name}.graphml":
                old.unlink()

    def consolidate(self) -> dict[str, pd.DataFrame]:
        """Write the three tables from the committed parts; return them."""
        done = set(self.committed())
        out = {}
        for kind in TABLES:
            frames = [pd.read_parquet(p) for p in sorted(self.parts.glob(f"iter_*.{kind}.parquet"))
                      if int(p.name.split(".")[0].removeprefix("iter_")) in done]
            frames = [f for f in frames if len(f)]
            table = (pd.concat(frames, ignore_index=True) if frames
                     else pd.DataFrame(columns=list(COLUMNS.get(kind, ("iteration",)))))
            _write_frame(self.root / f"{kind}.parquet", table)
            out[kind] = table
        return out
