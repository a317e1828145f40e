"""Text face of the continuous double auction.

Answers are ``{"order": "bid 37"}`` (buyers), ``{"order": "ask 52"}`` (sellers) or
``{"order": "pass"}``. The schema enumerates exactly the legal answers; a bare price
string (``"37"``) is read as the trader's own kind of order. Three framings
(``params.framing``): ``"market"`` (neutral), ``"fish"`` (a harbour fish market) and
``"economics"`` (explicit double-auction vocabulary).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from agora.envs.core import Observation
from agora.envs.errors import ActionParseError, IllegalActionError
from agora.envs.games.double_auction import PASS, DoubleAuctionGame, TraderView
from agora.envs.text import TextFace, extract_json_object, get_field

KEY = "order"
_ORDER = re.compile(r"(bid|ask)?\s*([0-9]+)")
_SPACES = re.compile(r"\s+")


class _Words(NamedTuple):
    good: str  # one unit of the good
    goods: str
    buyer: str
    seller: str
    value: str  # what a unit is worth to a buyer
    cost: str  # what a unit costs a seller
    money: str


_WORDS = {
    "market": _Words("unit", "units", "buyer", "seller", "value", "cost", "points"),
    "fish": _Words("crate of fish", "crates of fish", "restaurant owner", "fisher",
                   "kitchen value", "catch cost", "coins"),
    "economics": _Words("unit", "units", "buyer", "seller", "redemption value", "unit cost",
                        "dollars"),
}


def _limits(v: TraderView) -> str:
    return ", ".join(str(x) for x in v.limits)


class DoubleAuctionText(TextFace[TraderView]):
    """Prose for :class:`DoubleAuctionGame`."""

    game: DoubleAuctionGame

    def __init__(self, game: DoubleAuctionGame) -> None:
        super().__init__(game)
        self.framing = game.params.framing
        self.words = _WORDS[self.framing]

    # ----- rules -----------------------------------------------------------------
    def rules(self, player: int) -> str:
        p = self.game.params
        buyer = self.game.is_buyer(player)
        w = self.words
        verb, order = ("buy", "bid") if buyer else ("sell", "ask")
        if self.framing == "fish":
            opening = (f"It is dawn at the harbour fish market. {p.n_buyers} restaurant owners "
                       f"buy and {p.n_sellers} fishers sell crates of fish, one crate at a "
                       f"time. You are a {w.buyer if buyer else w.seller}.")
        elif self.framing == "economics":
            opening = (f"This is a continuous double auction with {p.n_buyers} buyers and "
                       f"{p.n_sellers} sellers, cleared by a limit order book with price-time "
                       f"priority. You are a {'buyer' if buyer else 'seller'}.")
        else:
            opening = (f"You are a {'buyer' if buyer else 'seller'} in a market with "
                       f"{p.n_buyers} buyers and {p.n_sellers} sellers of identical units.")
        gain = (f"Each {w.good} you buy earns you its {w.value} minus the price you pay."
                if buyer else
                f"Each {w.good} you sell earns you the price you get minus its {w.cost}.")
        if self.framing == "economics":
            gain += (" Your surplus is your payoff; the competitive equilibrium maximises "
                     "total surplus.")
        order_kind = "random" if p.turn_order == "random" else "a fixed"
        limit = ""
        if p.constrained:
            limit = (f" You may not {order} above your {w.value}." if buyer else
                     f" You may not {order} below your {w.cost}.")
        return "\n".join([
            opening,
            f"You {verb} your {w.goods} one at a time, in the order shown to you; only you "
            f"know your {w.value if buyer else w.cost}s.",
            gain,
            f"Trading lasts {p.periods} period(s); in each period every trader with "
            f"{w.goods} left gets one turn, in {order_kind} order.",
            f"On your turn you {order} a whole-number price from 0 to {p.price_max} {w.money} "
            f"for your next {w.good}, or pass.{limit}",
            "A new order replaces your standing one; passing keeps it. Orders that cross "
            "trade at once at the price of the order that was there first; otherwise they "
            "wait in the book (best price first, then earliest).",
            "Your goal is to earn as much as you can.",
        ])

    # ----- observation -----------------------------------------------------------
    def render(self, obs: Observation[TraderView]) -> str:
        v = obs.view
        w = self.words
        buyer = v.role == "buyer"
        lines = [f"Period {v.period} of {v.periods}. You are a "
                 f"{w.buyer if buyer else w.seller}; you have earned {v.my_gain:g} {w.money}."]
        if v.limit < 0:
            lines.append(f"You have traded all your {w.goods}.")
        else:
            kind = w.value if buyer else w.cost
            lines.append(f"Your next {w.good}: {kind} {v.limit}. Still to trade "
                         f"({kind}s, next first): {_limits(v)}.")
            own = "bid" if buyer else "ask"
            lines.append(f"Your standing {own}: {v.my_order}." if v.my_order >= 0
                         else f"You have no standing {own}.")
        lines.append(self._book(v))
        if v.to_move:
            lines.append(self._ask(v))
        elif v.limit >= 0:
            lines.append("Waiting for the other traders.")
        return "\n".join(lines)

    def _book(self, v: TraderView) -> str:
        bid = str(v.best_bid) if v.best_bid >= 0 else "none"
        ask = str(v.best_ask) if v.best_ask >= 0 else "none"
        top = "Top of the book" if self.framing == "economics" else "Market now"
        if v.recent_prices:
            past = ", ".join(str(x) for x in v.recent_prices)
            trades = f"Last trade prices (oldest first): {past} ({v.trades} trades so far)."
        else:
            trades = "No trades yet."
        return f"{top}: best bid {bid}, best ask {ask}. {trades}"

    def _ask(self, v: TraderView) -> str:
        buyer = v.role == "buyer"
        low, high = 0, v.price_max
        if v.constrained:
            low, high = (0, v.limit) if buyer else (v.limit, v.price_max)
        verb = "bid" if buyer else "ask"
        return (f"Your turn: {verb} a price from {low} to {high}, or pass. Answer with a JSON "
                f'object like {{"{KEY}": "{verb} {(low + high) // 2}"}} or {{"{KEY}": "pass"}}.')

    # ----- answers ---------------------------------------------------------------
    def action_schema(self, obs: Observation[TraderView]) -> dict[str, Any]:
        verb = "bid" if obs.view.role == "buyer" else "ask"
        answers = ["pass" if a == PASS else f"{verb} {a - 1}"
                   for a in obs.legal_actions.tolist()]
        return {"type": "object", "properties": {KEY: {"type": "string", "enum": answers}},
                "required": [KEY], "additionalProperties": False}

    def decode(self, text: str, obs: Observation[TraderView]) -> int:
        raw = get_field(extract_json_object(text), KEY, text)
        verb = "bid" if obs.view.role == "buyer" else "ask"
        hint = f'"{KEY}" must be "pass" or "{verb} P" with a whole-number price P'
        if not isinstance(raw, str):
            raise ActionParseError(f"{hint}, got {raw!r}", text)
        answer = _SPACES.sub(" ", raw.strip().lower())
        if answer == "pass":
            return PASS
        match = _ORDER.fullmatch(answer)
        if match is None:
            raise ActionParseError(f"{hint}, got {raw!r}", text)
        said, digits = match.groups()
        if said is not None and said != verb:
            raise ActionParseError(f'you are a {obs.view.role}: "{KEY}" takes "{verb} P", '
                                   f'not "{said}"', text)
        high = obs.view.price_max
        if len(digits) > 9 or int(digits) > high:
            raise IllegalActionError(f'"{KEY}": prices run from 0 to {high}, got {digits[:12]}')
        return int(digits) + 1

    def format_action(self, action: int, obs: Observation[TraderView]) -> str:
        if not 0 <= action <= obs.view.price_max + 1:
            raise IllegalActionError(f"action {action} is not an order on this price grid")
        if action == PASS:
            return f'{{"{KEY}": "pass"}}'
        verb = "bid" if obs.view.role == "buyer" else "ask"
        return f'{{"{KEY}": "{verb} {action - 1}"}}'
