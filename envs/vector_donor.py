"""Vector envs for the donor game: ``G`` games, one learner seat each, stepped as arrays.

:class:`DonorVectorEnv` runs ``G`` donor games on the batched rules of
:class:`~agora.envs.games.donor_vec.DonorVec`, each game at its own round (a game whose
learner acts invalidly does not move). The learner sits in seat ``player``; every other
agent plays a donor rule row ``[kind, fraction, threshold]`` (``DonorRule.row()`` of
:mod:`agora.agents.donor_rule`; default ``donor_image_scoring``, the id's declared
opponent), decided by :func:`~agora.envs.games.donor_vec.donations`.

One step is one decision of the learner, as in the single Gymnasium env: its round is
played (its pair by its action, the other pairs by the rules), then the rule-only rounds
up to its next turn as donor; the reward is its own step's plus those rounds', summed in
the single env's order. A reset plays the rounds before its first turn (their reward is
not reported, as the single env's ``info["skipped_reward"]`` is not). The mask is the
core's legal mask (what the learner can afford; punishment and refusal when the game has
them), and illegal actions follow the declared invalid-action policy.

So row ``i`` replays through ``gymnasium.make("agora/DonorGame-v1")`` reset with seed
``s + i``, with the round-robin schedule (which has no chance: the seed only names the
episode). ``schedule: random`` (a different round for each game's learner) and self-play
are not vectorised: a :class:`ConfigError` says so.

Example:
    >>> import gymnasium, numpy as np, agora.envs
    >>> envs = gymnasium.make_vec("agora/DonorGame-v1", num_envs=2, n_agents=4,
    ...                           vectorization_mode="vector_entry_point")
    >>> obs, _ = envs.reset(seed=0)
    >>> obs["observation"].shape, obs["action_mask"].shape
    ((2, 17), (2, 101))
    >>> envs.step(np.array([10, 0]))[1].tolist()  # give all (image scorers repay), or none
    [26.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agora.envs.core import Status
from agora.envs.errors import ConfigError, IllegalActionError
from agora.envs.games.donor import DonorGame
from agora.envs.games.donor_vec import (
    DONATE_CODE,
    IMAGE_SCORING,
    KINDS,
    PUNISH_CODE,
    REFUSE_CODE,
    DonorVec,
    donations,
)
from agora.envs.invalid import InvalidPolicy
from agora.envs.vector_base import RUNNING, TERMINATED
from agora.envs.vector_repeated import RepeatedVectorEnv

__all__ = ["DonorVectorEnv"]


class DonorVectorEnv(RepeatedVectorEnv):
    """Donor games, a learner in one seat, donor rules in the others (module docstring).

    Args:
        game: the donor game (round-robin schedule).
        games: games ``G``.
        seats: ``(player,)``, the learner's seat.
        rules: one rule row ``[kind, fraction, threshold]`` for every other seat, or
            ``(n_agents - 1, 3)`` rows in seat order; ``donor_image_scoring`` by default.
        **shell: ``invalid``, ``observation_format``, ``reward_scale``.
    """

    def __init__(self, game: DonorGame, games: int, seats: tuple[int, ...],
                 rules: Any = None, **shell: Any) -> None:
        shell.setdefault("invalid", InvalidPolicy())
        if len(seats) != 1:
            raise ConfigError("self_play=True: the donor game's vector env has one learner "
                              "seat per game (its donors move one pair at a time)")
        if game.params.schedule != "round_robin":
            raise ConfigError(f"schedule={game.params.schedule!r}: the donor game is "
                              "vectorised for the round-robin schedule only")
        self.vec, self.player = DonorVec(game.params), seats[0]
        rounds = self.vec.rounds
        donors = self.vec.schedules(1)[0, :, :, 0] == self.player  # (R, P)
        self._turn, self._pair = donors.any(axis=1), donors.argmax(axis=1)
        if not self._turn.any():
            raise ConfigError(f"player={self.player!r} never donates in "
                              f"{rounds} rounds (rounds={game.params.rounds!r})")
        fixed = [j for j in range(game.num_players) if j != self.player]
        self.rules = np.zeros((game.num_players, 3))  # the learner's row is never read
        self.rules[fixed] = self._rows(rules, len(fixed))
        super().__init__(game, games, seats, **shell)  # plays up to the learner's turn

    @staticmethod
    def _rows(rules: Any, k: int) -> np.ndarray:
        t = np.asarray(IMAGE_SCORING if rules is None else rules, np.float64)
        if t.ndim == 1:
            t = np.tile(t, (k, 1))
        if (t.shape != (k, 3) or not np.all(np.isin(t[:, 0], KINDS))
                or np.any(t[:, 1:] < 0) or np.any(t[:, 1:] > 1)):
            raise ConfigError(f"opponent={rules!r:.80}: want a donor rule row [kind, fraction, "
                              f"threshold] (kind in {KINDS}, numbers in [0, 1]) or {k} of them")
        return t

    # ----- state ------------------------------------------------------------------------
    def _fresh(self, games: int) -> None:
        self.rounds = self.vec.rounds  # (the base class read params.rounds, 0: a schedule)
        self.state_ = self.vec.reset_rounds(self.vec.reset(games))
        self._skip(np.ones(games, bool))

    def _start_rows(self, rows: Any) -> None:
        st, e = self.state_, float(self.vec.params.endowment)
        keep = ~rows[:, None]
        self.state_ = st._replace(round=np.where(rows, 0, st.round),
                                  resources=np.where(keep, st.resources, e),
                                  last=np.where(keep, st.last, -1), status=Status.RUNNING)
        self._skip(rows)

    def _sync(self) -> None:
        self.round = self.state_.round
        self.status = np.where(self.round >= self.rounds, TERMINATED, RUNNING)

    # ----- rounds -----------------------------------------------------------------------
    def _play(self, mask: np.ndarray, mine: np.ndarray | None = None) -> np.ndarray:
        """One round of the games in ``mask`` (the learner's pair plays ``mine`` when
        given, else its rule); the learner's rewards ``(G,)``."""
        rounds = self.state_.round
        st, lockstep = self._lockstep(mask)
        donor, _ = self.vec.round_pairs(st)
        units = donations(self.rules[donor], self.vec.view(st), self.vec.params.granularity)
        if mine is not None:
            pair = self._pair[np.minimum(rounds, self.rounds - 1)]
            units[np.arange(len(units)), pair] = mine
        new, rewards = self.vec.step(st, units, None if lockstep else mask)
        self.state_ = self.vec.reset_rounds(new) if lockstep else new
        return rewards[:, self.player]

    def _lockstep(self, mask: np.ndarray) -> tuple[Any, bool]:
        """The state with one shared round when every game is in ``mask`` at one round
        (DonorVec's column-slice fast path), else the per-game state; and which."""
        st, rounds = self.state_, self.state_.round
        if bool(mask.all()) and bool((rounds == rounds[0]).all()):
            return st._replace(round=int(rounds[0]), status=Status.RUNNING), True
        return st, False

    def _skip(self, mask: np.ndarray) -> np.ndarray:
        """Rule-only rounds of the games in ``mask`` up to the learner's next turn; its
        rewards summed from 0.0 round by round (the single env's ``_advance``)."""
        total = np.zeros(len(mask))
        while True:
            r = self.state_.round
            more = mask & (r < self.rounds) & ~self._turn[np.minimum(r, self.rounds - 1)]
            if not more.any():
                break
            total = total + self._play(more)
        self._sync()
        return total

    # ----- API --------------------------------------------------------------------------
    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray,
                                          dict[str, Any]]:
        """One decision of every learner (restarting the games that ended last step)."""
        a = self._actions(actions)
        live = (self.status == RUNNING) & ~self._restart
        legal = self._legal(a, self._affordable())
        bad = live & ~legal
        if self.invalid.raises and bad.any():
            rows = np.flatnonzero(bad)
            raise IllegalActionError(f"actions {a[rows[:5]].tolist()} of rows "
                                     f"{rows[:5].tolist()} are not legal now (see the "
                                     "action masks)")
        ok = live & legal
        reward = np.zeros(self.games)
        if ok.any():
            own = self._play(ok, a)
            reward = (own + self._skip(ok)) * self.reward_scale
        reward = np.where(bad, self.invalid.invalid_penalty, reward)
        term, trunc = self._finish(bad)
        return self._observe(), reward, term, trunc, {}

    def _affordable(self) -> np.ndarray:
        return self.vec.affordable(self.state_.resources[:, self.player])

    def _legal(self, a: np.ndarray, aff: np.ndarray) -> np.ndarray:
        """Whether actions ``a`` are in the core's legal mask of donors who can afford
        ``aff`` units (broadcasting: ``(G,)`` actions, or ``(1, A)`` against ``(G, 1)``)."""
        p, g = self.vec.params, self.vec.game
        cap = g.cap_units
        ok = (a >= 0) & (a <= aff)
        if p.punishment:
            ok |= (a > cap) & (a <= cap + aff)
        if p.partner_choice:
            ok |= a == g.refuse_action
        return ok

    def _observe(self) -> Any:
        st, running = self.state_, self.status == RUNNING
        obs = np.zeros((self.games, *self.game.observation_shape), np.float32)
        mine = st.resources[:, self.player]
        e = float(self.vec.params.endowment)
        obs[:, 0] = np.where(running, st.round / self.rounds, 1.0)
        obs[:, 2] = mine / (mine + e)
        mask = np.zeros((self.games, self.game.num_actions), np.int8)
        if running.any():
            self._observe_turn(obs, running)
            acts = np.arange(self.game.num_actions)[None, :]
            mask[running] = self._legal(acts, self._affordable()[running, None])
        return self._format(obs, mask)

    def _observe_turn(self, obs: np.ndarray, running: np.ndarray) -> None:
        """The features of a donor's turn: the recipient and its trace (the core's
        ``encode``)."""
        st, rows = self.state_, np.flatnonzero(running)
        view = self.vec.view(self._lockstep(running)[0])
        pair = self._pair[np.minimum(st.round, self.rounds - 1)][rows]
        e = float(self.vec.params.endowment)
        rec = view.recipient_resources[rows, pair]
        obs[rows, 1] = 1.0
        obs[rows, 3] = rec / (rec + e)
        obs[rows, 4] = view.affordable[rows, pair] / self.vec.cap_units
        kind, frac = view.trace_kind[rows, pair], np.minimum(view.trace_fraction[rows, pair], 1.0)
        for k in range(self.vec.params.trace_depth):
            slot = 5 + 4 * k
            obs[rows, slot] = view.trace_present[rows, pair, k]
            obs[rows, slot + 1] = np.where(kind[:, k] == DONATE_CODE, frac[:, k], 0.0)
            obs[rows, slot + 2] = np.where(kind[:, k] == PUNISH_CODE, frac[:, k], 0.0)
            obs[rows, slot + 3] = kind[:, k] == REFUSE_CODE

