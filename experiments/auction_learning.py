"""Q-learning bidders in repeated first- and second-price auctions (Banchio & Skrzypacz 2022).

The paper's protocol (arXiv 2202.05947, sections 2-4): two bidders both value the item at
1 and know it; bids ``0.05, 0.10, .., 0.95`` (19 bids, every one below the value); no
state (memory zero); learning rate 0.05, discount 0.99, exploration
``eps_t = 0.025 exp(-2e-4 t)`` uniform over the grid; optimistic initial Q values;
1,000,000 periods per session, a session counting as converged when its greedy bids did
not change over the final 1,000; 1,000 sessions. They report first-price revenue ~0.24
(bids far below value, "collusive") and second-price revenue ~0.95 (bidders at the top bid).

Two conventions the paper leaves open: the optimistic start is ``1 / (1 - discount) = 100``
for every entry (the discounted value of winning the item for free, above any attainable
return; chosen before measuring), and a tied auction goes to a uniformly drawn bidder, the
game core's own tie rule. ``ties="expected"`` instead pays each tied bidder its expected
share; it was measured first and makes symmetric learners move in lockstep to the lowest
tie (first-price revenue 0.05), see ``benchmarks/bench_auction_learning.py --variants``.

Theory (the stage game on this grid, :func:`stage_equilibria`): second price has the one
pure equilibrium (0.95, 0.95), revenue 0.95 (truthful bidding is weakly dominant; the top
bid is the closest to the value); first price has (0.90, 0.90) and (0.95, 0.95), revenue
0.90-0.95 (the Bertrand-like competitive benchmark).

Why a grid ``0, 0.05, .., 1`` with value 1 is not the paper's game: bidding the value 1
earns nothing, so against a rival at 1 every bid earns 0 and every ``(1, y)`` is an
equilibrium of the second-price stage game. The loser's greedy bid is then set by noise,
and the revenue (the loser's bid) averages ~0.5 however long the sessions run.

Example:
    >>> out = run_auctions("SecondPriceAuction-v1", 2, seed=0, learning=QLearning(
    ...     alpha=0.05, beta=2e-3, delta=0.9, memory=0, epsilon=0.2, q_init=10.0,
    ...     stable_periods=500, max_periods=20_000, stop_at_convergence=False))
    >>> out.bids.shape, out.revenue.shape
    ((2, 2), (2,))
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from agora.envs import ConfigError, make_game
from agora.envs.games.auction import AuctionGame, expected_payoffs, settle
from agora.experiments.collusion import QLearning, SessionResults, run_table

BS_GRANULARITY = 20  # grid steps of the unit value: one step is 0.05
BS_BIDS = tuple(range(1, BS_GRANULARITY))  # 0.05 .. 0.95
BS_LEARNING = QLearning(alpha=0.05, beta=2e-4, delta=0.99, memory=0, epsilon=0.025,
                        q_init=1 / (1 - 0.99), stable_periods=1_000,
                        max_periods=1_000_000, stop_at_convergence=False)
TIES = ("sampled", "expected")


@dataclass(frozen=True)
class AuctionSessions:
    """Terminal outcomes of Q-learning bidder sessions (first axis: session).

    Attributes:
        bids: ``(S, n)`` each bidder's terminal greedy bid (money).
        revenue: the seller's expected revenue at the terminal greedy bids.
        converged: whether the greedy bids held still over the final window.
        grid: the bid grid (money); action ``a`` bids ``grid[a]``.
        results: the kernel's full :class:`SessionResults` (action indices into the grid).
    """

    bids: np.ndarray
    revenue: np.ndarray
    converged: np.ndarray
    grid: np.ndarray
    results: SessionResults


def auction_outcomes(game: AuctionGame, bids: tuple[int, ...], ties: str = "sampled"
                     ) -> np.ndarray:
    """Stage payoffs (money) of bidders who all value the item at ``value_max``.

    Built from the core's ``settle`` (each possible tie winner) or ``expected_payoffs``.

    Args:
        game: the auction (its rule, bidders, grid and ``value_max``).
        bids: the bid grid, in the game's grid steps (action ``a`` bids ``bids[a]``).
        ties: ``"sampled"``: a tie goes to one uniformly drawn tied bidder, so the table is
            ``(m ** n, K, n)`` with ``K = lcm(1..n)`` equally likely outcomes;
            ``"expected"``: ``(m ** n, n)``, each tied bidder gets its expected share.

    Returns:
        The payoff table, rows in :func:`~agora.experiments.collusion.profit_table` order.

    Example:
        >>> game, _ = make_game("FirstPriceAuction-v1", {"n_players": 2, "granularity": 4,
        ...                                                "value_max": 1.0})
        >>> auction_outcomes(game, (1, 3))[3].tolist()  # both bid 0.75: one wins 0.25
        [[0.25, 0.0], [0.0, 0.25]]
    """
    if ties not in TIES:
        raise ConfigError(f"parameter ties={ties!r} is invalid: must be one of {TIES}")
    p = game.params
    if not bids or any(not (0 <= b <= p.granularity) for b in bids):
        raise ConfigError(f"parameter bids={bids!r} is invalid: must be grid steps in "
                          f"0..{p.granularity}")
    n = p.n_players
    values = (p.granularity,) * n
    k = math.lcm(*range(1, n + 1)) if ties == "sampled" else 1
    rows = []
    for joint in itertools.product(bids, repeat=n):
        if ties == "expected":
            rows.append([expected_payoffs(p.rule, values, joint)])
            continue
        tied = [i for i, b in enumerate(joint) if b == max(joint)]
        rows.append([settle(p.rule, values, joint, tied[j % len(tied)]) for j in range(k)])
    table = np.asarray(rows, dtype=np.float64) * p.value_max / p.granularity
    return table[:, 0, :] if ties == "expected" else table


def stage_equilibria(table: np.ndarray, m: int, n: int) -> list[tuple[int, ...]]:
    """Pure Nash equilibria (action indices) of the stage game with expected payoffs.

    Example:
        >>> pd = np.array([[3., 3.], [0., 5.], [5., 0.], [1., 1.]])
        >>> stage_equilibria(pd, 2, 2)
        [(1, 1)]
    """
    mean = table.mean(axis=1) if table.ndim == 3 else table
    cube = mean.reshape((m,) * n + (n,))
    out = []
    for joint in itertools.product(range(m), repeat=n):
        best = [cube[joint[:i] + (slice(None),) + joint[i + 1:] + (i,)].max()
                for i in range(n)]
        if all(cube[joint + (i,)] >= best[i] - 1e-12 for i in range(n)):
            out.append(joint)
    return out


def run_auctions(env_id: str, sessions: int, seed: int, learning: QLearning = BS_LEARNING,
                 bids: tuple[int, ...] = BS_BIDS, ties: str = "sampled",
                 n_players: int = 2) -> AuctionSessions:
    """Q-learning bidder sessions in ``env_id``'s auction, item worth 1 to every bidder.

    Args:
        env_id: ``"FirstPriceAuction-v1"``, ``"SecondPriceAuction-v1"`` (or all-pay).
        sessions: how many independent sessions.
        seed: the root seed (session ``k`` draws from the ``k``-th child stream).
        learning: the learners (default: the paper's, :data:`BS_LEARNING`).
        bids: the bid grid in steps of 1 / :data:`BS_GRANULARITY` (default 0.05 .. 0.95).
        ties: the auction's tie rule, see :func:`auction_outcomes`.
        n_players: bidders.

    Returns:
        Terminal bids, revenue and convergence, see :class:`AuctionSessions`.
    """
    game, _ = make_game(env_id, {"n_players": n_players, "granularity": BS_GRANULARITY,
                                 "value_max": 1.0})
    table = auction_outcomes(game, bids, ties)
    res = run_table(table, len(bids), n_players, learning, sessions, seed)
    grid = np.asarray(bids, dtype=np.float64) / BS_GRANULARITY
    revenue = 1.0 - res.cycle_profits.sum(axis=1)  # the item is always sold, worth 1
    return AuctionSessions(grid[res.greedy[:, :, 0]], revenue, res.converged, grid, res)


def auction_summary(out: AuctionSessions) -> dict[str, float]:
    """Mean, sd, min and max of the high bid and the revenue, over converged sessions
    (``*_all``: over every session), with the counts and the share at the top bid pair.

    Example:
        >>> out = run_auctions("FirstPriceAuction-v1", 3, seed=1, learning=QLearning(
        ...     alpha=0.1, beta=1e-3, delta=0.9, memory=0, stable_periods=500,
        ...     max_periods=20_000))
        >>> s = auction_summary(out)
        >>> s["sessions"], s["revenue_mean_all"] == float(out.revenue.mean())
        (3.0, True)
    """
    ok = out.converged
    high = out.bids.max(axis=1)
    row = {"sessions": float(len(ok)), "converged": float(ok.sum()),
           "revenue_mean_all": float(out.revenue.mean())}
    for name, x in (("high_bid", high[ok]), ("revenue", out.revenue[ok])):
        empty = not len(x)
        row[f"{name}_mean"] = math.nan if empty else float(x.mean())
        row[f"{name}_sd"] = float(x.std(ddof=1)) if len(x) > 1 else math.nan
        row[f"{name}_min"] = math.nan if empty else float(x.min())
        row[f"{name}_max"] = math.nan if empty else float(x.max())
    at_top = (out.bids[ok] == out.grid[-1]).all(axis=1)
    row["top_pair_share"] = float(at_top.mean()) if ok.any() else math.nan
    return row
