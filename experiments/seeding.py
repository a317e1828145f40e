"""Seeds: one integer per episode, from which every random stream is spawned.

``episode_seed(base, cell, episode)`` depends only on those three numbers, so an episode
gets the same seed however the run is split across workers or resumed. Inside the episode,
:func:`episode_streams` spawns independent child streams for the environment and for each
agent with :class:`numpy.random.SeedSequence`.
"""

from __future__ import annotations

import numpy as np


def episode_seed(base: int, cell: int, episode: int) -> int:
    """The seed of one episode (a non-negative int64).

    Example:
        >>> episode_seed(0, 0, 0) == episode_seed(0, 0, 0) != episode_seed(0, 0, 1)
        True
    """
    state = np.random.SeedSequence([base, cell, episode]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def episode_streams(seed: int, n_agents: int) -> tuple[np.random.Generator, list[int]]:
    """The environment's generator and one integer seed per agent, spawned from ``seed``."""
    env_ss, *agent_ss = np.random.SeedSequence(seed).spawn(1 + n_agents)
    agent_seeds = [int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1)) for ss in agent_ss]
    return np.random.default_rng(env_ss), agent_seeds
