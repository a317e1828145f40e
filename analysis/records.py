"""The record schema of a run directory, and the reader of its committed parts.

One module names the tables, their columns and the columns' Arrow types; the writers
(:mod:`agora.experiments.batch`, :mod:`agora.experiments.store`) and the readers
(:mod:`agora.analysis.runs`) use these names, so a column is spelled in one place.

Tables:
    ``episodes``: one row per episode. Fixed columns (:data:`EPISODE_COLUMNS`) plus
    families named by prefix: ``param.<name>``, ``agent.player_<i>`` (the agent spec as
    JSON), ``return.player_<i>``, ``invalid.player_<i>``, ``stat.player_<i>.<name>`` and
    ``metric.<name>`` (see :func:`player_column`).
    ``events``: one row per actor per step (:data:`GAME_EVENT_COLUMNS` or
    :data:`TASK_EVENT_COLUMNS` plus the world's own; types in :data:`EVENT_COLUMNS`).
    ``calls``: one row per language-model call: where it happened (:data:`CALL_KEY`), the
    agent's ``attempt``, then the call itself (:data:`MODEL_CALL_COLUMNS`).
    ``generations`` (population runs): one row per generation and strategy
    (:data:`GENERATION_COLUMNS`, then the declared ``metric.<name>`` reporters).
    ``agents`` (population runs): one row per agent on the generations its reporter
    samples (:data:`AGENT_COLUMNS`, then ``attr.<name>`` attributes).

Parts: ``parts/NNNNNN.<table>.parquet``, one set per batch. The side tables are written
first and the episodes part last, so the episodes part is the batch's commit marker; a
side part without its episodes part was left by a killed run and is never read. Every
kind of run names and commits its parts by one rule, a :class:`PartLayout`
(:data:`EPISODE_PARTS` here; population, society, archetype and graph-growth runs
declare theirs).

Example:
    >>> player_column(RETURN, 1), player_column(STAT, 0, "llm_calls")
    ('return.player_1', 'stat.player_0.llm_calls')
    >>> part_path(Path("parts"), 7, CALLS).as_posix()
    'parts/000007.calls.parquet'
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

EPISODES, EVENTS, CALLS = "episodes", "events", "calls"
TABLES = (EPISODES, EVENTS, CALLS)
SIDE_TABLES = (EVENTS, CALLS)
"""Per-batch tables besides the episodes, committed by the episodes part."""

CELL, EPISODE, STEP, ACTOR, ATTEMPT = "cell", "episode", "step", "actor", "attempt"
STATUS, ERROR, DURATION = "status", "error", "duration_s"
OK = "ok"
"""The ``status`` of an episode that finished without error (else ``"failed"``)."""

EPISODE_COLUMNS: dict[str, pa.DataType] = {
    CELL: pa.int64(), EPISODE: pa.int64(), "seed": pa.int64(), STATUS: pa.string(),
    ERROR: pa.string(), "length": pa.int64(), DURATION: pa.float64()}
"""The fixed columns of the episodes table (the prefixed families come between
``length`` and ``duration_s``)."""

PARAM, AGENT, RETURN, INVALID, STAT, METRIC = (
    "param.", "agent.", "return.", "invalid.", "stat.", "metric.")
FAMILY_TYPES: dict[str, pa.DataType | None] = {
    PARAM: None, AGENT: pa.string(), RETURN: pa.float64(), INVALID: pa.int64(),
    STAT: pa.float64(), METRIC: pa.float64()}
"""The type of each prefixed family of episode columns (None: as the value comes)."""

GAME_EVENT_COLUMNS = (STEP, ACTOR, "action", "action_text", "reply", "message", "invalid",
                      "reward", "rewards")
"""The events a game episode records, in order (after :data:`CELL` and :data:`EPISODE`)."""
TASK_EVENT_COLUMNS = (STEP, ACTOR, "kind", "action_text", "reply", "invalid", "reward")
"""The events every task episode records; task worlds add their own columns after these."""
EVENT_COLUMNS: dict[str, pa.DataType] = {
    CELL: pa.int64(), EPISODE: pa.int64(), STEP: pa.int64(), ACTOR: pa.int64(),
    "action": pa.int64(), "kind": pa.string(), "action_text": pa.string(),
    "reply": pa.string(), "message": pa.string(), "invalid": pa.bool_(),
    "reward": pa.float64(), "rewards": pa.list_(pa.float64())}

CALL_KEY = (CELL, EPISODE, STEP, ACTOR)
MODEL_CALL_COLUMNS: dict[str, pa.DataType] = {
    "purpose": pa.string(), "model": pa.string(), "temperature": pa.float64(),
    "seed": pa.int64(), "messages": pa.string(), "completion": pa.string(),
    "tokens_in": pa.int64(), "tokens_out": pa.int64(), "latency_s": pa.float64(),
    "cost": pa.float64(), "cached": pa.bool_(), "retries": pa.int64(),
    "requests": pa.int64(), "retry_errors": pa.string(), ERROR: pa.string()}
"""One model call, as every caller records it (episodes and graph growth alike)."""
CALL_COLUMNS: dict[str, pa.DataType] = {
    **dict.fromkeys(CALL_KEY, pa.int64()), ATTEMPT: pa.int64(), **MODEL_CALL_COLUMNS}

# ----- population runs (agora evolve) ----------------------------------------------
GENERATIONS, AGENTS = "generations", "agents"
POPULATION_TABLES = (GENERATIONS, AGENTS)
GENERATION, STRATEGY, LABEL, AGENT_ID = "generation", "strategy", "label", "id"
GENERATION_KEY = (GENERATION, STRATEGY, LABEL)
GENERATION_COLUMNS: dict[str, pa.DataType] = {
    GENERATION: pa.int64(), STRATEGY: pa.int64(), LABEL: pa.string(), "count": pa.int64(),
    "share": pa.float64(), "mean_payoff": pa.float64(), "std_payoff": pa.float64(),
    "coop_rate": pa.float64()}
"""Per generation and strategy (every declared strategy, absent ones with count 0):
agents, share, mean and standard deviation of the agents' payoffs (the quantity the
dynamics see), and the share of rounds its agents played action 0 (cooperated); game
metrics follow as ``metric.<name>`` (float64), each the strategy's mean over its agents."""
AGENT_KEY = (GENERATION, AGENT_ID)
AGENT_COLUMNS: dict[str, pa.DataType] = {
    GENERATION: pa.int64(), AGENT_ID: pa.int64(), STRATEGY: pa.int64(),
    "payoff": pa.float64(), "coop_rate": pa.float64(), "matches": pa.int64()}
