"""The registry of versioned environment ids.

Every id (``"RepeatedPD-v1"``) names a game class, its text face and default parameters.
``make`` returns the PettingZoo env that fits the game (Parallel for simultaneous moves,
AEC for turns); ``make_gym`` returns the Gymnasium single-player view, also reachable as
``gymnasium.make("agora/<id>")``. Behaviour changes bump the version suffix.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

import gymnasium

from agora.envs.adapters import AECGameEnv, ParallelGameEnv
from agora.envs.core import Game, Timing, merge_params
from agora.envs.errors import ConfigError, UnknownIdError
from agora.envs.single_player import SinglePlayerEnv
from agora.envs.spec import EnvSpec, add, all_stored, stored
from agora.envs.text import TextFace

VECTORISED: tuple[str, ...] = ("RepeatedMatrix", "PublicGoods", "Cournot", "Bertrand",
                               "BertrandDifferentiated", "LogitBertrand", "Auction",
                               "DonorGame")
"""Game names (``GameInfo.name``) whose ids get the vector entry point of
:mod:`agora.envs.vector`; named here so registering never imports that module (it loads
when a vector env is made)."""


def register(spec: EnvSpec) -> EnvSpec:
    """Add an id to the one registry and to Gymnasium as ``agora/<id>``.

    A game gets the shells of :mod:`agora.envs.adapters` (and the vector entry point of
    :mod:`agora.envs.vector` when it has vectorised rules); a single-agent world gets its
    own ``env`` class.

    Raises:
        ConfigError: the id is malformed or taken, a game's defaults do not validate, the
            family is not a name, the player is not a ``"module:function"`` path, or another
            id of the family names another player.
    """
    if spec.is_task:
        _check_family(spec)
        add(spec)
        gymnasium.register(id=spec.gym_id, entry_point="agora.envs.tasks:make_task_env",
                           kwargs={"task_id": spec.id})
        return spec
    spec.make_game()  # defaults must validate now, not at first use
    add(spec)
    vector = ("agora.envs.vector:make_vec" if spec.world.info.name in VECTORISED else None)
    gymnasium.register(id=spec.gym_id, entry_point="agora.envs.registry:make_gym",
                       vector_entry_point=vector, kwargs={"env_id": spec.id},
                       disable_env_checker=False)
    return spec


def _check_family(spec: EnvSpec) -> None:
    """A family is a name, and all its ids that name an episode player name the same."""
    if not spec.family.isidentifier():
        raise ConfigError(f"spec {spec.id!r}: family {spec.family!r} is not a name")
    if spec.player and spec.player.count(":") != 1:
        raise ConfigError(f"spec {spec.id!r}: player {spec.player!r} is not 'module:function'")
    other = {s.player for s in all_stored() if s.family == spec.family} - {spec.player}
    if spec.player and other:
        theirs = repr(min(other)) if min(other) else "the one episode loop"
        raise ConfigError(f"spec {spec.id!r}: player {spec.player!r}, but family "
                          f"{spec.family!r} plays with {theirs}")


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
            if stored(s.id) is None:
                register(s)


def spec(env_id: str) -> EnvSpec:
    """The spec of a registered game id.

    Raises:
        UnknownIdError: no such id (the message lists the registered ones, and names the
            current version when only the version is wrong).
        ConfigError: the id is a single-agent task (use its Gymnasium env or
            :func:`~agora.envs.tasks.task_spec`).
    """
    found = lookup(env_id)
    if found.is_task:
        raise ConfigError(f"{found.id} is a {found.family} task, not a game: use "
                          f"gymnasium.make('agora/{found.id}') or agora.envs.task_spec")
    return found


def lookup(env_id: str) -> EnvSpec:
    """The spec of any registered id, game or task (see :func:`spec` for the errors)."""
    found = stored(env_id)
    if found is not None:
        return found
    env_id = env_id.removeprefix("agora/")
    name = env_id.rpartition("-v")[0]
    versions = [s.id for s in all_stored() if s.id.rpartition("-v")[0] == name]
    if versions:
        raise UnknownIdError(f"unknown env id {env_id!r}: its current version is "
                             f"{', '.join(versions)}")
    raise UnknownIdError(f"unknown env id {env_id!r}; registered: "
                         f"{', '.join(s.id for s in all_stored())}")


def specs() -> list[EnvSpec]:
    """All registered game specs, sorted by id (tasks: :func:`all_specs`)."""
    return [s for s in all_stored() if not s.is_task]


def all_specs() -> list[EnvSpec]:
    """Every registered id's spec, games and tasks, sorted by id."""
    return all_stored()


