"""Optional views of a game's outcome. Rewards are real payoffs by default; these wrap them.

:class:`WinLoss` turns a PettingZoo env's rewards into a tournament view: zero on every
step, then at the end +1 for the players with the highest return, -1 for the others, and 0
for everyone on a full tie.
"""

from __future__ import annotations

from typing import Any

from pettingzoo import ParallelEnv
from pettingzoo.utils.wrappers import BaseParallelWrapper

from agora.envs.core import Game


def win_loss(returns: tuple[float, ...] | list[float]) -> list[float]:
    """+1 for the best return(s), -1 for the rest, all 0 when everyone ties.

    Example:
        >>> win_loss([3.0, 5.0]), win_loss([2.0, 2.0]), win_loss([1.0, 4.0, 4.0])
        ([-1.0, 1.0], [0.0, 0.0], [-1.0, 1.0, 1.0])
    """
    best = max(returns)
    if all(r == best for r in returns):
        return [0.0] * len(returns)
    return [1.0 if r == best else -1.0 for r in returns]


class WinLoss(BaseParallelWrapper):
    """Win/loss rewards over a :class:`~agora.envs.ParallelGameEnv` (real payoffs in infos).

    Each step's ``infos[agent]["payoff"]`` keeps the real reward, so nothing is lost.

    Example:
        >>> from agora.envs import make
        >>> env = WinLoss(make("RepeatedPD-v1", rounds=1))
        >>> _ = env.reset(seed=0)
        >>> _, rewards, _, _, infos = env.step({"player_0": 0, "player_1": 1})
        >>> rewards, infos["player_1"]["payoff"]
        ({'player_0': -1.0, 'player_1': 1.0}, 5.0)
    """

    def __init__(self, env: ParallelEnv) -> None:
        super().__init__(env)
        self._game: Game[Any, Any, Any] = env.unwrapped.game  # type: ignore[attr-defined]

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        obs, rewards, terms, truncs, infos = self.env.step(actions)
        for a in rewards:
            infos[a] = {**infos[a], "payoff": rewards[a]}
        if self.env.agents:
            return obs, dict.fromkeys(rewards, 0.0), terms, truncs, infos
        names = self.env.possible_agents
        final = win_loss(self._game.returns(self.env.unwrapped.state_))  # type: ignore[attr-defined]
        outcome = dict(zip(names, final, strict=True))
        return obs, {a: outcome[a] for a in rewards}, terms, truncs, infos


__all__ = ["WinLoss", "win_loss"]
