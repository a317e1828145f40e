"""The Gymnasium view's fast paths (always-legal games: our action and observation without
the general checks) give exactly what the general path gives, and opponents still hear
every reward."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import agora.envs  # noqa: F401  (registers the ids)

IDS = ["StagHunt-v1", "Cournot-v1", "PublicGoods-v1", "AllPayAuction-v1", "Trust-v1",
       "Ultimatum-v1"]


def _randoms(env_id: str) -> dict[int, str]:
    n = agora.envs.make_game(env_id)[0].num_players
    return {j: "random" for j in range(1, n)}


def _play(env: Any, seed: int, picks: list[int]) -> list[Any]:
    """A trace of one seeded episode: each pick is a legal action (mod the legal list),
    or, when negative, an out-of-range action (penalised)."""
    obs, info = env.reset(seed=seed)
    trace: list[Any] = [obs, info]
    for pick in picks:
        legal = np.flatnonzero(obs["action_mask"])
        action = env.action_space.n - pick if pick < 0 else int(legal[pick % len(legal)])
        obs, reward, term, trunc, info = env.step(action)
        trace.append((obs, reward, term, trunc, info))
        if term or trunc:
            break
    return trace


def _same(a: Any, b: Any) -> None:
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        assert a.flags.writeable and b.flags.writeable
    else:
        assert type(a) is type(b) and a == b


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(IDS), st.integers(0, 2**63 - 1),
       st.lists(st.integers(-2, 50), min_size=1, max_size=12))
def test_fast_paths_equal_the_general_path(env_id: str, seed: int, picks: list[int]) -> None:
    fast = gymnasium.make(f"agora/{env_id}", opponents=_randoms(env_id)).unwrapped
    general = gymnasium.make(f"agora/{env_id}", opponents=_randoms(env_id)).unwrapped
    general._ones8 = None  # no always-legal shortcut: every action and mask goes the long way
    _same(_play(fast, seed, picks), _play(general, seed, picks))


class _Listener:
    """Plays its first legal action and writes down every reward it hears."""

    def __init__(self) -> None:
        self.heard: list[tuple[float, bool]] = []

    def act(self, obs: Any) -> int:
        return int(np.flatnonzero(obs.action_mask)[0])

    def observe(self, reward: float, done: bool) -> None:
        self.heard.append((reward, done))


def test_opponents_hear_every_reward_of_the_turns_they_moved() -> None:
    for env_id in ("Cournot-v1", "Trust-v1"):
        env = gymnasium.make(f"agora/{env_id}", opponents={1: _Listener()}).unwrapped
        listener = env.opponents[1]
        obs, _ = env.reset(seed=3)
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(int(np.flatnonzero(obs["action_mask"])[-1]))
            done = term or trunc
        assert listener.heard and listener.heard[-1][1] is True
        assert [d for _, d in listener.heard[:-1]] == [False] * (len(listener.heard) - 1)
        assert sum(r for r, _ in listener.heard) == info["returns"][1]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=40).filter(any), st.integers(0, 2**32),
       st.booleans())
def test_uniform_legal_draws_as_from_the_legal_list(bits: list[bool], seed: int,
                                                    frozen: bool) -> None:
    """Remembered legal lists (read-only masks, drawn from twice) draw what the list draws."""
    from agora.envs.core import Observation, uniform_legal

    mask = np.array(bits)
    mask.flags.writeable = not frozen
    rng, want_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    legal = np.flatnonzero(mask)
    for _ in range(2):
        got = uniform_legal(rng, Observation(0, None, mask))
        assert got == int(legal[want_rng.integers(len(legal))])
