"""Tournaments: closed forms and the ranking's arithmetic here; against the axelrod
package (identical scores without noise, the same means within confidence intervals with
noise) in the slow cases, because importing axelrod builds all its 221 strategies (15-55 s
on our 2 shared cores)."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np
import pytest

from agora.agents.memory_one import PRESETS, MemoryOne
from agora.envs import ConfigError
from agora.experiments.population.tournament import Tournament

PATTERNS = ("CCDCDDDCCDCCDDDDCDCCCDDCDCDD", "DDCCDCDCCCDDDCDDCCDCCCDDDDCD")
"""Opponent sequences that visit all four (mine, theirs) states of the strategies below."""
SAME_AS = {"Tit For Tat": "tit_for_tat", "Suspicious Tit For Tat": "suspicious_tit_for_tat",
           "Win-Stay Lose-Shift": "win_stay_lose_shift", "Alternator": "alternator",
           "Cooperator": "always_cooperate", "Defector": "always_defect"}


@functools.cache
def _axelrod_module() -> Any:
    import axelrod

    return axelrod


@functools.cache
def _deterministic_memory_one() -> list[type]:
    """Axelrod's deterministic strategies that remember at most one round, by the classes'
    declared classifiers (``axl.filtered_strategies`` gives the same ten here but builds
    all 221 strategies to ask them, ~12 s per call)."""
    axl = _axelrod_module()
    return [s for s in axl.all_strategies
            if s.classifier.get("memory_depth") in (0, 1) and not s.classifier["stochastic"]]


def _table_of(cls: type) -> MemoryOne:
    """The strategy's table read off its play against fixed sequences; each state must
    always get the same answer (it is memory-one). States it never reaches there (its
    own defection, for Cooperator) are read from its reply to a one-round history."""
    axl = _axelrod_module()
    C, D = axl.Action.C, axl.Action.D
    first: set[int] = set()
    seen: dict[int, set[int]] = {}
    for pattern in PATTERNS:
        plays = axl.Match((cls(), axl.Cycler(pattern)), turns=len(pattern)).play()
        mine = [int(a == D) for a, _ in plays]
        theirs = [int(b == D) for _, b in plays]
        first.add(mine[0])
        for t in range(1, len(plays)):
            seen.setdefault(2 * mine[t - 1] + theirs[t - 1], set()).add(mine[t])
    assert len(first) == 1 and all(len(v) == 1 for v in seen.values()), cls.name
    table = []
    for state in range(4):
        if state in seen:
            table.append(1.0 - seen[state].pop())
            continue
        p, q = cls(), axl.Cooperator()
        mine, theirs = (D if state >= 2 else C), (D if state % 2 else C)
        p.update_history(mine, theirs)
        q.update_history(theirs, mine)
        table.append(float(p.strategy(q) == C))
    return MemoryOne(cls.name, 1.0 - first.pop(), tuple(table))  # type: ignore[arg-type]


def _axelrod(classes: list[type], turns: int, repetitions: int, noise: float = 0.0) -> Any:
    axl = _axelrod_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = axl.Tournament([c() for c in classes], turns=turns, repetitions=repetitions,
                           noise=noise, seed=3)
        return t.play(progress_bar=False)


@pytest.mark.slow
def test_the_axelrod_strategies_read_as_our_presets() -> None:
    classes = _deterministic_memory_one()
    assert len(classes) >= 8
    tables = {cls.name: _table_of(cls) for cls in classes}
    for theirs, ours in SAME_AS.items():
        assert tables[theirs].probabilities().tolist() == PRESETS[ours].probabilities().tolist()
    assert tables["Cycler DC"].table == PRESETS["alternator"].table  # its own last move only


@pytest.mark.slow
def test_noiseless_tournament_scores_equal_axelrods_exactly() -> None:
    classes = _deterministic_memory_one()
    result = Tournament([_table_of(c) for c in classes], turns=200, repetitions=3,
                        seed=0).play()
    theirs = _axelrod(classes, turns=200, repetitions=3)
    assert result.scores.T.tolist() == theirs.scores  # axelrod: players x repetitions
    assert np.allclose(result.payoff_matrix[~np.eye(len(classes), dtype=bool)],
                       np.array(theirs.payoff_matrix)[~np.eye(len(classes), dtype=bool)])


@pytest.mark.slow
def test_noisy_tournament_means_agree_with_axelrods_within_their_intervals() -> None:
    # Cycler DC follows its own cycle, not its (noisy) last move: memory-one only without noise
    classes = [c for c in _deterministic_memory_one() if c.name != "Cycler DC"]
    turns, noise = 60, 0.05
    ours = Tournament([_table_of(c) for c in classes], turns=turns, repetitions=400,
                      noise=noise, seed=1).play().ranked.set_index("strategy")
    theirs = np.array(_axelrod(classes, turns, repetitions=25, noise=noise).scores)
    for k, cls in enumerate(classes):
        mean, sd = theirs[k].mean(), theirs[k].std(ddof=1)
        row = ours.loc[cls.name]
        se = np.hypot(sd / np.sqrt(theirs.shape[1]), row["std"] / np.sqrt(400))
        assert abs(row["mean"] - mean) < 4 * se, cls.name  # 4 se: no false alarm in 10^4
        assert row["ci_low"] < row["mean"] < row["ci_high"]


def test_ranked_table_holds_t_intervals_over_repetitions() -> None:
    result = Tournament(["tit_for_tat", "win_stay_lose_shift", {"name": "random", "p": 0.4},
                         "always_defect"], turns=50, repetitions=6, noise=0.02, seed=9).play()
    ranked = result.ranked
    assert ranked["rank"].tolist() == [1, 2, 3, 4]
    assert (np.diff(ranked["mean"]) <= 0).all()
    row = ranked.iloc[0]
    column = result.scores[:, result.names.index(row["strategy"])]
    half = 2.570581835636314 * column.std(ddof=1) / np.sqrt(6)  # t(0.975, df=5)
    assert np.isclose(row["ci_high"] - row["mean"], half)
    assert np.isclose(row["ci_low"], row["mean"] - half)
    assert result.turns.tolist() == [[150.0] * 4] * 6  # 3 opponents x 50 turns


def test_tournament_rejects_what_it_cannot_play() -> None:
    with pytest.raises(ConfigError, match="llm"):
        Tournament(["tit_for_tat", {"name": "llm", "model": "x"}])
    with pytest.raises(ConfigError, match="not a repeated 2x2 game"):
        Tournament(["tit_for_tat", "always_defect"], env="Ultimatum-v1")
    with pytest.raises(ConfigError, match="repetitions=0"):
        Tournament(["tit_for_tat", "always_defect"], repetitions=0)


def test_scores_are_the_closed_forms_of_a_fixed_length_round_robin() -> None:
    """TFT/ALLD/ALLC over T turns, self-play not scored: TFT (T-1) + 3T, ALLD (5 + (T-1))
    + 5T, ALLC 0 + 3T; per turn against TFT: ALLD gets (5 + T - 1) / T."""
    t = 200
    res = Tournament(["tit_for_tat", "always_defect", "always_cooperate"], turns=t,
                     repetitions=3).play()
    assert res.scores.tolist() == [[t - 1 + 3 * t, 5 + t - 1 + 5 * t, 3 * t]] * 3
    assert res.payoff_matrix[1, 0] == (5 + t - 1) / t
    assert res.payoff_matrix.diagonal().tolist() == [3.0, 1.0, 3.0]
    assert res.cooperation.tolist() == [(1 + t) / (2 * t), 0.0, 1.0]
