"""Play one episode of a pure game with agents, producing plain-data records.

The loop talks to the game core directly (the same rules the PettingZoo and Gymnasium
shells wrap) and gives each agent the face it asks for. Invalid actions follow the
declared policy ``on_invalid``: ``"fail"`` ends the episode as failed with the reason,
``"random_legal"`` plays a uniformly random legal action instead; either way the event is
counted in the record.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agora.agents import Agent, Face
from agora.analysis.records import ACTOR, GAME_EVENT_COLUMNS, STEP
from agora.envs import (
    ActionParseError,
    AgoraError,
    Game,
    IllegalActionError,
    Observation,
    Status,
    TextFace,
)
from agora.envs.core import uniform_legal
from agora.envs.seeding import episode_streams
from agora.envs.text import Mailbox
from agora.envs.turns import agent_input, read_reply

INVALID_POLICIES = ("fail", "random_legal")


@dataclass
class EpisodeResult:
    """Everything one episode produced (plain data, picklable)."""

    seed: int
    status: str  # "ok" or "failed"
    returns: list[float]
    length: int
    metrics: dict[str, float]
    invalid: list[int]
    agent_stats: list[dict[str, float]]
    error: str | None = None
    duration_s: float = 0.0
    events: dict[str, list[Any]] = field(default_factory=dict)
    calls: dict[str, list[Any]] = field(default_factory=dict)
    """One row per language-model call: step, actor, attempt, messages, completion, ..."""
    fatal: bool = False
    """It failed on an error every further episode would hit too (the run stops)."""


class _Events:
    """Column-wise event log of one episode (the columns of ``GAME_EVENT_COLUMNS``)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.cols: dict[str, list[Any]] = {k: [] for k in GAME_EVENT_COLUMNS}

    def add(self, step: int, actor: int, action: int, text: str, reply: str | None,
            message: str | None, invalid: bool, rewards: tuple[float, ...]) -> None:
        if not self.enabled:
            return
        values = (step, actor, action, text, reply, message, invalid, float(rewards[actor]),
                  [float(r) for r in rewards])
        for column, value in zip(GAME_EVENT_COLUMNS, values, strict=True):
            self.cols[column].append(value)


class _InvalidAction(Exception):
    pass


def play_episode(game: Game[Any, Any, Any], text: TextFace[Any], agents: Sequence[Agent],
                 seed: int, on_invalid: str = "fail", record_events: bool = True
                 ) -> EpisodeResult:
    """Play one episode; never raises for agent or game errors (they fail the episode).

    Episodes whose agents all decide synchronously run without an event loop; with
    asynchronous agents (language models) it runs under ``asyncio``.

    Example:
        >>> from agora.envs import make_game
        >>> from agora.agents import make_agent
        >>> game, text = make_game("RepeatedPD-v1", {"rounds": 3})
        >>> agents = [make_agent("tit_for_tat"), make_agent("always_defect")]
        >>> play_episode(game, text, agents, seed=1).returns
        [2.0, 7.0]
    """
    coro = aplay_episode(game, text, agents, seed, on_invalid, record_events)
    if any(is_async(a) for a in agents):
        return asyncio.run(coro)
    try:  # no agent awaits anything real, so the coroutine finishes in one step
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("a synchronous agent suspended the episode")


def is_async(agent: Agent) -> bool:
    """Whether an agent overrides ``aact`` (e.g. language-model agents)."""
    return type(agent).aact is not Agent.aact


