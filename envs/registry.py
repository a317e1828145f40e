"""The registry of versioned environment ids.

Every id (``"RepeatedPD-v0"``) names a game class, its text face and default parameters.
``make`` returns the PettingZoo env that fits the game (Parallel for simultaneous moves,
AEC for turns); ``make_gym`` returns the Gymnasium single-player view, also reachable as
``gymnasium.make("agora/<id>")``. Behaviour changes bump the version suffix.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping
from typing import Any

import gymnasium

from agora.envs.adapters import AECGameEnv, ParallelGameEnv, Policy, SinglePlayerEnv
from agora.envs.core import Game, Timing, merge_params
from agora.envs.errors import ConfigError, UnknownIdError
from agora.envs.spec import EnvSpec
from agora.envs.text import TextFace

_ID = re.compile(r"^[A-Z][A-Za-z0-9]*-v\d+$")


_REGISTRY: dict[str, EnvSpec] = {}


def register(spec: EnvSpec) -> EnvSpec:
    """Add an id to the registry (and to Gymnasium as ``agora/<id>``)."""
    if not _ID.match(spec.id):
        raise ConfigError(f"env id {spec.id!r} must look like 'Name-v0'")
    if spec.id in _REGISTRY:
        raise ConfigError(f"env id {spec.id!r} is already registered")
    spec.make_game()  # defaults must validate now, not at first use
    _REGISTRY[spec.id] = spec
    gymnasium.register(id=spec.gym_id, entry_point="agora.envs.registry:make_gym",
                       kwargs={"env_id": spec.id},
                       disable_env_checker=False)
    return spec


def discover(package: str = "agora.envs.games") -> None:
    """Register the ``SPECS`` of every game module in ``package`` (sorted, once each).

    A game module declares ``SPECS = (EnvSpec(...), ...)``; text modules (``*_text``)
    are skipped. Adding a game therefore touches no shared file.
    """
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.endswith("_text") or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for s in getattr(module, "SPECS", ()):
            if s.id not in _REGISTRY:
                register(s)


def spec(env_id: str) -> EnvSpec:
    """The spec of a registered id; the error lists close matches."""
    env_id = env_id.removeprefix("agora/")
    try:
        return _REGISTRY[env_id]
    except KeyError:
        raise UnknownIdError(
            f"unknown env id {env_id!r}; registered: {', '.join(sorted(_REGISTRY))}"
        ) from None


def specs() -> list[EnvSpec]:
    """All registered specs, sorted by id."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def make_game(env_id: str, params: Mapping[str, Any] | None = None
              ) -> tuple[Game[Any, Any, Any], TextFace[Any]]:
    """The pure game and its text face for an id.

    Example:
        >>> game, text = make_game("PublicGoods-v0", {"n_players": 3})
        >>> game.num_players
        3
    """
    s = spec(env_id)
    game = s.make_game(params)
    return game, s.text_face(game)


def make(env_id: str, render_mode: str | None = None, api: str | None = None,
         **params: Any) -> ParallelGameEnv | AECGameEnv:
    """A PettingZoo env: Parallel for simultaneous games, AEC for sequential ones.

    ``api="aec"`` wraps a simultaneous game in PettingZoo's ``parallel_to_aec``.

    Example:
        >>> env = make("PublicGoods-v0", n_players=3, rounds=2)
        >>> env.possible_agents
        ['player_0', 'player_1', 'player_2']
    """
    if api not in (None, "parallel", "aec"):
        raise ConfigError(f"api={api!r}; use 'parallel' or 'aec'")
    game, text = make_game(env_id, params)
    if game.info.timing is Timing.SEQUENTIAL:
        if api == "parallel":
            raise ConfigError(f"{env_id} is turn-based; it has no Parallel API")
        return AECGameEnv(game, text, render_mode)
    env = ParallelGameEnv(game, text, render_mode)
    if api == "aec":
        from pettingzoo.utils.conversions import parallel_to_aec

        return parallel_to_aec(env)  # type: ignore[return-value]
    return env


def make_gym(env_id: str, player: int = 0, opponents: dict[int, Policy] | None = None,
             render_mode: str | None = None, illegal_action: str = "penalty",
             illegal_penalty: float = -1.0, max_illegal_actions: int = 100,
             params: Mapping[str, Any] | None = None, **keywords: Any) -> SinglePlayerEnv:
    """A Gymnasium env for ``player`` facing fixed ``opponents`` (random legal by default).

    The ``illegal_*`` arguments set the declared illegal-action policy of
    :class:`~agora.envs.adapters.SinglePlayerEnv`; game parameters are the other keywords
    or ``params={...}`` (as for task ids).
    """
    game, text = make_game(env_id, merge_params(params, keywords, env_id))
    return SinglePlayerEnv(game, text, player, opponents, render_mode, illegal_action,
                           illegal_penalty, max_illegal_actions)
