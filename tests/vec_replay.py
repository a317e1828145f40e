"""One replay check for every vector env: row ``i`` of ``gymnasium.make_vec`` against a
single ``gymnasium.make`` env reset with seed ``s + i``, step by step, NEXT_STEP restarts
included (the vector env's restart step pays 0 and raises no flag)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np


def same_row(vobs: Any, row: int, obs: Any) -> None:
    """Row ``row`` of a batched observation equals one env's observation, dtype included."""
    if isinstance(obs, dict):
        for key, value in obs.items():
            assert np.array_equal(vobs[key][row], value) and vobs[key].dtype == value.dtype, key
    else:
        assert np.array_equal(vobs[row], obs) and vobs.dtype == obs.dtype


def replay_rows(env_id: str, params: dict, shell: dict, seed: int, rows: int, steps: int,
                choose: Callable[[int, np.ndarray], np.ndarray],
                max_invalid_actions: int, *, opponent: Any = None,
                opponents: dict | None = None) -> int:
    """Step the vector env and one single env per row with ``choose(step, masks)``'s
    actions; every observation, reward and flag must be equal. Returns the number of
    episodes that ended. The fixed seats are the ids' default opponents, or the same
    agents given to the vector env as data (``opponent``) and to the single envs as
    agents (``opponents``)."""
    vec = gymnasium.make_vec(f"agora/{env_id}", num_envs=rows,
                             max_invalid_actions=max_invalid_actions, opponent=opponent,
                             vectorization_mode="vector_entry_point", **shell, **params)
    singles = [gymnasium.make(f"agora/{env_id}", max_invalid_actions=max_invalid_actions,
                              opponents=opponents, **shell, **params) for _ in range(rows)]
    assert vec.single_observation_space == singles[0].observation_space
    assert vec.single_action_space == singles[0].action_space
    vobs, info = vec.reset(seed=seed)
    assert info["seed"].tolist() == [seed + i for i in range(rows)]
    for i, env in enumerate(singles):
        same_row(vobs, i, env.reset(seed=seed + i)[0])
    restart, ends = [False] * rows, 0
    for step in range(steps):
        acts = choose(step, np.array([env.unwrapped.action_masks() for env in singles]))
        vobs, vrew, vterm, vtrunc, _ = vec.step(acts)
        for i, env in enumerate(singles):
            if restart[i]:
                obs, rew, term, trunc = env.reset()[0], 0.0, False, False
            else:
                obs, rew, term, trunc, _ = env.step(int(acts[i]))
            same_row(vobs, i, obs)
            assert (vrew[i], bool(vterm[i]), bool(vtrunc[i])) == (rew, term, trunc)
            restart[i] = term or trunc
            ends += term or trunc
    return ends