"""Per agent on a sampled generation; attributes follow as ``attr.<name>``."""
ATTRIBUTE = "attr."

COLUMNS: dict[str, dict[str, pa.DataType]] = {
    EPISODES: EPISODE_COLUMNS, EVENTS: EVENT_COLUMNS, CALLS: CALL_COLUMNS,
    GENERATIONS: GENERATION_COLUMNS, AGENTS: AGENT_COLUMNS}
SORT_KEYS: dict[str, tuple[str, ...]] = {
    EPISODES: (CELL, EPISODE), EVENTS: (CELL, EPISODE, STEP, ACTOR),
    CALLS: (*CALL_KEY, ATTEMPT), GENERATIONS: (GENERATION, STRATEGY),
    AGENTS: AGENT_KEY}
"""The order of each consolidated table (keys a table lacks are skipped)."""

TIMING_COLUMNS = (DURATION,)
"""Columns that depend on the machine, not on the config and seed."""

PART_COLUMN = "_part"
"""The column :func:`read_episode_parts` adds: the part each row came from."""


def role(player: int) -> str:
    """The role name of a player: ``player_<i>``."""
    return f"player_{player}"


def player_column(prefix: str, player: int, name: str | None = None) -> str:
    """An episode column of one player, e.g. ``return.player_0``, ``stat.player_1.cost``."""
    column = f"{prefix}{role(player)}"
    return column if name is None else f"{column}.{name}"


Schema = str | Mapping[str, pa.DataType]
"""A table's declared types: its name in :data:`COLUMNS`, or the column mapping itself
(a society's or an archetype run's tables)."""


def column_type(schema: Schema, column: str) -> pa.DataType | None:
    """The declared type of a column (None: undeclared, the values decide).

    Besides the declared columns, ``metric.<name>`` is float64 in every table and the
    episodes' prefixed families take :data:`FAMILY_TYPES`.
    """
    declared = (COLUMNS[schema] if isinstance(schema, str) else schema).get(column)
    if declared is not None:
        return declared
    if column.startswith(METRIC):
        return pa.float64()
    if schema != EPISODES:
        return None
    prefix = next((p for p in FAMILY_TYPES if column.startswith(p)), None)
    return FAMILY_TYPES[prefix] if prefix is not None else None


def to_table(schema: Schema, columns: Mapping[str, Sequence[Any]]) -> pa.Table:
    """Columns as an Arrow table with the declared types, so a batch whose column holds
    only nulls keeps its type; undeclared columns are typed by their values.

    Example:
        >>> to_table(EPISODES, {"return.player_0": [None]}).schema.types
        [DataType(double)]
    """
    return pa.table({k: pa.array(v, type=column_type(schema, k)) for k, v in columns.items()})


