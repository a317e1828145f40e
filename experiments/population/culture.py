"""Cultural evolution of strategy texts in a population of language-model agents.

The protocol of Vallinder & Hughes (2024), as a config (``experiments/configs/
vallinder_hughes.yaml``), generalised to any game whose player count is a parameter:

1. Every new agent writes a one-sentence strategy ("My strategy will be ..."): in the first
   generation from the rules alone, later from the strategies and scores of the survivors
   (one model call per new agent).
2. The whole population plays one episode of the game; each agent is an ``llm`` agent
   whose persona carries its strategy. Survivors start again from the endowment: every
   generation is a fresh episode.
3. A selection rule (``top_k``, ``proportional`` or ``tournament``) keeps ``keep`` of the
   agents; they keep their strategies, and new agents fill the other places, each with the
   model of an agent that left (so a mixture of models keeps its shares).
4. Every strategy, prompt, completion, move and score is recorded, generation by
   generation (:mod:`~agora.experiments.population.society_store`).

Seeds run concurrently (``concurrency``); within a generation the new agents' strategy
calls run concurrently. A spent budget (``max_calls`` or ``max_tokens_budget`` of a
model) or a failing provider stops the run cleanly after the last committed generation;
``agora society --resume`` continues it, and the response cache replays every call the
stopped generation had made, so none is sent twice (greedy calls are cached by default;
with ``temperature > 0`` set the model's ``cache: always``).

Example:
    >>> cfg = parse_society_config({"name": "demo", "models": ["openai/gpt-4o-mini"]})
    >>> cfg.agents, cfg.generations, cfg.survivors(), cfg.params["trace_depth"]
    (12, 10, 6, 3)
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, Field, field_validator
from tqdm import tqdm

from agora.agents import make_agent
from agora.agents.llm.factory import ModelSpec, build_model
from agora.agents.llm.model import ModelError, Sampling, call_record
from agora.analysis.records import AGENTS, CALLS, EVENTS, GENERATIONS
from agora.envs import ConfigError, RunAbortedError, make_game
from agora.experiments.config import STRICT, Model, read_yaml, validate_model
from agora.experiments.episode import EpisodeResult, aplay_episode
from agora.experiments.population.society_store import SocietyStore

if TYPE_CHECKING:
    from agora.experiments.population.archetypes import ArchetypeConfig

SELECTION_RULES = ("top_k", "proportional", "tournament")
VH_PARAMS = {"endowment": 10, "multiplier": 2.0, "trace_depth": 3, "schedule": "round_robin"}
"""The donor game as Vallinder & Hughes play it (12 rounds: one bipartite round robin with
roles reversed, each agent donor and recipient in turn)."""

RECIPROCITY = ("reciproc", "return", "tit", "mutual", "fair", "kind", "reward", "trust",
               "repay", "cooperat", "generous", "reputation")
PUNISHMENT = ("punish", "retaliat", "sanction", "penal", "revenge", "refuse", "withhold",
              "defect", "exploit")
"""Word stems counted in strategy texts (a simple, declared measure of what they stress)."""

_WORDS = {
    "first": ("Before the game starts, describe the strategy you will follow, in one "
              'sentence that begins with "{prefix}". Reply with that sentence only.'),
    "later": ("Before the game starts, here is the advice of the best-performing agents of "
              "the previous generation, with their final scores:\n{advice}\n\nModify this "
              "advice to create your own strategy: think about how you can improve on the "
              "surviving agents' strategies. Reply with one sentence that begins with "
              '"{prefix}".'),
    "advice": "- {name} (score {score}): {strategy}",
    "persona": "The strategy you wrote for yourself before the game: {strategy}",
}
"""The prompts' wording (data, not code)."""




class ModelShare(BaseModel):
    """One model of the population and the share of agents it plays."""

    model_config = STRICT
    model: Model
    share: float = Field(default=1.0, gt=0)


def _shares(value: Any) -> Any:
    """A bare model id or ModelSpec mapping is one model with share 1; a mapping with a
    ``share``, or whose ``model`` is itself a mapping, is a :class:`ModelShare`."""
    if isinstance(value, list):
        return [v if isinstance(v, dict) and ("share" in v or isinstance(v.get("model"), dict))
                else {"model": v} for v in value]
    return value


