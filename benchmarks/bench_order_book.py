"""Orders per second of the limit order book under random crossing order flow.

The flow is generated once, untimed, and recorded: limit orders with a random side,
quantity 1-5 and a price drawn so that bids and asks overlap around a mid price (over 40%
of the orders trade on arrival, some against several resting orders), plus cancels of
random resting flow orders that keep the touch small (like the double auction's own
book). Each row first loads ``depth`` deep resting orders out of the flow's reach
(untimed) and then replays the same flow on a fresh
:class:`~agora.envs.games.order_book.OrderBook` and on the list-scan
:class:`~agora.envs.games.order_book.NaiveOrderBook` (which gets a prefix of the flow when
it would take too long), interleaved over ``--repeats`` rounds, keeping the best rate of
each (these machines are noisy). Both books must produce identical fills.

*orders/s* counts flow limit orders (the cancels run inside the timed loop but are not
counted); the target is >= 100,000 orders/s for :class:`OrderBook` at every depth. The
``ratio`` column is OrderBook / naive, measured side by side in the same run.

Run::

    python benchmarks/bench_order_book.py [--orders 100000] [--repeats 3] [--json out.json]
        [--quick]

``--quick`` (a few seconds) replays 2,000 orders per depth once; only the fills check
sets its exit status.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from _cli import parse_args

from agora.envs.games.order_book import ASK, BID, NaiveOrderBook, OrderBook

TARGET = 100_000  # orders per second for OrderBook
MID = 1_000
DEPTHS = (0, 300, 3_000)  # deep resting orders besides the flow
FLOW_CAP = 8  # resting flow orders (about the double auction's own book)
QUICK = {"orders": 2_000, "repeats": 1}

Event = tuple[int, int, int, int]  # (order id, side, price, qty); side -1 means cancel


def make_flow(n_orders: int, depth: int, seed: int
              ) -> tuple[list[Event], list[Event], dict[str, float]]:
    """``depth`` deep resting orders (set up untimed), then ``n_orders`` of aggressive flow.

    The deep orders sit at least 16 ticks from the middle, where the flow (bids in
    ``[MID-10, MID+15]``, asks in ``[MID-15, MID+10]``) never reaches them; they make the
    book long, as real books are. Flow orders that rest are cancelled at random once more
    than ``FLOW_CAP`` of them rest, which keeps the touch busy but the book stationary.
    """
    rnd = random.Random(seed)
    book = OrderBook()
    deep: list[Event] = []
    for oid in range(depth):
        side = oid % 2
        away = rnd.randint(16, 16 + max(depth // 10, 10))
        price = MID - away if side == BID else MID + away
        qty = rnd.randint(1, 5)
        book.add(oid, side, price, qty)
        deep.append((oid, side, price, qty))
    events: list[Event] = []
    live: list[int] = []
    crossed = fills = size = 0
    for oid in range(depth, depth + n_orders):
        while len(live) > FLOW_CAP:  # cancel a random flow order (filled ones linger here)
            i = rnd.randrange(len(live))
            live[i], victim = live[-1], live[i]
            live.pop()
            if book.cancel(victim):
                events.append((victim, -1, 0, 0))
        side = BID if rnd.random() < 0.5 else ASK
        price = MID + (rnd.randint(-10, 15) if side == BID else rnd.randint(-15, 10))
        qty = rnd.randint(1, 5)
        size += len(book)
        got = book.add(oid, side, price, qty)
        crossed += bool(got)
        fills += len(got)
        if oid in book:
            live.append(oid)
        events.append((oid, side, price, qty))
    n = n_orders
    return deep, events, {"book_size": size / n, "crossing_share": crossed / n,
                          "fills_per_order": fills / n, "cancels_per_order": (len(events) - n) / n}


def replay(factory: Callable[[], Any], deep: list[Event], events: list[Event]
           ) -> tuple[float, int]:
    """Seconds to replay ``events`` on a fresh book holding ``deep`` (untimed), and fills."""
    book = factory()
    add, cancel = book.add, book.cancel
    for oid, side, price, qty in deep:
        add(oid, side, price, qty)
    fills = 0
    start = time.perf_counter()
    for oid, side, price, qty in events:
        if side < 0:
            cancel(oid)
        else:
            fills += len(add(oid, side, price, qty))
    return time.perf_counter() - start, fills


def fills_agree(events: list[Event]) -> bool:
    """Whether both books give the same fills, event by event (deep orders included)."""
    fast, slow = OrderBook(), NaiveOrderBook()
    for oid, side, price, qty in events:
        if side < 0:
            if fast.cancel(oid) != slow.cancel(oid):
                return False
        elif fast.add(oid, side, price, qty) != slow.add(oid, side, price, qty):
            return False
    return fast.orders() == slow.orders()


def run(n_orders: int, repeats: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for depth in DEPTHS:
        deep, events, stats = make_flow(n_orders, depth, seed)
        # the naive book scans every resting order: give it a prefix of the same flow
        n_naive = max(2_000, min(n_orders, 2_000_000 // (depth + 20)))
        naive_events = events[: _prefix(events, n_naive)]
        best_fast = best_naive = 0.0
        for _ in range(repeats):  # interleaved, best of each
            secs, _ = replay(OrderBook, deep, events)
            best_fast = max(best_fast, n_orders / secs)
            secs, _ = replay(NaiveOrderBook, deep, naive_events)
            best_naive = max(best_naive, n_naive / secs)
        rows.append({
            "depth": depth, "orders": n_orders, "naive_orders": n_naive, **stats,
            "orderbook_orders_per_s": best_fast, "naive_orders_per_s": best_naive,
            "ratio": best_fast / best_naive,
            "fills_agree": fills_agree(deep + naive_events),
            "pass": best_fast >= TARGET,
        })
    return rows


def _prefix(events: list[Event], n_orders: int) -> int:
    """Length of the shortest prefix of ``events`` holding ``n_orders`` limit orders."""
    seen = 0
    for i, (_, side, _, _) in enumerate(events):
        seen += side >= 0
        if seen == n_orders:
            return i + 1
    return len(events)


def table(rows: list[dict[str, Any]]) -> str:
    head = (f"{'depth':>6} {'book':>6} {'cross%':>7} {'fills/ord':>9} {'cancel/ord':>10} "
            f"{'OrderBook ord/s':>16} {'naive ord/s':>12} {'ratio':>7} {'agree':>6}  target")
    lines = [head, "-" * len(head)]
    for r in rows:
        verdict = "PASS" if r["pass"] else "FAIL"
        lines.append(
            f"{r['depth']:>6} {r['book_size']:>6.0f} {100 * r['crossing_share']:>6.1f}% "
            f"{r['fills_per_order']:>9.2f} "
            f"{r['cancels_per_order']:>10.2f} {r['orderbook_orders_per_s']:>16,.0f} "
            f"{r['naive_orders_per_s']:>12,.0f} {r['ratio']:>6.1f}x "
            f"{'yes' if r['fills_agree'] else 'NO':>6}  {verdict} (>= {TARGET:,})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=100_000, help="limit orders per depth")
    ap.add_argument("--repeats", type=int, default=3, help="rounds; the best rate is kept")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parse_args(ap, QUICK, argv)
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{args.orders:,} orders per depth, best of {args.repeats}")
    rows = run(args.orders, args.repeats, args.seed)
    print(table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"target_orders_per_s": TARGET, "rows": rows}, fh, indent=2)
    fast = args.quick or all(r["pass"] for r in rows)  # --quick: speed is not measured
    return 0 if fast and all(r["fills_agree"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
