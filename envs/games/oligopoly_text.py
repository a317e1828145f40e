"""Text faces of the oligopolies: answers are ``{"quantity": K}`` or ``{"price": K}``.

``K`` is the grid index: with ``granularity == 1`` (the default) it is the quantity or
price itself; otherwise the prose says that ``K`` counts steps of ``1 / granularity``. The
logit game's prices are a short menu, listed in the rules, and ``K`` is a menu number.
Three wordings (``params.framing``): ``neutral`` (firms and units), ``farmers_market``
(farmers selling at a market) and ``economics`` (textbook notation).
"""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.games.oligopoly import (
    BertrandGame,
    CournotGame,
    DiffBertrandGame,
    LogitBertrandGame,
    OligopolyGame,
    OligopolyView,
)
from agora.envs.text import TextFace, extract_json_object, get_int

_PERIOD = {"neutral": "round", "farmers_market": "week", "economics": "period"}


def _num(x: float) -> str:
    return f"{x:.6g}"


class OligopolyText(TextFace[OligopolyView]):
    """Shared prose; subclasses give the rules and name the answer field."""

    game: OligopolyGame[Any]
    key: str = "quantity"
    example: int = 40
    price_label: str = "the market price"

    @property
    def _period(self) -> str:
        return _PERIOD[self.game.params.framing]

    def _grid_line(self) -> str:
        p = self.game.params
        top = self.game.num_actions - 1
        if p.granularity == 1:
            return (f"Your {self.key} is a whole number from 0 to {top}; answer with it, "
                    f'e.g. {{"{self.key}": {min(self.example, top)}}}.')
        return (f"Your {self.key} moves in steps of 1/{p.granularity}: answer with the number "
                f"of steps N from 0 to {top} ({self.key} = N/{p.granularity}), e.g. "
                f'{{"{self.key}": {min(self.example, top)}}}.')

    def rules(self, player: int) -> str:
        return "\n".join([*self._rules(player), self._grid_line()])

    def _rules(self, player: int) -> list[str]:
        raise NotImplementedError

    def _last_round(self, v: OligopolyView) -> str:
        g = self.game
        others = ", ".join(_num(g.value(k)) for k in v.others_last)
        return (f"Last {self._period} your {self.key} was {_num(g.value(v.my_last))} and the "
                f"others' were {others}; {self.price_label} was {_num(v.price_last)}, you sold "
                f"{_num(v.my_quantity_last)} units and made a profit of "
                f"{_num(v.my_profit_last)}. Your total so far: {_num(v.my_total)}.")

    def render(self, obs: Observation[OligopolyView]) -> str:
        v = obs.view
        period = self._period
        if v.round >= v.rounds:
            return f"The game is over after {v.rounds} {period}s. Your total: {_num(v.my_total)}."
        past = f"This is the first {period}." if v.my_last < 0 else self._last_round(v)
        top = self.game.num_actions - 1
        return (f"{period.capitalize()} {v.round + 1} of {v.rounds}. {past}\n"
                f"Choose your {self.key} (0 to {top}). Answer with a JSON object like "
                f'{{"{self.key}": {min(self.example, top)}}}.')

    def action_schema(self, obs: Observation[OligopolyView]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {self.key: {"type": "integer", "minimum": 0,
                                      "maximum": self.game.num_actions - 1}},
            "required": [self.key],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[OligopolyView]) -> int:
        return get_int(extract_json_object(text), self.key, text, 0, self.game.num_actions - 1)

    def format_action(self, action: int, obs: Observation[OligopolyView]) -> str:
        return f'{{"{self.key}": {int(action)}}}'


