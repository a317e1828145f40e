"""The fixed opponents of a game's Gymnasium view, checked when the env is built.

A seat is a player index (``1``) or its PettingZoo name (``"player_1"``). An opponent is

* an agent name (``"cournot_nash"``), a spec mapping (``{"name": ..., **params}``) or an
  ``AgentSpec``: built by the agent resolver against the env's own game;
* an object with ``act(obs)`` (an agent, any :class:`~agora.envs.adapters.Policy`): an agent
  built from a spec is built again from it, any other object is deep-copied; either way
  its ``setup(game)`` hook gets the env's game. So every env, and every sub-env of a vector
  env, has its own opponents, playing the env's game.

Text agents (a language model, ``{"name": "llm", "model": ...}``) are opponents too: they
play their turns through the game's text face exactly as in ``agora run``
(:mod:`agora.envs.turns`), so they need a game with one.

Layering: ``agora.envs`` does not import ``agora.agents``. Names are resolved by the
function registered under the entry point group :data:`RESOLVER_GROUP` (agora-sim declares
``agora.agents:make_agent`` there), loaded on the first name to resolve. Another package
can declare its own resolver under another name; the first one, by name, is used.

Example:
    >>> from agora.envs import make_game
    >>> game, _ = make_game("Cournot-v1")
    >>> opponents = build_opponents({"player_1": "cournot_nash"}, game, player=0)
    >>> type(opponents[1]).__name__
    'CournotNash'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from agora.envs.errors import AgoraError, ConfigError
from agora.envs.turns import Face, face_of

RESOLVER_GROUP = "agora.agent_resolvers"
"""Entry-point group of functions ``(spec, game) -> agent`` that build agents from specs."""

_SEAT = re.compile(r"^player_(\d+)$")
_resolver: Callable[[Any, Any], Any] | None = None


def agent_resolver() -> Callable[[Any, Any], Any]:
    """The registered ``(spec, game) -> agent`` function (see the module doc)."""
    global _resolver
    if _resolver is None:
        found = sorted(entry_points(group=RESOLVER_GROUP), key=lambda e: e.name)
        if not found:
            raise ConfigError(f"no agent resolver is installed (entry point group "
                              f"{RESOLVER_GROUP!r}): pass opponents as objects with act()")
        _resolver = found[0].load()
    return _resolver


def seat_index(key: Any, num_players: int, player: int) -> int:
    """The player index of a seat key, or a :class:`ConfigError` naming it."""
    m = _SEAT.match(key) if isinstance(key, str) else None
    if m is not None and key == f"player_{int(m.group(1))}":
        index = int(m.group(1))
    elif isinstance(key, int) and not isinstance(key, bool):
        index = key
    else:
        raise ConfigError(f"opponents key {key!r}: use a player index or 'player_<i>'")
    if not 0 <= index < num_players or index == player:
        raise ConfigError(f"opponents key {key!r}: the opponents' seats are "
                          f"{[f'player_{j}' for j in range(num_players) if j != player]}")
    return index


def build_opponent(raw: Any, game: Any, where: str, text: Any = None) -> Any:
    """A fresh opponent for ``game`` from a name, spec or object (see the module doc)."""
    if raw is None:
        raise ConfigError(f"{where}: no opponent given (None)")
    spec = getattr(raw, "agent_spec", None) if hasattr(raw, "act") else raw
    try:
        if spec is not None:
            opponent = agent_resolver()(spec, game)
        else:
            opponent = copy.deepcopy(raw)
            games = getattr(opponent, "games", ())
            if games and not isinstance(game, games):
                raise ConfigError(f"{type(raw).__name__} does not play {game.info.name}")
            if hasattr(opponent, "setup"):
                opponent.setup(game)
    except (AgoraError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if face_of(opponent) is Face.TEXT and text is None:
        raise ConfigError(f"{where}: a text agent needs the game's text face, and "
                          f"{game.info.name} was given none")
    return opponent


def build_opponents(given: Mapping[Any, Any] | None, game: Any, player: int,
                    default: Any = None, text: Any = None) -> dict[int, Any]:
    """Every opponent seat's fresh opponent.

    A seat given none gets ``default``: one opponent for every seat, a tuple with one per
    player, or ``None`` (the seat is left out).
    """
    if given is not None and not isinstance(given, Mapping):
        raise ConfigError(f"opponents={given!r}: want a mapping of seat to opponent")
    seats: dict[int, Any] = {}
    for key, raw in (given or {}).items():
        index = seat_index(key, game.num_players, player)
        if index in seats:
            raise ConfigError(f"opponents: player_{index} is given twice")
        seats[index] = (raw, f"opponents[{key!r}]")
    for j in range(game.num_players):
        raw = default[j] if isinstance(default, tuple) else default
        if j != player and j not in seats and raw is not None:
            seats[j] = (raw, f"the default opponent {raw!r} of player_{j}")
    return {j: build_opponent(raw, game, where, text)
            for j, (raw, where) in sorted(seats.items())}
