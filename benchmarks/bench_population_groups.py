"""Group populations on the vector engine: one generation of a million agents.

One generation of ``--agents`` agents (default 1M) in random groups, seconds per generation
through ``PayoffEngine.play`` (matching, the groups played, payoffs per agent), best of
``--repeats``, and agents/s, for three games:

* PublicGoods-v1, groups of 4 and 5, ``--rounds`` rounds (default 10), 5 contribution rules
  (free rider, full and half contributors, conditional cooperator, threshold contributor);
* Commons-v1, groups of 5, ``--rounds`` rounds (the resource may collapse earlier), the 3
  commons heuristics (sustainable, greedy, reciprocal);
* FirstPriceAuction-v1 and AllPayAuction-v1, auctions of 3, ``--auction-rounds`` rounds
  (default 5), 4 bid rules (BNE, truthful, shade 0.5 and 0.8). Each auction draws its values
  from its own episode seed's generator, one numpy call per auction and round: these rows
  measure that cost.

Then the first ``--check`` groups of each row are played again by the episodes engine: the
exit status is 1 unless their payoffs are identical.

Run::

    python benchmarks/bench_population_groups.py [--agents 1000000] [--rounds 10]
        [--auction-rounds 5] [--repeats 3] [--check 200] [--quick]

``--quick``: 20,000 agents, one repeat, 20 groups checked: a few seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
from _cli import parse_args

from agora.agents import AgentSpec
from agora.experiments.population.engine import PayoffEngine
from agora.experiments.population.matching import make_matching

QUICK = {"agents": 20_000, "repeats": 1, "check": 20}
MIX = (AgentSpec("fixed_contributor", {"fraction": 0.0}),
       AgentSpec("fixed_contributor", {"fraction": 1.0}),
       AgentSpec("fixed_contributor", {"fraction": 0.5}),
       AgentSpec("conditional_cooperator"), AgentSpec("threshold_contributor"))
COMMONS = (AgentSpec("commons_sustainable"), AgentSpec("commons_greedy"),
           AgentSpec("commons_reciprocal"))
BIDDERS = (AgentSpec("auction_bne"), AgentSpec("auction_truthful"),
           AgentSpec("auction_shade", {"fraction": 0.5}),
           AgentSpec("auction_shade", {"fraction": 0.8}))


def generation(engine: PayoffEngine, agents: int, k: int, seed: int) -> np.ndarray:
    """One generation: strategies drawn, random groups, groups played, mean payoff per
    agent and round."""
    rng = np.random.default_rng(seed)
    strategy = rng.integers(0, len(engine.strategies), agents)
    matches = make_matching({"type": "groups", "k": k}, agents, k, seed).matches(rng)
    out = engine.play(strategy, matches, seed=seed, generation=0)
    per_round = out.payoffs / out.rounds[:, None]
    total = np.bincount(matches.ravel(), weights=per_round.ravel(), minlength=agents)
    return total / np.bincount(matches.ravel(), minlength=agents)


def check(env: str, params: dict[str, Any], mix: tuple[AgentSpec, ...], groups: int,
          seed: int) -> bool:
    """The first ``groups`` groups through both engines: identical payoffs?"""
    rng = np.random.default_rng(seed)
    k = int(params["n_players"])
    strategy = rng.integers(0, len(mix), groups * k)
    matches = rng.permutation(groups * k).reshape(groups, k)
    outs = [PayoffEngine(env, params, mix, engine=e).play(
        strategy, matches, seed=seed, generation=0) for e in ("vector", "episodes")]
    return bool(np.array_equal(outs[0].payoffs, outs[1].payoffs))


def row(label: str, env: str, params: dict[str, Any], mix: tuple[AgentSpec, ...],
        args: argparse.Namespace) -> bool:
    """Time one game's generation and check it against the episodes engine."""
    engine = PayoffEngine(env, params, mix)
    assert engine.kind == "vector"
    k = int(params["n_players"])
    best = float("inf")
    for r in range(args.repeats):
        start = time.perf_counter()
        generation(engine, args.agents, k, r)
        best = min(best, time.perf_counter() - start)
    same = check(env, params, mix, args.check, 1)
    print(f"    {label}: {best:7.3f} s/generation, {args.agents / best:12,.0f} agents/s; "
          f"{args.check} groups identical to the episodes engine: {'yes' if same else 'NO'}")
    return same


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agents", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--auction-rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--check", type=int, default=200)
    args = parse_args(ap, QUICK, argv)
    print(f"one generation of {args.agents:,} agents, vector engine (numpy)")
    ok = True
    print(f"  PublicGoods-v1 ({args.rounds} rounds, endowment 20, m 1.6), "
          f"{len(MIX)} contribution rules")
    for k in (4, 5):
        params = {"n_players": k, "endowment": 20, "multiplier": 1.6, "rounds": args.rounds}
        ok &= row(f"groups of {k}", "PublicGoods-v1", params, MIX, args)
    print(f"  Commons-v1 ({args.rounds} rounds, capacity 100, growth 2, floor 5, "
          f"max_harvest 20), {len(COMMONS)} commons rules")
    params = {"n_players": 5, "capacity": 100, "growth": 2.0, "floor": 5, "max_harvest": 20,
              "rounds": args.rounds}
    ok &= row("groups of 5", "Commons-v1", params, COMMONS, args)
    print(f"  auctions of 3 ({args.auction_rounds} rounds, values 0..100), "
          f"{len(BIDDERS)} bid rules")
    for env in ("FirstPriceAuction-v1", "AllPayAuction-v1"):
        params = {"n_players": 3, "rounds": args.auction_rounds}
        ok &= row(env, env, params, BIDDERS, args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