class CournotText(OligopolyText):
    """Prose for :class:`CournotGame`: firms choose quantities."""

    game: CournotGame

    def _rules(self, player: int) -> list[str]:
        p = self.game.params
        n, a, b, c, top = p.n_firms, _num(p.a), _num(p.b), _num(p.cost), _num(p.q_max)
        if p.framing == "farmers_market":
            return [
                f"You are farmer {player + 1} of {n} selling strawberries at the same market "
                f"for {p.rounds} week(s).",
                f"Every week each farmer decides, without knowing what the others do, how many "
                f"crates to bring (0 to {top}).",
                f"The more crates arrive, the cheaper they sell: every crate fetches "
                f"max(0, {a} - {b} x (crates brought by all farmers)).",
                f"Picking and hauling a crate costs you {c}. Your earnings in a week = your "
                f"crates x (price - {c}); they can be negative.",
                "Aim to earn as much as you can over all weeks.",
            ]
        if p.framing == "economics":
            return [
                f"Repeated Cournot oligopoly: {n} firms, a homogeneous good, {p.rounds} "
                f"period(s); you are firm {player + 1}.",
                f"Each period the firms choose quantities q_i in [0, {top}] simultaneously.",
                f"Inverse demand P(Q) = max(0, {a} - {b} Q) with Q the sum of all q_i; constant "
                f"marginal cost c = {c}, no fixed cost.",
                f"Your payoff per period is pi_i = q_i (P(Q) - {c}); you maximise the sum "
                "over periods.",
            ]
        return [
            f"You manage firm {player + 1} of {n}; the firms make the same product and play "
            f"{p.rounds} round(s).",
            f"Each round every firm decides, at the same time, how many units to produce "
            f"(0 to {top}).",
            f"All units sell at one price: max(0, {a} - {b} x (units produced by all firms)).",
            f"Each unit costs {c} to make. Your profit in a round = your units x (price - {c}); "
            "it can be negative.",
            "Your goal is the largest total profit over all rounds.",
        ]


class BertrandText(OligopolyText):
    """Prose for :class:`BertrandGame`: firms post prices, the cheapest sells."""

    game: BertrandGame
    key = "price"
    example = 50
    price_label = "the lowest price"

    def _rules(self, player: int) -> list[str]:
        p = self.game.params
        n, a, b, c, top = p.n_firms, _num(p.a), _num(p.b), _num(p.cost), _num(p.p_max)
        if p.framing == "farmers_market":
            return [
                f"You run honey stall {player + 1} of {n} at a farmers' market, selling the "
                f"same honey as the others for {p.rounds} week(s).",
                f"Every week each stall sets a price per jar (0 to {top}) without knowing "
                "the others' prices.",
                f"Shoppers buy only at the cheapest stall: at the lowest price p they buy "
                f"max(0, ({a} - p) / {b}) jars in total, split evenly between all stalls "
                "that charge that lowest price. Dearer stalls sell nothing.",
                f"Each jar costs you {c}. Your earnings in a week = (your price - {c}) x the "
                "jars you sell.",
                "Aim to earn as much as you can over all weeks.",
            ]
        if p.framing == "economics":
            return [
                f"Repeated Bertrand price competition: {n} firms, a homogeneous good, "
                f"{p.rounds} period(s); you are firm {player + 1}.",
                f"Each period the firms set prices p_i in [0, {top}] simultaneously.",
                f"Market demand D(p) = max(0, ({a} - p) / {b}); consumers buy from the "
                "lowest-priced firm(s), splitting equally among m firms tied at the lowest "
                "price.",
                f"Constant marginal cost c = {c}. Your payoff per period is "
                f"pi_i = (p_i - {c}) D(p_i) / m if p_i is the lowest price, else 0; you "
                "maximise the sum over periods.",
            ]
        return [
            f"You manage firm {player + 1} of {n}; the firms sell the same product for "
            f"{p.rounds} round(s).",
            f"Each round every firm sets, at the same time, a price (0 to {top}).",
            f"Buyers buy only from the cheapest firm: at the lowest price p they buy "
            f"max(0, ({a} - p) / {b}) units in total, shared equally by all firms charging "
            "that price. Firms with a higher price sell nothing.",
            f"Each unit costs {c}. Your profit in a round = (your price - {c}) x your units "
            "sold.",
            "Your goal is the largest total profit over all rounds.",
        ]


