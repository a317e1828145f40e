"""Vector envs for public goods and the oligopolies: ``G`` repeated games as arrays.

:class:`RepeatedVectorEnv` runs ``G`` games of a repeated simultaneous game whose round is
a batched stage payoff (:class:`~agora.envs.games.public_goods_vec.PublicGoodsVec`,
:class:`~agora.envs.games.oligopoly.vec.OligopolyVec`). Learners sit in ``seats`` (one
seat, or every seat for parameter sharing: row ``n * g + p`` is seat ``p`` of game
``g``); the other seats play fixed rules given as data:

* public goods: contribution rule rows ``[initial, base, slope, threshold, below]``
  (``GroupRule.row()`` of :mod:`agora.agents.group_rule`; default: ``conditional_cooperator``,
  the id's declared default opponent);
* oligopolies: :class:`~agora.envs.games.oligopoly.vec.FirmRule` (default: the id's
  declared default opponent, ``cournot_nash``, ``bertrand_undercut`` or ``bertrand_nash``).

Row ``i`` is exactly ``gymnasium.make("agora/<id>")`` (or, in self-play, the PettingZoo
Parallel shell's seat) reset with seed ``s + i``: the same observations in the same
``observation_format``, rewards (times ``reward_scale``), flags and invalid-action
penalties; the shared rules (seeds, ``NEXT_STEP`` restarts, the invalid policy) are
:class:`~agora.envs.vector_base.BatchVectorEnv`'s. These games and rules have no chance,
so a seed only names the episode (``info["seed"]``). numpy only.

Example:
    >>> import gymnasium, numpy as np, agora.envs
    >>> envs = gymnasium.make_vec("agora/PublicGoods-v1", num_envs=2, rounds=2)
    >>> obs, _ = envs.reset(seed=0)
    >>> obs["observation"].shape, obs["action_mask"].shape
    ((2, 3), (2, 21))
    >>> envs.step(np.array([20, 0]))[1].tolist()  # three conditional cooperators give 10
    [20.0, 32.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from agora.envs.adapters import _Faces
from agora.envs.core import Game, is_real
from agora.envs.errors import ConfigError
from agora.envs.games.oligopoly.base import OligopolyGame
from agora.envs.games.oligopoly.vec import (
    FirmRule,
    OligopolyVec,
    default_firm_rule,
    firm_actions,
)
from agora.envs.games.public_goods import PublicGoodsGame
from agora.envs.games.public_goods_vec import (
    CONDITIONAL_COOPERATOR,
    PublicGoodsVec,
    rule_contributions,
)
from agora.envs.invalid import InvalidPolicy
from agora.envs.obs_formats import check_format, format_space
from agora.envs.vector_base import RUNNING, TERMINATED, BatchVectorEnv

__all__ = ["OligopolyVectorEnv", "PublicGoodsVectorEnv", "RepeatedVectorEnv"]


class RepeatedVectorEnv(BatchVectorEnv):
    """``games`` repeated games, learners in ``seats``, fixed rules in the other seats.

    Subclasses give the stage (:meth:`_payoffs`, :meth:`_encode`) and the fixed seats'
    actions (:meth:`_fixed_actions`).

    Args:
        game: the core game (params, spaces).
        games: games ``G``.
        seats: the learner seats (one, or all of them for self-play).
        invalid: the declared invalid-action policy.
        observation_format: ``"dict"``, ``"flat"`` or ``"rllib"``, as the single env's.
        reward_scale: the RL reward is ``reward_scale`` times the payoff (penalties are not
            scaled), as the single env's.
    """

    def __init__(self, game: Game[Any, Any, Any], games: int, seats: tuple[int, ...],
                 invalid: InvalidPolicy, observation_format: str = "dict",
                 reward_scale: float = 1.0) -> None:
        super().__init__(games, seats, "numpy", None, invalid, game.num_actions)
        if not (is_real(reward_scale) and reward_scale > 0):
            raise ConfigError(f"reward_scale={reward_scale!r} is not a finite number > 0")
        self.game, self.n = game, game.num_players
        self.rounds = int(game.params.rounds)
        self.reward_scale = float(reward_scale)
        self.observation_format = check_format(observation_format)
        dict_space = _Faces(game, None).observation_space_
        self.single_observation_space = format_space(dict_space, self.observation_format)
        self.single_action_space: spaces.Discrete = spaces.Discrete(game.num_actions)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._learners = np.zeros(self.n, bool)
        self._learners[list(seats)] = True
        self._fixed = [j for j in range(self.n) if j not in seats]
        self._ones = np.ones((self.num_envs, game.num_actions), np.int8)
        self._fresh(self.games)

    # ----- the game (subclasses) --------------------------------------------------------
    def _payoffs(self, joint: np.ndarray, live: np.ndarray) -> np.ndarray:
        """(G, n) rewards of one round for (G, n) actions (``live``: the games that play;
        the others' rewards are discarded)."""
        raise NotImplementedError

    def _encode(self, seat: int) -> np.ndarray:
        """(G, d) float32 observations of ``seat`` now."""
        raise NotImplementedError

    def _fixed_actions(self) -> np.ndarray:
        """(G, len(fixed seats)) actions of the fixed rules now."""
        raise NotImplementedError

    def _seed(self, seeds: list[int] | None) -> None:
        """Hook: each game's episode seed at a reset (None: the streams continue)."""

    # ----- state ------------------------------------------------------------------------
    def _fresh(self, games: int) -> None:
        self.round = np.zeros(games, np.int64)
        self.last = np.full((games, self.n), -1, np.int64)
        self.totals = np.zeros((games, self.n))
        self.status = np.full(games, RUNNING, np.int64)

    def _status(self) -> Any:
        return self.status

    def _start_rows(self, rows: Any) -> None:
        self.round[rows], self.last[rows], self.totals[rows] = 0, -1, 0.0
        self.status[rows] = RUNNING

    def _observe(self) -> Any:
        obs = np.stack([self._encode(p) for p in self.seats], axis=1)
        obs = obs.reshape(self.num_envs, -1)
        done = self.status != RUNNING
        mask = self._ones * ~self._per_row(done)[:, None] if done.any() else self._ones
        return self._format(obs, mask)

    def _format(self, obs: np.ndarray, mask: np.ndarray) -> Any:
        """Features ``(rows, d)`` and int8 masks ``(rows, A)`` in the observation format."""
        if self.observation_format == "dict":
            return {"observation": obs, "action_mask": mask}
        if self.observation_format == "rllib":
            return {"observations": obs, "action_mask": mask.astype(np.float32)}
        return np.concatenate([obs, mask.astype(np.float32)], axis=1)

    # ----- API --------------------------------------------------------------------------
    def reset(self, *, seed: int | Sequence[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start every game: game ``g`` plays the episode of seed ``seed + g``."""
        seeds = self._row_seeds(seed)
        self._seed(seeds)
        self._fresh(self.games)
        self._clear()
        info = {} if seeds is None else {"seed": np.asarray(seeds, np.int64)}
        return self._observe(), info

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray,
                                          dict[str, Any]]:
        """One round of every game (restarting the ones that ended last step)."""
        a = self._actions(actions)
        valid = self._valid(a)
        k = len(self.seats)
        mine = a.reshape(self.games, k)
        ok = None if valid is None else valid.reshape(self.games, k).all(axis=1)
        live = (self.status == RUNNING) & ~self._restart
        if ok is not None:
            live &= ok
            mine = np.where(valid.reshape(self.games, k), mine, 0)
        joint = np.empty((self.games, self.n), np.int64)
        joint[:, list(self.seats)] = mine
        if self._fixed:
            joint[:, self._fixed] = self._fixed_actions()
        rewards = np.where(live[:, None], self._payoffs(joint, live), 0.0)
        self._advance(joint, rewards, live)
        reward = rewards[:, list(self.seats)] * self.reward_scale
        bad = None
        if ok is not None:
            bad = ~ok & ~self._restart
            offender = bad[:, None] & ~valid.reshape(self.games, k)
            reward = np.where(offender, self.invalid.invalid_penalty, reward)
        term, trunc = self._finish(bad)
        return (self._observe(), reward.reshape(-1), self._per_row(term),
                self._per_row(trunc), {})

    def _advance(self, joint: np.ndarray, rewards: np.ndarray, live: np.ndarray) -> None:
        self.round = self.round + live
        self.last = np.where(live[:, None], joint, self.last)
        self.totals = self.totals + rewards
        self.status = np.where(live & (self.round >= self.rounds), TERMINATED, self.status)


class PublicGoodsVectorEnv(RepeatedVectorEnv):
    """Public goods games; fixed seats play contribution rules (see the module docstring).

    Args:
        game: the public goods game.
        games: games ``G``.
        seats: the learner seats.
        rules: one ``[initial, base, slope, threshold, below]`` row for every fixed seat,
            or ``(n_fixed, 5)`` rows in seat order; ``conditional_cooperator`` by default.
        **shell: ``invalid``, ``observation_format``, ``reward_scale``.

    Example:
        >>> from agora.envs.games.public_goods import PublicGoodsGame
        >>> envs = PublicGoodsVectorEnv(PublicGoodsGame({"n_players": 2}), 1, (0,),
        ...                             rules=(0.0, 0.0, 0.0, 0.0, 0.0))  # a free rider
        >>> _ = envs.reset(seed=0)
        >>> envs.step(np.array([20]))[1].tolist()
        [16.0]
    """

    def __init__(self, game: PublicGoodsGame, games: int, seats: tuple[int, ...],
                 rules: Any = None, **shell: Any) -> None:
        shell.setdefault("invalid", InvalidPolicy())
        super().__init__(game, games, seats, **shell)
        self.vec = PublicGoodsVec(game.params)
        table = np.asarray(CONDITIONAL_COOPERATOR if rules is None else rules, np.float64)
        if table.ndim == 1:
            table = np.tile(table, (len(self._fixed), 1))
        if (table.shape != (len(self._fixed), 5) or not np.all(np.isfinite(table))
                or np.any(table[:, [0, 1, 3, 4]] < 0) or np.any(table[:, [0, 1, 3, 4]] > 1)
                or np.any(table[:, 2] < 0)):
            raise ConfigError(f"opponent={rules!r} must be a rule row [initial, base, slope, "
                              f"threshold, below] (fractions in [0, 1], slope >= 0) or "
                              f"{len(self._fixed)} of them")
        self.rules = np.zeros((1, self.n, 5))
        self.rules[0, self._fixed] = table

    def _payoffs(self, joint: np.ndarray, live: np.ndarray) -> np.ndarray:
        return self.vec.payoffs(joint)

    def _encode(self, seat: int) -> np.ndarray:
        return self.vec.encode(self.round, self.last, seat)

    def _fixed_actions(self) -> np.ndarray:
        e = self.vec.params.endowment
        first = self.last[:, 0] < 0
        opening = rule_contributions(self.rules[:, self._fixed], None, e)
        if first.all():
            return np.broadcast_to(opening, (self.games, len(self._fixed)))
        later = rule_contributions(self.rules, np.maximum(self.last, 0) if first.any()
                                   else self.last, e)[:, self._fixed]
        return np.where(first[:, None], opening, later) if first.any() else later


class OligopolyVectorEnv(RepeatedVectorEnv):
    """Oligopoly games; fixed seats play :class:`FirmRule` s (see the module docstring).

    Args:
        game: one of the four oligopolies.
        games: games ``G``.
        seats: the learner seats.
        rules: a :class:`FirmRule` (or grid action) for every fixed seat, or one per fixed
            seat in seat order; the id's default opponent's rule by default.
        **shell: ``invalid``, ``observation_format``, ``reward_scale``.

    Example:
        >>> from agora.envs.games.oligopoly import CournotGame
        >>> envs = OligopolyVectorEnv(CournotGame(), 1, (0,))  # against q* = 40
        >>> _ = envs.reset(seed=0)
        >>> envs.step(np.array([40]))[1].tolist()
        [1600.0]
    """

    def __init__(self, game: OligopolyGame[Any], games: int, seats: tuple[int, ...],
                 rules: Any = None, **shell: Any) -> None:
        shell.setdefault("invalid", InvalidPolicy())
        super().__init__(game, games, seats, **shell)
        self.vec = OligopolyVec(game)
        given = default_firm_rule(game) if rules is None else rules
        many = isinstance(given, (list, tuple)) and not isinstance(given, FirmRule)
        listed = list(given) if many else [given] * len(self._fixed)
        if len(listed) != len(self._fixed):
            raise ConfigError(f"opponent={rules!r}: give one rule or {len(self._fixed)}")
        self.firms = [r if isinstance(r, FirmRule) else FirmRule(r) for r in listed]
        for r in self.firms:
            r.check(game.num_actions, f"opponent={rules!r}")

    def _payoffs(self, joint: np.ndarray, live: np.ndarray) -> np.ndarray:
        return self.vec.outcome(joint).profits

    def _encode(self, seat: int) -> np.ndarray:
        return self.vec.encode(self.round, self.last, seat)

    def _fixed_actions(self) -> np.ndarray:
        return firm_actions(self.firms, self.last, self._fixed)


def make_repeated_vec(game: Game[Any, Any, Any], num_envs: int, self_play: bool,
                      player: int, opponent: Any, invalid: InvalidPolicy,
                      observation_format: str, reward_scale: float) -> RepeatedVectorEnv:
    """The vector env of a public goods or oligopoly game (``make_vec``'s second half)."""
    n = game.num_players
    if self_play:
        if isinstance(num_envs, bool) or not isinstance(num_envs, (int, np.integer)) \
                or num_envs < 1 or num_envs % n:
            raise ConfigError(f"num_envs={num_envs!r} must be a positive multiple of "
                              f"{n} with self_play (one row per seat of each game)")
        games, seats = num_envs // n, tuple(range(n))
    else:
        if isinstance(player, bool) or player not in range(n):
            raise ConfigError(f"player={player!r} is not in 0..{n - 1}")
        games, seats = num_envs, (player,)
    shell: Any = _shell(game)  # every subclass takes ``rules``; the base class does not
    env: RepeatedVectorEnv = shell(game, games, seats, rules=opponent, invalid=invalid,
                                   observation_format=observation_format,
                                   reward_scale=reward_scale)
    return env


def _shell(game: Game[Any, Any, Any]) -> type[RepeatedVectorEnv]:
    """The vector env class of a vectorised game (auctions and the donor game load their
    modules only when asked for)."""
    from agora.envs.games.auction import AuctionGame
    from agora.envs.games.donor import DonorGame

    if isinstance(game, AuctionGame):
        from agora.envs.vector_auction import AuctionVectorEnv

        return AuctionVectorEnv
    if isinstance(game, DonorGame):
        from agora.envs.vector_donor import DonorVectorEnv

        return DonorVectorEnv
    return PublicGoodsVectorEnv if isinstance(game, PublicGoodsGame) else OligopolyVectorEnv
