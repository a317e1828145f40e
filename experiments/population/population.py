"""A population: agents with identities, a strategy each (an agent spec) and attributes.

Agents are sites: agent ``k`` keeps its id and its attributes for the whole run, and the
dynamics change only which strategy it plays. Strategies are :class:`AgentSpec` s, so any
registered agent (heuristic, learner, language model) can be one; the strategy column holds
indices into :attr:`Population.strategies`.

Example:
    >>> pop = Population.from_shares({"tit_for_tat": 0.5, "always_defect": 0.5}, 5)
    >>> pop.counts().tolist(), pop.labels()
    ([3, 2], ['tit_for_tat', 'always_defect'])
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from agora.agents import AgentSpec, make_agent
from agora.agents.memory_one import memory_one_of
from agora.envs import ConfigError, UnknownIdError

ATTRIBUTE_PREFIX = "attr."
"""The Parquet column of an attribute ``x`` is ``attr.x``."""
_META_KEY = b"agora.strategies"

Weights = Mapping[str, float] | Sequence[Mapping[str, Any]]
"""Shares or counts: ``{name: value}``, or ``[{agent: SPEC, share|count: value}, ...]``."""


def parse_spec(raw: Any, where: str) -> AgentSpec:
    """An agent spec that names a registered agent with valid parameters, or a
    memory-one preset (e.g. ``suspicious_tit_for_tat``, played as a ``memory_one`` agent
    by the episodes engine)."""
    try:
        spec = AgentSpec.parse(raw)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    try:
        make_agent(spec)
    except UnknownIdError as exc:
        if memory_one_of(spec) is None:
            raise ConfigError(f"{where}: {exc}") from None
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return spec


def playable(spec: AgentSpec) -> AgentSpec:
    """The spec the episode loop can build: itself, or a memory-one preset's table as a
    ``memory_one`` agent.

    Example:
        >>> playable(AgentSpec("suspicious_tit_for_tat")).name
        'memory_one'
    """
    try:
        make_agent(spec)
        return spec
    except UnknownIdError:
        table = memory_one_of(spec)
        if table is None:
            raise
        probs = table.probabilities().tolist()
        return AgentSpec("memory_one", {"initial": probs[4], "table": probs[:4]})


def _weights(raw: Weights, what: str) -> list[tuple[AgentSpec, float]]:
    """``(spec, value)`` pairs from either form of :data:`Weights`."""
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        items = []
        for k, entry in enumerate(raw):
            if not isinstance(entry, Mapping) or set(entry) != {"agent", what}:
                raise ConfigError(f"population.{what}s[{k}]: want a mapping with keys "
                                  f"'agent' and {what!r}, got {entry!r}")
            items.append((entry["agent"], entry[what]))
    else:
        raise ConfigError(f"population.{what}s: want a mapping or a list, got {raw!r}")
    if not items:
        raise ConfigError(f"population.{what}s: no strategies given")
    pairs = [(parse_spec(a, f"population.{what}s[{k}]"), v) for k, (a, v) in enumerate(items)]
    seen = [s.to_json() for s, _ in pairs]
    twice = sorted({s for s in seen if seen.count(s) > 1})
    if twice:
        raise ConfigError(f"population.{what}s: strategy {twice[0]} is listed twice")
    return pairs


def largest_remainder(shares: Sequence[float], size: int) -> np.ndarray:
    """Counts summing to ``size`` closest to ``shares * size`` (Hamilton's method; ties
    go to the earlier strategy, so the result is deterministic).

    Example:
        >>> largest_remainder([1 / 3, 1 / 3, 1 / 3], 10).tolist()
        [4, 3, 3]
    """
    quota = np.asarray(shares, dtype=np.float64) * size
    counts = np.floor(quota + 1e-9).astype(np.int64)
    left = size - int(counts.sum())
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[:left]] += 1
    return counts


@dataclass
class Population:
    """Agents (ids), the strategy index of each, the strategies, and per-agent attributes.

    Attributes:
        ids: int64 agent ids, one per agent (their order is the agents' order).
        strategy: int64 index into ``strategies`` per agent.
        strategies: the strategy list (every declared strategy, present or not).
        attributes: named per-agent arrays (kept with the agent when it changes strategy).
    """

    ids: np.ndarray
    strategy: np.ndarray
    strategies: tuple[AgentSpec, ...]
    attributes: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = np.asarray(self.ids, dtype=np.int64)
        self.strategy = np.asarray(self.strategy, dtype=np.int64)
        n = len(self.ids)
        if len(self.strategy) != n or any(len(v) != n for v in self.attributes.values()):
            raise ConfigError(f"population: ids, strategy and attributes differ in length ({n})")
        if n and (self.strategy.min() < 0 or self.strategy.max() >= len(self.strategies)):
            last = len(self.strategies) - 1
            raise ConfigError(f"population: strategy indices must be in 0..{last}")

    @property
    def size(self) -> int:
        return len(self.ids)

    # ----- building ---------------------------------------------------------------
    @classmethod
    def from_counts(cls, counts: Weights) -> Population:
        """Agents in blocks, ``count`` of each strategy in the order given.

        Example:
            >>> Population.from_counts([{"agent": "tit_for_tat", "count": 2}]).size
            2
        """
        pairs = _weights(counts, "count")
        for spec, c in pairs:
            if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0:
                raise ConfigError(f"population.counts: count of {spec.name!r} is {c!r}; "
                                  "want an integer >= 0")
        values = np.array([c for _, c in pairs], dtype=np.int64)
        if values.sum() == 0:
            raise ConfigError("population.counts: the counts add up to 0 agents")
        return cls._blocks(tuple(s for s, _ in pairs), values)

    @classmethod
    def from_shares(cls, shares: Weights, size: int) -> Population:
        """``size`` agents with these shares (largest remainder, deterministic).

        Raises:
            ConfigError: a share is not a number in [0, 1], or they do not add up to 1.
        """
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ConfigError(f"population.size={size!r} is invalid: want an integer >= 1")
        pairs = _weights(shares, "share")
        for spec, v in pairs:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise ConfigError(f"population.shares: share of {spec.name!r} is {v!r}; "
                                  "want a number in [0, 1]")
        total = math.fsum(v for _, v in pairs)
        if abs(total - 1.0) > 1e-9:
            raise ConfigError(f"population.shares add up to {total!r}, not 1")
        counts = largest_remainder([v for _, v in pairs], int(size))
        return cls._blocks(tuple(s for s, _ in pairs), counts)

    @classmethod
    def from_list(cls, specs: Sequence[Any]) -> Population:
        """One agent per entry; the strategies are the distinct specs in first-seen order."""
        if isinstance(specs, (str, Mapping)) or not specs:
            raise ConfigError(f"population.list: want a non-empty list of agents, got {specs!r}")
        parsed = [parse_spec(s, f"population.list[{k}]") for k, s in enumerate(specs)]
        keys = list(dict.fromkeys(s.to_json() for s in parsed))
        strategies = tuple(parsed[[s.to_json() for s in parsed].index(k)] for k in keys)
        index = {k: i for i, k in enumerate(keys)}
        return cls(np.arange(len(parsed)), np.array([index[s.to_json()] for s in parsed]),
                   strategies)

    @classmethod
    def mixture(cls, k: int, size: int, seed: int) -> Population:
        """``k`` random memory-one strategies (tables uniform on [0, 1]^5, from ``seed``),
        in equal shares (largest remainder) of ``size`` agents.

        Example:
            >>> Population.mixture(3, 7, seed=1).counts().tolist()
            [3, 2, 2]
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"population.mixture.k={k!r} is invalid: want an integer >= 1")
        draws = np.random.default_rng(np.random.SeedSequence([seed, k])).random((k, 5))
        specs = tuple(AgentSpec("memory_one", {"initial": round(float(d[4]), 6),
                                               "table": [round(float(x), 6) for x in d[:4]]})
                      for d in draws)
        return cls.from_shares([{"agent": s, "share": 1 / k} for s in specs], size)

    @classmethod
    def _blocks(cls, strategies: tuple[AgentSpec, ...], counts: np.ndarray) -> Population:
        return cls(np.arange(int(counts.sum())), np.repeat(np.arange(len(counts)), counts),
                   strategies)

    def shuffled(self, rng: np.random.Generator) -> Population:
        """The same agents (ids in order) with their strategies and attributes placed in
        a random order (e.g. randomly on a lattice)."""
        order = rng.permutation(self.size)
        return Population(self.ids.copy(), self.strategy[order], self.strategies,
                          {k: v[order] for k, v in self.attributes.items()})

    def with_strategy(self, strategy: np.ndarray) -> Population:
        """The next generation: the same agents and attributes, new strategy indices."""
        return Population(self.ids, strategy, self.strategies, self.attributes)

    # ----- reading ----------------------------------------------------------------
    def counts(self) -> np.ndarray:
        """Agents per strategy (every declared strategy, zeros included)."""
        return np.bincount(self.strategy, minlength=len(self.strategies))

    def shares(self) -> np.ndarray:
        """Share of each strategy; sums to 1."""
        return self.counts() / self.size

    def labels(self) -> list[str]:
        """A short readable label per strategy: the name, with parameters when given."""
        return [s.name if not s.params else s.to_json() for s in self.strategies]

    # ----- storing ----------------------------------------------------------------
    def to_table(self) -> pa.Table:
        """Parquet-ready: ``id``, ``strategy``, ``spec`` (JSON, dictionary-encoded: one
        string per strategy, not per agent), ``attr.<name>``; the full strategy list (absent
        ones too) in the schema metadata."""
        specs = [s.to_json() for s in self.strategies]
        spec = pa.DictionaryArray.from_arrays(pa.array(self.strategy, pa.int32()),
                                              pa.array(specs, pa.string()))
        cols: dict[str, Any] = {"id": self.ids, "strategy": self.strategy, "spec": spec}
        cols.update({f"{ATTRIBUTE_PREFIX}{k}": v for k, v in self.attributes.items()})
        table = pa.table(cols)
        meta = json.dumps([json.loads(s) for s in specs]).encode()
        return table.replace_schema_metadata({_META_KEY: meta})

    def save(self, path: str | Path) -> Path:
        """Write the population as Parquet (see :meth:`to_table`)."""
        path = Path(path)
        pq.write_table(self.to_table(), path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Population:
        """Read a population written by :meth:`save` (or any Parquet with ``id`` and
        ``spec`` columns: the strategies are then the distinct specs in first-seen order).

        Example:
            >>> import tempfile, os
            >>> pop = Population.from_list(["tit_for_tat", "always_defect"])
            >>> p = pop.save(os.path.join(tempfile.mkdtemp(), "pop.parquet"))
            >>> Population.load(p).labels()
            ['tit_for_tat', 'always_defect']
        """
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"population file {str(path)!r} does not exist")
        table = pq.read_table(path)
        meta = (table.schema.metadata or {}).get(_META_KEY)
        names = table.column_names
        if "id" not in names or "spec" not in names:
            raise ConfigError(f"population file {str(path)!r} lacks the columns 'id' and 'spec'")
        codes, distinct = pd.factorize(table.column("spec").to_pandas(), sort=False)
        raw = json.loads(meta) if meta else [json.loads(s) if isinstance(s, str) else s
                                             for s in distinct]
        specs = tuple(parse_spec(r, f"population file {path.name}") for r in raw)
        index = {s.to_json(): i for i, s in enumerate(specs)}
        try:  # parse each distinct spec once, then map the codes
            remap = np.array([index[AgentSpec.parse(json.loads(s) if isinstance(s, str) else s)
                                    .to_json()] for s in distinct], dtype=np.int64)
        except KeyError as exc:
            raise ConfigError(f"population file {path.name}: spec {exc.args[0]} is not in "
                              "its strategy list") from None
        attrs = {c.removeprefix(ATTRIBUTE_PREFIX): table.column(c).to_numpy()
                 for c in names if c.startswith(ATTRIBUTE_PREFIX)}
        return cls(table.column("id").to_numpy(), remap[codes], specs, attrs)

    def frame(self) -> pd.DataFrame:
        """The agents as a DataFrame (id, strategy, label, attributes)."""
        labels = np.array(self.labels(), dtype=object)
        return pd.DataFrame({"id": self.ids, "strategy": self.strategy,
                             "label": labels[self.strategy], **self.attributes})
