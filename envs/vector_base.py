"""What every vector env of agora shares: seeds, restarts and the invalid-action policy.

:class:`BatchVectorEnv` is the one implementation, for every family of batched rules
(:mod:`agora.envs.vector` for the repeated 2x2 games, :mod:`agora.envs.vector_repeated`
for public goods and the oligopolies), of

* ``num_envs`` rows over ``games`` games (``rows = games * len(seats)``, seat-major within a
  game), on numpy or torch (:meth:`_to`, :meth:`_np`, :meth:`_where`);
* the one seeding rule: ``reset(seed=s)`` gives game ``g`` the episode seed ``s + g``
  (or a list of seeds), validated by :func:`~agora.envs.seeding.episode_streams`; an
  unseeded reset continues the streams (:meth:`_row_seeds`);
* actions checked by shape and dtype under either policy, and by range under the
  declared policy of :mod:`agora.envs.invalid` (:meth:`_actions`, :meth:`_valid`);
* Gymnasium 1.x's ``NEXT_STEP`` autoreset and the invalid-action cap (:meth:`_finish`):
  the step after a game ends ignores its actions and returns its first observation,
  reward 0 and both flags false; :meth:`restart_finished` does that restart at once,
  for callers that want SAME_STEP semantics (SB3's ``VecEnv``).

Subclasses give the rules: :meth:`_status` (each game's
:class:`~agora.envs.core.Status` as ints), :meth:`_start_rows` (fresh games) and the
optional :meth:`_restarted` hook.

Example:
    >>> import gymnasium, agora.envs
    >>> envs = gymnasium.make_vec("agora/Cournot-v1", num_envs=2, rounds=1)
    >>> isinstance(envs, BatchVectorEnv), envs.metadata["autoreset_mode"].name
    (True, 'NEXT_STEP')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from agora.envs.core import Status
from agora.envs.errors import ConfigError, IllegalActionError
from agora.envs.invalid import InvalidPolicy
from agora.envs.seeding import episode_streams, fresh_seed

__all__ = ["BACKENDS", "BatchVectorEnv"]

BACKENDS = ("numpy", "torch")
RUNNING, TERMINATED, TRUNCATED = (int(Status.RUNNING), int(Status.TERMINATED),
                                  int(Status.TRUNCATED))


class BatchVectorEnv(VectorEnv):  # type: ignore[type-arg]
    """The shared shell of agora's vector envs (see the module docstring).

    Args:
        games: games ``G`` stepped together (a positive integer).
        seats: the learner seats of each game; row ``len(seats) * g + k`` is seat
            ``seats[k]`` of game ``g``.
        backend: ``"numpy"`` or ``"torch"``.
        device: the torch device (torch backend only).
        invalid: the declared invalid-action policy, counted per game.
        num_actions: actions ``0..num_actions-1`` of every row.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, games: int, seats: tuple[int, ...], backend: str, device: Any,
                 invalid: InvalidPolicy, num_actions: int) -> None:
        if isinstance(games, bool) or not isinstance(games, (int, np.integer)) or games < 1:
            raise ConfigError(f"num_envs={games!r} must be a positive integer")
        if backend not in BACKENDS:
            raise ConfigError(f"backend={backend!r} must be 'numpy' or 'torch'")
        self.games, self.seats = int(games), seats
        self.num_envs = self.games * len(seats)
        self.backend, self.device, self.invalid = backend, device, invalid
        self.num_actions = int(num_actions)
        self._seeded = False
        self._restart = self._to(np.zeros(self.games, bool))
        self._count = self._to(np.zeros(self.games, np.int64))

    # ----- rules (subclasses) -----------------------------------------------------------
    def _status(self) -> Any:
        """Each game's status, as ints (G,)."""
        raise NotImplementedError

    def _start_rows(self, rows: Any) -> None:
        """Fresh games in ``rows`` (a bool mask over games)."""
        raise NotImplementedError

    def _restarted(self, rows: Any) -> None:
        """Hook: games in ``rows`` restarted within continued streams."""

    def _observe(self) -> Any:
        """Every row's observation now."""
        raise NotImplementedError

    # ----- backend helpers --------------------------------------------------------------
    def _to(self, array: np.ndarray) -> Any:
        if self.backend == "numpy":
            return array
        import torch

        return torch.as_tensor(array, device=self.device)

    def _np(self, x: Any) -> np.ndarray:
        return x if isinstance(x, np.ndarray) else x.cpu().numpy()

    def _where(self, cond: Any, a: Any, b: Any) -> Any:
        if self.backend == "numpy":
            return np.where(cond, a, b)
        import torch

        return torch.where(cond, a, b)

    def _per_row(self, x: Any) -> Any:
        """A (G,) per-game array repeated for each learner seat (rows)."""
        k = len(self.seats)
        if k == 1:
            return x
        return np.repeat(x, k) if self.backend == "numpy" else x.repeat_interleave(k)

    # ----- seeding ----------------------------------------------------------------------
    def _row_seeds(self, seed: int | Sequence[int] | None) -> list[int] | None:
        """Each game's episode seed, or None to continue every game's streams."""
        if seed is None:
            if self._seeded:
                return None
            seed = fresh_seed(np.random.default_rng())
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            episode_streams(seed, 2)  # validates: a non-negative integer
            seeds = [int(seed) + i for i in range(self.games)]
        else:
            seeds = list(cast(Sequence[int], seed))
            if len(seeds) != self.games:
                raise ConfigError(f"seed={seed!r} must be an int or {self.games} ints")
            for s in seeds:
                episode_streams(s, 2)  # validates: a non-negative integer
        self._seeded = True
        return seeds

    def _clear(self) -> None:
        """No game restarting, no invalid action counted (a reset)."""
        self._restart = self._to(np.zeros(self.games, bool))
        self._count = self._to(np.zeros(self.games, np.int64))

    # ----- stepping ---------------------------------------------------------------------
    def _actions(self, actions: Any) -> Any:
        """The learners' actions as a (rows,) int64 array or tensor (typed errors)."""
        if self.backend == "torch":
            import torch

            t = torch.as_tensor(actions, device=self.device)
            ok = not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool
            a: Any = t.long() if ok else t
        else:
            arr = np.asarray(actions)
            ok = arr.dtype.kind in "iu"
            a = arr.astype(np.int64, copy=False) if ok else arr
        if tuple(a.shape) != (self.num_envs,) or not ok:
            raise IllegalActionError(
                f"actions must be {self.num_envs} integers, shape ({self.num_envs},); got "
                f"shape {tuple(a.shape)} and dtype {a.dtype}")
        return a

    def _valid(self, a: Any) -> Any:
        """Per-row validity (None: all valid); under ``raise`` an invalid action raises and
        changes nothing."""
        top = self.num_actions - 1
        if int(a.min()) >= 0 and int(a.max()) <= top:
            return None
        valid = (a >= 0) & (a <= top)
        if self.invalid.raises and not bool(valid.all()):
            bad = np.flatnonzero(~self._np(valid))
            raise IllegalActionError(
                f"actions {self._np(a)[bad[:5]].tolist()} of rows {bad[:5].tolist()} are not "
                f"legal (legal: 0..{top})")
        return valid

    def _finish(self, bad: Any) -> tuple[Any, Any]:
        """Per-game flags after a step (``bad``: games penalised now, or None), then
        restart the games that ended the step before."""
        status, restart = self._status(), self._restart
        term = (status == TERMINATED) & ~restart
        trunc = (status == TRUNCATED) & ~restart
        if bad is not None:
            self._count += bad
            trunc = trunc | ((self._count >= self.invalid.max_invalid_actions) & ~restart)
        self._restart_rows(restart)
        self._restart = term | trunc
        return term, trunc

    def _restart_rows(self, restart: Any) -> None:
        """Fresh games in ``restart`` (a bool mask over games) within continued streams."""
        if bool(restart.any()):
            self._start_rows(restart)
            self._count[restart] = 0
            self._restarted(restart)

    def restart_finished(self) -> tuple[Any, np.ndarray]:
        """Restart now the games that ended on the last step, exactly as the next step
        would before playing, and return every row's observation and which rows restarted.

        The next step then plays every row, so stepping after this call is the
        SAME_STEP autoreset order with the ``NEXT_STEP`` numbers (same streams, draws and
        invalid-action counts): the step that only restarts is skipped.

        Example:
            >>> import gymnasium, numpy as np, agora.envs
            >>> envs = gymnasium.make_vec("agora/Cournot-v1", num_envs=2, rounds=1)
            >>> _ = envs.reset(seed=0)
            >>> done = envs.step(np.array([40, 10]))[2]
            >>> obs, restarted = envs.restart_finished()
            >>> done.tolist(), restarted.tolist()
            ([True, True], [True, True])
            >>> float(envs.step(np.array([40, 40]))[1][0])  # a played round, not a restart
            1600.0
        """
        restart = self._restart
        self._restart_rows(restart)
        self._restart = self._to(np.zeros(self.games, bool))
        return self._observe(), self._np(self._per_row(restart)).copy()
