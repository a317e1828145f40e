"""Every stage equilibrium of the 2x2 games, checked against an independent brute force.

The brute force checks best responses exactly, in integers, on every mixed profile of a
grid with step 1/60. With payoffs in {-1, 0, 1, 2} every advantage is an integer in
[-3, 3], so every mixed probability an equilibrium can need has a denominator of at most 6
and lies on the grid: on the grid, the reported set must equal the brute-force set.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora.agents import make_agent
from agora.envs import make_game
from agora.envs.games.repeated_matrix import grim_trigger_threshold, matrix_benchmark
from agora.envs.games.stage_nash import equilibrium_boxes, payoff_distance
from agora.experiments import play_episode

K = 60  # grid denominator: a multiple of 1..6
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bimatrix(flat: list[int]) -> tuple:
    """``pay[a0][a1] = (u0, u1)`` from eight numbers."""
    return tuple(tuple((flat[4 * a + 2 * b], flat[4 * a + 2 * b + 1]) for b in (0, 1))
                 for a in (0, 1))


def _grid_payoffs(pay: tuple) -> tuple[np.ndarray, np.ndarray]:
    """K^2 times each player's payoff at (p, q) = (i/K, j/K), exact for integer payoffs."""
    i = np.arange(K + 1, dtype=np.int64)[:, None]
    j = np.arange(K + 1, dtype=np.int64)[None, :]
    w = {(0, 0): i * j, (0, 1): i * (K - j), (1, 0): (K - i) * j, (1, 1): (K - i) * (K - j)}
    return tuple(sum(w[a, b] * int(pay[a][b][n]) for a in (0, 1) for b in (0, 1))
                 for n in (0, 1))  # type: ignore[return-value]


def _brute_force_nash(pay: tuple) -> np.ndarray:
    """Boolean (K+1)x(K+1) grid: is (i/K, j/K) a Nash equilibrium? No pure deviation pays."""
    u0, u1 = _grid_payoffs(pay)
    ok0 = u0 >= np.maximum(u0[[K], :], u0[[0], :])  # player 0 deviates to p = 1 or p = 0
    ok1 = u1 >= np.maximum(u1[:, [K]], u1[:, [0]])
    return ok0 & ok1


def _reported_on_grid(boxes: list) -> np.ndarray:
    grid = np.zeros((K + 1, K + 1), dtype=bool)
    for box in boxes:
        lo_p, hi_p = (int(x * K) for x in box.p)
        lo_q, hi_q = (int(x * K) for x in box.q)
        assert all((x * K).denominator == 1 for x in (*box.p, *box.q)), box  # on the grid
        grid[lo_p:hi_p + 1, lo_q:hi_q + 1] = True
    return grid


def _affine(pay: tuple, scale: tuple[float, float], shift: tuple[int, int]) -> tuple:
    """Each player's payoffs scaled by a power of two and shifted: same equilibria, exact."""
    return tuple(tuple(tuple(scale[n] * cell[n] + shift[n] for n in (0, 1)) for cell in row)
                 for row in pay)


@SETTINGS
@given(flat=st.lists(st.integers(-1, 2), min_size=8, max_size=8),
       scale=st.tuples(st.sampled_from([0.25, 1.0, 8.0]), st.sampled_from([0.5, 1.0, 4.0])),
       shift=st.tuples(st.integers(-3, 3), st.integers(-3, 3)))
def test_equilibrium_set_equals_brute_force(flat, scale, shift) -> None:
    pay = _bimatrix(flat)
    brute = _brute_force_nash(pay)
    shown = _affine(pay, scale, shift)
    boxes = equilibrium_boxes(shown)
    np.testing.assert_array_equal(_reported_on_grid(boxes), brute)
    values = matrix_benchmark(shown).values
    found = int(brute.sum())
    continuum = found > 5  # a segment of equilibria holds at least K/6 + 1 grid points
    assert values["nash_continuum"] == float(continuum)
    listed = {(values[f"nash_{k}_prob0_0"], values[f"nash_{k}_prob0_1"])
              for k in range(int(values["nash_count"]))}
    assert len(listed) == values["nash_count"]
    assert all(brute[round(p * K), round(q * K)] for p, q in listed)
    if not continuum:
        assert values["nash_count"] == found


@SETTINGS
@given(flat=st.lists(st.integers(-1, 2), min_size=8, max_size=8),
       x=st.tuples(st.floats(-4, 4), st.floats(-4, 4)))
def test_distance_is_to_the_nearest_equilibrium(flat, x) -> None:
    """Brute force: least L1 distance to the payoffs of the grid's equilibria. Every point
    of the set is within 1/K of a grid equilibrium in each probability, and a probability
    moves each payoff by at most 3 per unit, so the exact distance is at most 12/K less."""
    pay = _bimatrix(flat)
    u0, u1 = (u / K**2 for u in _grid_payoffs(pay))
    brute = _brute_force_nash(pay)
    nearest = float(np.min(np.abs(u0[brute] - x[0]) + np.abs(u1[brute] - x[1])))
    exact = payoff_distance(pay, equilibrium_boxes(pay), x)
    assert nearest - 12 / K - 1e-9 <= exact <= nearest + 1e-9


