"""A run directory: config snapshot, manifest, incremental Parquet parts, final tables.

Layout::

    RUN_DIR/
      config.yaml            the validated config
      manifest.json          versions, git commit, seeds, times, status, counts
      parts/NNNNNN.events.parquet    one set per finished batch, written atomically:
      parts/NNNNNN.calls.parquet     events and model calls first, then episodes
      parts/NNNNNN.episodes.parquet  (the commit marker)
      episodes.parquet       all episodes, one row each, sorted (written at the end)
      events.parquet         all steps, one row per actor per step (written at the end)
      calls.parquet          every language-model call: prompt, completion, tokens, cost...

A killed run loses only the batches in flight. Resuming reads the parts, keeps the
latest row of each (cell, episode), deletes events parts that never got their episodes
part, and re-runs what is missing or failed. The tables' columns and the parts' naming
and commit rule are the record schema's (:mod:`agora.analysis.records`), which also reads
the parts back.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from agora.analysis import records
from agora.analysis.records import (
    CALLS,
    EPISODE_PARTS,
    EPISODES,
    EVENTS,
    SIDE_TABLES,
    SORT_KEYS,
    PartLayout,
)
from agora.analysis.records import TIMING_COLUMNS as TIMING_COLUMNS
from agora.envs import ConfigError
from agora.experiments.config import ExperimentConfig

_PACKAGES = ("agora-sim", "numpy", "gymnasium", "pettingzoo", "ray", "litellm", "pandas",
             "pyarrow", "networkx")


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through a temporary file, so readers never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    write_atomically(path, lambda tmp: tmp.write_bytes(data))


def _write_table(path: Path, table: pa.Table) -> None:
    write_atomically(path, lambda tmp: pq.write_table(table, tmp))


def git_commit(where: Path) -> str | None:
    """The commit of the git checkout holding ``where``, or None."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def package_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


class RunConfig(Protocol):
    """What a run directory needs of a validated config."""

    name: str

    def model_dump(self) -> dict[str, Any]: ...

    def fingerprint(self) -> str: ...


