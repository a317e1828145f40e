"""SB3's ``VecEnv`` over agora's vector envs: PPO on thousands of rows, SB3's autoreset.

SB3 restarts a finished sub-env inside the step that ends it: that step returns the new
episode's first observation with ``done`` true, and the last observation in
``infos[i]["terminal_observation"]`` (``infos[i]["TimeLimit.truncated"]`` says whether the
episode was cut rather than ended). agora's vector envs
(:class:`~agora.envs.vector_base.BatchVectorEnv`) restart on the *next* step instead
(Gymnasium's ``NEXT_STEP`` mode). :class:`SB3VectorEnv` steps the vector env, keeps the
finished rows' last observations, and calls
:meth:`~agora.envs.vector_base.BatchVectorEnv.restart_finished` at once, so its
transitions are the vector env's with the restart-only steps left out: row ``i`` is
SB3's ``DummyVecEnv`` over the single env ``gymnasium.make("agora/<id>")`` seeded the
same way, observation for observation.

Seeding is SB3's: ``seed(s)`` (an SB3 model calls it with its own seed) makes the next
``reset()`` start row ``i`` with the episode seed ``s + i`` (a self-play game, whose
seats are consecutive rows, takes the seed of its first row), and ``reset_infos[i]``
is then ``{"seed": ...}``; an unseeded ``reset()`` continues the streams. Options are
refused (the vector envs take none).

Example:
    >>> import numpy as np
    >>> envs = make_sb3_vec("Cournot-v1", 4, rounds=2)
    >>> envs.seed(0)
    [0, 1, 2, 3]
    >>> obs = envs.reset()
    >>> _ = envs.step(np.full(4, 40))
    >>> obs, rewards, dones, infos = envs.step(np.full(4, 40))
    >>> dones.tolist(), rewards.dtype.name, sorted(infos[0])
    ([True, True, True, True], 'float32', ['TimeLimit.truncated', 'terminal_observation'])
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from agora.envs import ConfigError
from agora.envs.vector_base import BatchVectorEnv

__all__ = ["SB3VectorEnv", "make_sb3_vec"]


def _numpy(x: Any) -> Any:
    """Arrays (or a dict of them) as numpy, from either backend."""
    if isinstance(x, dict):
        return {k: _numpy(v) for k, v in x.items()}
    return x if isinstance(x, np.ndarray) else x.cpu().numpy()


def _row(obs: Any, i: int) -> Any:
    """Row ``i`` of a batched observation (a copy)."""
    if isinstance(obs, dict):
        return {k: v[i].copy() for k, v in obs.items()}
    return obs[i].copy()


class SB3VectorEnv(VecEnv):  # type: ignore[misc]
    """An agora vector env as an SB3 ``VecEnv`` (see the module docstring).

    Args:
        venv: a :class:`~agora.envs.vector_base.BatchVectorEnv` (from
            ``gymnasium.make_vec("agora/<id>", ...)`` or :mod:`agora.envs.vector`).

    Raises:
        ConfigError: ``venv`` is not one of agora's vector envs.
    """

    def __init__(self, venv: Any) -> None:
        if not isinstance(venv, BatchVectorEnv):
            raise ConfigError(f"venv={type(venv).__name__}: want one of agora's vector envs "
                              "(a BatchVectorEnv, from gymnasium.make_vec('agora/<id>'))")
        self.venv = venv
        self._seats = len(venv.seats)
        self._actions: Any = None
        super().__init__(venv.num_envs, venv.single_observation_space,
                         venv.single_action_space)

    def reset(self) -> Any:
        """Start every row (seeded by the last :meth:`seed`, else continuing streams)."""
        if any(self._options):
            raise ConfigError(f"options={self._options[0]!r}: agora's vector envs take no "
                              "reset options")
        seeds = self._seeds[::self._seats]
        given = None if None in seeds else [int(s) for s in seeds if s is not None]
        obs, _ = self.venv.reset(seed=given)
        self.reset_infos = ([{"seed": s} for s in np.repeat(given, self._seats).tolist()]
                            if given is not None else [{} for _ in range(self.num_envs)])
        self._reset_seeds()
        self._reset_options()
        return _numpy(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[Any, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """One step of every row; finished rows restart within it (SB3's autoreset)."""
        obs, reward, term, trunc, _ = self.venv.step(self._actions)
        obs, term, trunc = _numpy(obs), _numpy(term), _numpy(trunc)
        dones = term | trunc
        infos: list[dict[str, Any]] = [{"TimeLimit.truncated": t}
                                       for t in (trunc & ~term).tolist()]
        if dones.any():
            for i in np.flatnonzero(dones).tolist():
                infos[i]["terminal_observation"] = _row(obs, i)
                self.reset_infos[i] = {}
            obs = _numpy(self.venv.restart_finished()[0])
        return obs, _numpy(reward).astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    # ----- attributes: every row is the one vector env ----------------------------------
    def _count(self, indices: Any) -> int:
        return len(list(self._get_indices(indices)))

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """The vector env's attribute, once per row asked."""
        return [getattr(self.venv, attr_name)] * self._count(indices)

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        """Set an attribute of the vector env (all rows share it).

        Raises:
            ConfigError: ``indices`` names some rows only.
        """
        if self._count(indices) != self.num_envs:
            raise ConfigError(f"indices={indices!r}: the rows share one vector env; set "
                              f"{attr_name} for all of them")
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None,
                   **method_kwargs: Any) -> list[Any]:
        """Call a method of the vector env once; its result, once per row asked."""
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result] * self._count(indices)

    def env_is_wrapped(self, wrapper_class: type[gymnasium.Wrapper],  # type: ignore[type-arg]
                       indices: Any = None) -> list[bool]:
        """No row is a wrapped Gymnasium env."""
        return [False] * self._count(indices)


def make_sb3_vec(env_id: str, num_envs: int, **kwargs: Any) -> SB3VectorEnv:
    """``num_envs`` rows of ``agora/<env_id>``'s vector env as an SB3 ``VecEnv``;
    ``kwargs`` are :func:`~agora.envs.vector.make_vec`'s (player, opponent, game params...).

    Raises:
        ConfigError: the id has no vectorised rules, or a keyword is invalid.
    """
    import agora.envs  # noqa: F401  (registers the agora/<id> Gymnasium ids)
    from agora.envs.registry import VECTORISED

    if gymnasium.spec(f"agora/{env_id}").vector_entry_point is None:
        raise ConfigError(f"env_id={env_id!r} has no vectorised rules; vectorised games: "
                          f"{', '.join(VECTORISED)}")
    venv = gymnasium.make_vec(f"agora/{env_id}", num_envs=num_envs,
                              vectorization_mode="vector_entry_point", **kwargs)
    return SB3VectorEnv(venv)