@pytest.mark.parametrize(("env_id", "equilibria"), [
    ("RepeatedPD-v1", {(0, 0): (1, 1)}),
    ("StagHunt-v1", {(1, 1): (4, 4), (0, 0): (3, 3), (Fraction(3, 4), Fraction(3, 4)): (3, 3)}),
    # each mixes to make the other indifferent: 3q + (1-q) = 4q  =>  q = 1/2
    ("Chicken-v1", {(1, 0): (1, 4), (0, 1): (4, 1), (Fraction(1, 2), Fraction(1, 2)): (2, 2)}),
    # player 1: 2p = 3(1-p) => p = 3/5; player 0: 3q = 2(1-q) => q = 2/5; payoffs 6/5
    ("BattleOfSexes-v1", {(1, 1): (3, 2), (0, 0): (2, 3),
                          (Fraction(3, 5), Fraction(2, 5)): (Fraction(6, 5), Fraction(6, 5))}),
    ("MatchingPennies-v1", {(Fraction(1, 2), Fraction(1, 2)): (0, 0)}),
])
def test_named_games_list_all_their_equilibria(env_id, equilibria) -> None:
    game, _ = make_game(env_id)
    values = game.benchmark().values
    assert values["nash_count"] == len(equilibria) and values["nash_continuum"] == 0
    listed = {}
    for k in range(len(equilibria)):
        key = (values[f"nash_{k}_prob0_0"], values[f"nash_{k}_prob0_1"])
        listed[key] = (values[f"nash_{k}_payoff_0"], values[f"nash_{k}_payoff_1"])
    expected = {(float(p), float(q)): (float(u0), float(u1))
                for (p, q), (u0, u1) in equilibria.items()}
    assert listed.keys() == expected.keys()
    for key, payoffs in expected.items():
        assert listed[key] == pytest.approx(payoffs)


@pytest.mark.parametrize(("names", "distance"), [
    (("always_cooperate", "always_defect"), 0.0),  # swerve / straight: payoffs (1, 4)
    (("always_defect", "always_cooperate"), 0.0),  # straight / swerve: payoffs (4, 1)
    (("always_cooperate", "always_cooperate"), 1.0),  # (3, 3): nearest is the mixed (2, 2)
    (("always_defect", "always_defect"), 2.0),  # (0, 0): nearest is the mixed (2, 2)
])
def test_chicken_distance_is_to_the_nearest_equilibrium(names, distance) -> None:
    game, text = make_game("Chicken-v1", {"rounds": 4})
    result = play_episode(game, text, [make_agent(n, game) for n in names], seed=0)
    assert result.metrics["distance_to_benchmark"] == pytest.approx(distance)


def test_a_continuum_is_reported_by_its_ends_and_measured_to_its_inside() -> None:
    # Player 1 is paid nothing, so is indifferent everywhere; player 0 wants action 0 when
    # q > 1/3 (2q > 1 - q) and action 1 when q < 1/3. The set is the Z: [0,1/3]x{p=0},
    # the segment p in [0, 1] at q = 1/3, and [1/3, 1]x{p=1}.
    pay = (((2.0, 0.0), (0.0, 0.0)), ((0.0, 0.0), (1.0, 0.0)))
    values = matrix_benchmark(pay).values
    assert values["nash_continuum"] == 1.0
    ends = {(values[f"nash_{k}_prob0_0"], values[f"nash_{k}_prob0_1"])
            for k in range(int(values["nash_count"]))}
    assert ends == {(1.0, 1.0), (0.0, 0.0), (1.0, 1 / 3), (0.0, 1 / 3)}
    boxes = equilibrium_boxes(pay)
    # payoff 0 of player 0 at q = 1/3 is 2/3 whatever p: on the set, so distance 0
    assert payoff_distance(pay, boxes, (2 / 3, 0.0)) == pytest.approx(0.0)
    # player 0's equilibrium payoffs cover [2/3, 2] (p = 1, q >= 1/3) and [2/3, 1]
    assert payoff_distance(pay, boxes, (1.5, 0.0)) == pytest.approx(0.0)
    assert payoff_distance(pay, boxes, (0.5, 0.25)) == pytest.approx(1 / 6 + 0.25)


# ===== grim trigger with asymmetric payoffs ===========================================
# Player 0: R=3, S=0, T=5, P=1 -> (T-R)/(T-P) = 1/2.
# Player 1: R=2, S=-1, T=10, P=0 -> (T-R)/(T-P) = 8/10: player 1 binds.
ASYMMETRIC_PD = (((3.0, 2.0), (0.0, 10.0)), ((5.0, -1.0), (1.0, 0.0)))


def _grim_holds(r: float, t: float, p: float, delta: float) -> bool:
    """Cooperating forever beats one defection followed by punishment forever."""
    return r / (1 - delta) >= t + delta * p / (1 - delta)


def test_grim_threshold_is_the_binding_players() -> None:
    threshold = matrix_benchmark(ASYMMETRIC_PD).values["grim_trigger_threshold"]
    assert threshold == pytest.approx(0.8)
    players = [(3.0, 5.0, 1.0), (2.0, 10.0, 0.0)]  # (R, T, P)
    assert all(_grim_holds(*rtp, threshold + 1e-9) for rtp in players)
    assert not all(_grim_holds(*rtp, threshold - 1e-3) for rtp in players)


def test_no_grim_threshold_unless_both_players_face_a_dilemma() -> None:
    # Player 0 as in the PD, but player 1 prefers mutual action 0 (R=6) to defecting (T=4).
    pay = (((3.0, 6.0), (0.0, 4.0)), ((5.0, -1.0), (1.0, 0.0)))
    assert grim_trigger_threshold(pay) is None
    assert "grim_trigger_threshold" not in matrix_benchmark(pay).values
