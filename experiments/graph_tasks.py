"""The episode player of the ``graph`` task family (knowledge-graph worlds).

Generic over the graph-world interface (``initial_state``, ``view``, ``step``,
``invalid_step``, ``done``, ``metrics`` and a ``text`` face), so the completion world and
the MINERVA query world share it. One agent acts until the world is done:

* a ``Face.GAME`` agent gets ``world.view(state)`` and returns a world action
  (:class:`~agora.envs.kg.types.KGAction` or :class:`~agora.envs.kg.types.WalkAction`);
* a ``Face.TEXT`` agent gets a :class:`~agora.agents.base.TextTurn` (rules, the rendered
  graph, the JSON schema, ``check`` = the parser's complaint, ``fallback`` = a random
  valid action as JSON) and its reply is parsed with names resolved in this episode.

**Invalid-action policy.** An answer still unreadable or illegal after the agent's own
re-asks (or an illegal GAME action) is recorded with ``invalid=True`` and counted in the
episode's ``invalid`` column, then the world's declared ``invalid_step`` is played:
nothing happens but ``invalid_cost`` is charged (completion world) or a step is wasted
(query world), so repeated invalid answers end the episode. An agent or world error
fails the episode with its events and model calls kept. Seeds fix everything: the
graph, the corruption, every reveal and the agent's draws.

Example:
    >>> import asyncio
    >>> from agora.agents import make_agent
    >>> from agora.envs.kg.world import CompletionWorld
    >>> world = CompletionWorld({"num_entities": 20, "budget": 3.0})
    >>> res = asyncio.run(aplay_graph_task(world, [make_agent("random_text", world)], 0, True))
    >>> res.status, res.length == len(res.events["step"]), 0.0 <= res.metrics["f1"] <= 1.0
    ('ok', True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agora.agents import Agent
from agora.agents.base import Face, TextTurn
from agora.envs import ActionParseError, AgoraError, IllegalActionError
from agora.envs.kg.types import episode_rngs
from agora.envs.turns import reply_checker
from agora.experiments.episode import EpisodeResult
from agora.experiments.tasks import TaskEpisode


def _turn(world: Any, state: Any, rules: str) -> TextTurn:
    text = world.text

    def fallback(rng: np.random.Generator) -> str:
        return str(text.format_action(text.random_action(state, rng), state))

    return TextTurn(0, rules, text.render(state), text.action_schema(state), obs=world.view(state),
                    check=reply_checker(text, state), fallback=fallback)


async def _choose(world: Any, agent: Agent, state: Any,
                  rules: str) -> tuple[Any, str | None, str | None]:
    """(action or None, raw text reply, why the answer is invalid or None)."""
    if agent.face is Face.TEXT:
        reply = await agent.aact(_turn(world, state, rules))
        try:
            return world.text.parse(reply, state), str(reply), None
        except (ActionParseError, IllegalActionError) as exc:
            return None, str(reply), str(exc)
    if agent.face is Face.GAME:
        action = await agent.aact(world.view(state))
        if not (isinstance(action, tuple) and isinstance(getattr(action, "kind", None), str)):
            return None, None, f"the agent returned {action!r}, not a graph action"
        return action, None, None
    raise AgoraError(f"graph tasks have no {agent.face.value} face for agents; "
                     "use the Gymnasium env (agora/<id>) for tensor policies")


async def aplay_graph_task(world: Any, agents: Sequence[Agent], seed: int,
                           record_events: bool) -> EpisodeResult:
    """Play one episode of a graph world with one agent (see the module docstring)."""
    ep = TaskEpisode(agents, seed, record_events)
    agent = ep.agents[0]
    init_rng, step_rng = episode_rngs(ep.rng)
    total, state = 0.0, None
    try:
        state = world.initial_state(init_rng)
        rules = world.text.rules()
        while not world.done(state):
            action, reply, problem = await _choose(world, agent, state, rules)
            shown = world.text.format_action(action, state) if problem is None else (reply or "")
            kind = action.kind if problem is None else "invalid"
            if problem is None:
                try:
                    state, reward, _ = world.step(state, action, step_rng)
                except IllegalActionError as exc:
                    problem = str(exc)
            if problem is not None:
                state, reward, _ = world.invalid_step(state)
            total += reward
            agent.observe(reward, world.done(state))
            ep.event(0, kind=kind if problem is None else "invalid", action=shown,
                     reward=reward, reply=reply, invalid=problem is not None, problem=problem,
                     **_progress(world, state))
        return ep.result([total], world.metrics(state))
    except Exception as exc:  # the episode fails; its records are kept
        return ep.failed(exc, [total], _safe_metrics(world, state))


def _progress(world: Any, state: Any) -> dict[str, float]:
    """The world's running score after a step (the completion world's F1), if it has one."""
    progress = getattr(world, "progress", None)
    return dict(progress(state)) if progress is not None else {}


def _safe_metrics(world: Any, state: Any) -> dict[str, float] | None:
    if state is None:
        return None
    try:
        return dict(world.metrics(state))
    except Exception:  # a broken state must not hide the original error
        return None
