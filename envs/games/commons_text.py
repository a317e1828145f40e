"""Text face of the commons: answers are ``{"harvest": H}`` in every framing."""

from __future__ import annotations

from typing import Any, NamedTuple

from agora.envs.core import Observation
from agora.envs.games.commons import CommonsGame, CommonsView
from agora.envs.text import TextFace, extract_json_object, get_int


class _Words(NamedTuple):
    unit: str  # what one unit is called, plural
    pool: str  # the resource
    take: str  # the verb for harvesting
    round: str  # what a round is called


_WORDS = {
    "neutral": _Words("units", "the pool", "take", "round"),
    "fishing": _Words("tons of fish", "the lake", "catch", "month"),
    "economic": _Words("units", "the resource stock", "extract", "period"),
}


class CommonsText(TextFace[CommonsView]):
    """Prose for :class:`CommonsGame` in the wording ``params.framing`` selects."""

    game: CommonsGame

    def __init__(self, game: CommonsGame) -> None:
        super().__init__(game)
        self.framing = game.params.framing
        self.words = _WORDS[self.framing]

    def rules(self, player: int) -> str:
        p = self.game.params
        if self.framing == "fishing":
            lines = [
                f"You are fisherman {player + 1}, one of {p.n_players} who fish the same lake "
                f"for {p.rounds} month(s).",
                f"The lake starts with {p.capacity} tons of fish and can never hold more.",
                "Each month every fisherman decides, without knowing the others' plans, how "
                f"many tons to catch, from 0 to {p.max_harvest} (the boat's capacity).",
                "If the plans add up to more fish than the lake holds, the fish are shared "
                "out in proportion to the plans (in whole tons).",
                f"After fishing, the fish left in the lake breed: their number multiplies by "
                f"{p.growth:g}, up to {p.capacity} tons.",
                f"If fewer than {p.floor} tons are left after a month's fishing, the fish "
                "population collapses: the lake is empty and fishing ends for everyone.",
                "Each ton you catch earns you 1 point. Your goal is to earn as many points as "
                "you can.",
            ]
        elif self.framing == "economic":
            lines = [
                f"You are agent {player + 1} of {p.n_players} in a common-pool resource game "
                f"over {p.rounds} period(s).",
                f"The renewable resource stock starts at its carrying capacity of "
                f"{p.capacity} units.",
                f"Each period all agents simultaneously choose an extraction request between "
                f"0 and {p.max_harvest} units.",
                "Requests are met in full if the stock covers them; otherwise the stock is "
                "rationed in proportion to the requests (whole units).",
                f"The unextracted stock regenerates at gross rate {p.growth:g} per period, "
                f"capped at the carrying capacity: S' = min({p.capacity}, "
                f"floor({p.growth:g} x remaining)).",
                f"If the remaining stock falls below the critical threshold of {p.floor} "
                "units, the resource collapses permanently and the game ends.",
                "Your payoff is the number of units you extract, summed over all periods; "
                "maximise it.",
            ]
        else:
            lines = [
                f"You are participant {player + 1} of {p.n_players} sharing a pool of units "
                f"for {p.rounds} round(s).",
                f"The pool starts with {p.capacity} units and never holds more than that.",
                "Each round every participant, at the same time, asks to take between 0 and "
                f"{p.max_harvest} units.",
                "If the requests add up to more than the pool holds, the pool is divided in "
                "proportion to the requests (whole units).",
                f"After each round the units left in the pool are multiplied by {p.growth:g}, "
                f"up to {p.capacity}.",
                f"If fewer than {p.floor} units are left after a round, the pool is used up "
                "for good and the game ends.",
                "Each unit you take is worth 1 point. Your goal is to earn as many points as "
                "you can.",
            ]
        return "\n".join(lines)

    def render(self, obs: Observation[CommonsView]) -> str:
        v, w = obs.view, self.words
        head = f"{w.round.capitalize()} {v.round + 1} of {v.rounds}."
        if v.my_last < 0:
            past = f"This is the first {w.round}."
        else:
            others = ", ".join(str(h) for h in v.others_last)
            past = (f"Last {w.round} you got {v.my_last} {w.unit}; the others got {others}. "
                    f"Your total so far: {v.my_total}.")
        if v.stock == 0:
            return f"{past}\n{w.pool.capitalize()} has collapsed; the game is over."
        if v.round >= v.rounds:
            return f"{past}\nThe game is over."
        return (f"{head} {w.pool.capitalize()} holds {v.stock} {w.unit}. {past}\n"
                f"How many {w.unit} do you {w.take} (0 to {v.max_harvest})? "
                f'Answer with a JSON object like {{"harvest": {min(5, v.max_harvest)}}}.')

    def action_schema(self, obs: Observation[CommonsView]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"harvest": {"type": "integer", "minimum": 0,
                                       "maximum": obs.view.max_harvest}},
            "required": ["harvest"],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[CommonsView]) -> int:
        return get_int(extract_json_object(text), "harvest", text, 0, obs.view.max_harvest)

    def format_action(self, action: int, obs: Observation[CommonsView]) -> str:
        return f'{{"harvest": {action}}}'
