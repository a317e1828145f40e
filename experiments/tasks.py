"""Task episodes (design, graph worlds) in the same runner as games.

A task whose spec names no episode player is played by the one episode loop
(:func:`~agora.experiments.episode.aplay_episode`, through
:func:`~agora.experiments.episode.aplay_world`): its world is a one-player
:class:`~agora.envs.World` (the design and graph worlds). A family whose world is not one
may instead name its own *episode player* by path
(:attr:`agora.envs.spec.EnvSpec.player`, resolved here), a coroutine

    ``async def aplay(world, agents, seed, record_events) -> EpisodeResult``

that plays one episode of ``world`` with ``agents`` (one per player) from ``seed`` and
returns the same :class:`~agora.experiments.episode.EpisodeResult` a game episode does, so
batching, Ray, the run store, resume and ``agora show`` need no special case.
:class:`TaskEpisode` holds what such a player shares: seeding, event and call columns, the
counted invalid answers, and a guard that turns an agent or world error into a failed
episode with its records kept.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

from agora.agents import Agent
from agora.envs import AgoraError, ConfigError, World
from agora.envs.seeding import episode_streams
from agora.envs.spec import EnvSpec
from agora.envs.tasks import load, task_specs
from agora.experiments.episode import (
    EpisodeResult,
    add_task_row,
    aplay_world,
    collect_calls,
    gather_episodes,
)

Player = Callable[[Any, Sequence[Agent], int, bool], Awaitable[EpisodeResult]]


def task_player(family: str) -> Player:
    """The episode player of a task family: the one its specs name, else the one loop.

    Raises:
        ConfigError: the specs name no player and a world of the family is not an agora
            :class:`~agora.envs.World`, or the path does not resolve (the message names
            the family and the path).

    Example:
        >>> task_player("graph").__name__
        'aplay_world'
    """
    paths = sorted({s.player for s in task_specs(family)} - {""})
    if not paths:
        if not all(_is_world(s) for s in task_specs(family)):
            raise ConfigError(f"task family {family!r} has no episode player: its specs "
                              "name none (player='module:function') and its world is not "
                              "an agora World, so only Gymnasium plays it")
        return aplay_world
    try:
        player: Player = load(paths[0])
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"task family {family!r}: player {paths[0]!r} does not "
                          f"resolve: {exc}") from None
    return player


def _is_world(spec: EnvSpec) -> bool:
    """Whether the spec's world class is an agora World (the one loop plays it)."""
    try:
        cls = load(spec.world)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"task {spec.id!r}: world {spec.world!r} does not resolve: "
                          f"{exc}") from None
    return isinstance(cls, type) and issubclass(cls, World)


class TaskEpisode:
    """The bookkeeping of one task episode (for episode players).

    Example:
        >>> from agora.agents import make_agent
        >>> ep = TaskEpisode([make_agent("random")], seed=3, record_events=True)
        >>> ep.event(actor=0, kind="design", action="[0.5]", reward=0.25)
        >>> ep.result(returns=[0.25], metrics={"eig": 0.25}).events["kind"]
        ['design']
    """

    def __init__(self, agents: Sequence[Agent], seed: int, record_events: bool) -> None:
        self.agents = list(agents)
        self.seed = seed
        self.start = time.perf_counter()
        self.rng, agent_seeds, self.referee = episode_streams(seed, len(self.agents))
        for i, agent in enumerate(self.agents):
            agent.reset(agent_seeds[i], i)
        self.record_events = record_events
        self.events: dict[str, list[Any]] = {}
        self.calls: dict[str, list[Any]] = {}
        self.invalid = [0] * len(self.agents)
        self.steps = 0

    def event(self, actor: int, kind: str, action: str, reward: float = 0.0,
              reply: str | None = None, invalid: bool = False, **extra: Any) -> None:
        """Record one step (a design, a query answer, a graph action) and drain the
        actor's model calls into the call log under this step."""
        collect_calls(self.agents[actor], self.steps, actor, self.calls)
        self.invalid[actor] += bool(invalid)
        if self.record_events:
            add_task_row(self.events, (self.steps, actor, kind, action, reply, invalid,
                                       reward), extra)
        self.steps += 1

    def result(self, returns: list[float], metrics: dict[str, float],
               error: str | None = None) -> EpisodeResult:
        """The episode's record (model calls of unfinished turns are kept too)."""
        for p, agent in enumerate(self.agents):
            collect_calls(agent, self.steps, p, self.calls)
        return EpisodeResult(
            seed=self.seed, status="failed" if error else "ok",
            returns=[float(r) for r in returns], length=self.steps,
            metrics={k: float(v) for k, v in metrics.items()}, invalid=self.invalid,
            agent_stats=[a.stats() for a in self.agents], error=error,
            duration_s=time.perf_counter() - self.start, events=self.events,
            calls=self.calls)

    def failed(self, exc: BaseException, returns: list[float] | None = None,
               metrics: dict[str, float] | None = None) -> EpisodeResult:
        """A failed episode that keeps every event and call recorded so far."""
        if isinstance(exc, AgoraError):
            error = f"{type(exc).__name__}: {exc}"
        else:
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        result = self.result(returns or [0.0] * len(self.agents), metrics or {}, error)
        result.fatal = isinstance(exc, AgoraError) and exc.fatal
        return result


async def play_task_episodes(family: str, world: Any,
                             episodes: Sequence[tuple[int, Sequence[Agent]]],
                             record_events: bool, concurrency: int
                             ) -> list[EpisodeResult | None]:
    """Play ``(seed, agents)`` episodes of one world, up to ``concurrency`` at once
    (episodes of language-model agents overlap their calls; others run one by one); after a
    fatal failure the episodes not yet started are skipped (None)."""
    play = task_player(family)
    return await gather_episodes([partial(play, world, agents, seed, record_events)
                                  for seed, agents in episodes], concurrency)
