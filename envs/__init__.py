"""agora.envs: game rules as pure cores, their text faces, API adapters and the registry.

Example:
    >>> from agora.envs import make
    >>> env = make("RepeatedPD-v1", rounds=2)
    >>> obs, infos = env.reset(seed=0)
    >>> sorted(obs)
    ['player_0', 'player_1']
"""

from importlib.metadata import PackageNotFoundError, version

from agora.envs.adapters import AECGameEnv, ParallelGameEnv, Policy
from agora.envs.core import (
    Benchmark,
    Game,
    GameInfo,
    Observation,
    Params,
    Status,
    Timing,
    World,
)
from agora.envs.errors import (
    ActionParseError,
    AgoraError,
    ConfigError,
    GameOverError,
    IllegalActionError,
    RunAbortedError,
    UnknownIdError,
)
from agora.envs.registry import (
    EnvSpec,
    all_specs,
    discover,
    lookup,
    make,
    make_game,
    make_gym,
    register,
    spec,
    specs,
)
from agora.envs.single_player import SinglePlayerEnv
from agora.envs.tasks import discover_families, is_task, task_spec, task_specs
from agora.envs.text import TextFace, TextProtocol

try:
    __version__ = version("agora-sim")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

discover()  # every game module under agora.envs.games registers its SPECS
discover_families()  # and every task family package its TASKS

__all__ = [
    "AECGameEnv", "ActionParseError", "AgoraError", "Benchmark", "ConfigError", "EnvSpec",
    "Game", "GameInfo", "GameOverError", "IllegalActionError", "Observation", "ParallelGameEnv",
    "Params", "Policy", "RunAbortedError", "SinglePlayerEnv", "Status", "TextFace",
    "TextProtocol", "Timing", "World",
    "UnknownIdError", "discover_families", "is_task", "task_spec", "task_specs",
    "all_specs", "discover", "lookup", "make", "make_game", "make_gym", "register", "spec",
    "specs", "__version__",
]