class DiffBertrandText(OligopolyText):
    """Prose for :class:`DiffBertrandGame`: similar products, each firm sets its price."""

    game: DiffBertrandGame
    key = "price"
    example = 50
    price_label = "the average price"

    def _rules(self, player: int) -> list[str]:
        p = self.game.params
        n, c, top = p.n_firms, _num(p.cost), _num(p.p_max)
        al, be, ga = _num(p.alpha), _num(p.beta), _num(p.gamma)
        if p.framing == "farmers_market":
            return [
                f"You are farmer {player + 1} of {n}, each selling your own apple variety at "
                f"the same market for {p.rounds} week(s).",
                f"Every week each farmer sets a price per crate (0 to {top}) without knowing "
                "the others' prices.",
                f"Shoppers like all varieties but care about price: you sell max(0, {al} - "
                f"{be} x your price + {ga} x (sum of the other farmers' prices)) crates.",
                f"Each crate costs you {c}. Your earnings in a week = (your price - {c}) x "
                "crates sold.",
                "Aim to earn as much as you can over all weeks.",
            ]
        if p.framing == "economics":
            return [
                f"Repeated Bertrand competition with differentiated products: {n} firms, "
                f"{p.rounds} period(s); you are firm {player + 1}.",
                f"Each period the firms set prices p_i in [0, {top}] simultaneously.",
                f"Linear demand q_i = max(0, {al} - {be} p_i + {ga} sum_(j != i) p_j); "
                f"constant marginal cost c = {c}.",
                f"Your payoff per period is pi_i = (p_i - {c}) q_i; you maximise the sum over "
                "periods.",
            ]
        return [
            f"You manage firm {player + 1} of {n}; the firms sell similar, not identical, "
            f"products for {p.rounds} round(s).",
            f"Each round every firm sets, at the same time, a price (0 to {top}).",
            f"You sell max(0, {al} - {be} x your price + {ga} x (sum of the other firms' "
            "prices)) units.",
            f"Each unit costs {c}. Your profit in a round = (your price - {c}) x your units "
            "sold.",
            "Your goal is the largest total profit over all rounds.",
        ]


class LogitBertrandText(OligopolyText):
    """Prose for :class:`LogitBertrandGame`: similar products, logit demand, a price menu."""

    game: LogitBertrandGame
    key = "price"
    example = 7
    price_label = "the average price"

    def _grid_line(self) -> str:
        menu = ", ".join(f"{k}: {_num(round(x, 4))}" for k, x in enumerate(self.game.prices))
        top = self.game.num_actions - 1
        return (f"Prices come from a menu; answer with the menu number N from 0 to {top} of "
                f'the price you charge, e.g. {{"price": {min(self.example, top)}}}. '
                f"Menu (number: price): {menu}.")

    def _rules(self, player: int) -> list[str]:
        p = self.game.params
        n, c, a, a0, mu = p.n_firms, _num(p.cost), _num(p.a), _num(p.a0), _num(p.mu)
        if p.framing == "farmers_market":
            return [
                f"You are baker {player + 1} of {n}, each selling your own sourdough at the "
                f"same market for {p.rounds} week(s).",
                "Every week each baker picks a price without knowing the others' prices.",
                f"Each shopper buys one loaf from the stall they like best or skips bread: "
                f"a stall with price P is chosen with weight exp(({a} - P) / {mu}), skipping "
                f"with weight exp({a0} / {mu}); your share of the shoppers is your weight over "
                "the sum of all weights.",
                f"Each loaf costs you {c}. Your earnings in a week = (your price - {c}) x your "
                "share.",
                "Aim to earn as much as you can over all weeks.",
            ]
        if p.framing == "economics":
            return [
                f"Repeated Bertrand competition with logit demand: {n} firms, {p.rounds} "
                f"period(s); you are firm {player + 1}.",
                "Each period the firms set prices p_i simultaneously.",
                f"Demand q_i = exp(({a} - p_i)/{mu}) / (sum_j exp(({a} - p_j)/{mu}) + "
                f"exp({a0}/{mu})); constant marginal cost c = {c}.",
                f"Your payoff per period is pi_i = (p_i - {c}) q_i; you maximise the sum over "
                "periods.",
            ]
        return [
            f"You manage firm {player + 1} of {n}; the firms sell similar, not identical, "
            f"products for {p.rounds} round(s).",
            "Each round every firm sets, at the same time, a price.",
            f"Each buyer picks one firm or buys nothing: a firm charging P is picked with "
            f"weight exp(({a} - P) / {mu}), buying nothing has weight exp({a0} / {mu}); you "
            "sell your weight's share of all weights (buyers make up 1 unit).",
            f"Each unit costs {c}. Your profit in a round = (your price - {c}) x your units "
            "sold.",
            "Your goal is the largest total profit over all rounds.",
        ]
