"""The one episode loop: play any world with agents, producing plain-data records.

The loop talks to the world's rules directly (the same rules the PettingZoo and Gymnasium
shells wrap) and gives each agent the face it asks for. It plays every
:class:`~agora.envs.World`: the games (integer actions with masks), the one-player worlds
with structured actions (the graph tasks) and the design worlds, which differ only in their
*seats* (:class:`Seats`), chosen once per episode: how a turn is shown (``see``), asked
(``ask``) and read (``settle``), what the event rows hold (``after``), and what the
episode adds once it ends (``finish``, ``metrics``). A family whose turns are more than one
``aact`` names its seats as ``world.loop_seats`` (the design worlds: design, query and
explanation turns).

Invalid answers follow one policy, counted in the record's ``invalid`` column either way:
a world that declares its answer to an invalid action (``world.invalid_action``, e.g. a
graph world's charged no-op) plays it; otherwise ``on_invalid`` decides: ``"fail"`` ends
the episode as failed with the reason, ``"random_legal"`` plays a uniformly random legal
action (games, which have masks).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from agora.agents import Agent, Face
from agora.analysis.records import ACTOR, GAME_EVENT_COLUMNS, STEP, TASK_EVENT_COLUMNS
from agora.envs import (
    ActionParseError,
    AgoraError,
    Game,
    IllegalActionError,
    Observation,
    Status,
    TextFace,
    World,
)
from agora.envs.core import uniform_legal
from agora.envs.seeding import episode_streams
from agora.envs.spec import load
from agora.envs.text import Mailbox
from agora.envs.turns import agent_input, read_reply, read_world_reply, world_input

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


class _InvalidAction(Exception):
    pass


class Move(NamedTuple):
    """One settled answer: the action played, the raw text reply, why the answer was
    invalid (None: valid) and the context it was read against (an observation, a state)."""

    action: Any
    raw: str | None
    problem: str | None
    seen: Any
    label: str | None = None


class Seats:
    """How the loop seats a world's players, and the episode's records: its ``events``,
    model ``calls``, ``invalid`` counts and ``steps`` (the record's length). Subclasses
    implement ``see`` and ``settle``; the other hooks default to one ``aact`` per turn
    and one event row per mover and step.

    Args:
        world: the world played.
        agents: one agent per player.
        record: whether to keep the event rows (the counts are kept either way).
    """

    def __init__(self, world: World[Any, Any, Any, Any], agents: Sequence[Agent],
                 record: bool) -> None:
        self.world, self.agents, self.record = world, agents, record
        self.events: dict[str, list[Any]] = {}
        self.calls: dict[str, list[Any]] = {}
        self.invalid = [0] * len(agents)
        self.steps = 0

    def start(self, init: Any) -> None:
        """The episode begins; ``init`` is what ``initial_state`` was dealt from (the first
        of ``world.streams``), so seats can take their own streams from it."""

    def see(self, state: Any, p: int) -> tuple[Any, Any]:
        """(what a reply is read against, what the agent is given)."""
        raise NotImplementedError

    async def ask(self, p: int, seen: Any, turn: Any) -> Any:
        """Player ``p``'s reply to ``turn``, or what it raised (see :func:`_ask`)."""
        return await _ask(self.agents[p], turn)

    def collect(self, p: int) -> None:
        """Move player ``p``'s model calls into ``calls`` under the current step."""
        collect_calls(self.agents[p], self.steps, p, self.calls)

    def settle(self, state: Any, p: int, seen: Any, reply: Any) -> Move:
        """The action played for ``reply`` (raises :class:`_InvalidAction` to fail)."""
        raise NotImplementedError

    async def after(self, movers: Sequence[int], chosen: Sequence[Move], state: Any,
                    rewards: tuple[float, ...]) -> None:
        """After a step: one event row per mover, their rewards told, one step counted."""
        done = self.world.status(state) is not Status.RUNNING
        for p, move in zip(movers, chosen):
            self.record_event(self.steps, p, move, state, rewards)
            self.agents[p].observe(float(rewards[p]), done)
        self.steps += 1

    def record_event(self, step: int, p: int, move: Move, state: Any,
                     rewards: tuple[float, ...]) -> None:
        """Record one mover's row of a step (the default records none)."""

    async def finish(self, state: Any) -> None:
        """The world ended its episode (a family's closing turns; default none)."""

    def metrics(self, state: Any) -> dict[str, float]:
        """The record's metrics: the world's (none before a state was dealt)."""
        return {} if state is None else self.world.metrics(state)


class _GameSeats(Seats):
    """The seats of a game: typed observations with legal masks, cheap talk, an invalid
    answer settled by ``on_invalid``, and events of ``GAME_EVENT_COLUMNS``."""

    def __init__(self, game: Game[Any, Any, Any], text: TextFace[Any],
                 agents: Sequence[Agent], referee: np.random.Generator, on_invalid: str,
                 record: bool) -> None:
        super().__init__(game, agents, record)
        self.game, self.text = game, text
        self.referee, self.on_invalid = referee, on_invalid
        self.rules: dict[int, str] = {}
        self.mail = Mailbox(len(agents))
        self.events = {k: [] for k in GAME_EVENT_COLUMNS}

    def see(self, state: Any, p: int) -> tuple[Any, Any]:
        obs = self.game.observe(state, p)
        return obs, agent_input(self.game, self.text, self.agents[p].face, state, obs,
                                self.rules, self.mail)

    def settle(self, state: Any, p: int, obs: Observation[Any], reply: Any) -> Move:
        agent = self.agents[p]
        raw = reply if agent.face is Face.TEXT and isinstance(reply, str) else None
        try:
            if isinstance(reply, _Raised):
                raise reply.exc
            return Move(read_reply(self.game, self.text, agent.face, state, obs, reply),
                         raw, None, obs)
        except (ActionParseError, IllegalActionError) as exc:
            if self.on_invalid != "random_legal":
                raise _InvalidAction(f"player {p}: {exc}") from exc
            self.invalid[p] += 1
            return Move(uniform_legal(self.referee, obs), raw, str(exc), obs)

    def record_event(self, step: int, p: int, move: Move, state: Any,
                     rewards: tuple[float, ...]) -> None:
        message = self.mail.post(p, move.raw, move.seen, self.text)  # seen after this step
        if not self.record:
            return
        label = self.text.format_action(move.action, move.seen)
        values = (step, p, move.action, label, move.raw, message, move.problem is not None,
                  float(rewards[p]), [float(r) for r in rewards])
        for column, value in zip(GAME_EVENT_COLUMNS, values, strict=True):
            self.events[column].append(value)


class _WorldSeats(Seats):
    """The seats of a world with structured actions: its typed view or its text face's
    turn, replies checked by ``world.check``, an invalid answer played as the world's
    declared ``invalid_action``, and events of ``TASK_EVENT_COLUMNS`` with the reason
    (``problem``) and the world's ``progress`` columns."""

    def __init__(self, world: World[Any, Any, Any, Any], text: Any, agents: Sequence[Agent],
                 record: bool) -> None:
        super().__init__(world, agents, record)
        self.text = text
        self.rules: dict[int, str] = {}

    def see(self, state: Any, p: int) -> tuple[Any, Any]:
        return state, world_input(self.world, self.text, self.agents[p].face, state, p,
                                  self.rules)

    def settle(self, state: Any, p: int, seen: Any, reply: Any) -> Move:
        face = self.agents[p].face
        raw = None if face is not Face.TEXT or isinstance(reply, _Raised) else str(reply)
        try:
            if isinstance(reply, _Raised):
                raise reply.exc
            action = read_world_reply(self.world, self.text, face, state, p, reply)
        except (ActionParseError, IllegalActionError) as exc:
            instead = self.world.invalid_action(state, p)
            if instead is None:
                raise _InvalidAction(f"player {p}: {exc}") from exc
            self.invalid[p] += 1
            return Move(instead, raw, str(exc), state, raw or "")
        label = self.text.format_action(action, state) if self.record else None
        return Move(action, raw, None, state, label)  # labelled now: a state may change

    def record_event(self, step: int, p: int, move: Move, state: Any,
                     rewards: tuple[float, ...]) -> None:
        if not self.record:
            return
        add_task_row(self.events, (step, p, getattr(move.action, "kind", None), move.label,
                                   move.raw, move.problem is not None, rewards[p]),
                     {"problem": move.problem, **self.world.progress(state)})


def _seats(world: World[Any, Any, Any, Any], text: Any, agents: Sequence[Agent],
           referee: np.random.Generator, on_invalid: str, record: bool) -> Seats:
    """The world's own seats (``world.loop_seats``, a :class:`Seats` path built as
    ``Class(world, text, agents, referee, on_invalid, record)``), else a game's (masks,
    cheap talk) or a structured world's."""
    if world.loop_seats:
        cls = load(world.loop_seats)
        seats: Seats = cls(world, text, agents, referee, on_invalid, record)
        return seats
    if isinstance(world, Game):
        return _GameSeats(world, text, agents, referee, on_invalid, record)
    return _WorldSeats(world, text, agents, record)


def play_episode(game: World[Any, Any, Any, Any], text: Any, agents: Sequence[Agent],
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


async def aplay_world(world: World[Any, Any, Any, Any], agents: Sequence[Agent], seed: int,
                      record_events: bool) -> EpisodeResult:
    """The episode player of a task whose spec names none: the one loop over the world
    and its text face (``world.text``).

    Example:
        >>> import asyncio
        >>> from agora.agents import make_agent
        >>> from agora.envs.kg.world import CompletionWorld
        >>> world = CompletionWorld({"num_entities": 20, "budget": 3.0})
        >>> res = asyncio.run(aplay_world(world, [make_agent("random_text", world)], 0, True))
        >>> res.status, res.length == len(res.events["step"]), 0.0 <= res.metrics["f1"] <= 1.0
        ('ok', True, True)
    """
    return await aplay_episode(world, getattr(world, "text", None), agents, seed,
                               record_events=record_events)


async def aplay_episode(world: World[Any, Any, Any, Any], text: Any,
                        agents: Sequence[Agent], seed: int, on_invalid: str = "fail",
                        record_events: bool = True) -> EpisodeResult:
    """The episode loop. Simultaneous movers are asked concurrently; their answers are
    then settled in mover order, so shared randomness is drawn in a fixed order."""
    if len(agents) != world.num_players:
        raise ValueError(f"{len(agents)} agents for a {world.num_players}-player game")
    start = time.perf_counter()
    rng, agent_seeds, referee = episode_streams(seed, len(agents))
    for i, agent in enumerate(agents):
        agent.reset(agent_seeds[i], i)
    seats = _seats(world, text, agents, referee, on_invalid, record_events)
    state = None
    error = None
    fatal = False
    try:
        init, step_rng = world.streams(rng)
        state = world.initial_state(init)
        seats.start(init)
        while world.status(state) is Status.RUNNING:
            movers = world.to_move(state)
            seen = [seats.see(state, p) for p in movers]
            if len(movers) > 1 and any(is_async(agents[p]) for p in movers):
                replies: list[Any] = list(await asyncio.gather(
                    *(seats.ask(p, *s) for p, s in zip(movers, seen))))
            else:  # nothing to overlap: no tasks, so sync episodes need no event loop
                replies = [await seats.ask(p, *s) for p, s in zip(movers, seen)]
            chosen = []
            for p, s, reply in zip(movers, seen, replies):
                seats.collect(p)
                chosen.append(seats.settle(state, p, s[0], reply))
            state, rewards = world.step(state, tuple([m.action for m in chosen]), step_rng)
            await seats.after(movers, chosen, state, rewards)
        await seats.finish(state)
    except _InvalidAction as exc:
        error = str(exc)
    except AgoraError as exc:  # e.g. a provider that kept failing with fallback "none"
        error = f"{type(exc).__name__}: {exc}"
        fatal = exc.fatal
    except Exception as exc:  # an agent or world bug must not crash the run
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    for p in range(len(agents)):  # calls of a failed turn are kept too
        seats.collect(p)
    returns, metrics = _outcome(world, seats, state, len(agents))
    return EpisodeResult(
        seed=seed,
        status="failed" if error else "ok",
        returns=returns,
        length=seats.steps,
        metrics=metrics,
        invalid=seats.invalid,
        agent_stats=[a.stats() for a in agents],
        error=error,
        duration_s=time.perf_counter() - start,
        events=seats.events,
        calls=seats.calls,
        fatal=fatal,
    )


def _outcome(world: World[Any, Any, Any, Any], seats: Seats, state: Any,
             n: int) -> tuple[list[float], dict[str, float]]:
    """Returns and metrics of an episode; a state that was never dealt, or one an error
    left broken, must not hide the episode's own error."""
    returns = [0.0] * n if state is None else [float(r) for r in world.returns(state)]
    try:
        return returns, {k: float(v) for k, v in seats.metrics(state).items()}
    except Exception:
        return returns, {}


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


def add_task_row(events: dict[str, list[Any]], values: tuple[Any, ...],
                 extra: dict[str, Any]) -> None:
    """Append one task event row: ``values`` for :data:`TASK_EVENT_COLUMNS` (step, actor,
    kind, action, reply, invalid, reward), then the family's ``extra`` columns."""
    step, actor, kind, action, reply, invalid, reward = values
    row = {**dict(zip(TASK_EVENT_COLUMNS, (step, actor, kind, action, reply, bool(invalid),
                                           float(reward)), strict=True)), **extra}
    extend_columns(events, {k: [v] for k, v in row.items()})


def extend_columns(columns: dict[str, list[Any]], rows: dict[str, list[Any]]) -> None:
    """Append column lists, padding the keys one side lacks with None (ordered union, so
    the column order is stable)."""
    n_old = len(next(iter(columns.values()))) if columns else 0
    n_new = len(next(iter(rows.values())))
    for key in dict.fromkeys([*columns, *rows]):
        columns.setdefault(key, [None] * n_old).extend(rows.get(key, [None] * n_new))