# ----- the committed parts ---------------------------------------------------------
@dataclass(frozen=True)
class PartLayout:
    """How a run names and commits its parts: ``<stem>.<table>.parquet`` in the parts
    folder, the stem formatted from an integer key (a batch, a generation, a seed and a
    generation), and the ``commit`` table's part written last, so a key counts once that
    part exists and any other part of an uncommitted key was left by a killed run.

    Example:
        >>> society = PartLayout("s{}_g{:04d}", GENERATIONS)
        >>> society.path(Path("parts"), AGENTS, 3, 7).as_posix()
        'parts/s3_g0007.agents.parquet'
        >>> society.key("s3_g0007.agents.parquet"), society.key("notes.txt")
        ((3, 7), None)
    """

    stem: str
    commit: str

    def path(self, parts: Path, table: str, *key: int) -> Path:
        """The file of one table of one key."""
        return parts / f"{self.stem.format(*key)}.{table}.parquet"

    def key(self, name: str) -> tuple[int, ...] | None:
        """The key of a part's file name (None: not a part of this layout)."""
        fields = [re.escape(text) + (r"(\d+)" if field is not None else "")
                  for text, field, _, _ in string.Formatter().parse(self.stem)]
        found = re.fullmatch("".join(fields) + r"\.[a-z_]+\.parquet", name)
        return tuple(int(g) for g in found.groups()) if found else None

    def committed(self, parts: Path) -> list[tuple[int, ...]]:
        """The keys whose commit part exists, in order."""
        keys = (self.key(p.name) for p in parts.glob(f"*.{self.commit}.parquet"))
        return sorted(k for k in keys if k is not None)

    def uncommitted(self, parts: Path) -> list[Path]:
        """The parts of keys that never got their commit part (a killed run's leftovers)."""
        done = set(self.committed(parts))
        return sorted(p for p in parts.glob("*.parquet")
                      if (k := self.key(p.name)) is not None and k not in done)

    def read(self, parts: Path, table: str, keys: Iterable[tuple[int, ...]] | None = None
             ) -> list[pa.Table]:
        """One table's parts of the committed keys (or of ``keys``), in key order; keys
        that wrote no part of ``table`` are skipped."""
        paths = [self.path(parts, table, *k)
                 for k in (self.committed(parts) if keys is None else keys)]
        return [pq.read_table(p) for p in paths if p.exists()]


EPISODE_PARTS = PartLayout("{:06d}", EPISODES)
"""The parts of an episode run: one set per batch, committed by its episodes part."""


def part_path(parts: Path, part: int, table: str) -> Path:
    """The file of one table of one part."""
    return EPISODE_PARTS.path(parts, table, part)


def committed_parts(parts: Path) -> list[int]:
    """The parts whose commit marker (the episodes part) exists, in order."""
    return [part for (part,) in EPISODE_PARTS.committed(parts)]


def read_episode_parts(parts: Path) -> pd.DataFrame:
    """Episodes from the committed parts: the latest row of each (cell, episode), sorted,
    with the part it came from in a ``_part`` column."""
    frames = []
    for part in committed_parts(parts):
        df = pd.read_parquet(part_path(parts, part, EPISODES))
        df[PART_COLUMN] = part
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    episodes = pd.concat(frames, ignore_index=True)
    episodes = episodes.drop_duplicates(list(SORT_KEYS[EPISODES]), keep="last")
    return episodes.sort_values(list(SORT_KEYS[EPISODES])).reset_index(drop=True)


def read_side_parts(parts: Path, table: str, episodes: pd.DataFrame) -> pd.DataFrame:
    """The rows of a side table that belong to the kept episode rows (from
    :func:`read_episode_parts`), sorted."""
    frames = []
    for part in committed_parts(parts):
        path = part_path(parts, part, table)
        if path.exists():
            df = pd.read_parquet(path)
            df[PART_COLUMN] = part
            frames.append(df)
    if not frames or episodes.empty:
        return pd.DataFrame()
    rows = pd.concat(frames, ignore_index=True)
    keys = [CELL, EPISODE, PART_COLUMN]
    rows = rows.merge(episodes[keys], on=keys, how="inner")
    order = [k for k in SORT_KEYS[table] if k in rows.columns]
    return rows.sort_values(order, kind="stable").reset_index(drop=True).drop(columns=PART_COLUMN)