class Selection(BaseModel):
    """Who survives a generation: ``rule`` keeps ``keep`` (a fraction) of the agents;
    ``tournament`` picks each survivor as the best of ``size`` random remaining agents."""

    model_config = STRICT
    rule: Literal["top_k", "proportional", "tournament"] = "top_k"
    keep: float = Field(default=0.5, gt=0, lt=1)
    size: int = Field(default=2, ge=2)


class StrategyOptions(BaseModel):
    """How strategy texts are written (one call per new agent)."""

    model_config = STRICT
    prefix: str = Field(default="My strategy will be", min_length=1)
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=96, ge=1)
    timeout: float = Field(default=60.0, gt=0)


_MODEL_KEYS = {f.name for f in dataclasses.fields(ModelSpec)} | {"persona", "name"}


class SocietyConfig(BaseModel):
    """A validated society config (see the module docstring and the shipped YAML)."""

    model_config = STRICT
    kind: Literal["culture"] = "culture"
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    env: str = "DonorGame-v1"
    params: dict[str, Any] = Field(default_factory=lambda: dict(VH_PARAMS))
    population_param: str = "n_agents"
    """The env parameter that sets the number of players (the population size)."""
    agents: int = Field(default=12, ge=2)
    generations: int = Field(default=10, ge=1)
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    models: Annotated[list[ModelShare], BeforeValidator(_shares)] = Field(min_length=1)
    agent: dict[str, Any] = Field(default_factory=dict)
    """Options of every ``llm`` agent (temperature, max_tokens, memory, reasoning...)."""
    selection: Selection = Field(default_factory=Selection)
    strategy: StrategyOptions = Field(default_factory=StrategyOptions)
    cooperation_metric: str = "donation_rate"
    on_invalid_action: Literal["fail", "random_legal"] = "random_legal"
    concurrency: int = Field(default=4, ge=1)
    """Seeds played at once (in one process; on Ray, every seed is in flight)."""
    pairing: Literal["population", "round_robin", "random"] = "population"
    """``population``: everyone plays one episode of an n-player game. For a 2-player
    game: ``round_robin`` (every ordered pair, so each agent takes both seats) or
    ``random`` (one random perfect matching, random seats); scores add up over episodes."""
    workers: int = Field(default=1, ge=1)
    """Ray workers: above 1 (or with ``RAY_ADDRESS`` set), each generation of each seed is
    a Ray task, and every model call passes the run's call gate."""
    llm_concurrency: int | None = Field(default=None, ge=1)
    """Model calls in flight across the whole run (all Ray workers together)."""

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds) or min(seeds) < 0:
            raise ValueError(f"seeds must be distinct non-negative integers, got {seeds}")
        return seeds

    @field_validator("agent")
    @classmethod
    def _agent_keys(cls, agent: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(set(agent) & _MODEL_KEYS)
        if clash:
            raise ValueError(f"agent: {clash} are set per model (models:) or by the society")
        return agent

    def survivors(self) -> int:
        """Agents kept each generation (at least 1, at most all but one)."""
        return min(self.agents - 1, max(1, round(self.selection.keep * self.agents)))

    def game_params(self, names: Sequence[str] = ()) -> dict[str, Any]:
        """The env params of one episode (the whole population's, or one pair's)."""
        if self.pairing != "population":
            return dict(self.params)
        out = {**self.params, self.population_param: self.agents}
        return out | ({"names": tuple(names)} if names else {})

    def fingerprint(self) -> str:
        """Hash of what decides the records (not budgets, concurrency, workers or cache
        folders; ``pairing`` only when it is not the default, so older runs resume)."""
        data = self.model_dump(exclude={"concurrency", "workers", "llm_concurrency"}
                               | ({"pairing"} if self.pairing == "population" else set()))
        for m in data["models"]:
            for key in ("max_calls", "max_tokens_budget", "max_concurrency", "cache_dir"):
                m["model"].pop(key)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def parse_society_config(data: Any) -> SocietyConfig:
    """Validate a society config; errors name each bad key and value. The game is built
    once here, so a bad ``params`` or population size fails before any call."""
    cfg = validate_model(SocietyConfig, data, "invalid society config")
    try:
        game, _ = make_game(cfg.env, cfg.game_params())
    except ConfigError as exc:
        raise ConfigError(f"params: {exc}") from None
    _check_seats(cfg, game.num_players)
    if f"{cfg.cooperation_metric}" not in game.metrics(game.initial_state(
            np.random.default_rng(0))):
        raise ConfigError(f"cooperation_metric={cfg.cooperation_metric!r} is not a metric "
                          f"of {cfg.env}")
    for spec in (m.model for m in cfg.models):
        make_agent({"name": "llm", **dataclasses.asdict(spec), **cfg.agent}, game)
    return cfg


def _check_seats(cfg: SocietyConfig, players: int) -> None:
    if cfg.pairing == "population" and players != cfg.agents:
        raise ConfigError(f"population_param={cfg.population_param!r}: {cfg.env} has "
                          f"{players} players, not agents={cfg.agents}")
    if cfg.pairing != "population" and players != 2:
        raise ConfigError(f"pairing={cfg.pairing!r} pairs agents for a 2-player game, but "
                          f"{cfg.env} has {players} players")
    if cfg.pairing == "random" and cfg.agents % 2:
        raise ConfigError(f"pairing='random' needs an even number of agents, got "
                          f"agents={cfg.agents}")


def load_society_config(path: str | Path) -> SocietyConfig:
    """Read and validate a YAML society config."""
    return parse_society_config(read_yaml(path))


# ----- pure parts: model shares, selection, text measures ---------------------------
def assign_models(shares: Sequence[float], n: int) -> list[int]:
    """The model index of each of ``n`` places: counts by largest remainder, in order.

    Example:
        >>> assign_models([1, 1], 5), assign_models([3, 1], 4)
        ([0, 0, 0, 1, 1], [0, 0, 0, 1])
    """
    w = np.asarray(shares, dtype=float) / float(np.sum(shares)) * n
    counts = np.floor(w).astype(int)
    order = np.argsort(-(w - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return [i for i, c in enumerate(counts) for _ in range(c)]


def select(scores: Sequence[float], k: int, rule: str, rng: np.random.Generator,
           size: int = 2) -> list[int]:
    """Indices of the ``k`` survivors, best score first.

    ``top_k``: the ``k`` best (ties in random order). ``proportional``: drawn without
    replacement with probability proportional to ``score - min + 1`` (uniform when all
    are equal). ``tournament``: each survivor is the best of ``size`` distinct agents
    drawn from those not yet chosen.

    Example:
        >>> select([3.0, 9.0, 1.0, 7.0], 2, "top_k", np.random.default_rng(0))
        [1, 3]
    """
    s = np.asarray(scores, dtype=float)
    n = len(s)
    if not 1 <= k < n or rule not in SELECTION_RULES:
        raise ConfigError(f"select: k={k} must be in 1..{n - 1} and rule={rule!r} one of "
                          f"{SELECTION_RULES}")
    if rule == "top_k":
        chosen = np.lexsort((rng.random(n), -s))[:k]
    elif rule == "proportional":
        w = s - s.min() + 1.0
        chosen = rng.choice(n, size=k, replace=False, p=w / w.sum())
    else:
        left, picks = list(range(n)), []
        for _ in range(k):
            draw = rng.choice(len(left), size=min(size, len(left)), replace=False)
            best = max(draw, key=lambda j: (s[left[j]], -j))
            picks.append(left.pop(int(best)))
        chosen = np.asarray(picks)
    return sorted((int(i) for i in chosen), key=lambda i: -s[i])


def text_measures(text: str) -> dict[str, int]:
    """Words, and words on reciprocity and on punishment (by stem), of a strategy text.

    Example:
        >>> text_measures("My strategy will be to reciprocate kindness and punish defectors.")
        {'strategy_words': 10, 'reciprocity_words': 2, 'punishment_words': 2}
    """
    words = re.findall(r"[a-z']+", text.lower())
    return {"strategy_words": len(words),
            "reciprocity_words": sum(any(w.startswith(s) for s in RECIPROCITY) for w in words),
            "punishment_words": sum(any(w.startswith(s) for s in PUNISHMENT) for w in words)}


def strategy_change(newcomers: Sequence[str], survivors: Sequence[str]) -> float:
    """Mean over new strategies of 1 - the largest word-set Jaccard similarity to a
    survivor's strategy (0: copied, 1: no word shared); NaN without both."""
    if not newcomers or not survivors:
        return float("nan")
    sets = [set(re.findall(r"[a-z']+", t.lower())) for t in survivors]
    out = []
    for text in newcomers:
        mine = set(re.findall(r"[a-z']+", text.lower()))
        out.append(1.0 - max(len(mine & s) / max(1, len(mine | s)) for s in sets))
    return float(np.mean(out))


def matches(pairing: str, n: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """The seats of each episode of a generation, as agent slots.

    Example:
        >>> matches("round_robin", 3, np.random.default_rng(0))
        [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
        >>> matches("population", 3, np.random.default_rng(0))
        [(0, 1, 2)]
    """
    if pairing == "population":
        return [tuple(range(n))]
    if pairing == "round_robin":
        return [(i, j) for i in range(n) for j in range(n) if i != j]
    order = [int(i) for i in rng.permutation(n)]
    return [(order[k], order[k + 1]) for k in range(0, n - 1, 2)]


def derived_seed(*keys: int) -> int:
    """A 31-bit seed from integer keys (SeedSequence): the same keys, the same seed."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0] >> 1)


# ----- the generational loop ----------------------------------------------------------
@dataclass(frozen=True)
class Member:
    """One agent of the society: its id, model and strategy text."""

    agent: str
    model_index: int
    strategy: str
    born: int
    score: float = float("nan")
    """Its score in the last generation it played (shown to new agents)."""


class _Stop(Exception):
    """A spent budget or failed call: stop after the last committed generation."""


@dataclass(frozen=True)
class GenerationOutcome:
    """What one generation of one seed produced (plain data: it crosses Ray).

    ``rows`` (the records to commit), the survivors and the model indices of the places
    left; or ``stop`` (a spent budget, a failing provider) or ``fatal`` (a rejected key
    or request) saying why nothing is to be committed.
    """

    rows: dict[str, list[dict[str, Any]]] | None
    kept: tuple[Member, ...] = ()
    vacant: tuple[int, ...] = ()
    stop: str | None = None
    fatal: str | None = None


@dataclass
class _Played:
    """A generation's episodes, added up per agent slot."""

    scores: list[float]
    resources: list[float | None]
    metrics: dict[str, float]
    length: int
    donated: float
    stats: list[dict[str, float]]
    events: list[dict[str, Any]]
    calls: list[dict[str, Any]]


@dataclass(frozen=True)
class SocietySummary:
    """How a society run ended and what it holds (``gate``: the call gate's stats on
    Ray, with its observed ``peak`` of calls in flight)."""

    run_dir: Path
    status: str
    generations_done: int
    tables: dict[str, Any]
    gate: dict[str, Any] | None = None


class Society:
    """The generations of a society config (see the module docstring); writes nothing."""

    def __init__(self, cfg: SocietyConfig) -> None:
        self.cfg = cfg
        self.k = cfg.survivors()
        self.specs = [m.model for m in cfg.models]
        self.models = [build_model(s) for s in self.specs]
        game, text = make_game(cfg.env, cfg.game_params())
        self.rules = text.rules(0)
        self.named = "names" in {f.name for f in dataclasses.fields(game.params)}

    def start(self, store: SocietyStore, seed: int) -> tuple[int, list[Member], list[int]]:
        """The next generation of ``seed``, its survivors and vacant places' models."""
        done = store.committed(seed)
        if done:
            return done[-1] + 1, *self._resume(store, seed, done[-1])
        return 1, [], assign_models([m.share for m in self.cfg.models], self.cfg.agents)

    def _resume(self, store: SocietyStore, seed: int, gen: int
                ) -> tuple[list[Member], list[int]]:
        df = store.read_part(seed, gen, AGENTS).sort_values("slot")
        keep = df[df["survived"]].sort_values("rank")
        members = [Member(r.agent, int(r.model_index), r.strategy, int(r.born),
                          float(r.score if r.resources is None or np.isnan(r.resources)
                                else r.resources))
                   for r in keep.itertuples()]
        return members, [int(i) for i in df.loc[~df["survived"], "model_index"]]

    async def generation(self, seed: int, gen: int, survivors: Sequence[Member],
                         vacant: Sequence[int]) -> GenerationOutcome:
        """Play one generation: its records and survivors, or why it stopped."""
        try:
            return await self._generation(seed, gen, list(survivors), list(vacant))
        except _Stop as exc:
            return GenerationOutcome(None, stop=str(exc))
        except RunAbortedError as exc:
            return GenerationOutcome(None, fatal=str(exc))

    async def _generation(self, seed: int, gen: int, survivors: list[Member],
                          vacant: list[int]) -> GenerationOutcome:
        started = time.perf_counter()
        made = await asyncio.gather(*(self._newcomer(seed, gen, j, m, survivors)
                                      for j, m in enumerate(vacant)))
        fresh = [m for m, _ in made]
        calls = [c for _, c in made]  # in agent order, whatever order they finished in
        rng = np.random.default_rng([seed, gen, 1])
        members = [survivors[i] if i < len(survivors) else fresh[i - len(survivors)]
                   for i in rng.permutation(len(survivors) + len(fresh))]
        played = await self._play(seed, gen, members)
        calls += played.calls
        ranked = select(played.scores, self.k, self.cfg.selection.rule, rng,
                        self.cfg.selection.size)
        rows = self._rows(seed, gen, members, played, ranked, calls, fresh, survivors)
        rows[GENERATIONS][0]["duration_s"] = time.perf_counter() - started
        dead = sorted(set(range(len(members))) - set(ranked))
        shown = [played.scores[i] if r is None else r for i, r in enumerate(played.resources)]
        kept = tuple(dataclasses.replace(members[i], score=float(shown[i])) for i in ranked)
        return GenerationOutcome(rows, kept, tuple(members[i].model_index for i in dead))

    async def _newcomer(self, seed: int, gen: int, j: int, model_index: int,
                        survivors: Sequence[Member]) -> tuple[Member, dict[str, Any]]:
        """A new agent and its strategy text (one model call)."""
        agent = f"{gen}_{j + 1}"
        o = self.cfg.strategy
        if survivors:
            advice = "\n".join(_WORDS["advice"].format(name=m.agent, score=f"{m.score:g}",
                                                       strategy=m.strategy) for m in survivors)
            ask = _WORDS["later"].format(advice=advice, prefix=o.prefix)
        else:
            ask = _WORDS["first"].format(prefix=o.prefix)
        messages = [{"role": "system", "content": self.rules},
                    {"role": "user", "content": ask}]
        sampling = Sampling(o.temperature, o.max_tokens, derived_seed(seed, gen, j, 7),
                            None, o.timeout, stop=("\n\n",))
        spec = self.specs[model_index]
        try:
            completion = await self.models[model_index].acomplete(messages, sampling)
        except ModelError as exc:
            if exc.fatal:
                raise RunAbortedError(f"strategy call of agent {agent}: {exc}") from exc
            raise _Stop(f"seed {seed} generation {gen}: {exc}") from exc
        call = {"phase": "strategy", "agent": agent, "step": -1, "actor": -1, "attempt": 1,
                "match": -1,
                **call_record("strategy", spec.model, sampling, messages, completion)}
        text = completion.text.strip().splitlines()[0].strip() if completion.text.strip() else ""
        return Member(agent, model_index, text, gen), call

    async def _play(self, seed: int, gen: int, members: Sequence[Member]) -> _Played:
        """Every episode of the generation, at once; scores add up per agent."""
        seats = matches(self.cfg.pairing, len(members), np.random.default_rng([seed, gen, 2]))
        seeds = ([derived_seed(seed, gen, 0)] if self.cfg.pairing == "population"
                 else [derived_seed(seed, gen, 2, m) for m in range(len(seats))])
        results = await asyncio.gather(*(self._episode(seed, gen, [members[i] for i in s], e)
                                         for s, e in zip(seats, seeds, strict=True)))
        return _add_up(results, seats, members)

    async def _episode(self, seed: int, gen: int, players: Sequence[Member],
                       episode_seed: int) -> EpisodeResult:
        names = [m.agent for m in players] if self.named else ()
        game, text = make_game(self.cfg.env, self.cfg.game_params(names))
        agents = [make_agent({"name": "llm", **dataclasses.asdict(self.specs[m.model_index]),
                              **self.cfg.agent,
                              "persona": _WORDS["persona"].format(strategy=m.strategy)}, game)
                  for m in players]
        result = await aplay_episode(game, text, agents, episode_seed,
                                     self.cfg.on_invalid_action)
        budget = [e for e in (result.calls.get("error") or []) if e and e.startswith("budget")]
        if budget:
            raise _Stop(f"seed {seed} generation {gen}: {budget[0]}")
        if result.status != "ok":
            if result.fatal:
                raise RunAbortedError(f"seed {seed} generation {gen}: {result.error}")
            raise _Stop(f"seed {seed} generation {gen}: episode failed: {result.error}")
        return result

    def _rows(self, seed: int, gen: int, members: Sequence[Member], played: _Played,
              ranked: Sequence[int], calls: list[dict[str, Any]], fresh: Sequence[Member],
              survivors: Sequence[Member]) -> dict[str, list[dict[str, Any]]]:
        key = {"run_seed": seed, "generation": gen}
        rank = {i: r for r, i in enumerate(ranked)}
        agents = [{**key, "agent": m.agent, "slot": i, "born": m.born,
                   "model": self.specs[m.model_index].model, "model_index": m.model_index,
                   "strategy": m.strategy, "score": played.scores[i],
                   "resources": played.resources[i],
                   "rank": rank.get(i), "survived": i in rank, **text_measures(m.strategy)}
                  for i, m in enumerate(members)]
        summary = {**key, "agents": len(members), "newcomers": len(fresh),
                   **_means(played, agents, self.cfg.cooperation_metric),
                   **{k: float(np.mean([a[k] for a in agents])) for k in text_measures("")},
                   "strategy_change": strategy_change([m.strategy for m in fresh],
                                                      [m.strategy for m in survivors]),
                   **{k: int(sum(s.get(k, 0) for s in played.stats)) for k in
                      ("invalid_answers", "fallbacks", "llm_calls", "requests", "cache_hits")},
                   **{f"metric.{k}": v for k, v in played.metrics.items()}}
        strat = [c for c in calls if c["phase"] == "strategy"]
        summary["llm_calls"] += len(strat)
        summary["requests"] += sum(c["requests"] for c in strat)
        summary["cache_hits"] += sum(bool(c["cached"]) for c in strat)
        return {AGENTS: agents, CALLS: [{**key, **c} for c in calls],
                EVENTS: [{**key, **e} for e in played.events], GENERATIONS: [summary]}


def _rows(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Column lists as row dicts."""
    keys = list(columns)
    n = len(columns[keys[0]]) if keys else 0
    return [{k: columns[k][i] for k in keys} for i in range(n)]


def _add_up(results: Sequence[EpisodeResult], seats: Sequence[tuple[int, ...]],
            members: Sequence[Member]) -> _Played:
    """Scores, stats, events and calls of a generation's episodes, per agent slot (a
    call's and an event's ``actor`` stay the seat, ``match`` says which episode)."""
    n = len(members)
    scores, stats = [0.0] * n, [dict[str, float]() for _ in range(n)]
    resources: list[float | None] = [None] * n
    events: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for m, (res, seat) in enumerate(zip(results, seats, strict=True)):
        for j, i in enumerate(seat):
            scores[i] += float(res.returns[j])
            for k, v in res.agent_stats[j].items():
                stats[i][k] = stats[i].get(k, 0) + v
            if len(seats) == 1:
                resources[i] = res.metrics.get(f"resources_{j}")
        events += [{**e, "match": m} for e in _rows(res.events)]
        calls += [{"phase": "game", "agent": members[seat[c["actor"]]].agent, "match": m, **c}
                  for c in _rows(res.calls)]
    metrics = (dict(results[0].metrics) if len(results) == 1 else
               {k: float(np.mean([r.metrics[k] for r in results])) for k in results[0].metrics
                if all(k in r.metrics for r in results)})
    donated = float(sum(r.metrics.get("total_donated", float("nan")) for r in results))
    return _Played(scores, resources, metrics, sum(r.length for r in results), donated,
                   stats, events, calls)


def _means(played: _Played, agents: Sequence[dict[str, Any]],
           coop_metric: str) -> dict[str, float]:
    res = [a["resources"] for a in agents if a["resources"] is not None]
    return {"mean_score": float(np.mean(played.scores)),
            "mean_donation": played.donated / max(1, played.length),
            "final_resources": float(np.mean(res)) if res else float("nan"),
            "cooperation_rate": float(played.metrics.get(coop_metric, float("nan")))}


async def _run_seed(society: Society, store: SocietyStore, bar: tqdm, seed: int) -> None:
    """Every generation of one seed, from its last committed one."""
    gen, members, vacant = society.start(store, seed)
    for g in range(gen, society.cfg.generations + 1):
        out = await society.generation(seed, g, members, vacant)
        if out.fatal is not None:
            raise RunAbortedError(out.fatal)
        if out.rows is None:
            raise _Stop(out.stop)
        store.write_generation(seed, g, out.rows)
        members, vacant = list(out.kept), list(out.vacant)
        bar.update(1)


async def _run_seeds(society: Society, store: SocietyStore, bar: tqdm) -> None:
    gate = asyncio.Semaphore(society.cfg.concurrency)

    async def one(seed: int) -> None:
        async with gate:
            await _run_seed(society, store, bar, seed)

    # every seed runs until it commits or stops by itself: cancelling one in flight would
    # lose an answer already paid for (sent, never cached)
    outcomes = await asyncio.gather(*(one(s) for s in society.cfg.seeds),
                                    return_exceptions=True)
    aborted = [e for e in outcomes if isinstance(e, RunAbortedError)]
    failed = aborted or [e for e in outcomes if isinstance(e, BaseException)]
    if failed:
        raise failed[0]


def on_ray(cfg: SocietyConfig | ArchetypeConfig) -> bool:
    """Whether the run goes to Ray: ``workers`` above 1, or a ``RAY_ADDRESS`` to join."""
    return cfg.workers > 1 or bool(os.environ.get("RAY_ADDRESS"))


def run_society(cfg: SocietyConfig, out: str | Path, *, resume: bool = False,
                progress: bool = True) -> SocietySummary:
    """Run (or resume) a society config into the run directory ``out``.

    Returns a summary whose ``status`` is ``"ok"``, or ``"stopped"`` when a budget was
    spent or a provider kept failing (the manifest says why; finish with ``resume``).
    With ``workers > 1`` (or ``RAY_ADDRESS``) generations run as Ray tasks under one call
    gate (:mod:`~agora.experiments.population.society_ray`); the records are the same.

    Raises:
        RunAbortedError: a provider rejected the key, model or request.
    """
    store = SocietyStore(out)
    if resume:
        store.open_for_resume(cfg)
    else:
        store.create(cfg, {"seeds": cfg.seeds, "generations_planned": cfg.generations,
                           "seed_scheme": "SeedSequence([seed, generation, ...]) per call "
                                          "and episode"})
    total = cfg.generations * len(cfg.seeds)
    done = sum(len(store.committed(s)) for s in cfg.seeds)
    bar = tqdm(total=total, initial=done, unit="gen", desc=cfg.name, disable=not progress,
               mininterval=0.2 if sys.stderr.isatty() else 5.0, dynamic_ncols=True)
    status, extra, gate = "ok", {}, None
    try:
        if on_ray(cfg):
            from agora.experiments.population.society_ray import run_seeds_on_ray

            gate, stopped = run_seeds_on_ray(cfg, store, bar)
            if stopped is not None:
                raise _Stop(stopped)
        else:
            asyncio.run(_run_seeds(Society(cfg), store, bar))
    except _Stop as exc:
        status, extra = "stopped", {"error": str(exc)}
    except RunAbortedError as exc:
        bar.close()
        store.finish("aborted", error=str(exc))
        raise
    except BaseException:
        bar.close()
        store.finish("interrupted")
        raise
    bar.close()
    tables = store.consolidate()
    gens = len(tables[GENERATIONS])
    store.finish(status, generations_done=gens, **extra,
                 **({"call_gate": gate} if gate else {}))
    return SocietySummary(store.root, status, gens, tables, gate)
