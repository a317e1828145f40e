"""Text face of divide the dollar: answers are ``{"claim": K}`` (units)."""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.games.divide_dollar import DivideDollarGame, DivideView
from agora.envs.text import TextFace, extract_json_object, get_int

_NOUNS = {"neutral": "units", "story": "parts", "gameshow": "golds"}


class DivideDollarText(TextFace[DivideView]):
    """Prose for :class:`DivideDollarGame` in the framing ``params.framing``."""

    game: DivideDollarGame

    def rules(self, player: int) -> str:
        p = self.game.params
        g, n = p.granularity, p.n_players
        unit = p.total / g
        if p.framing == "neutral":
            lines = [
                f"You are player {player + 1} of {n}; the task has {p.rounds} round(s).",
                f"Each round every player states, at the same time, a whole number of units "
                f"from 0 to {g}. One unit is worth {unit:g}.",
                f"If the {n} numbers add up to at most {g}, each player receives its own "
                "number of units; if they add up to more, every player receives nothing.",
            ]
        elif p.framing == "story":
            lines = [
                f"You are heir {player + 1} of {n} sharing an estate worth {p.total:g}, cut "
                f"into {g} equal parts; the estate is settled anew {p.rounds} time(s).",
                f"Each time, every heir writes down, without seeing the others' notes, how many "
                f"parts (0 to {g}) they ask for.",
                f"If the requests add up to at most {g} parts, everyone gets what they asked "
                "for; if they add up to more, the court keeps the whole estate and nobody "
                "gets anything.",
            ]
        else:
            lines = [
                f"Welcome to the game show 'Divide the Gold'! You are contestant {player + 1} "
                f"of {n}, playing {p.rounds} round(s).",
                f"Rule 1: each round there are {g} golds on the table (each worth {unit:g}); "
                f"every contestant secretly proposes how many golds (0 to {g}) to take.",
                f"Rule 2: if the proposals add up to at most {g}, every contestant receives "
                f"the golds proposed; if they exceed {g}, all contestants receive nothing.",
            ]
        lines.append("Your goal is to earn as much money as you can over all rounds.")
        return "\n".join(lines)

    def render(self, obs: Observation[DivideView]) -> str:
        v = obs.view
        if v.my_last < 0:
            past = "This is the first round."
        else:
            claimed = v.my_last + sum(v.others_last)
            others = ", ".join(str(k) for k in v.others_last)
            verdict = ("so everyone was paid" if claimed <= v.granularity
                       else "which is too many, so nobody was paid")
            past = (f"Last round you asked for {v.my_last} and the others for {others}: "
                    f"{claimed} in all, {verdict}. Your total is {v.my_score:g}.")
        return (f"Round {v.round + 1} of {v.rounds}. {past}\n"
                f"How many {_NOUNS[self.game.params.framing]} from 0 to {v.granularity} do "
                "you claim? "
                'Answer with a JSON object like {"claim": 10}.')

    def action_schema(self, obs: Observation[DivideView]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"claim": {"type": "integer", "minimum": 0,
                                     "maximum": obs.view.granularity}},
            "required": ["claim"],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[DivideView]) -> int:
        return get_int(extract_json_object(text), "claim", text, 0, obs.view.granularity)

    def format_action(self, action: int, obs: Observation[DivideView]) -> str:
        return f'{{"claim": {action}}}'
