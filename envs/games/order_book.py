"""A limit order book that clears by price-time priority, in pure Python.

:class:`OrderBook` keeps each side as price levels: a dict from price to a FIFO ``deque``
of resting orders, plus a heap of the level prices (negated for bids) so the best price
is found in O(1) and a new level costs O(log levels). Emptied levels are dropped from the
dict at once and from the heap lazily, when they reach its top. An incoming order trades
against the best opposite level while it crosses (a bid at or above the best ask, an ask
at or below the best bid), always at the *resting* order's price, oldest order first
within a level; what is left of it rests. Cancels are O(1) to find (an id index) and
O(level length) to unlink.

:class:`NaiveOrderBook` has the same interface and scans one list for every match. It is
the slow, obviously correct reference: tests check both give the same fills, and
``benchmarks/bench_order_book.py`` reports the ratio of their speeds.

No agora imports: the engine stands alone. Prices are numbers (ints on the game's grid),
quantities positive ints, order ids any hashable value unique among resting orders.

Example:
    >>> book = OrderBook()
    >>> book.add("a1", ASK, 55, 2)
    []
    >>> book.add("b1", BID, 60, 3)  # crosses: trades at the resting ask's price
    [Fill(maker='a1', taker='b1', taker_side=0, price=55, qty=2)]
    >>> book.best_bid(), book.best_ask()  # the unfilled unit of b1 rests at 60
    (60, None)
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Hashable
from typing import NamedTuple

BID, ASK = 0, 1
"""Sides: a bid offers to buy, an ask offers to sell."""


class Fill(NamedTuple):
    """One trade: ``qty`` units between a resting order (maker) and an incoming one."""

    maker: Hashable
    taker: Hashable
    taker_side: int
    price: float
    qty: int


class RestingOrder(NamedTuple):
    """A resting order as plain data (what :meth:`OrderBook.orders` reports)."""

    order_id: Hashable
    side: int
    price: float
    qty: int


class _Order:
    __slots__ = ("order_id", "side", "price", "qty", "seq")

    def __init__(self, order_id: Hashable, side: int, price: float, qty: int, seq: int
                 ) -> None:
        self.order_id = order_id
        self.side = side
        self.price = price
        self.qty = qty
        self.seq = seq


def _check(side: int, qty: int) -> None:
    if side != BID and side != ASK:
        raise ValueError(f"side must be BID (0) or ASK (1), got {side!r}")
    if type(qty) is not int or qty < 1:
        raise ValueError(f"qty must be a positive int, got {qty!r}")


class OrderBook:
    """Price levels (dict of FIFO deques) with lazy heaps of prices. See the module doc."""

    __slots__ = ("_levels", "_heaps", "_in_heap", "_orders", "_seq")

    def __init__(self) -> None:
        self._levels: tuple[dict[float, deque[_Order]], dict[float, deque[_Order]]] = ({}, {})
        self._heaps: tuple[list[float], list[float]] = ([], [])  # bids store -price
        self._in_heap: tuple[set[float], set[float]] = (set(), set())
        self._orders: dict[Hashable, _Order] = {}
        self._seq = 0

    # ----- orders ----------------------------------------------------------------
    def add(self, order_id: Hashable, side: int, price: float, qty: int = 1) -> list[Fill]:
        """Submit a limit order: trade what crosses, rest the remainder. Returns the fills.

        Raises:
            ValueError: a bad side or quantity, or ``order_id`` already rests in the book.
        """
        if order_id in self._orders:
            raise ValueError(f"order id {order_id!r} is already in the book")
        fills, left = self.match(order_id, side, price, qty)
        if left:
            self._rest(order_id, side, price, left)
        return fills

    def match(self, order_id: Hashable, side: int, price: float, qty: int = 1
              ) -> tuple[list[Fill], int]:
        """Trade an incoming order against the book without resting any remainder.

        Returns the fills (best price first, oldest first within a price) and the
        quantity left unfilled.
        """
        _check(side, qty)
        fills: list[Fill] = []
        other = 1 - side
        levels, heap, in_heap = self._levels[other], self._heaps[other], self._in_heap[other]
        orders = self._orders
        sign = 1 if side == BID else -1  # heap key of the opposite side is sign * price
        while qty and heap:
            key = heap[0]
            best = sign * key
            level = levels.get(best)
            if level is None:  # a level emptied by cancels: drop its stale heap entry
                heapq.heappop(heap)
                in_heap.discard(best)
                continue
            if (best > price) if side == BID else (best < price):
                break
            while qty and level:
                maker = level[0]
                q = maker.qty if maker.qty <= qty else qty
                fills.append(Fill(maker.order_id, order_id, side, best, q))
                qty -= q
                if q == maker.qty:
                    level.popleft()
                    del orders[maker.order_id]
                else:
                    maker.qty -= q
            if not level:
                del levels[best]
                heapq.heappop(heap)
                in_heap.discard(best)
        return fills, qty

    def _rest(self, order_id: Hashable, side: int, price: float, qty: int) -> None:
        order = _Order(order_id, side, price, qty, self._seq)
        self._seq += 1
        levels = self._levels[side]
        level = levels.get(price)
        if level is None:
            level = levels[price] = deque()
            in_heap = self._in_heap[side]
            if price not in in_heap:
                heapq.heappush(self._heaps[side], -price if side == BID else price)
                in_heap.add(price)
        level.append(order)
        self._orders[order_id] = order

    def cancel(self, order_id: Hashable) -> bool:
        """Remove a resting order; ``False`` if no order with this id rests."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return False
        levels = self._levels[order.side]
        level = levels[order.price]
        level.remove(order)  # identity: _Order has no __eq__
        if not level:
            del levels[order.price]  # its heap entry goes stale and is dropped lazily
        return True

    # ----- queries ---------------------------------------------------------------
    def _best(self, side: int) -> float | None:
        heap, levels, in_heap = self._heaps[side], self._levels[side], self._in_heap[side]
        sign = -1 if side == BID else 1
        while heap:
            best = sign * heap[0]
            if best in levels:
                return best
            heapq.heappop(heap)
            in_heap.discard(best)
        return None

    def best_bid(self) -> float | None:
        """Highest resting bid price, ``None`` if there is no bid."""
        return self._best(BID)

    def best_ask(self) -> float | None:
        """Lowest resting ask price, ``None`` if there is no ask."""
        return self._best(ASK)

    def depth(self, side: int) -> list[tuple[float, int]]:
        """``(price, total quantity)`` of every level of ``side``, best first."""
        levels = self._levels[side]
        prices = sorted(levels, reverse=side == BID)
        return [(p, sum(o.qty for o in levels[p])) for p in prices]

    def get(self, order_id: Hashable) -> RestingOrder | None:
        """The resting order with this id, or ``None``."""
        o = self._orders.get(order_id)
        return None if o is None else RestingOrder(o.order_id, o.side, o.price, o.qty)

    def orders(self) -> list[RestingOrder]:
        """Every resting order in arrival order (re-adding them rebuilds the same book)."""
        live = sorted(self._orders.values(), key=lambda o: o.seq)
        return [RestingOrder(o.order_id, o.side, o.price, o.qty) for o in live]

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders


