"""Rules streams as lanes: every lane draws exactly what numpy's generator of the same
episode seed draws (SeedSequence, PCG64, the half-word buffer, bounded integers)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.envs import ConfigError
from agora.envs.seeding import as_generator, episode_seed, episode_streams
from agora.envs.seeding_vec import RulesLanes, episode_seeds, seed_sequence_state


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**70), st.integers(0, 2**40),
       st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=8))
def test_episode_seeds_equal_the_seeding_rule(base, cell, episodes):
    got = episode_seeds(base, cell, np.array(episodes))
    assert got.tolist() == [episode_seed(base, cell, m) for m in episodes]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**32 - 1), min_size=7, max_size=7),
                min_size=1, max_size=4), st.integers(1, 5))
def test_seed_sequence_state_equals_numpys(words, n_words):
    got = seed_sequence_state(np.array(words, np.uint32).T, n_words)
    want = [np.random.SeedSequence(w).generate_state(n_words, np.uint64) for w in words]
    assert got.T.tolist() == [w.tolist() for w in want]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 2**63 - 1), min_size=1, max_size=6),
       st.lists(st.tuples(st.integers(1, 2**32 - 1), st.integers(1, 4)), min_size=1,
                max_size=6))
def test_lanes_draw_what_the_episode_generators_draw(seeds, draws):
    """Any mix of sizes and bounds (odd sizes use the buffered half-word; bounds near
    2**32 hit the rejection rule), then a pick on a subset of lanes."""
    lanes = RulesLanes(np.array(seeds, np.uint64))
    gens = [as_generator(episode_streams(s, 3).rules) for s in seeds]
    for high, size in draws:
        want = [g.integers(0, high, size=size).tolist() for g in gens]
        assert lanes.integers(high, size).tolist() == want
    at = np.arange(0, len(seeds), 2)
    counts = 2 + at % 3
    want = [int(gens[i].integers(c)) for i, c in zip(at, counts, strict=True)]
    assert lanes.choice_index(counts, at).tolist() == want
    assert lanes.integers(101, 3).tolist() == [g.integers(0, 101, 3).tolist() for g in gens]


def test_episode_indices_beyond_one_word_are_refused():
    with pytest.raises(ConfigError, match="episodes: indices must lie in \\[0, 2\\*\\*32\\)"):
        episode_seeds(0, 0, np.array([2**32]))
