"""Text face of the public goods game: answers are ``{"contribute": C}``."""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.games.public_goods import PublicGoodsGame, PublicGoodsView
from agora.envs.text import TextFace, extract_json_object, get_int


class PublicGoodsText(TextFace[PublicGoodsView]):
    """Prose for :class:`PublicGoodsGame`."""

    game: PublicGoodsGame

    def rules(self, player: int) -> str:
        p = self.game.params
        if p.framing == "neutral":
            return "\n".join([
                f"You are participant {player + 1} of {p.n_players} in a task with "
                f"{p.rounds} round(s).",
                f"Each round you receive {p.endowment} points and divide them between "
                "account A (yours alone) and account B (shared by all participants).",
                f"Account B's total is multiplied by {p.multiplier:g} and paid out in equal "
                f"parts to all {p.n_players} participants.",
                "Your payment is the sum of your points at the end.",
            ])
        if p.framing == "community":
            return "\n".join([
                f"You are one of {p.n_players} neighbours running a shared garden for "
                f"{p.rounds} season(s).",
                f"Each season every neighbour has {p.endowment} hours to spare and decides, "
                "without knowing the others' choice, how many to give to the garden.",
                f"Every hour given yields {p.multiplier:g} hours' worth of produce, shared "
                f"equally among all {p.n_players} neighbours; hours you keep are yours.",
                "Your goal is to end with as much value as you can.",
            ])
        return "\n".join([
            f"You are player {player + 1} in a group of {p.n_players}, playing {p.rounds} "
            "round(s).",
            f"Each round everyone receives {p.endowment} tokens and decides, at the same time, "
            "how many to put into a common pot.",
            f"The pot is multiplied by {p.multiplier:g} and shared equally among all "
            f"{p.n_players} players; tokens you keep stay yours.",
            "Your goal is to end with as many tokens as you can.",
        ])

    def render(self, obs: Observation[PublicGoodsView]) -> str:
        v = obs.view
        if v.my_last < 0:
            past = "This is the first round."
        else:
            others = ", ".join(str(c) for c in v.others_last)
            past = f"Last round you contributed {v.my_last}; the others contributed {others}."
        return (f"Round {v.round + 1} of {v.rounds}. {past}\n"
                f"How many of your {v.endowment} tokens do you contribute? "
                'Answer with a JSON object like {"contribute": 5}.')

    def action_schema(self, obs: Observation[PublicGoodsView]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"contribute": {"type": "integer", "minimum": 0,
                                          "maximum": obs.view.endowment}},
            "required": ["contribute"],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[PublicGoodsView]) -> int:
        return get_int(extract_json_object(text), "contribute", text, 0, obs.view.endowment)

    def format_action(self, action: int, obs: Observation[PublicGoodsView]) -> str:
        return f'{{"contribute": {action}}}'
