"""Algorithmic collusion: Calvano et al.'s Q-learning pricing sessions, learned vs theory.

Runs ``--sessions`` independent Q-learning sessions of ``LogitBertrand-v1`` at Calvano et
al.'s (AER 2020) baseline (n=2, a=2, c=1, a0=0, mu=0.25, 15 prices, memory one,
alpha=0.15, beta=4e-6, delta=0.95; convergence: 100,000 periods without a greedy change)
and prints the collusion index Delta of the converged sessions (mean, sd, quantiles), the
mean limit price against p^N and p^M, how many converged, the periods and the wall time.
The paper reports Delta ~ 0.85 over 1,000 sessions. (Q-learning bidders in auctions,
Banchio & Skrzypacz 2022, are ``bench_auction_learning.py``.)

Run::

    python benchmarks/bench_collusion.py [--sessions 1000] [--max-periods 3000000]
        [--seed 0] [--threads N] [--json out.json]
    python benchmarks/bench_collusion.py --quick   # 4 sessions: checks the code path

The first run compiles the kernel (numba caches it): that time is printed apart.
"""

from __future__ import annotations

import argparse
import json
import time

import numba
import numpy as np
from _cli import parse_args

from agora.envs import make_game
from agora.experiments.collusion import QLearning, collusion_summary, run_sessions

CALVANO_DELTA = 0.85  # their baseline, 1,000 sessions


def collusion_row(sessions: int, max_periods: int, seed: int) -> dict[str, float]:
    """Learned vs theory for the baseline, with the wall time of the sessions."""
    game, _ = make_game("LogitBertrand-v1")
    learning = QLearning(max_periods=max_periods)
    start = time.perf_counter()
    run_sessions(game, QLearning(max_periods=10, stable_periods=5), 1, seed)  # compile
    compiled = time.perf_counter()
    results = run_sessions(game, learning, sessions, seed)
    done = time.perf_counter()
    bench = game.benchmark().values
    return {**collusion_summary(game, results), "compile_s": compiled - start,
            "wall_s": done - compiled, "periods_max": float(results.periods.max()),
            "nash_price": bench["nash_price"], "monopoly_price": bench["collusive_price"],
            "cycle_1_share": float(np.mean(results.cycle_length[results.converged] == 1))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--max-periods", type=int, default=3_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    ap.add_argument("--json", default=None)
    args = parse_args(ap, {"sessions": 4}, argv)
    numba.set_num_threads(args.threads)
    row = collusion_row(args.sessions, args.max_periods, args.seed)
    print(f"LogitBertrand-v1, Calvano baseline: {int(row['converged'])}/{int(row['sessions'])} "
          f"sessions converged (mean {row['periods_mean']:,.0f} periods, max "
          f"{row['periods_max']:,.0f}; cap {args.max_periods:,}), {args.threads} thread(s)")
    print(f"  Delta mean {row['delta_mean']:.3f} (Calvano et al.: ~{CALVANO_DELTA}), "
          f"sd {row['delta_sd']:.3f}, quantiles 5/25/50/75/95%: "
          + " / ".join(f"{row[f'delta_q{q:02d}']:.3f}" for q in (5, 25, 50, 75, 95)))
    print(f"  limit price mean {row['price_mean']:.4f} (p^N {row['nash_price']:.4f}, p^M "
          f"{row['monopoly_price']:.4f}); one-period cycles {row['cycle_1_share']:.0%}")
    print(f"  wall {row['wall_s']:.1f} s ({row['wall_s'] / row['sessions']:.3f} s/session), "
          f"compile {row['compile_s']:.1f} s")
    rows = {"collusion": row}
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
