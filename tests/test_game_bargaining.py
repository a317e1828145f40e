"""Subgame-perfect outcomes of the discrete alternating-offers games when responders tie.

On the grid a responder can be exactly indifferent between accepting and rejecting, and
then the SPE need not be unique. The library's set-valued backward induction
(:mod:`agora.envs.games.bargaining_spe`, behind the ``Bargaining`` and ``GleeBargaining``
benchmarks and distances) is checked against brute forces that use only the games' own
cores: a search for every pure SPE outcome over the game tree, stepped with ``game.step``
in floats with a tolerance for ties, and, for the tiniest games, a literal enumeration of
every pure strategy profile kept iff no move at any history is a profitable deviation.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.envs import Status, make_game
from agora.envs.games.bargaining import ACCEPT, spe_keep_units
from agora.envs.games.bargaining_spe import spe_outcomes

TOL = 1e-9
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STEMS = {"Bargaining-v1": "spe_keep_units", "GleeBargaining-v1": "spe_alice_units"}
DISCOUNTS = [(0.9, 0.9), (0.5, 0.5), (0.5, 0.8), (0.75, 0.25), (0.37, 0.61), (1.0, 0.7),
             (1.0, 1.0)]

Outcome = tuple[int, float, float]  # (agreement round, 0 for none; player 0's, 1's share)


def _game(env_id: str, discounts: tuple[float, float], horizon: int, units: int) -> Any:
    key = "discounts" if env_id == "Bargaining-v1" else "deltas"
    return make_game(env_id, {key: discounts, "horizon": horizon, "granularity": units})[0]


def _pie(game: Any) -> float:
    return game.params.pie if hasattr(game.params, "pie") else game.params.money


def _outcome(game: Any, state: Any) -> Outcome:
    r0, r1 = game.returns(state)
    agreed = int(game.metrics(state)["agreement_round"])
    return agreed, round(r0 / _pie(game), 9), round(r1 / _pie(game), 9)


def _tree_spe_outcomes(game: Any) -> set[Outcome]:
    """Every pure SPE outcome: at each node, the outcomes of a move's subgame that give the
    mover at least the best of the worst SPE outcomes of all her moves."""
    rng = np.random.default_rng(0)

    @functools.cache
    def solve(state: Any) -> frozenset[Outcome]:
        if game.status(state) is not Status.RUNNING:
            return frozenset({_outcome(game, state)})
        (mover,) = game.to_move(state)
        after = [solve(game.step(state, (a,), rng).state)
                 for a in np.flatnonzero(game.legal_mask(state, mover)).tolist()]
        floor = max(min(o[1 + mover] for o in s) for s in after)
        return frozenset(o for s in after for o in s if o[1 + mover] >= floor - TOL)

    return set(solve(game.initial_state(rng)))


def _profile_spe_outcomes(game: Any) -> set[Outcome]:
    """Outcomes of the pure profiles (one move per decision history) with no profitable
    one-shot deviation anywhere: the definition, with no induction (tiny games only)."""
    rng = np.random.default_rng(0)
    nodes: list[tuple[tuple[int, ...], int, list[int]]] = []
    states: dict[tuple[int, ...], Any] = {}

    def walk(hist: tuple[int, ...], state: Any) -> None:
        states[hist] = state
        if game.status(state) is Status.RUNNING:
            (mover,) = game.to_move(state)
            moves = np.flatnonzero(game.legal_mask(state, mover)).tolist()
            nodes.append((hist, mover, moves))
            for a in moves:
                walk((*hist, a), game.step(state, (a,), rng).state)

    walk((), game.initial_state(rng))
    index = {hist: i for i, (hist, _, _) in enumerate(nodes)}
    found = set()
    for profile in itertools.product(*(moves for _, _, moves in nodes)):
        def play(hist: tuple[int, ...], profile: tuple[int, ...] = profile) -> Outcome:
            while hist in index:
                hist = (*hist, profile[index[hist]])
            return _outcome(game, states[hist])
        if all(play(h)[1 + i] >= play((*h, a))[1 + i] - TOL for h, i, moves in nodes
               for a in moves):
            found.add(play(()))
    return found


def _bench_keeps(values: dict[str, float], stem: str) -> set[int]:
    lo, hi = values[f"{stem}_min"], values[f"{stem}_max"]
    return set() if math.isnan(lo) else set(range(int(lo), int(hi) + 1))


def _assert_benchmark_matches(game: Any, env_id: str, brute: set[Outcome]) -> None:
    values, g = game.benchmark().values, game.params.granularity
    stem = STEMS[env_id]
    first = {round(o[1] * g) for o in brute if o[0] == 1}
    assert _bench_keeps(values, stem) == first
    assert values[stem] in first  # indifferent responders accepting is one of the SPEs
    delay = any(o[0] != 1 for o in brute)
    assert values["spe_delay_possible"] == float(delay)
    assert values["spe_unique"] == float(len(brute) == 1)
    d = game.params.discounts if env_id == "Bargaining-v1" else game.params.deltas
    exact = spe_outcomes(d, game.params.horizon, g).shares
    assert {(round(a, 9), round(b, 9)) for a, b in exact} == {o[1:] for o in brute}


# ----- the reported cases ---------------------------------------------------------------
@pytest.mark.parametrize(("params", "keeps", "accepting"), [
    ({}, (34, 35), 34),  # defaults: ties in rounds 10, 9, 8 and 2
    ({"granularity": 10, "discounts": (0.5, 0.5), "horizon": 2}, (4, 5), 5),
])
def test_ties_give_a_range_of_spe_splits(params: dict, keeps: tuple, accepting: int) -> None:
    game, _ = make_game("Bargaining-v1", params)
    values = game.benchmark().values
    assert values["spe_keep_units"] == accepting
    assert (values["spe_keep_units_min"], values["spe_keep_units_max"]) == keeps
    g = game.params.granularity
    assert (values["spe_keep_share_min"], values["spe_keep_share_max"]) == (
        keeps[0] / g, keeps[1] / g)
    assert (values["spe_unique"], values["spe_delay_possible"]) == (0.0, 0.0)


def test_glee_default_has_two_spe_splits() -> None:
    values = make_game("GleeBargaining-v1")[0].benchmark().values
    assert (values["spe_alice_units_min"], values["spe_alice_units_max"]) == (519, 520)
    assert values["spe_alice_units"] == 519 and values["spe_unique"] == 0.0
    assert (values["spe_p_min"], values["spe_p_max"]) == (0.519, 0.52)


def test_without_ties_the_spe_is_unique() -> None:
    # 0.37 and 0.61 times any whole number of units up to 12 is never whole
    game = _game("Bargaining-v1", (0.37, 0.61), 3, 12)
    values = game.benchmark().values
    assert values["spe_unique"] == 1.0
    assert values["spe_keep_units_min"] == values["spe_keep_units_max"] == values[
        "spe_keep_units"]


# ----- against brute force over the games' own step --------------------------------------
@pytest.mark.parametrize("units", [1, 2, 3, 5, 7, 10, 12])
@pytest.mark.parametrize("horizon", [1, 2, 3])
@pytest.mark.parametrize("discounts", DISCOUNTS)
def test_bargaining_benchmark_equals_the_tree_brute_force(
        discounts: tuple[float, float], horizon: int, units: int) -> None:
    game = _game("Bargaining-v1", discounts, horizon, units)
    _assert_benchmark_matches(game, "Bargaining-v1", _tree_spe_outcomes(game))


@pytest.mark.parametrize(("units", "horizon"), [(4, 1), (10, 2), (6, 3), (9, 3)])
@pytest.mark.parametrize("discounts", DISCOUNTS)
def test_glee_benchmark_equals_the_tree_brute_force(
        discounts: tuple[float, float], horizon: int, units: int) -> None:
    # GLEE's state keeps the offer history, so its tree is not merged across histories
    game = _game("GleeBargaining-v1", discounts, horizon, units)
    _assert_benchmark_matches(game, "GleeBargaining-v1", _tree_spe_outcomes(game))


@pytest.mark.parametrize(("units", "horizon"), [(1, 1), (2, 1), (4, 1), (1, 2)])
@pytest.mark.parametrize("discounts", [(0.5, 0.5), (1.0, 0.7), (1.0, 1.0)])
def test_profile_enumeration_agrees_with_the_tree_search(
        discounts: tuple[float, float], horizon: int, units: int) -> None:
    game = _game("Bargaining-v1", discounts, horizon, units)
    profiles = _profile_spe_outcomes(game)
    assert profiles == _tree_spe_outcomes(game)
    _assert_benchmark_matches(game, "Bargaining-v1", profiles)


@SETTINGS
@given(d0=st.integers(1, 20), d1=st.integers(1, 20), horizon=st.integers(1, 3),
       units=st.integers(1, 12))
def test_benchmark_equals_the_brute_force_on_a_grid_of_twentieths(
        d0: int, d1: int, horizon: int, units: int) -> None:
    """Discounts k/20 make ties common (d * units whole) but not universal."""
    game = _game("Bargaining-v1", (d0 / 20, d1 / 20), horizon, units)
    _assert_benchmark_matches(game, "Bargaining-v1", _tree_spe_outcomes(game))


@SETTINGS
@given(d0=st.integers(1, 100), d1=st.integers(1, 100), horizon=st.integers(1, 40),
       units=st.integers(1, 1000))
def test_the_accepting_spe_is_always_in_the_range(
        d0: int, d1: int, horizon: int, units: int) -> None:
    d = (d0 / 100, d1 / 100)
    outcomes = spe_outcomes(d, horizon, units)
    assert spe_keep_units(d, horizon, units) in outcomes.keeps
    assert all(min(a, b) >= 0 and a + b <= 1 + 1e-12 for a, b in outcomes.shares)


# ----- distance to the nearest SPE outcome ------------------------------------------------
@pytest.mark.parametrize(("env_id", "keep", "expected"), [
    ("Bargaining-v1", 34, 0.0), ("Bargaining-v1", 35, 0.0), ("Bargaining-v1", 50, 0.15),
    ("GleeBargaining-v1", 520, 0.0), ("GleeBargaining-v1", 600, 0.08),
])
def test_distance_is_to_the_nearest_spe_split(env_id: str, keep: int, expected: float) -> None:
    game = make_game(env_id)[0]
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    for a in (keep, ACCEPT):
        state = game.step(state, (a,), rng).state
    assert game.metrics(state)["distance_to_benchmark"] == pytest.approx(expected, abs=1e-12)


@SETTINGS
@given(env_id=st.sampled_from(sorted(STEMS)), d=st.sampled_from(DISCOUNTS),
       horizon=st.integers(1, 3), units=st.integers(1, 6), data=st.data())
def test_distance_equals_the_brute_force_nearest_outcome(
        env_id: str, d: tuple[float, float], horizon: int, units: int,
        data: st.DataObject) -> None:
    game = _game(env_id, d, horizon, units)
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    while game.status(state) is Status.RUNNING:
        (mover,) = game.to_move(state)
        legal = np.flatnonzero(game.legal_mask(state, mover)).tolist()
        state = game.step(state, (data.draw(st.sampled_from(legal)),), rng).state
    share = game.returns(state)[0] / _pie(game)
    nearest = min(abs(share - o[1]) for o in _tree_spe_outcomes(game))
    assert game.metrics(state)["distance_to_benchmark"] == pytest.approx(nearest, abs=1e-8)
