"""STAND-IN for the [engine] engineer's kernels (drop this commit on merge).

A plain-numpy ``play_pairs`` looping over rounds, with the contract's signature and a
counter-based hash of (key, match, seat, round) for randomness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_M = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True)
class PairResult:
    row_payoff: np.ndarray
    col_payoff: np.ndarray
    row_coop: np.ndarray
    col_coop: np.ndarray
    rounds: np.ndarray


def _mix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _uniform(key: int, match: np.ndarray, seat: int, rnd: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = _mix(np.uint64(key & 0xFFFFFFFFFFFFFFFF) ^ _mix(match.astype(np.uint64)))
        x = _mix(x ^ np.uint64(seat * 1_000_003 + rnd))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def play_pairs(probs: Any, row: Any, col: Any, payoffs: Any, rounds: int, key: int, *,
               noise: float = 0.0, delta: float = 0.0, first: int = 0, backend: str = "auto",
               device: str | None = None) -> PairResult:
    """Repeated 2x2 matches of memory-one strategies (plain numpy, round by round)."""
    probs = np.asarray(probs, dtype=np.float64)
    pay = np.asarray(payoffs, dtype=np.float64)
    row, col = np.asarray(row, dtype=np.int64), np.asarray(col, dtype=np.int64)
    m = len(row)
    idx = np.arange(first, first + m, dtype=np.int64)
    tot = np.zeros((2, m))
    coop = np.zeros((2, m))
    played = np.zeros(m, dtype=np.int64)
    alive = np.ones(m, dtype=bool)
    last = np.full((2, m), 4, dtype=np.int64)  # 4 = first round
    for r in range(rounds):
        acts = []
        for seat, strat in enumerate((row, col)):
            p = probs[strat, last[seat]]
            a = (_uniform(key, idx, seat, r) >= p).astype(np.int64)
            if noise > 0:
                flip = _uniform(key, idx, seat + 2, r) < noise
                a = np.where(flip, 1 - a, a)
            acts.append(a)
        a0, a1 = acts
        tot[0] += np.where(alive, pay[a0, a1, 0], 0.0)
        tot[1] += np.where(alive, pay[a0, a1, 1], 0.0)
        coop[0] += alive & (a0 == 0)
        coop[1] += alive & (a1 == 0)
        played += alive
        last[0], last[1] = 2 * a0 + a1, 2 * a1 + a0
        if delta > 0:
            alive &= _uniform(key, idx, 4, r) < delta
    return PairResult(tot[0], tot[1], coop[0], coop[1], played)


def play_pairs_parallel(probs: Any, row: Any, col: Any, payoffs: Any, rounds: int, key: int,
                        *, workers: int = 1, **options: Any) -> PairResult:
    """STAND-IN: shards played one after another (same numbers as one call)."""
    row, col = np.asarray(row), np.asarray(col)
    bounds = np.linspace(0, len(row), workers + 1).astype(int)
    parts = [play_pairs(probs, row[a:b], col[a:b], payoffs, rounds, key, first=int(a),
                        **options) for a, b in zip(bounds[:-1], bounds[1:])]
    return PairResult(*(np.concatenate([getattr(p, f) for p in parts])
                        for f in ("row_payoff", "col_payoff", "row_coop", "col_coop", "rounds")))
