"""The text face of a game: rules, prose observations, an action schema and a parser.

A :class:`TextFace` never changes the rules: it renders the game's typed views as prose
and turns text back into the *same* integer actions the structured face uses, so a
language agent and an RL agent play exactly one game. The parser raises
:class:`~agora.envs.errors.ActionParseError` (cannot read the text) or
:class:`~agora.envs.errors.IllegalActionError` (read it, but the move is not allowed);
it never guesses a default.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from agora.envs.core import Game, Observation
from agora.envs.errors import ActionParseError, IllegalActionError

V = TypeVar("V", bound=tuple)  # the game's typed view

_INT_TEXT = re.compile(r"\s*-?[0-9]+\s*")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def extract_json_object(text: str) -> dict[str, Any]:
    """Return the first JSON object in ``text`` (bare, or inside a code fence).

    Raises:
        ActionParseError: when no JSON object can be found.

    Example:
        >>> extract_json_object('Sure! {"action": "cooperate"}')
        {'action': 'cooperate'}
    """
    if not isinstance(text, str):
        raise ActionParseError(f"expected text, got {type(text).__name__}", repr(text))
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for chunk in candidates:
        start = chunk.find("{")
        while start != -1:
            try:
                obj, _ = decoder.raw_decode(chunk, start)
            except (ValueError, RecursionError):  # bad JSON, huge ints, deep nesting
                start = chunk.find("{", start + 1)
                continue
            if isinstance(obj, dict):
                return obj
            start = chunk.find("{", start + 1)
    raise ActionParseError("no JSON object found; answer with a JSON object", text)


def get_field(obj: dict[str, Any], key: str, text: str) -> Any:
    """``obj[key]`` or an :class:`ActionParseError` that names the missing key."""
    if key not in obj:
        raise ActionParseError(f'the JSON object needs the key "{key}"', text)
    return obj[key]


def get_int(obj: dict[str, Any], key: str, text: str, low: int, high: int) -> int:
    """An integer field within ``[low, high]``; accepts integral floats and digit strings."""
    raw = get_field(obj, key, text)
    value: int | None = None
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif (isinstance(raw, float) and raw.is_integer()) or (
        isinstance(raw, str) and len(raw) < 100 and _INT_TEXT.fullmatch(raw)
    ):
        value = int(raw)
    if value is None:
        raise ActionParseError(f'"{key}" must be a whole number, got {raw!r}', text)
    if not low <= value <= high:
        raise IllegalActionError(f'"{key}" must be between {low} and {high}, got {value}')
    return value


def get_choice(obj: dict[str, Any], key: str, text: str, choices: dict[str, int]) -> int:
    """A string field that must be one of ``choices`` (case-insensitive)."""
    raw = get_field(obj, key, text)
    if isinstance(raw, str) and raw.strip().lower() in choices:
        return choices[raw.strip().lower()]
    options = ", ".join(f'"{c}"' for c in choices)
    raise ActionParseError(f'"{key}" must be one of {options}, got {raw!r}', text)


@runtime_checkable
class TextProtocol(Protocol):
    """The one text-face protocol every family implements (games' :class:`TextFace`, the
    design and graph worlds' faces), so a language agent plays any world the same way.

    ``obs`` is what the face renders: a game's typed observation, a task world's state.
    ``parse`` raises :class:`~agora.envs.errors.ActionParseError` for text it cannot read
    and :class:`~agora.envs.errors.IllegalActionError` for an action that is not allowed
    now; ``format_action`` is its inverse (the canonical answer).
    """

    def rules(self, player: int = 0) -> str: ...

    def render(self, obs: Any) -> str: ...

    def action_schema(self, obs: Any) -> dict[str, Any]: ...

    def parse(self, text: str, obs: Any) -> Any: ...

    def format_action(self, action: Any, obs: Any) -> str: ...


class TextFace(ABC, Generic[V]):
    """Renders one game for language agents and parses their answers.

    Subclasses implement the five methods below; the base class checks legality.
    """

    def __init__(self, game: Game[Any, Any, V]) -> None:
        self.game = game

    @abstractmethod
    def rules(self, player: int) -> str:
        """The rules of the game as told to ``player`` (a system prompt)."""

    @abstractmethod
    def render(self, obs: Observation[V]) -> str:
        """This turn's observation in prose, ending with what to answer."""

    @abstractmethod
    def action_schema(self, obs: Observation[V]) -> dict[str, Any]:
        """JSON schema of a valid answer now (sent as ``response_format`` where supported)."""

    @abstractmethod
    def decode(self, text: str, obs: Observation[V]) -> int:
        """Read an integer action from text; raise :class:`ActionParseError` if unreadable."""

    @abstractmethod
    def format_action(self, action: int, obs: Observation[V]) -> str:
        """The canonical answer text for ``action`` (parses back to ``action``)."""

    def parse(self, text: str, obs: Observation[V]) -> int:
        """Text to a legal action, or a typed error that says what was wrong.

        Raises:
            ActionParseError: the text holds no readable action.
            IllegalActionError: the action is readable but not legal now.
        """
        action = self.decode(text, obs)
        if not (0 <= action < len(obs.action_mask)) or not obs.action_mask[action]:
            raise IllegalActionError(
                f"{self.format_action(action, obs)} is not a legal move now"
            )
        return action


class Mailbox:
    """Cheap talk between text players, the same for ``agora run`` and every API shell.

    A ``"message"`` string in an answer whose schema allows one (games with
    ``messages=True``) is delivered to every other player at its next turn.

    Example:
        >>> from agora.envs import make_game
        >>> game, text = make_game("Ultimatum-v1", {"messages": True})
        >>> box = Mailbox(2)
        >>> obs = game.observe(game.initial_state(None), 0)
        >>> box.post(0, '{"offer": 4, "message": "fair?"}', obs, text)
        'fair?'
        >>> box.collect(1), box.collect(1), box.collect(0)
        (('player_0: fair?',), (), ())
    """

    def __init__(self, n_players: int) -> None:
        self.log: list[tuple[int, str]] = []
        self.seen = [0] * n_players

    def post(self, sender: int, reply: str | None, obs: Observation[Any],
             text: TextFace[Any]) -> str | None:
        """Deliver the message of ``sender``'s played answer, if it carries one."""
        if reply is None or "message" not in text.action_schema(obs).get("properties", {}):
            return None
        try:
            message = extract_json_object(reply).get("message")
        except ActionParseError:
            return None
        if not isinstance(message, str) or not message.strip():
            return None
        self.log.append((sender, message.strip()))
        return message.strip()

    def collect(self, player: int) -> tuple[str, ...]:
        """The messages ``player`` has not seen yet, from the others, oldest first."""
        new = self.log[self.seen[player]:]
        self.seen[player] = len(self.log)
        return tuple(f"player_{s}: {m}" for s, m in new if s != player)