class NaiveOrderBook:
    """The reference book: one list of resting orders, scanned for every match.

    Same interface and results as :class:`OrderBook`, O(resting orders) per fill.
    """

    def __init__(self) -> None:
        self._resting: list[_Order] = []
        self._seq = 0

    def add(self, order_id: Hashable, side: int, price: float, qty: int = 1) -> list[Fill]:
        """Submit a limit order; see :meth:`OrderBook.add`."""
        if any(o.order_id == order_id for o in self._resting):
            raise ValueError(f"order id {order_id!r} is already in the book")
        fills, left = self.match(order_id, side, price, qty)
        if left:
            self._resting.append(_Order(order_id, side, price, left, self._seq))
            self._seq += 1
        return fills

    def match(self, order_id: Hashable, side: int, price: float, qty: int = 1
              ) -> tuple[list[Fill], int]:
        """Trade an incoming order without resting it; see :meth:`OrderBook.match`."""
        _check(side, qty)
        fills: list[Fill] = []
        while qty:
            best: _Order | None = None
            for o in self._resting:  # best price, then earliest, on the opposite side
                if o.side == side:
                    continue
                if best is None or (o.price > best.price if side == ASK
                                    else o.price < best.price):
                    best = o
            if best is None or (best.price > price if side == BID else best.price < price):
                break
            q = min(qty, best.qty)
            fills.append(Fill(best.order_id, order_id, side, best.price, q))
            qty -= q
            best.qty -= q
            if not best.qty:
                self._resting.remove(best)
        return fills, qty

    def cancel(self, order_id: Hashable) -> bool:
        """Remove a resting order; ``False`` if none has this id."""
        for i, o in enumerate(self._resting):
            if o.order_id == order_id:
                del self._resting[i]
                return True
        return False

    def best_bid(self) -> float | None:
        """Highest resting bid price, ``None`` if there is no bid."""
        return max((o.price for o in self._resting if o.side == BID), default=None)

    def best_ask(self) -> float | None:
        """Lowest resting ask price, ``None`` if there is no ask."""
        return min((o.price for o in self._resting if o.side == ASK), default=None)

    def orders(self) -> list[RestingOrder]:
        """Every resting order in arrival order."""
        return [RestingOrder(o.order_id, o.side, o.price, o.qty) for o in self._resting]

    def __len__(self) -> int:
        return len(self._resting)
