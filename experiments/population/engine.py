"""The payoffs of one generation: every match played, by one of two engines.

* **vector**: when every strategy has a memory-one table and the env is a repeated 2x2
  game, :func:`~agora.experiments.population.kernels.play_pairs` plays all matches at
  once, with the payoffs, rounds and continuation read from the game's own params
  (``play_pairs_parallel`` shards them over ``workers``). When the env is a public goods
  game and every strategy is a contribution rule
  (:func:`~agora.agents.group_rule.group_rule_of`),
  :func:`~agora.experiments.population.group_kernel.play_groups` plays all groups at once
  (numpy, one process; ``workers`` do not shard it). When the env is a donor game and
  every strategy is a donor rule (:func:`~agora.agents.donor_rule.donor_rule_of`),
  :func:`~agora.experiments.population.donor_kernel.play_donor_groups` plays all games at
  once the same way (a ``random`` schedule draws each game's pairs from its episode seed).
  Likewise commons groups of commons heuristics (:func:`~agora.agents.commons_rule.commons_rule_of`,
  :func:`~agora.experiments.population.commons_kernel.play_commons_groups`) and sealed-bid
  auctions of truthful, BNE and shading bidders (:func:`~agora.agents.bid_rule.bid_rule_of`,
  :func:`~agora.experiments.population.auction_kernel.play_auction_groups`, each auction
  drawing its values from the rules stream of the match's episode seed). Which agents are
  rules of which game, and as what arrays, is one table: :mod:`agora.agents.rules_table`.
* **episodes**: anything else (any registered game, groups of its players, any agent
  spec, language models included). Each match is one episode played by the batch
  machinery of ``agora run`` (:func:`~agora.experiments.batch.run_batch`, in-process or
  on Ray), seeded by the one seeding rule: ``episode_seed(seed, generation, match)``.

Both give, per match and seat, the total payoff over the rounds and the rounds in which
the seat played action 0 (cooperation in the repeated games); the episodes engine also
gives the game's metrics per match. For deterministic memory-one strategies and for
contribution, commons and bid rules the two engines give identical payoffs (tested), and
for commons and auctions the same game metrics.

In public goods games "cooperation" is contribution: the vector engine gives each seat its
tokens contributed over the endowment (so ``coop / rounds`` is the seat's mean contribution
fraction), the episodes engine the group's mean contribution fraction x rounds for every
seat (the game's ``contribution_rate`` metric): the same per group, not per seat. In the
commons the vector engine counts the rounds in which a seat requested at most its
sustainable share of that round; the episodes engine records no per-seat requests and
gives NaN. Auctions have no cooperative action: NaN from both engines.

In donor games "cooperation" is giving, and "rounds" are the episode's length: its donor
turns (``n_agents // 2`` a round), as the episode loop counts steps. The vector engine
gives each seat its mean donated fraction over its own turns as donor (the game's event
``fraction``: units given over what it could give; NaN for a seat that never donates) x
the length, the episodes engine the game's ``donation_rate`` (the mean over every turn) x
the length for every seat. When every seat donates equally often (the round robin over
whole schedules) the mean over the seats of the first is the second.

Example:
    >>> from agora.agents import AgentSpec
    >>> eng = PayoffEngine("RepeatedPD-v1", {"rounds": 3},
    ...                    (AgentSpec("tit_for_tat"), AgentSpec("always_defect")))
    >>> eng.kind
    'vector'
    >>> out = eng.play(np.array([0, 1]), np.array([[0, 1]]), seed=0, generation=0)
    >>> out.payoffs.tolist()
    [[2.0, 7.0]]
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from agora.agents import AgentSpec
from agora.agents.rules_table import RULE_TABLES, rule_table
from agora.analysis.records import EPISODE, METRIC, OK, RETURN, STATUS, player_column
from agora.envs import ConfigError, RunAbortedError, UnknownIdError, lookup
from agora.envs.games.auction import AuctionGame
from agora.envs.games.commons import CommonsGame
from agora.envs.games.donor import DonorGame
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.envs.seeding import episode_seed
from agora.envs.seeding_vec import episode_seeds
from agora.experiments.batch import BatchResult, BatchTask, run_batch
from agora.experiments.population import (
    auction_kernel,
    commons_kernel,
    donor_kernel,
    group_kernel,
    kernels,
)
from agora.experiments.population.population import playable

Engine = Literal["auto", "vector", "episodes"]
EPISODES_PER_TASK = 200
"""At most this many matches per batch task (as the runner's automatic batch size)."""


class Executor(Protocol):
    """What runs batch tasks (the runner's LocalExecutor or RayExecutor)."""

    def map(self, tasks: Iterable[BatchTask]) -> Iterator[BatchResult]: ...


class _InProcess:
    def map(self, tasks: Iterable[BatchTask]) -> Iterator[BatchResult]:
        return (run_batch(t) for t in tasks)


@dataclass
class Outcome:
    """Every match of a generation.

    Attributes:
        payoffs: ``(M, k)`` total payoff of each seat over the match.
        coop: ``(M, k)`` rounds in which the seat played action 0; in public goods games
            the contributions in endowments (see the module doc); NaN when the game has
            no such notion.
        rounds: ``(M,)`` rounds played (donor games: donor turns, see the module doc).
        metrics: per-match game metrics (episodes engine), name -> ``(M,)``.
    """

    payoffs: np.ndarray
    coop: np.ndarray
    rounds: np.ndarray
    metrics: dict[str, np.ndarray] = field(default_factory=dict)


class PayoffEngine:
    """Plays the matches of one generation (see the module doc).

    Args:
        env: a registered game id.
        params: the game's params (on top of the id's defaults).
        strategies: the population's strategy list.
        engine: ``auto`` (vector when possible), ``vector`` or ``episodes``.
        backend, device: the vector kernels' backend and torch device.
        noise: probability that a vector-engine move is flipped (vector engine only).
        workers: shards of the vector engine (episodes: the executor decides).
        on_invalid: the episodes engine's invalid-action policy.
    """

    def __init__(self, env: str, params: dict[str, Any], strategies: Sequence[AgentSpec], *,
                 engine: Engine = "auto", backend: str = "auto", device: str | None = None,
                 noise: float = 0.0, workers: int = 1, on_invalid: str = "fail") -> None:
        try:
            spec = lookup(env)
        except UnknownIdError as exc:
            raise ConfigError(f"env: {exc.args[0]}") from None
        if not hasattr(spec, "make_game"):
            raise ConfigError(f"env: {env!r} is a task, not a game; populations play games")
        self.env, self.params = env, dict(params)
        try:
            self.game = spec.make_game(params)
        except ConfigError as exc:
            raise ConfigError(f"params: {exc}") from None
        self.strategies = tuple(strategies)
        self.table = rule_table(self.game)
        data = None if self.table is None else self.table.data(self.strategies,
                                                                self.game.params)
        matrix = isinstance(self.game, RepeatedMatrixGame)  # pairs: memory-one tables
        self.probs: np.ndarray | None = data if matrix else None
        self.rules: np.ndarray | None = None if matrix else data
        self.kind = self._choose(engine)
        if noise and (self.kind != "vector" or self.probs is None):
            raise ConfigError(f"noise={noise!r} needs the vector engine with memory-one "
                              "strategies in a repeated 2x2 game; the episodes engine and "
                              "group rules play the game as is")
        if self.rules is not None and self.kind == "vector" and (
                backend not in ("auto", "numpy") or device not in (None, "cpu")):
            raise ConfigError(f"backend={backend!r}, device={device!r}: groups of public "
                              "goods, commons, auction or donor rules play on numpy; use backend "
                              "auto or numpy on the cpu")
        self.backend, self.device, self.noise = backend, device, float(noise)
        self.workers, self.on_invalid = workers, on_invalid
        self.episode_specs = tuple(playable(s) for s in self.strategies)

    @property
    def reports_metrics(self) -> bool:
        """Whether :meth:`play` gives the game's metrics per match (the episodes engine,
        and the vector engine in the commons and auctions)."""
        return self.kind == "episodes" or isinstance(self.game, (CommonsGame, AuctionGame))

    def _choose(self, engine: str) -> Literal["vector", "episodes"]:
        tables = self.probs if self.rules is None else self.rules
        if engine == "episodes" or (engine == "auto" and tables is None):
            return "episodes"
        if engine not in ("auto", "vector"):
            raise ConfigError(f"engine={engine!r}: want auto, vector or episodes")
        if tables is None:
            labels = [t.label for t in RULE_TABLES.values()]
            why = (f"{self.env} is not a {', '.join(labels[:-1])} or {labels[-1]} game"
                   if self.table is None else f"strategies "
                   f"{[s.name for s in self.table.lacking(self.strategies)]} have no "
                   f"{self.table.what}")
            raise ConfigError(f"engine=vector: {why}; use engine: episodes (or auto)")
        return "vector"

    def play(self, strategy: np.ndarray, matches: np.ndarray, seed: int, generation: int,
             executor: Executor | None = None) -> Outcome:
        """Play ``matches`` (``(M, k)`` agent indices) for agents playing ``strategy``."""
        if self.kind == "vector" and isinstance(self.game, DonorGame):
            return self._donors(strategy, matches, seed, generation)
        if self.kind == "vector" and isinstance(self.game, CommonsGame):
            return self._commons(strategy, matches)
        if self.kind == "vector" and isinstance(self.game, AuctionGame):
            return self._auctions(strategy, matches, seed, generation)
        if self.kind == "vector" and self.rules is not None:
            return self._groups(strategy, matches)
        if self.kind == "vector":
            return self._vector(strategy, matches, vector_key(seed, generation))
        return self._episodes(strategy, matches, seed, generation, executor or _InProcess())

    # ----- vector ------------------------------------------------------------------
    def _vector(self, strategy: np.ndarray, matches: np.ndarray, key: int) -> Outcome:
        p = self.game.params
        seats = strategy[matches]
        payoffs = np.asarray(p.payoffs, dtype=np.float64)
        on_cpu = self.backend in ("auto", "numba") and self.device in (None, "cpu")
        if self.workers > 1 and on_cpu:  # shards on Ray (a GPU backend is one device)
            res = kernels.play_pairs_parallel(self.probs, seats[:, 0], seats[:, 1], payoffs,
                                              p.rounds, key, workers=self.workers,
                                              noise=self.noise, delta=float(p.delta))
        else:
            res = kernels.play_pairs(self.probs, seats[:, 0], seats[:, 1], payoffs, p.rounds,
                                     key, noise=self.noise, delta=float(p.delta),
                                     backend=self.backend, device=self.device)
        return Outcome(np.stack([res.row_payoff, res.col_payoff], axis=1),
                       np.stack([res.row_coop, res.col_coop], axis=1),
                       np.asarray(res.rounds, dtype=np.float64))

    def _groups(self, strategy: np.ndarray, matches: np.ndarray) -> Outcome:
        p = self.game.params
        res = group_kernel.play_groups(self.rules, strategy[matches], p)
        return Outcome(res.payoffs, res.contributions / p.endowment,
                       np.full(len(matches), float(res.rounds)))

    def _donors(self, strategy: np.ndarray, matches: np.ndarray, seed: int,
                generation: int) -> Outcome:
        p = self.game.params
        seeds = ([episode_seed(seed, generation, m) for m in range(len(matches))]
                 if p.schedule == "random" else None)  # the episodes engine's seeds
        res = donor_kernel.play_donor_groups(self.rules, strategy[matches], p, seeds)
        turns = float(res.rounds * (p.n_agents // 2))  # the episode's length: donor turns
        return Outcome(res.payoffs, res.rate() * turns, np.full(len(matches), turns))

    def _commons(self, strategy: np.ndarray, matches: np.ndarray) -> Outcome:
        res = commons_kernel.play_commons_groups(self.rules, strategy[matches],
                                                 self.game.params)
        return Outcome(res.payoffs, res.coop.astype(np.float64),
                       res.rounds.astype(np.float64), res.metrics)

    def _auctions(self, strategy: np.ndarray, matches: np.ndarray, seed: int,
                  generation: int) -> Outcome:
        seeds = episode_seeds(seed, generation, np.arange(len(matches)))
        res = auction_kernel.play_auction_groups(self.rules, strategy[matches],
                                                 self.game.params, seeds)
        return Outcome(res.payoffs, np.full(res.payoffs.shape, np.nan),
                       np.full(len(matches), float(res.rounds)), res.metrics)

    # ----- episodes ----------------------------------------------------------------
    def tasks(self, strategy: np.ndarray, matches: np.ndarray, seed: int, generation: int,
              per_task: int = EPISODES_PER_TASK) -> list[BatchTask]:
        """Batch tasks of the matches, grouped by the strategies in the seats."""
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for m, seats in enumerate(strategy[matches].tolist()):
            groups[tuple(seats)].append(m)
        tasks = []
        for seats, ms in sorted(groups.items()):
            size = math.ceil(len(ms) / math.ceil(len(ms) / per_task))
            for i in range(0, len(ms), size):
                chunk = tuple(ms[i:i + size])
                tasks.append(BatchTask(
                    env=self.env, params=self.params,
                    agents=tuple(self.episode_specs[s] for s in seats), cell=generation,
                    swept={}, episodes=chunk,
                    seeds=tuple(episode_seed(seed, generation, m) for m in chunk),
                    on_invalid=self.on_invalid, record_events=False))
        return tasks

    def _episodes(self, strategy: np.ndarray, matches: np.ndarray, seed: int,
                  generation: int, executor: Executor) -> Outcome:
        frames = [r.episodes.to_pandas()
                  for r in executor.map(self.tasks(strategy, matches, seed, generation))]
        df = pd.concat(frames, ignore_index=True).sort_values(EPISODE)
        if len(df) != len(matches):
            raise RunAbortedError(f"generation {generation}: {len(df)} of {len(matches)} "
                                  "matches came back")
        bad = df[df[STATUS] != OK]
        if len(bad):
            first = bad.iloc[0]
            raise RunAbortedError(f"generation {generation}: {len(bad)} match(es) failed; "
                                  f"match {first[EPISODE]}: {first['error']}")
        return _outcome(df, matches.shape[1])


def _outcome(df: pd.DataFrame, k: int) -> Outcome:
    """Payoffs, cooperation and metrics from an episodes table (one row per match)."""
    payoffs = np.stack([df[player_column(RETURN, i)].to_numpy(float) for i in range(k)], 1)
    rounds = df["length"].to_numpy(float)
    metrics = {c.removeprefix(METRIC): df[c].to_numpy(float) for c in df.columns
               if c.startswith(METRIC)}
    if all(f"action0_rate_{i}" in metrics for i in range(k)):
        rates = np.stack([metrics[f"action0_rate_{i}"] for i in range(k)], 1)
    elif "contribution_rate" in metrics:  # public goods: the group's rate for every seat
        rates = np.repeat(metrics["contribution_rate"][:, None], k, 1)
    elif "donation_rate" in metrics:  # donor game: likewise
        rates = np.repeat(metrics["donation_rate"][:, None], k, 1)
    else:
        rates = np.full(payoffs.shape, np.nan)
    return Outcome(payoffs, rates * rounds[:, None], rounds, metrics)


def vector_key(seed: int, generation: int) -> int:
    """The vector kernels' 64-bit key of a generation (from the config seed).

    Example:
        >>> vector_key(0, 1) == vector_key(0, 1) != vector_key(0, 2)
        True
    """
    state = np.random.SeedSequence([seed, generation], spawn_key=(1,)).generate_state(1, np.uint64)
    return int(state[0])