class RunDirectory:
    """The life cycle every run directory shares: a config snapshot, a manifest with
    provenance and status, a refusal to overwrite a run, a fingerprint check on resume,
    and committed parts written, cleaned and consolidated by the subclass's ``layout``
    (episode, population, society, archetype and graph-growth runs)."""

    layout: ClassVar[PartLayout] = EPISODE_PARTS
    """How this kind of run names and commits its parts."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.parts = self.root / "parts"

    def start(self, cfg: RunConfig, header: dict[str, Any], body: dict[str, Any],
              folders: Sequence[Path] = ()) -> None:
        """Start a new run directory: the manifest holds the name, ``header``, provenance,
        ``body``, then times and status. Refuses to overwrite an existing run."""
        if (self.root / "manifest.json").exists():
            raise ConfigError(f"{self.root} already holds a run; use --resume to continue it "
                              "or --out to choose another directory")
        for folder in (self.parts, *folders):
            folder.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(self.root / "config.yaml",
                            yaml.safe_dump(cfg.model_dump(), sort_keys=False).encode())
        self.write_manifest({
            "name": cfg.name, **header, "fingerprint": cfg.fingerprint(),
            "agora_version": package_versions().get("agora-sim", "unknown"),
            "git_commit": git_commit(Path(__file__).parent) or git_commit(Path.cwd()),
            "packages": package_versions(), "command": sys.argv, **body,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "ended": None,
            "status": "running", "attempts": 1,
        })

    def check_resume(self, cfg: RunConfig) -> dict[str, Any]:
        """The manifest of a run made by this config (else a ConfigError)."""
        manifest = self.manifest()
        if manifest.get("fingerprint") != cfg.fingerprint():
            raise ConfigError(f"{self.root} was made with a different config (fingerprint "
                              "mismatch); resume it with the config snapshot in that directory")
        return manifest

    def mark_resumed(self, manifest: dict[str, Any], **updates: Any) -> None:
        """Record one more attempt, running again."""
        manifest.update(status="running", ended=None, **updates,
                        attempts=int(manifest.get("attempts", 1)) + 1)
        self.write_manifest(manifest)

    def manifest(self) -> dict[str, Any]:
        path = self.root / "manifest.json"
        if not path.exists():
            raise ConfigError(f"{self.root} is not a run directory (no manifest.json)")
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def write_manifest(self, data: dict[str, Any]) -> None:
        _atomic_write_bytes(self.root / "manifest.json",
                            json.dumps(data, indent=2, default=str).encode())

    def finish(self, status: str, **extra: Any) -> None:
        m = self.manifest()
        m.update(status=status, ended=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **extra)
        self.write_manifest(m)

    # ----- committed parts ---------------------------------------------------------
    def commit_part(self, key: Sequence[int], tables: Mapping[str, pa.Table | None]) -> None:
        """Write one key's tables atomically, in order, the commit table last (None: the
        key has no part of that table)."""
        order = sorted(tables, key=lambda name: name == self.layout.commit)
        for name in order:
            table = tables[name]
            if table is not None:
                _write_table(self.layout.path(self.parts, name, *key), table)

    def committed_keys(self) -> list[tuple[int, ...]]:
        """The keys whose commit part exists, in order."""
        return self.layout.committed(self.parts)

    def drop_uncommitted(self) -> None:
        """Delete what a killed run left: half-written files and the parts of keys that
        never committed (on resume, before anything is written)."""
        for path in [*self.parts.glob("*.tmp"), *self.layout.uncommitted(self.parts)]:
            path.unlink()

    def read_committed(self, table: str) -> pa.Table | None:
        """One table from the committed parts, in key order (None: no part yet)."""
        found = self.layout.read(self.parts, table)
        return pa.concat_tables(found, promote_options="permissive") if found else None

    def consolidate_table(self, table: str, order: Sequence[str] = (),
                          empty: pa.Table | None = None) -> pa.Table | None:
        """Write ``<table>.parquet`` from the committed parts sorted by the ``order``
        columns it has (``empty`` when there is no part; None: then no file)."""
        data = self.read_committed(table)
        if data is None:
            data = empty
        if data is None:
            return None
        keys = [(k, "ascending") for k in order if k in data.column_names]
        data = data.sort_by(keys) if keys and data.num_rows else data
        _write_table(self.root / f"{table}.parquet", data)
        return data



class RunStore(RunDirectory):
    """Reads and writes one run directory of episodes."""

    def __init__(self, root: str | Path) -> None:
        super().__init__(root)
        self._next_part: int | None = None
        # Tables written by this process; complete only for a fresh run (not a resume).
        self._written: list[dict[str, pa.Table]] | None = None

    def create(self, cfg: ExperimentConfig, planned: int,
               checkpoints: dict[str, str] | None = None) -> None:
        """Start a new run directory; refuses to overwrite an existing run.

        ``checkpoints`` (``{path: sha256}`` of the trained policies the agents load) go
        into the manifest, so a run names the exact weights it played.
        """
        self.start(cfg, {"env": cfg.env}, {
            "base_seed": cfg.seed,
            "seed_scheme": "episode_seed(base, cell, episode) via numpy SeedSequence",
            "episodes_planned": planned, "checkpoints": checkpoints or {}})
        self._written = []

    def open_for_resume(self, cfg: ExperimentConfig) -> None:
        """Check that the directory was made by this config, then clean half-written parts."""
        manifest = self.check_resume(cfg)
        self.drop_uncommitted()
        self.mark_resumed(manifest)

    # ----- parts -----------------------------------------------------------------
    def write_part(self, episodes: pa.Table, events: pa.Table | None,
                   calls: pa.Table | None = None) -> int:
        """Write one batch (events and calls first, then the episodes file that commits it)."""
        if self._next_part is None:
            ids = self.committed_keys()
            self._next_part = (ids[-1][0] + 1) if ids else 0
        part = self._next_part
        self._next_part += 1
        tables = {EVENTS: events, CALLS: calls}
        self.commit_part((part,), {**tables, EPISODES: episodes})
        if self._written is not None:
            self._written.append({EPISODES: episodes,
                                  **{k: t for k, t in tables.items() if t is not None}})
        return part

    def read_parts(self, with_events: bool = True
                   ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """Episodes (latest row per cell and episode) and their events, from the parts."""
        return records.read_parts(self.root, with_events)

    def consolidate(self) -> pd.DataFrame:
        """Write ``episodes.parquet`` and the side tables; return the episodes.

        A fresh run sorts the tables it wrote, in Arrow, without reading them back; a
        resumed run rebuilds them from the parts on disk (latest row per episode).
        """
        if self._written is not None:
            return self._consolidate_written(self._written)
        raw = records.read_episode_parts(self.parts)
        episodes = raw.drop(columns=records.PART_COLUMN, errors="ignore")
        _write_table(self.root / f"{EPISODES}.parquet",
                     pa.Table.from_pandas(episodes, preserve_index=False))
        for kind in SIDE_TABLES:
            table = records.read_side_parts(self.parts, kind, raw)
            if len(table):
                _write_table(self.root / f"{kind}.parquet",
                             pa.Table.from_pandas(table, preserve_index=False))
        return episodes

    def _consolidate_written(self, written: list[dict[str, pa.Table]]) -> pd.DataFrame:
        if not written:
            return pd.DataFrame()
        episodes = pa.concat_tables([w[EPISODES] for w in written],
                                    promote_options="permissive")
        episodes = episodes.sort_by([(k, "ascending") for k in SORT_KEYS[EPISODES]])
        _write_table(self.root / f"{EPISODES}.parquet", episodes)
        for kind in SIDE_TABLES:
            tables = [w[kind] for w in written if kind in w]
            if tables:
                table = pa.concat_tables(tables, promote_options="permissive")
                table = table.sort_by([(k, "ascending") for k in SORT_KEYS[kind]
                                       if k in table.column_names])
                _write_table(self.root / f"{kind}.parquet", table)
        return episodes.to_pandas()
