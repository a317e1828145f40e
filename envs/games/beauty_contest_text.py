"""Text face of the beauty contest: answers are ``{"guess": G}``."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from agora.envs.core import Observation
from agora.envs.games.beauty_contest import BeautyContestGame, BeautyView
from agora.envs.text import TextFace, extract_json_object, get_int


def fraction_text(x: float) -> str:
    """``2/3`` for a float that is a simple fraction, else the number itself.

    Example:
        >>> fraction_text(2 / 3), fraction_text(0.5), fraction_text(0.123456)
        ('2/3', '1/2', '0.123456')
    """
    f = Fraction(x).limit_denominator(20)
    return f"{f.numerator}/{f.denominator}" if abs(float(f) - x) < 1e-12 else f"{x:g}"


class BeautyContestText(TextFace[BeautyView]):
    """Prose for :class:`BeautyContestGame` in the framing ``params.framing``."""

    game: BeautyContestGame

    def rules(self, player: int) -> str:
        p = self.game.params
        frac = fraction_text(p.p)
        if p.framing == "neutral":
            lines = [
                f"You are player {player + 1} of {p.n_players}; the task has {p.rounds} "
                "round(s).",
                f"Each round every player picks, at the same time, a whole number from 0 to "
                f"{p.max_guess}.",
                f"Let A be the average of all {p.n_players} numbers. The target is "
                f"T = {frac} x A.",
            ]
        elif p.framing == "story":
            lines = [
                f"A newspaper runs a contest among {p.n_players} readers, one contest a week "
                f"for {p.rounds} week(s). You are reader {player + 1}.",
                f"Each week every reader mails in a whole number from 0 to {p.max_guess}, "
                "without seeing the others' entries.",
                f"The paper then averages all entries; the target is {frac} of that average.",
            ]
        else:
            lines = [
                f"Welcome to the game show 'Guess {frac} of the Average'! You are contestant "
                f"{player + 1} of {p.n_players}, and the show runs for {p.rounds} round(s).",
                f"Rule 1: each contestant secretly selects an integer between 0 and "
                f"{p.max_guess}, inclusive.",
                "Rule 2: after all selections are made, the average of all chosen numbers is "
                f"calculated, and the target number is {frac} of this average.",
            ]
        lines.append(self._payment_rule())
        lines.append("Your goal is to earn as much money as you can over all rounds.")
        return "\n".join(lines)

    def _payment_rule(self) -> str:
        p = self.game.params
        if p.payoff == "winner":
            return (f"The number(s) closest to the target win {p.prize:g} in total, shared "
                    "equally on a tie; everyone else gets 0 that round.")
        return (f"Everyone is paid {p.prize:g} x (1 - (distance to the target / "
                f"{p.max_guess})^2) each round, so the closer, the more.")

    def render(self, obs: Observation[BeautyView]) -> str:
        v = obs.view
        if v.my_last < 0:
            past = "This is the first round."
        else:
            mean = (v.my_last + sum(v.others_last)) / v.n_players
            others = ", ".join(str(g) for g in v.others_last)
            past = (f"Last round you chose {v.my_last}; the others chose {others}. The "
                    f"average was {mean:.2f} and the target {v.last_target:.2f}; you earned "
                    f"{v.my_last_payoff:g}. Your total is {v.my_score:g}.")
        return (f"Round {v.round + 1} of {v.rounds}. {past}\n"
                f"Which whole number from 0 to {v.max_guess} do you choose? "
                'Answer with a JSON object like {"guess": 25}.')

    def action_schema(self, obs: Observation[BeautyView]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"guess": {"type": "integer", "minimum": 0,
                                     "maximum": obs.view.max_guess}},
            "required": ["guess"],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[BeautyView]) -> int:
        return get_int(extract_json_object(text), "guess", text, 0, obs.view.max_guess)

    def format_action(self, action: int, obs: Observation[BeautyView]) -> str:
        return f'{{"guess": {action}}}'