def make_game(env_id: str, params: Mapping[str, Any] | None = None
              ) -> tuple[Game[Any, Any, Any], TextFace[Any]]:
    """The pure game and its text face for an id.

    Example:
        >>> game, text = make_game("PublicGoods-v1", {"n_players": 3})
        >>> game.num_players
        3
    """
    s = spec(env_id)
    game = s.make_game(params)
    return game, s.text_face(game)


def make(env_id: str, render_mode: str | None = None, api: str | None = None,
         on_invalid_action: str = "raise", invalid_penalty: float = -1.0,
         max_invalid_actions: int = 100, **params: Any) -> ParallelGameEnv | AECGameEnv:
    """A PettingZoo env: Parallel for simultaneous games, AEC for sequential ones.

    ``api="aec"`` wraps a simultaneous game in PettingZoo's ``parallel_to_aec``. The
    ``*invalid*`` keywords declare the invalid-action policy (:mod:`agora.envs.invalid`;
    ``"raise"`` by default, ``"penalty"`` for unmasked training); other keywords are game
    parameters.

    Example:
        >>> env = make("PublicGoods-v1", n_players=3, rounds=2)
        >>> env.possible_agents
        ['player_0', 'player_1', 'player_2']
    """
    if api not in (None, "parallel", "aec"):
        raise ConfigError(f"api={api!r}; use 'parallel' or 'aec'")
    game, text = make_game(env_id, params)
    policy = (on_invalid_action, invalid_penalty, max_invalid_actions)
    if game.info.timing is Timing.SEQUENTIAL:
        if api == "parallel":
            raise ConfigError(f"{env_id} is turn-based; it has no Parallel API")
        return AECGameEnv(game, text, render_mode, *policy)
    env = ParallelGameEnv(game, text, render_mode, *policy)
    if api == "aec":
        from pettingzoo.utils.conversions import parallel_to_aec

        return parallel_to_aec(env)  # type: ignore[return-value]
    return env


def make_gym(env_id: str, player: int = 0, opponents: Mapping[Any, Any] | None = None,
             render_mode: str | None = None, on_invalid_action: str = "penalty",
             invalid_penalty: float = -1.0, max_invalid_actions: int = 100,
             params: Mapping[str, Any] | None = None, *, observation_format: str = "dict",
             reward_scale: float = 1.0, **keywords: Any) -> SinglePlayerEnv:
    """A Gymnasium env for ``player`` facing fixed ``opponents`` (the entry point behind
    ``gymnasium.make("agora/<id>")``).

    Seats given no opponent play the id's declared ``default_opponent`` (the one
    ``agora list`` names), built against this env's game. The ``*invalid*`` keywords
    declare the invalid-action policy (:mod:`agora.envs.invalid`); ``observation_format``
    and ``reward_scale`` are described in :mod:`agora.envs.single_player`; game parameters
    are the other keywords or ``params={...}`` (as for task ids).

    Example:
        >>> env = make_gym("Cournot-v1", opponents={1: "cournot_nash"}, reward_scale=0.01)
        >>> _, info = env.reset(seed=0)
        >>> _, reward, *_, info = env.step(0)
        >>> reward == 0.01 * info["payoff"]
        True
    """
    s = spec(env_id)
    game, text = make_game(env_id, merge_params(params, keywords, env_id))
    return SinglePlayerEnv(game, text, player, opponents, render_mode, on_invalid_action,
                           invalid_penalty, max_invalid_actions,
                           default_opponent=s.default_opponent,
                           observation_format=observation_format, reward_scale=reward_scale)
