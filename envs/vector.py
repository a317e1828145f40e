"""Vector envs: thousands of repeated 2x2 games stepped as array operations.

:func:`make_vec` is the vector entry point of every vectorised id (the registry's
``VECTORISED``): public goods and the oligopolies go to :mod:`agora.envs.vector_repeated`;
the seeds, restarts and invalid-action policy of all of them are
:class:`~agora.envs.vector_base.BatchVectorEnv`'s. Here, two shells over the batched rules
of :class:`~agora.envs.games.repeated_matrix_vec.RepeatedMatrixVec`:

* :class:`MatrixVectorEnv`: ``B`` sub-envs, a learner in one seat of each, the other seat
  played by a fixed memory-one opponent given as data, a ``(5,)`` table of P(action 0)
  after (0,0), (0,1), (1,0), (1,1) and in round 1 (``MemoryOne.probabilities()`` of
  :mod:`agora.agents.memory_one` gives one; envs import no agents).
* :class:`MatrixSelfPlayVectorEnv`: both seats learners, for parameter sharing: row
  ``2 * g + p`` is seat ``p`` of game ``g`` (each seat one sub-env, SuperSuit's layout).

Each row is exactly the single env of its game: the observation is the single env's
(``{"observation": one-hot of both last actions, "action_mask": int8}``, batched the
Gymnasium way), rewards, terminations and truncations are the core's, the invalid-action
policy is :mod:`agora.envs.invalid`'s, and ``reset(seed=s)`` gives row ``i`` the episode of
seed ``s + i`` under the one seeding rule (:mod:`agora.envs.seeding`), so row ``i``
replays through ``gymnasium.make("agora/<id>")`` (or the PettingZoo Parallel shell, for
self-play) reset with ``seed=s + i``. Finished rows restart in Gymnasium 1.x's
``NEXT_STEP`` mode: the step after an episode ends ignores that row's action and returns
its first observation, reward 0 and both flags false; the restart continues the row's
streams, as an unseeded ``reset()`` of the single env does.

Chance costs only where the game has it: with ``delta = 0`` and a deterministic opponent
no generator is made at all; otherwise each row owns the single env's generators, read in
blocks (:class:`_RowDraws`).

Example:
    >>> import gymnasium, numpy as np, agora.envs
    >>> envs = gymnasium.make_vec("agora/RepeatedPD-v1", num_envs=3,
    ...                           vectorization_mode="vector_entry_point", rounds=2)
    >>> obs, info = envs.reset(seed=0)
    >>> obs["observation"].shape, envs.metadata["autoreset_mode"].name
    ((3, 6), 'NEXT_STEP')
    >>> _, rewards, *_ = envs.step(np.array([0, 1, 1]))  # against tit for tat
    >>> rewards.tolist()
    [3.0, 5.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from agora.envs.core import Status
from agora.envs.errors import ConfigError
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.envs.games.repeated_matrix_vec import RepeatedMatrixVec, _take
from agora.envs.invalid import InvalidPolicy
from agora.envs.seeding import Seeder, as_generator, episode_streams
from agora.envs.vector_base import BatchVectorEnv

__all__ = ["TIT_FOR_TAT", "MatrixSelfPlayVectorEnv", "MatrixVectorEnv", "make_vec"]

TIT_FOR_TAT = (1.0, 0.0, 1.0, 0.0, 1.0)
"""The default opponent table (the repeated PD's ``default_opponent``)."""

_RUNNING, _TERMINATED, _TRUNCATED = (int(Status.RUNNING), int(Status.TERMINATED),
                                     int(Status.TRUNCATED))
_BLOCK = 64


class _RowDraws:
    """One generator per row, read in blocks of ``_BLOCK``: row ``i``'s ``k``-th draw is
    its generator's ``k``-th ``random()``, as the single env draws it (numpy's
    ``random(n)`` gives the same numbers as ``n`` calls of ``random()``)."""

    def __init__(self, gens: list[np.random.Generator]) -> None:
        n = len(gens)
        self.gens = gens
        self.buf = np.zeros((n, _BLOCK))
        self.pos = np.full(n, _BLOCK)
        self.rows = np.arange(n)

    def replace(self, rows: np.ndarray, gens: list[np.random.Generator]) -> None:
        """New generators for ``rows`` (their unread draws are dropped)."""
        for i, g in zip(rows.tolist(), gens):
            self.gens[i] = g
        self.pos[rows] = _BLOCK

    def take(self, mask: np.ndarray) -> np.ndarray:
        """Next draw of every row in ``mask`` (other rows: stale numbers, not advanced)."""
        empty = np.flatnonzero(mask & (self.pos >= _BLOCK))
        for i in empty.tolist():
            self.buf[i] = self.gens[i].random(_BLOCK)
        self.pos[empty] = 0
        u = self.buf[self.rows, np.minimum(self.pos, _BLOCK - 1)]
        self.pos += mask
        return u


def _obs_tables() -> np.ndarray:
    """``(2, 9, 6)``: seat p's observation for ``code = 3 * (last0 + 1) + (last1 + 1)``."""
    game = RepeatedMatrixGame()
    out = np.zeros((2, 9, 6), np.float32)
    for code in range(9):
        last = (code // 3 - 1, code % 3 - 1)
        state = game.initial_state(np.random.default_rng(0))._replace(last=last)
        for p in (0, 1):
            out[p, code] = game.encode(state, p)
    return out


_OBS = _obs_tables()


class _MatrixBatch(BatchVectorEnv):
    """What both matrix shells share: the rules and their draws (the rest is
    :class:`~agora.envs.vector_base.BatchVectorEnv`'s). ``games`` games run as
    ``games * seats`` rows; subclasses say which seats learn.
    """

    def __init__(self, game: RepeatedMatrixGame, games: int, seats: tuple[int, ...],
                 backend: str, device: Any, invalid: InvalidPolicy) -> None:
        super().__init__(games, seats, backend, device, invalid, 2)
        self.game, self.rules = game, RepeatedMatrixVec(game.params)
        self.single_observation_space = spaces.Dict({
            "observation": spaces.Box(0.0, 1.0, (6,), np.float32),
            "action_mask": spaces.Box(0, 1, (2,), np.int8)})
        self.single_action_space: spaces.Discrete = spaces.Discrete(2)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.state_ = self.rules.reset(self.games, backend, device)
        self._rules_draws: _RowDraws | None = None
        self._mask = self._to(np.ones((self.num_envs, 2), np.int8))
        # (9, seats, 6): by code, each learner seat's observation (rows seat-major per game)
        self._obs = self._to(np.ascontiguousarray(_OBS[list(seats)].transpose(1, 0, 2)))

    def _status(self) -> Any:
        return self.state_.status

    def _seed_rules(self, seeds: list[int]) -> None:
        if self.rules.delta > 0.0:
            self._rules_draws = _RowDraws(
                [as_generator(episode_streams(s, 2).rules) for s in seeds])

    def _start_rows(self, rows: Any) -> None:
        """Fresh games in ``rows`` (a bool mask over games)."""
        st = self.state_
        for field, value in zip(st._fields, (0, -1, 0.0, 0, 0, _RUNNING)):
            getattr(st, field)[rows] = value

    def _play(self, a0: Any, a1: Any, ok: Any) -> tuple[Any, Any]:
        """One round of the games in ``ok`` (bool over games, or None for all running)."""
        mask = ~self._restart if ok is None else ok & ~self._restart
        u = None
        if self._rules_draws is not None:
            live = self._np(mask & (self.state_.status == _RUNNING))
            u = self._to(self._rules_draws.take(live))
        if ok is not None:  # invalid actions index the table as 0; their games stay
            zero = self._to(np.zeros((), np.int64))
            a0 = self._where((a0 < 0) | (a0 > 1), zero, a0)
            a1 = self._where((a1 < 0) | (a1 > 1), zero, a1)
        self.state_, rewards = self.rules.step(self.state_, a0, a1, u=u, mask=mask)
        return rewards, mask

    def _observe(self) -> dict[str, Any]:
        last = self.state_.last
        code = 3 * last[:, 0] + last[:, 1] + 4
        obs = _take(self._obs, code).reshape(self.num_envs, 6)
        done = self.state_.status != _RUNNING  # a finished game's mask is all zeros
        mask = self._mask
        if bool(done.any()):
            mask = mask * ~self._per_row(done)[:, None]
        return {"observation": obs, "action_mask": mask}

    def _reset(self, seed: int | Sequence[int] | None) -> dict[str, Any]:
        seeds = self._row_seeds(seed)
        self.state_ = self.rules.reset(self.games, self.backend, self.device)
        self._clear()
        if seeds is None:
            self._restarted(self._to(np.ones(self.games, bool)))
            return {}
        self._seed_rules(seeds)
        return {"seed": np.asarray(seeds, np.int64)}


class MatrixVectorEnv(_MatrixBatch):
    """``num_envs`` repeated 2x2 games, a learner in seat ``player``, a memory-one opponent.

    Args:
        game: the repeated 2x2 game (its params: payoffs, rounds, delta).
        num_envs: sub-envs ``B``.
        player: the learner's seat (0 or 1).
        opponent: ``(5,)`` P(action 0) after (0,0), (0,1), (1,0), (1,1) (indexed by the
            opponent's ``2 * my_last + their_last``) and in round 1; tit for tat by
            default. It draws ``u < p`` from its seat's stream exactly as the
            ``memory_one`` agent does, so that agent in the single env replays it.
        backend: ``"numpy"`` or ``"torch"`` (observations, rewards and flags are then
            tensors on ``device``, and actions may be tensors).
        on_invalid_action, invalid_penalty, max_invalid_actions: the declared policy
            (:mod:`agora.envs.invalid`), per sub-env. Actions of the wrong shape or a
            non-integer dtype raise :class:`IllegalActionError` under either policy.

    Example:
        >>> import numpy as np
        >>> envs = MatrixVectorEnv(RepeatedMatrixGame({"rounds": 1}), 2)
        >>> _ = envs.reset(seed=3)
        >>> _, r, term, trunc, _ = envs.step(np.array([1, 0]))
        >>> r.tolist(), term.tolist()
        ([5.0, 3.0], [True, True])
    """

    def __init__(self, game: RepeatedMatrixGame, num_envs: int, player: int = 0,
                 opponent: Sequence[float] | np.ndarray = TIT_FOR_TAT, backend: str = "numpy",
                 device: Any = None, on_invalid_action: str = "penalty",
                 invalid_penalty: float = -1.0, max_invalid_actions: int = 100) -> None:
        if player not in (0, 1) or isinstance(player, bool):
            raise ConfigError(f"player={player!r} must be 0 or 1")
        super().__init__(game, num_envs, (player,), backend, device, InvalidPolicy(
            on_invalid_action, invalid_penalty, max_invalid_actions))
        probs = np.asarray(opponent, dtype=np.float64) if np.ndim(opponent) == 1 else None
        if (probs is None or probs.shape != (5,) or not np.all((probs >= 0) & (probs <= 1))):
            raise ConfigError(f"opponent={opponent!r} must be 5 probabilities of action 0: "
                              "after (0,0), (0,1), (1,0), (1,1) and in round 1")
        self.player, self.opponent = player, probs
        # the opponent's P(action 0) by code = 3 * (last0 + 1) + (last1 + 1)
        mine = np.array([(c // 3 - 1, c % 3 - 1)[1 - player] for c in range(9)])
        theirs = np.array([(c // 3 - 1, c % 3 - 1)[player] for c in range(9)])
        p9 = probs[np.where(mine < 0, 4, 2 * mine + theirs)]
        self._p9 = self._to(p9)
        self._random9 = self._to((p9 > 0.0) & (p9 < 1.0))
        self._act9 = self._to((p9 < 1.0).astype(np.int64))  # deterministic entries' action
        self.stochastic = bool(np.any((probs > 0.0) & (probs < 1.0)))
        self._seeders: list[Seeder] = []
        self._opp_draws: _RowDraws | None = None
        self._penalty = self._to(np.asarray(self.invalid.invalid_penalty))

    def reset(self, *, seed: int | Sequence[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start every sub-env: row ``i`` plays the episode of seed ``seed + i``."""
        info = self._reset(seed)
        if info and self.stochastic:
            self._seeders = [Seeder() for _ in range(self.games)]
            seats = 1 - self.player
            self._opp_draws = _RowDraws([
                np.random.default_rng(sd.reset(int(s), 2).agent_seeds[seats])  # type: ignore
                for sd, s in zip(self._seeders, info["seed"])])
        return self._observe(), info

    def _restarted(self, rows: Any) -> None:
        """A continued episode's opponent gets a seed drawn from its row's sequence, as
        the single env's ``reset()`` gives it."""
        if self._opp_draws is not None:
            idx = np.flatnonzero(self._np(rows))
            self._opp_draws.replace(idx, [np.random.default_rng(self._seeders[i].next_seed())
                                          for i in idx.tolist()])

    def step(self, actions: Any) -> tuple[dict[str, Any], Any, Any, Any, dict[str, Any]]:
        """One round of every sub-env (restarting the ones that ended last step)."""
        a = self._actions(actions)
        ok = valid = self._valid(a)
        st = self.state_
        code = 3 * st.last[:, 0] + st.last[:, 1] + 4
        if self._opp_draws is None:
            b = _take(self._act9, code)
        else:
            draw = self._random9[code] & (st.status == _RUNNING) & ~self._restart
            if ok is not None:
                draw = draw & ok
            u = self._to(self._opp_draws.take(self._np(draw)))
            b = self._where(draw, (u >= self._p9[code]).long() if self.backend == "torch"
                            else (u >= self._p9[code]).astype(np.int64), self._act9[code])
        a0, a1 = (a, b) if self.player == 0 else (b, a)
        rewards, _ = self._play(a0, a1, ok)
        reward = rewards[:, self.player]
        if valid is not None:
            reward = self._where(valid | self._restart, reward, self._penalty)
        term, trunc = self._finish(None if valid is None else ~valid & ~self._restart)
        return self._observe(), reward, term, trunc, {}


class MatrixSelfPlayVectorEnv(_MatrixBatch):
    """``games`` repeated 2x2 games with learners in both seats (parameter sharing).

    Row ``2 * g + p`` is seat ``p`` of game ``g``, so ``num_envs = 2 * games``; each row
    replays through the PettingZoo Parallel shell's ``player_p`` (reset with seed
    ``seed + g``), penalties included: a game with an invalid action does not move, its
    offenders pay ``invalid_penalty`` and the others get 0, as the shell does.

    Example:
        >>> import numpy as np
        >>> envs = MatrixSelfPlayVectorEnv(RepeatedMatrixGame({"rounds": 3}), 2)
        >>> _ = envs.reset(seed=0)
        >>> envs.step(np.array([0, 1, 1, 1]))[1].tolist()
        [0.0, 5.0, 1.0, 1.0]
    """

    def __init__(self, game: RepeatedMatrixGame, games: int, backend: str = "numpy",
                 device: Any = None, on_invalid_action: str = "penalty",
                 invalid_penalty: float = -1.0, max_invalid_actions: int = 100) -> None:
        super().__init__(game, games, (0, 1), backend, device, InvalidPolicy(
            on_invalid_action, invalid_penalty, max_invalid_actions))
        self._penalty = self._to(np.asarray(self.invalid.invalid_penalty))

    def reset(self, *, seed: int | Sequence[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start every game: game ``g`` plays the episode of seed ``seed + g``."""
        return self._observe(), self._reset(seed)

    def step(self, actions: Any) -> tuple[dict[str, Any], Any, Any, Any, dict[str, Any]]:
        """One round of every game; actions and rewards by row (seat-major within a game)."""
        a = self._actions(actions)
        valid = self._valid(a)
        pair = a.reshape(self.games, 2)
        if valid is None:
            rewards, _ = self._play(pair[:, 0], pair[:, 1], None)
            reward, bad = rewards.reshape(-1), None
        else:
            seats_ok = valid.reshape(self.games, 2)
            ok = seats_ok[:, 0] & seats_ok[:, 1]
            rewards, _ = self._play(pair[:, 0], pair[:, 1], ok)
            fine = (ok | self._restart)[:, None] | seats_ok
            zero = self._to(np.zeros((), np.float64))
            penal = self._where(fine, zero, self._penalty)
            reward = self._where((ok | self._restart)[:, None], rewards, penal).reshape(-1)
            bad = ~ok & ~self._restart
        term, trunc = self._finish(bad)
        return self._observe(), reward, self._per_row(term), self._per_row(trunc), {}


def make_vec(num_envs: int, env_id: str, self_play: bool = False, player: int = 0,
             opponent: Any = None, backend: str = "numpy", device: Any = None,
             on_invalid_action: str = "penalty", invalid_penalty: float = -1.0,
             max_invalid_actions: int = 100, observation_format: str = "dict",
             reward_scale: float = 1.0, **params: Any) -> BatchVectorEnv:
    """The vector entry point of ``gymnasium.make_vec("agora/<id>", num_envs=...)``.

    Repeated 2x2 games: ``self_play=True`` gives :class:`MatrixSelfPlayVectorEnv` with
    ``num_envs`` rows (an even number: ``num_envs // 2`` games); otherwise
    :class:`MatrixVectorEnv` (``opponent``: a memory-one table, tit for tat by default).
    Public goods and the oligopolies: :mod:`agora.envs.vector_repeated` (``opponent``:
    the fixed seats' rules as data; ``self_play``: ``num_envs`` a multiple of the players;
    numpy only). ``observation_format`` and ``reward_scale`` are the single env's (the
    2x2 shells take only their defaults). Other keywords are the game's parameters.

    Raises:
        ConfigError: the id has no vectorised rules, or a parameter is invalid.
    """
    from agora.envs.registry import VECTORISED, make_game

    game, _ = make_game(env_id, params)
    policy = InvalidPolicy(on_invalid_action, invalid_penalty, max_invalid_actions)
    if not isinstance(game, RepeatedMatrixGame):
        if game.info.name not in VECTORISED:
            raise ConfigError(f"env_id={env_id!r} has no vectorised rules; vectorised: "
                              f"{', '.join(VECTORISED)}")
        if backend != "numpy":
            raise ConfigError(f"backend={backend!r}: {env_id} is vectorised on numpy only")
        from agora.envs.vector_repeated import make_repeated_vec

        return make_repeated_vec(game, num_envs, self_play, player, opponent, policy,
                                 observation_format, reward_scale)
    if (observation_format, reward_scale) != ("dict", 1.0):
        raise ConfigError(f"observation_format={observation_format!r}, reward_scale="
                          f"{reward_scale!r}: the 2x2 vector envs give 'dict' and 1.0 only")
    if self_play:
        if not isinstance(num_envs, (int, np.integer)) or num_envs % 2:
            raise ConfigError(f"num_envs={num_envs!r} must be even with self_play (two "
                              "rows, one per seat, for each game)")
        return MatrixSelfPlayVectorEnv(game, num_envs // 2, backend, device,
                                       on_invalid_action, invalid_penalty,
                                       max_invalid_actions)
    return MatrixVectorEnv(game, num_envs, player,
                           TIT_FOR_TAT if opponent is None else opponent, backend, device,
                           on_invalid_action, invalid_penalty, max_invalid_actions)
