"""The rules of :class:`~agora.envs.games.repeated_matrix.RepeatedMatrixGame` over a batch.

``B`` games advance together: one call of :meth:`RepeatedMatrixVec.step` plays one round
of every game that is still running, with array operations (numpy, or torch when the state
was made with ``backend="torch"``). Finished games stay as they are and earn nothing, so a
vector env built on it decides itself when to restart them.

The continuation draw is explicit: with ``delta > 0`` a game goes on after a round iff its
uniform draw ``u < delta``, the very comparison the core makes with ``rng.random()``. The
draws come from ``rng`` (one ``rng.random(B)`` per step) or are passed as ``u``, so the
same draws give the same episodes as the core.

Example:
    >>> import numpy as np
    >>> vec = RepeatedMatrixVec({"rounds": 2})
    >>> state = vec.reset(3)
    >>> state, rewards = vec.step(state, np.array([0, 1, 1]), np.array([0, 0, 1]))
    >>> rewards.tolist()
    [[3.0, 3.0], [5.0, 0.0], [1.0, 1.0]]
    >>> state, _ = vec.step(state, np.array([0, 0, 0]), np.array([0, 0, 0]))
    >>> state.totals[:, 0].tolist(), state.status.tolist()
    ([6.0, 8.0, 4.0], [1, 1, 1])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from agora.envs.core import Status
from agora.envs.errors import ConfigError
from agora.envs.games.repeated_matrix import MatrixParams

__all__ = ["RepeatedMatrixVec", "VecMatrixState"]

RUNNING, TERMINATED, TRUNCATED = int(Status.RUNNING), int(Status.TERMINATED), int(
    Status.TRUNCATED)


class VecMatrixState(NamedTuple):
    """Per-game arrays of :class:`~agora.envs.games.repeated_matrix.MatrixState` fields.

    ``round`` (B,) rounds played; ``last`` (B, 2) last actions (-1 before round 1);
    ``totals`` (B, 2); ``zeros`` (B, 2) rounds each player chose action 0; ``mutual_zero``
    (B,); ``status`` (B,) the :class:`~agora.envs.core.Status` values as ints.
    """

    round: Any
    last: Any
    totals: Any
    zeros: Any
    mutual_zero: Any
    status: Any

    @property
    def done(self) -> Any:
        """Games that have ended (terminated or truncated)."""
        return self.status != RUNNING


class RepeatedMatrixVec:
    """Batched rules of a repeated 2x2 game (see the module docstring).

    Args:
        params: the game's :class:`MatrixParams` (or a dict of them), validated as the core
            validates them.
    """

    def __init__(self, params: MatrixParams | dict[str, Any] | None = None) -> None:
        p = params if isinstance(params, MatrixParams) else MatrixParams(**(params or {}))
        p.validate()
        self.params = p
        self.payoffs = np.asarray(p.payoffs, dtype=np.float64)  # (2, 2, 2)
        self.rounds = int(p.rounds)
        self.delta = float(p.delta)
        self._pay4 = self.payoffs.reshape(4, 2)

    def reset(self, batch: int, backend: str = "numpy", device: Any = None) -> VecMatrixState:
        """``batch`` fresh games (numpy arrays, or torch tensors on ``device``)."""
        if backend == "numpy":
            z = np.zeros
            return VecMatrixState(z(batch, np.int64), np.full((batch, 2), -1, np.int64),
                                  z((batch, 2)), z((batch, 2), np.int64), z(batch, np.int64),
                                  z(batch, np.int64))
        if backend == "torch":
            import torch

            def tz(*shape: int, dtype: Any = torch.int64) -> Any:
                return torch.zeros(shape, dtype=dtype, device=device)

            return VecMatrixState(tz(batch), tz(batch, 2) - 1, tz(batch, 2, dtype=torch.float64),
                                  tz(batch, 2), tz(batch), tz(batch))
        raise ConfigError(f"backend={backend!r} must be 'numpy' or 'torch'")

    def step(self, state: VecMatrixState, a0: Any, a1: Any,
             rng: np.random.Generator | None = None, u: Any = None, mask: Any = None
             ) -> tuple[VecMatrixState, Any]:
        """One round of every running game; returns the new state and rewards (B, 2).

        Args:
            state: the batch's state.
            a0, a1: (B,) actions (0 or 1) of player 0 and player 1.
            rng: source of the continuation draws when ``delta > 0`` and ``u`` is not given.
            u: (B,) continuation draws in [0, 1): game b goes on iff ``u[b] < delta``.
            mask: (B,) bools, the games that play this round (default: every running
                one); the others stay as they are and earn nothing, as finished games do
                (a vector env's penalised or restarting sub-envs).
        """
        live = state.status == RUNNING
        if mask is not None:
            live = live & mask
        pay = self._table(a0)  # (4, 2): row 2 * a0 + a1
        rewards = _take(pay, 2 * a0 + a1)
        if not bool(live.all()):
            rewards = rewards * live[:, None]
        played = state.round + live
        if self.delta > 0.0:
            if u is None:
                if rng is None:
                    raise ConfigError("rng=None: delta > 0 needs rng or the draws u")
                u = self._like(rng.random(live.shape[0]), a0)
            stop = u >= self.delta
            status = _where(stop, TERMINATED, _where(played >= self.rounds, TRUNCATED, RUNNING))
        else:
            status = _where(played >= self.rounds, TERMINATED, RUNNING)
        status = _where(live, status, state.status)
        joint = _stack(a0, a1)
        zero = joint == 0
        new = VecMatrixState(
            played, _where(live[:, None], joint, state.last), state.totals + rewards,
            state.zeros + (zero & live[:, None]), state.mutual_zero + (zero[:, 0] & zero[:, 1]
                                                                        & live),
            status)
        return new, rewards

    def _table(self, like: Any) -> Any:
        return self._like(self._pay4, like)

    @staticmethod
    def _like(array: np.ndarray, like: Any) -> Any:
        if isinstance(like, np.ndarray):
            return array
        import torch

        return torch.as_tensor(array, device=like.device)


def _where(cond: Any, a: Any, b: Any) -> Any:
    if isinstance(cond, np.ndarray):
        return np.where(cond, a, b)
    import torch

    a = a if isinstance(a, torch.Tensor) else torch.tensor(a, device=cond.device)
    b = b if isinstance(b, torch.Tensor) else torch.tensor(b, device=cond.device)
    return torch.where(cond, a, b)


def _take(table: Any, index: Any) -> Any:
    """``table[index]`` along the first axis (``np.take``: several times faster than fancy
    indexing on large batches)."""
    if isinstance(table, np.ndarray):
        return np.take(table, index, axis=0)
    return table[index]


def _stack(a0: Any, a1: Any) -> Any:
    if isinstance(a0, np.ndarray):
        return np.stack([a0, a1], axis=1)
    import torch

    return torch.stack([a0, a1], dim=1)
