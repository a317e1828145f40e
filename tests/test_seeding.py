"""The fast seeding path gives numpy's own values: seats' seeds, rules and referee streams,
and agents' generators equal what ``SeedSequence`` and ``default_rng`` make, bit for bit."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents import make_agent
from agora.envs.seeding import as_generator, episode_streams, generator

SEEDS = st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 2**63 - 1), st.integers(0, 2**300))


def _numpy_child(seed: int, index: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(seed).spawn(index + 1)[index]


def _state(rng: np.random.Generator) -> dict:
    return rng.bit_generator.state


@settings(max_examples=60, deadline=None)
@given(SEEDS, st.integers(1, 12))
def test_episode_streams_equal_numpys_spawned_children(seed: int, n: int) -> None:
    streams = episode_streams(seed, n)
    want = [int(_numpy_child(seed, 1 + i).generate_state(1, np.uint64)[0]) >> 1
            for i in range(n)]
    assert [streams.agent_seed(i) for i in range(n)] == want
    assert episode_streams(seed, n).agent_seeds == want
    rules = as_generator(streams.rules)
    assert _state(rules) == _state(np.random.default_rng(_numpy_child(seed, 0)))
    assert _state(streams.referee) == _state(np.random.default_rng(_numpy_child(seed, 1 + n)))


@settings(max_examples=60, deadline=None)
@given(SEEDS, st.integers(1, 2**40))
def test_generator_is_default_rng(seed: int, high: int) -> None:
    fast, slow = generator(seed), np.random.default_rng(seed)
    assert _state(fast) == _state(slow)
    assert fast.integers(high, size=7).tolist() == slow.integers(high, size=7).tolist()
    assert fast.random() == slow.random()


@settings(max_examples=20, deadline=None)
@given(SEEDS)
def test_fast_generators_spawn_and_pickle_as_numpys(seed: int) -> None:
    rules = as_generator(episode_streams(seed, 2).rules)
    want = np.random.default_rng(_numpy_child(seed, 0))
    assert [_state(c) for c in rules.spawn(3)] == [_state(c) for c in want.spawn(3)]
    assert [_state(c) for c in rules.spawn(2)] == [_state(c) for c in want.spawn(2)]  # goes on
    fast = generator(seed)
    fast.integers(10, size=3)
    again = pickle.loads(pickle.dumps(fast))
    slow = np.random.default_rng(seed)
    slow.integers(10, size=3)
    assert again.integers(2**31, size=5).tolist() == slow.integers(2**31, size=5).tolist()


def test_other_seeds_go_to_numpy_unchanged() -> None:
    ss = np.random.SeedSequence(5)
    assert _state(generator(ss)) == _state(np.random.default_rng(np.random.SeedSequence(5)))
    assert _state(generator(np.int64(9))) == _state(np.random.default_rng(9))


def test_agent_generator_is_made_on_first_use_from_the_reset_seed() -> None:
    agent = make_agent("random")
    agent.reset(seed=123, player=1)
    assert agent._rng_gen is None  # nothing drawn yet: no generator made
    assert _state(agent.rng) == _state(np.random.default_rng(123))
    assert agent.rng is agent.rng
    agent.rng = np.random.default_rng(7)  # a generator given is the one used
    assert _state(agent.rng) == _state(np.random.default_rng(7))
    fresh = make_agent("random")
    assert _state(fresh.rng) == _state(np.random.default_rng(0))  # before any reset
