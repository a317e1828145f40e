"""Q-learning bidders in first- vs second-price auctions (Banchio & Skrzypacz 2022) vs theory.

Runs ``--sessions`` independent sessions of two stateless Q-learning bidders per auction
format at the paper's protocol (``agora.experiments.auction_learning``: both value the item
at 1; bids 0.05 .. 0.95; alpha 0.05, discount 0.99, eps_t = 0.025 exp(-2e-4 t); Q starts at
100; 1M periods; converged = no greedy change in the final 1,000; a tie goes to a drawn
bidder) and prints, per format, the converged sessions, the high bid and the revenue at the
terminal greedy bids (mean, sd, range over converged sessions), the share at the top pair
(0.95, 0.95), the stage game's pure-equilibrium revenues and the paper's number.

``--variants`` adds the alternatives that explain the earlier non-convergence: the grid
0, 0.05, .., 1 (the top bid equals the value, so the losing bidder is indifferent), and
ties paid as expected shares instead of drawn.

Run::

    python benchmarks/bench_auction_learning.py [--sessions 100] [--seed 0]
        [--max-periods 1000000] [--variants] [--threads N] [--json out.json]
    python benchmarks/bench_auction_learning.py --quick   # 4 sessions, 20,000 periods
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numba
from _cli import parse_args

from agora.envs import make_game
from agora.experiments.auction_learning import (
    BS_BIDS,
    BS_GRANULARITY,
    BS_LEARNING,
    auction_outcomes,
    auction_summary,
    run_auctions,
    stage_equilibria,
)
from agora.experiments.collusion import QLearning

FORMATS = {"FirstPriceAuction-v1": ("first", 0.24), "SecondPriceAuction-v1": ("second", 0.95)}
GRIDS = {"0.05-0.95": BS_BIDS, "0-1": tuple(range(BS_GRANULARITY + 1))}


def equilibrium_revenues(env_id: str, bids: tuple[int, ...]) -> tuple[float, float]:
    """The lowest and highest seller revenue over the stage game's pure equilibria."""
    game, _ = make_game(env_id, {"n_players": 2, "granularity": BS_GRANULARITY,
                                 "value_max": 1.0})
    table = auction_outcomes(game, bids)
    revenue = [1.0 - table.mean(axis=1)[a * len(bids) + b].sum()
               for a, b in stage_equilibria(table, len(bids), 2)]
    return min(revenue), max(revenue)


def row(env_id: str, grid: str, ties: str, learning: QLearning, sessions: int,
        seed: int) -> dict[str, float | str]:
    """One format x grid x tie rule: the sessions' summary, theory and wall time."""
    start = time.perf_counter()
    out = run_auctions(env_id, sessions, seed, learning, GRIDS[grid], ties)
    low, high = equilibrium_revenues(env_id, GRIDS[grid])
    return {"format": FORMATS[env_id][0], "grid": grid, "ties": ties,
            **auction_summary(out), "nash_revenue_min": low, "nash_revenue_max": high,
            "paper_revenue": FORMATS[env_id][1], "wall_s": time.perf_counter() - start}


def show(r: dict[str, float | str]) -> str:
    """One printed line of the table."""
    def span(key: str) -> str:
        return (f"{r[f'{key}_mean']:.3f} ({r[f'{key}_sd']:.3f}) "
                f"[{r[f'{key}_min']:.2f}, {r[f'{key}_max']:.2f}]")
    return (f"| {r['format']} | {r['grid']} | {r['ties']} | {r['converged']:.0f}/"
            f"{r['sessions']:.0f} | {span('high_bid')} | {span('revenue')} | "
            f"{r['revenue_mean_all']:.3f} | {r['top_pair_share']:.2f} | "
            f"{r['nash_revenue_min']:.2f}-{r['nash_revenue_max']:.2f} | "
            f"{r['paper_revenue'] if r['grid'] == '0.05-0.95' else '-'} | {r['wall_s']:.0f} s |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-periods", type=int, default=BS_LEARNING.max_periods)
    ap.add_argument("--variants", action="store_true")
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    ap.add_argument("--json", default=None)
    args = parse_args(ap, {"sessions": 4, "max_periods": 20_000}, argv)
    numba.set_num_threads(args.threads)
    learning = dataclasses.replace(BS_LEARNING, max_periods=args.max_periods)
    cases = [("0.05-0.95", "sampled")]
    if args.variants:
        cases += [("0-1", "sampled"), ("0.05-0.95", "expected"), ("0-1", "expected")]
    print(f"Q-learning bidders, value 1, Banchio & Skrzypacz's protocol: {args.sessions} "
          f"sessions per row, {args.max_periods:,} periods, {args.threads} thread(s)")
    print("| format | grid | ties | converged | high bid: mean (sd) [min, max] | "
          "revenue (converged) | revenue (all) | at top pair | Nash revenue | paper | wall |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for grid, ties in cases:
        for env_id in FORMATS:
            rows.append(row(env_id, grid, ties, learning, args.sessions, args.seed))
            print(show(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
