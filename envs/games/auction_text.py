"""Text face of the sealed-bid auctions: answers are ``{"bid": K}`` in grid steps.

Three wordings, chosen by ``params.framing``: ``"neutral"`` (a plain auction of one item),
``"gallery"`` (collectors bidding for a painting; the all-pay rule is a charity sale) and
``"contract"`` (firms offering licence fees for a city contract). The rules and the
integer actions are the same in all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agora.envs.core import Observation
from agora.envs.games.auction import AuctionGame, AuctionView
from agora.envs.text import TextFace, extract_json_object, get_int


@dataclass(frozen=True)
class _Words:
    """One framing's sentences; ``{...}`` fields are filled from the params."""

    opening: str
    values: str
    sealed: str
    pay: dict[str, str]
    ties: str
    announce: str
    gain: str
    goal: str
    worth: str  # this round's value, in render
    ask: str
    over: str
    history: str = "Last round you bid {mine} and {result}; the other bids were {others}."


_FRAMES = {
    "neutral": _Words(
        opening="You are bidder {me} of {n} in a sealed-bid auction. {rounds} item(s) are "
                "sold, one per round.",
        values="At the start of each round every bidder's value for the item is drawn "
               "independently and uniformly at random from 0 to {vmax} (in steps of {step}). "
               "You learn only your own value; the others learn only theirs.",
        sealed="All bidders bid at the same time, without seeing the other bids.",
        pay={
            "first_price": "The highest bid wins the item and the winner pays its own bid; "
                           "the others pay nothing.",
            "second_price": "The highest bid wins the item, but the winner pays the "
                            "second-highest bid; the others pay nothing.",
            "all_pay": "The highest bid wins the item, and every bidder pays its own bid, "
                       "whether it wins or not.",
        },
        ties="Ties for the highest bid are broken uniformly at random.",
        announce="After each round all bids are announced.",
        gain="Your gain in a round is your value if you win the item, minus what you pay.",
        goal="Your goal is to end with as much total gain as you can.",
        worth="This round's item is worth {value} to you.",
        ask="How much do you bid?",
        over="The auction is over.",
    ),
    "gallery": _Words(
        opening="You are collector {me} of {n} at an art gallery that sells {rounds} "
                "painting(s) by sealed bids, one per evening.",
        values="Before each sale, what the painting is worth to each collector is private and "
               "independent: equally likely to be anything from 0 to {vmax} (in steps of "
               "{step}). You know what it is worth to you, not to the others.",
        sealed="Each collector hands the gallerist a sealed envelope with a bid; nobody sees "
               "the other envelopes.",
        pay={
            "first_price": "The painting goes to the highest bid, whose collector pays the "
                           "amount in the envelope; everyone else pays nothing.",
            "second_price": "The painting goes to the highest bid, but its collector pays "
                            "only the second-highest amount offered; everyone else pays "
                            "nothing.",
            "all_pay": "It is a charity sale: the painting goes to the highest bid, and "
                       "every collector donates the amount in the envelope, whether they get "
                       "the painting or not.",
        },
        ties="If the highest bids are equal, the gallerist draws the buyer by lot.",
        announce="After each evening the gallerist reads out all bids.",
        gain="Your gain from an evening is what the painting is worth to you if you get it, "
             "minus what you pay.",
        goal="Your goal is to finish with as much total gain as you can.",
        worth="Tonight's painting is worth {value} to you.",
        ask="What do you write in your envelope?",
        over="The sales are over.",
    ),
    "contract": _Words(
        opening="You run firm {me} of {n} competing for city service contracts. The city "
                "awards {rounds} contract(s), one per round, to the firm offering the "
                "highest licence fee.",
        values="Each round, the profit each firm would make from running the contract is "
               "drawn independently and uniformly from 0 to {vmax} (in steps of {step}). "
               "You know your own firm's profit, not the other firms'.",
        sealed="Firms submit sealed fee offers at the same time.",
        pay={
            "first_price": "The firm with the highest offer wins the contract and pays the "
                           "fee it offered; the other firms pay nothing.",
            "second_price": "The firm with the highest offer wins the contract but pays a fee "
                            "equal to the second-highest offer; the other firms pay nothing.",
            "all_pay": "The firm with the highest offer wins the contract, and every firm "
                       "pays the fee it offered as a non-refundable application fee, win or "
                       "lose.",
        },
        ties="Ties for the highest offer are settled by a fair lottery.",
        announce="After each round the city publishes all offers.",
        gain="Your firm's gain in a round is the contract's profit if it wins, minus the fee "
             "it pays.",
        goal="Your goal is to maximise your firm's total gain.",
        worth="This round's contract would bring your firm a profit of {value}.",
        ask="What fee do you offer?",
        over="All contracts have been awarded.",
        history="Last round your firm offered {mine} and {result}; the other offers were "
                "{others}.",
    ),
}


class AuctionText(TextFace[AuctionView]):
    """Prose for :class:`AuctionGame`."""

    game: AuctionGame

    @property
    def _words(self) -> _Words:
        return _FRAMES[self.game.params.framing]

    def _money(self, steps: int) -> str:
        return f"{steps * self.game.params.value_max / self.game.params.granularity:g}"

    def _answer_format(self) -> str:
        p = self.game.params
        example = f'{{"bid": {p.granularity * 2 // 5}}}'
        if p.value_max == p.granularity:
            return (f"Answer with a JSON object like {example}: a whole number from 0 to "
                    f"{p.granularity}.")
        return (f"Amounts go in steps of {self._money(1)}: answer with a JSON object like "
                f"{example}, giving the number of steps, a whole number from 0 to "
                f"{p.granularity} ({example} means {self._money(p.granularity * 2 // 5)}).")

    def rules(self, player: int) -> str:
        p, w = self.game.params, self._words
        fill = {"me": player + 1, "n": p.n_players, "rounds": p.rounds,
                "vmax": f"{p.value_max:g}", "step": self._money(1)}
        lines = (w.opening, w.values, w.sealed, w.pay[p.rule], w.ties, w.announce, w.gain,
                 w.goal)
        return "\n".join([*(line.format(**fill) for line in lines), self._answer_format()])

    def render(self, obs: Observation[AuctionView]) -> str:
        v, w = obs.view, self._words
        if not obs.action_mask.any():
            return f"{w.over} {self._last_round(v)}".strip()
        worth = w.worth.format(value=self._money(v.my_value))
        return (f"Round {v.round + 1} of {v.rounds}. {self._last_round(v)} {worth}\n"
                f"{w.ask} {self._answer_format()}").replace("  ", " ")

    def _last_round(self, v: AuctionView) -> str:
        if v.my_last < 0:
            return ""
        others = ", ".join(self._money(b) for b in v.others_last)
        result = "you won" if v.won_last else "you did not win"
        return self._words.history.format(mine=self._money(v.my_last), result=result,
                                          others=others)

    def action_schema(self, obs: Observation[AuctionView]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"bid": {"type": "integer", "minimum": 0,
                                   "maximum": obs.view.granularity}},
            "required": ["bid"],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[AuctionView]) -> int:
        return get_int(extract_json_object(text), "bid", text, 0, obs.view.granularity)

    def format_action(self, action: int, obs: Observation[AuctionView]) -> str:
        return f'{{"bid": {action}}}'
