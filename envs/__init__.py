"""agora.envs: game rules as pure cores, their text faces, API adapters and the registry.

Example:
    >>> from agora.envs import make
    >>> env = make("RepeatedPD-v0", rounds=2)
    >>> obs, infos = env.reset(seed=0)
    >>> sorted(obs)
    ['player_0', 'player_1']
"""

from importlib.metadata import PackageNotFoundError, version

from agora.envs.adapters import AECGameEnv, ParallelGameEnv, Policy, SinglePlayerEnv
from agora.envs.core import Benchmark, Game, GameInfo, Observation, Params, Status, Timing
from agora.envs.errors import (
    ActionParseError,
    AgoraError,
    ConfigError,
    GameOverError,
    IllegalActionError,
    UnknownIdError,
)
from agora.envs.games.bargaining import BargainingGame
from agora.envs.games.bargaining_text import BargainingText
from agora.envs.games.public_goods import PublicGoodsGame
from agora.envs.games.public_goods_text import PublicGoodsText
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.envs.games.repeated_matrix_text import RepeatedMatrixText
from agora.envs.registry import EnvSpec, make, make_game, make_gym, register, spec, specs
from agora.envs.text import TextFace

try:
    __version__ = version("agora-sim")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0+unknown"

register(EnvSpec("RepeatedPD-v0", RepeatedMatrixGame, RepeatedMatrixText,
                 summary="Repeated prisoner's dilemma (R=3,S=0,T=5,P=1), fixed or random end"))
register(EnvSpec("Bargaining-v0", BargainingGame, BargainingText,
                 summary="Rubinstein alternating offers with per-player discounts"))
register(EnvSpec("PublicGoods-v0", PublicGoodsGame, PublicGoodsText,
                 summary="N-player linear public goods (endowment, multiplier)"))

__all__ = [
    "AECGameEnv", "ActionParseError", "AgoraError", "Benchmark", "ConfigError", "EnvSpec",
    "Game", "GameInfo", "GameOverError", "IllegalActionError", "Observation", "ParallelGameEnv",
    "Params", "Policy", "SinglePlayerEnv", "Status", "TextFace", "Timing", "UnknownIdError",
    "make", "make_game", "make_gym", "register", "spec", "specs", "__version__",
]
