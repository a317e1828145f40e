"""Independent learners in Cournot, public goods and the repeated PD, against theory.

For each game of :data:`agora.experiments.marl.GAMES` and each learner (``tabular``:
independent Q-learners in one compiled kernel; ``rllib``: independent multi-agent PPO
through ``agora train``'s rllib backend), ``--seeds`` seeds: each seed's per-player mean
action and payoff per round, then per game and learner the mean (sd) [min, max] over seeds
beside the Nash and optimum benchmarks, the cooperation index (0 at Nash, 1 at the optimum)
and how many seeds converged (criteria in the module's docstring). Non-convergence is a
result: such seeds stay in the table. Prints a markdown table and writes the per-seed rows
to ``--out`` (Parquet) and the summary beside it (``*_summary.parquet``).

RLlib is slow on a shared 2-core machine (Ray start ~5-10 s, ~150-300 env steps/s): its
budget is ``--budget`` env steps per seed (default 2,000) and its wall time is recorded.

Run::

    python benchmarks/bench_marl.py [--seeds 5] [--budget 2000] [--learners tabular rllib]
        [--games cournot public_goods pd] [--out marl.parquet]
    python benchmarks/bench_marl.py --quick   # 2 seeds, short tabular runs, 400 PPO steps
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
from _cli import parse_args

from agora.experiments.marl import GAMES, markdown, rllib_rows, summarise, tabular_rows

QUICK = {"seeds": 2, "budget": 400, "max_periods": 200_000, "stable_periods": 10_000,
         "learners": ["tabular"]}  # RLlib's start alone takes minutes on CI's 2 cores


def run(args: argparse.Namespace) -> pd.DataFrame:
    """Every (game, learner) of ``args``: the per-seed rows."""
    parts = []
    for key in args.games:
        g = GAMES[key]
        if "tabular" in args.learners:
            learning = replace(g.learning, max_periods=args.max_periods,
                               stable_periods=args.stable_periods)
            if args.quick:
                learning = replace(learning, beta=learning.beta * 20)
            parts.append(tabular_rows(g, args.seeds, args.seed, learning))
        if "rllib" in args.learners:
            with tempfile.TemporaryDirectory() as tmp:
                parts.append(rllib_rows(g, args.budget, range(args.seed, args.seed + args.seeds),
                                        Path(tmp) / key))
    return pd.concat(parts, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0, help="the first seed")
    ap.add_argument("--budget", type=int, default=2000, help="rllib env steps per seed")
    ap.add_argument("--max-periods", type=int, default=2_000_000)
    ap.add_argument("--stable-periods", type=int, default=100_000)
    ap.add_argument("--games", nargs="+", default=list(GAMES), choices=list(GAMES))
    ap.add_argument("--learners", nargs="+", default=["tabular", "rllib"],
                    choices=["tabular", "rllib"])
    ap.add_argument("--out", default=None, help="Parquet file for the per-seed rows")
    args = parse_args(ap, QUICK, argv)
    start = time.perf_counter()
    if "rllib" in args.learners:  # one Ray for every game (each training would start its own)
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        rows = run(args)
    finally:
        if "rllib" in args.learners:
            ray.shutdown()
    summary = summarise(rows)
    print(markdown(summary))
    print(f"\n{len(rows)} seed rows in {time.perf_counter() - start:.1f} s"
          + (" (quick: not a measurement)" if args.quick else ""))
    if args.out:
        rows.to_parquet(args.out, index=False)
        summary.to_parquet(Path(args.out).with_suffix("").as_posix() + "_summary.parquet",
                           index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
