"""One agent turn, the same in the episode loop and in the API shells.

An agent consumes one face of a game (:class:`Face`): the typed observation, the tensor
encoding, or text. :func:`agent_input` builds what an agent of a face sees on its turn
(a :class:`TextTurn` for text agents: rules, rendered observation, answer schema, the
cheap-talk inbox, a checker and the canonical answer of an action), and
:func:`read_reply` turns its reply into the action played, raising the game's typed errors
(:class:`~agora.envs.errors.ActionParseError`, :class:`~agora.envs.errors.IllegalActionError`)
for a reply that is not a legal action. ``agora run``'s episode loop and the Gymnasium
view's opponents both go through these two functions, so a language-model opponent plays
the same turn in an RL env as in a run. :func:`world_input` and :func:`read_world_reply`
are the same turn in a world with structured actions (a graph edit): its typed view, or
a :class:`TextTurn` from its text face, and a reply checked by ``world.check``.

Example:
    >>> from agora.envs import make_game
    >>> game, text = make_game("RepeatedPD-v1", {"rounds": 2})
    >>> state = game.initial_state(None)
    >>> turn = agent_input(game, text, Face.TEXT, state, game.observe(state, 0), {})
    >>> turn.check('{"action": "cooperate"}') is None
    True
    >>> read_reply(game, text, Face.TEXT, state, game.observe(state, 0), '{"action": "defect"}')
    1
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from agora.envs.core import Game, Observation, World
from agora.envs.errors import ActionParseError, AgoraError, IllegalActionError
from agora.envs.text import Mailbox, TextFace

__all__ = ["Face", "TextTurn", "agent_input", "face_of", "parse_checker", "read_reply",
           "read_world_reply", "reply_checker", "world_input"]


class Face(str, Enum):
    """Which face of the game an agent consumes."""

    GAME = "game"
    TENSOR = "tensor"
    TEXT = "text"


@dataclass(frozen=True)
class TextTurn:
    """What a text agent sees on its turn.

    Attributes:
        player: the agent's player index.
        rules: the rules as told to this player (stable for the episode).
        observation: this turn's prose, ending with what to answer.
        schema: JSON schema of a valid answer now.
    """

    player: int
    rules: str
    observation: str
    schema: Mapping[str, Any]
    inbox: tuple[str, ...] = ()
    """Free-text messages from the other players since this player's last turn, each as
    ``"player_k: text"`` (games whose schema has a ``"message"`` field allow them)."""
    obs: Any = None
    """The typed :class:`~agora.envs.Observation` (for fallbacks that play a heuristic)."""
    check: Callable[[str], str | None] | None = None
    """Returns the parser's error message for a reply, or None if the reply is valid."""
    answer: Callable[[int], str] | None = None
    """The canonical reply text of an action (what a fallback heuristic answers)."""
    fallback: Callable[[np.random.Generator], str] | None = None
    """A random valid reply drawn with the given generator, for turns whose valid answers
    a JSON schema cannot describe exactly (designs with constraints); ``None``: the
    schema's :func:`~agora.agents.heuristics.random_answer` is valid."""


def face_of(agent: Any) -> Face:
    """The face an agent object consumes (``Face.GAME`` when it declares none)."""
    face = getattr(agent, "face", Face.GAME)
    return Face(getattr(face, "value", face))


def parse_checker(parse: Callable[[str], Any]) -> Callable[[str], str | None]:
    """A parser as a check: its error message for a reply, or None when it reads."""

    def check(reply: str) -> str | None:
        try:
            parse(reply)
        except (ActionParseError, IllegalActionError) as exc:
            return str(exc)
        return None

    return check


def reply_checker(text: Any, obs: Any) -> Callable[[str], str | None]:
    """A text face's parser as a check (``obs`` is what the face parses against: an
    observation, or a task world's state)."""
    return parse_checker(lambda reply: text.parse(reply, obs))


def _answer(text: TextFace[Any], obs: Observation[Any]) -> Callable[[int], str]:
    """The canonical reply text of an action on this turn."""
    return lambda action: text.format_action(action, obs)


def agent_input(game: Game[Any, Any, Any], text: TextFace[Any] | None, face: Face,
                state: Any, obs: Observation[Any], rules: dict[int, str],
                mail: Mailbox | None = None) -> Any:
    """What an agent of ``face`` sees on its turn: the observation itself, its tensor
    encoding with the action mask, or a :class:`TextTurn` (``rules`` caches each player's
    rules text for the episode; ``mail`` holds cheap talk, if the game has any)."""
    p = obs.player
    if face is Face.TEXT:
        if text is None:
            raise ActionParseError(f"{game.info.name} has no text face for a text agent")
        if p not in rules:
            rules[p] = text.rules(p)
        inbox = mail.collect(p) if mail is not None else ()
        return TextTurn(p, rules[p], text.render(obs), text.action_schema(obs), inbox, obs,
                        reply_checker(text, obs), _answer(text, obs))
    if face is Face.TENSOR:
        return {"observation": game.encode(state, p),
                "action_mask": obs.action_mask.astype(np.int8)}
    return obs


def read_reply(game: Game[Any, Any, Any], text: TextFace[Any] | None, face: Face,
               state: Any, obs: Observation[Any], reply: Any) -> int:
    """The action a reply plays.

    Raises:
        ActionParseError: a text reply the text face cannot read.
        IllegalActionError: an action (or a parsed reply) that is not legal now.
    """
    if face is Face.TEXT:
        assert text is not None  # agent_input refused a text agent without a text face
        return text.parse(reply, obs)
    if not game.is_legal(state, obs.player, reply):
        raise IllegalActionError(f"player {obs.player} chose {reply!r}, not a legal action")
    return int(reply)


def world_input(world: World[Any, Any, Any, Any], text: Any, face: Face, state: Any,
                player: int, rules: dict[int, str]) -> Any:
    """What an agent of ``face`` sees on its turn in a world with structured actions: the
    typed view, or a :class:`TextTurn` from the world's text face (rules, the rendered
    state, the answer schema, ``check`` = the parser, ``fallback`` = a random valid action
    as text). Such worlds have no tensor face for agents (their Gymnasium env has one).

    Example:
        >>> from agora.envs import task_spec
        >>> world = task_spec("KGQuery-v1").make_world({"num_entities": 30})
        >>> state = world.initial_state(np.random.default_rng(0))
        >>> turn = world_input(world, world.text, Face.TEXT, state, 0, {})
        >>> turn.check(turn.fallback(np.random.default_rng(1))) is None
        True
    """
    if face is Face.TEXT:
        if text is None:
            raise ActionParseError(f"{world.info.name} has no text face for a text agent")
        if player not in rules:
            rules[player] = text.rules(player)

        def fallback(rng: np.random.Generator) -> str:
            return str(text.format_action(text.random_action(state, rng), state))

        return TextTurn(player, rules[player], text.render(state), text.action_schema(state),
                        obs=world.view(state, player), check=reply_checker(text, state),
                        fallback=fallback)
    if face is Face.TENSOR:
        raise AgoraError(f"{world.info.name} has no tensor face for agents; use the "
                         "Gymnasium env (agora/<id>) for tensor policies")
    return world.view(state, player)


def read_world_reply(world: World[Any, Any, Any, Any], text: Any, face: Face, state: Any,
                     player: int, reply: Any) -> Any:
    """The action a reply plays in a world with structured actions.

    Raises:
        ActionParseError: a text reply the text face cannot read.
        IllegalActionError: an action (or a parsed reply) that ``world.check`` refuses.
    """
    action = text.parse(reply, state) if face is Face.TEXT else reply
    world.check(state, player, action)
    return action