def read_parts(root: str | Path, with_events: bool = True
               ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Episodes (latest row per cell and episode) and their events, from the committed
    parts of the run directory ``root`` (a partial run, or one being resumed)."""
    parts = Path(root) / "parts"
    raw = read_episode_parts(parts)
    episodes = raw.drop(columns=PART_COLUMN, errors="ignore")
    return episodes, read_side_parts(parts, EVENTS, raw) if with_events else None


# ----- LLM societies (``agora society``) -------------------------------------------
RUN_SEED = "run_seed"
MATCH = "match"
"""A society's episode within a generation (0 for a population game; -1 for a strategy
call); ``actor`` is then the seat in that episode."""
SOCIETY_KEY = (RUN_SEED, GENERATION)
"""Where a society row belongs: one of the run's seeds and the generation (1-based);
not ``seed``, which is a model call's sampling seed."""
SOCIETY_TABLES = (AGENTS, CALLS, EVENTS, GENERATIONS)
"""The tables of a cultural-evolution run; each generation's ``generations`` part is
written last, so it is that generation's commit marker."""
SOCIETY_COLUMNS: dict[str, dict[str, pa.DataType]] = {
    AGENTS: {
        RUN_SEED: pa.int64(), GENERATION: pa.int64(), "agent": pa.string(), "slot": pa.int64(),
        "born": pa.int64(), "model": pa.string(), "model_index": pa.int64(),
        "strategy": pa.string(), "score": pa.float64(), "resources": pa.float64(),
        "rank": pa.int64(), "survived": pa.bool_(), "strategy_words": pa.int64(),
        "reciprocity_words": pa.int64(), "punishment_words": pa.int64()},
    CALLS: {RUN_SEED: pa.int64(), GENERATION: pa.int64(), "phase": pa.string(),
            "agent": pa.string(), MATCH: pa.int64(), STEP: pa.int64(), ACTOR: pa.int64(),
            ATTEMPT: pa.int64(), **MODEL_CALL_COLUMNS},
    EVENTS: {RUN_SEED: pa.int64(), GENERATION: pa.int64(), MATCH: pa.int64(),
             **{k: v for k, v in EVENT_COLUMNS.items() if k not in (CELL, EPISODE)}},
    GENERATIONS: {
        RUN_SEED: pa.int64(), GENERATION: pa.int64(), "agents": pa.int64(),
        "newcomers": pa.int64(), "mean_score": pa.float64(), "mean_donation": pa.float64(),
        "final_resources": pa.float64(), "cooperation_rate": pa.float64(),
        "strategy_words": pa.float64(), "reciprocity_words": pa.float64(),
        "punishment_words": pa.float64(), "strategy_change": pa.float64(),
        "invalid_answers": pa.int64(), "fallbacks": pa.int64(), "llm_calls": pa.int64(),
        "requests": pa.int64(), "cache_hits": pa.int64(), "duration_s": pa.float64()},
}
"""Columns of a society run's tables (``generations`` also carries ``metric.<name>``,
the game's metrics, typed float64)."""

# ----- archetype populations ------------------------------------------------------
ARCHETYPE, ARCHETYPE_STEPS, POPULATION = "archetype", "archetype_steps", "population"
ARCHETYPE_COLUMNS: dict[str, dict[str, pa.DataType]] = {
    ARCHETYPE_STEPS: {
        STEP: pa.int64(), ARCHETYPE: pa.int64(), "variables": pa.string(),
        "agents": pa.int64(), "samples": pa.int64(), "invalid": pa.int64(),
        "fallback": pa.bool_(), "p_action": pa.list_(pa.float64()),
        "share_action": pa.list_(pa.float64()), "mean_payoff": pa.float64()},
    POPULATION: {STEP: pa.int64(), "agents": pa.int64(), "calls": pa.int64(),
                 "share_action": pa.list_(pa.float64()), "mean_payoff": pa.float64(),
                 "cooperation_rate": pa.float64(), "duration_s": pa.float64()},
    CALLS: {STEP: pa.int64(), ARCHETYPE: pa.int64(), "sample": pa.int64(),
            **MODEL_CALL_COLUMNS},
}
"""Columns of an archetype run: per step and archetype, per step over the population,
and every model call (``action_text`` of the parsed answer is in the call's completion)."""


def typed_table(schema: Schema, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows as :func:`to_table` types them, every declared column first (null where the
    rows lack it), then the rows' other columns in order of appearance."""
    declared = COLUMNS[schema] if isinstance(schema, str) else schema
    keys = dict.fromkeys([*declared, *(k for r in rows for k in r)])
    return to_table(schema, {k: [r.get(k) for r in rows] for k in keys})