async def aplay_episode(game: Game[Any, Any, Any], text: TextFace[Any],
                        agents: Sequence[Agent], seed: int, on_invalid: str = "fail",
                        record_events: bool = True) -> EpisodeResult:
    """The episode loop. Simultaneous movers are asked concurrently; their answers are
    then settled in mover order, so shared randomness is drawn in a fixed order."""
    if len(agents) != game.num_players:
        raise ValueError(f"{len(agents)} agents for a {game.num_players}-player game")
    start = time.perf_counter()
    rng, agent_seeds, referee = episode_streams(seed, len(agents))
    for i, agent in enumerate(agents):
        agent.reset(agent_seeds[i], i)
    events = _Events(record_events)
    invalid = [0] * len(agents)
    rules: dict[int, str] = {}
    mail = Mailbox(len(agents))
    calls: dict[str, list[Any]] = {}
    state = game.initial_state(rng)
    steps = 0
    error = None
    fatal = False
    try:
        while game.status(state) is Status.RUNNING:
            movers = game.to_move(state)
            observations = [game.observe(state, p) for p in movers]
            inputs = [agent_input(game, text, agents[p].face, state, o, rules, mail)
                      for p, o in zip(movers, observations)]
            if len(movers) > 1 and any(is_async(agents[p]) for p in movers):
                replies: list[Any] = list(await asyncio.gather(
                    *(_ask(agents[p], i) for p, i in zip(movers, inputs))))
            else:  # nothing to overlap: no tasks, so sync episodes need no event loop
                replies = [await _ask(agents[p], i) for p, i in zip(movers, inputs)]
            chosen = []
            for p, obs, reply in zip(movers, observations, replies):
                collect_calls(agents[p], steps, p, calls)
                action, raw, bad = _settle(game, text, agents[p], state, obs, reply,
                                           referee, on_invalid)
                invalid[p] += bad
                chosen.append((p, obs, action, raw, bad))
            joint = tuple(c[2] for c in chosen)
            state, rewards = game.step(state, joint, rng)
            done = game.status(state) is not Status.RUNNING
            for p, obs, action, raw, bad in chosen:
                message = mail.post(p, raw, obs, text)  # seen by others after this step
                if record_events:
                    label = text.format_action(action, obs)
                    events.add(steps, p, action, label, raw, message, bad, rewards)
                agents[p].observe(float(rewards[p]), done)
            steps += 1
    except _InvalidAction as exc:
        error = str(exc)
    except AgoraError as exc:  # e.g. a provider that kept failing with fallback "none"
        error = f"{type(exc).__name__}: {exc}"
        fatal = exc.fatal
    except Exception as exc:  # an agent or game bug must not crash the run
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    for p, agent in enumerate(agents):  # calls of a failed turn are kept too
        collect_calls(agent, steps, p, calls)
    return EpisodeResult(
        seed=seed,
        status="failed" if error else "ok",
        returns=[float(r) for r in game.returns(state)],
        length=steps,
        metrics={k: float(v) for k, v in game.metrics(state).items()},
        invalid=invalid,
        agent_stats=[a.stats() for a in agents],
        error=error,
        duration_s=time.perf_counter() - start,
        events=events.cols,
        calls=calls,
        fatal=fatal,
    )


class _Raised:
    """An exception an agent raised while deciding, settled in mover order."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


async def _ask(agent: Agent, turn: Any) -> Any:
    """The agent's reply, or what it raised (settled in mover order, once every
    simultaneous mover has finished its turn, so no call is left running unrecorded)."""
    try:
        return await agent.aact(turn)
    except Exception as exc:
        return _Raised(exc)


async def gather_episodes(plays: Sequence[Callable[[], Awaitable[EpisodeResult]]],
                          concurrency: int) -> list[EpisodeResult | None]:
    """Run episodes, up to ``concurrency`` at once, in order. Once one fails on a fatal
    error, the episodes not yet started are skipped (None): a rejected key costs a request,
    not one per episode. Skipped episodes are missing from the run, so a resume plays them.
    """
    gate = asyncio.Semaphore(max(1, concurrency))
    stop = False

    async def one(play: Callable[[], Awaitable[EpisodeResult]]) -> EpisodeResult | None:
        nonlocal stop
        async with gate:
            if stop:
                return None
            result = await play()
            stop = stop or result.fatal
            return result

    return list(await asyncio.gather(*(one(p) for p in plays)))


def collect_calls(agent: Agent, step: int, actor: int, calls: dict[str, list[Any]]) -> None:
    """Move an agent's model-call records into the episode's ``calls`` columns."""
    drain = getattr(agent, "drain_calls", None)
    if drain is None:
        return
    for record in drain():
        extend_columns(calls, {k: [v] for k, v in {STEP: step, ACTOR: actor,
                                                    **record}.items()})


def extend_columns(columns: dict[str, list[Any]], rows: dict[str, list[Any]]) -> None:
    """Append column lists, padding the keys one side lacks with None (ordered union, so
    the column order is stable)."""
    n_old = len(next(iter(columns.values()))) if columns else 0
    n_new = len(next(iter(rows.values())))
    for key in dict.fromkeys([*columns, *rows]):
        columns.setdefault(key, [None] * n_old).extend(rows.get(key, [None] * n_new))


def _settle(game: Game[Any, Any, Any], text: TextFace[Any], agent: Agent, state: Any,
            obs: Observation[Any], reply: Any, rng: np.random.Generator, on_invalid: str
            ) -> tuple[int, str | None, bool]:
    """The played action, the raw text reply (text agents) and whether it was invalid."""
    p = obs.player
    raw = reply if agent.face is Face.TEXT and isinstance(reply, str) else None
    try:
        if isinstance(reply, _Raised):
            raise reply.exc
        return read_reply(game, text, agent.face, state, obs, reply), raw, False
    except (ActionParseError, IllegalActionError) as exc:
        if on_invalid == "random_legal":
            return uniform_legal(rng, obs), raw, True
        raise _InvalidAction(f"player {p}: {exc}") from exc
