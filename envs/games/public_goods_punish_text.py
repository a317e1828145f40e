"""Text face of the public goods game with punishment.

Contribution stage answers are ``{"contribute": C}``; punishment stage answers are
``{"punish": P}`` (the total points spent, applied to the lowest other contributor(s)).
"""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.games.public_goods_punish import PublicGoodsPunishGame, PunishView, targets
from agora.envs.text import TextFace, extract_json_object, get_int

_WORDS = {  # framing -> (what the endowment is counted in, what a punishment point is)
    "neutral": ("points", "deduction point"),
    "project": ("credits", "complaint"),
    "economic": ("tokens", "punishment point"),
}


def _label(j: int) -> str:
    return f"player {j + 1}"


class PublicGoodsPunishText(TextFace[PunishView]):
    """Prose for :class:`PublicGoodsPunishGame` in the wording ``params.framing`` selects."""

    game: PublicGoodsPunishGame

    def rules(self, player: int) -> str:
        p = self.game.params
        framing = p.framing
        if framing == "project":
            lines = [
                f"You are team member {player + 1} of {p.n_players} working on a shared project "
                f"for {p.rounds} week(s).",
                f"Each week every member gets {p.endowment} credits and decides, without seeing "
                "the others' choices, how many to invest in the project; the rest they keep.",
                f"The project turns each credit invested into {p.multiplier:g} credits of bonus, "
                f"split equally among all {p.n_players} members.",
                "Then everyone sees what each member invested, and each member may file "
                f"complaints (0 to {p.max_punish}) against the member who invested least "
                "among the others (several equally low members share the complaints).",
                f"Each complaint costs you {p.punish_cost:g} credit(s) and docks "
                f"{p.punish_effect:g} credits from that member's pay.",
                "Your goal is to end with as many credits as you can.",
            ]
        elif framing == "economic":
            mpcr = p.multiplier / p.n_players
            lines = [
                f"You are subject {player + 1} of {p.n_players} in a linear public goods game "
                f"with costly punishment, repeated for {p.rounds} period(s) in a fixed group.",
                f"Stage 1: each subject allocates an endowment of {p.endowment} tokens between "
                "a private account and the public good, simultaneously.",
                f"Payoff from stage 1: {p.endowment} - own contribution + {p.multiplier:g} x "
                f"total contributions / {p.n_players} (marginal per-capita return {mpcr:g}).",
                "Stage 2: after observing all contributions, each subject assigns 0 to "
                f"{p.max_punish} punishment points, which fall on the lowest contributor(s) "
                "among the other subjects (split equally when tied).",
                f"Each point costs the punisher {p.punish_cost:g} and reduces the target's "
                f"payoff by {p.punish_effect:g} in total.",
                "Your payoff is the sum over all periods; maximise it.",
            ]
        else:
            lines = [
                f"You are participant {player + 1} of {p.n_players} in a task with {p.rounds} "
                "round(s), each in two steps.",
                f"Step 1: you receive {p.endowment} points and divide them between account A "
                "(yours alone) and account B (shared by all participants).",
                f"Account B's total is multiplied by {p.multiplier:g} and paid out in equal "
                f"parts to all {p.n_players} participants.",
                "Step 2: you see what everyone put into account B and may assign 0 to "
                f"{p.max_punish} deduction points to the participant(s) who put in least "
                "among the others (split equally when several are tied).",
                f"Each deduction point costs you {p.punish_cost:g} and removes "
                f"{p.punish_effect:g} points from them.",
                "Your payment is the sum of your points at the end.",
            ]
        return "\n".join(lines)

    def _contributions(self, v: PunishView, player: int) -> str:
        parts = []
        others = iter(v.others_last)
        for j in range(v.n_players):
            c = v.my_last if j == player else next(others)
            parts.append(f"you: {c}" if j == player else f"{_label(j)}: {c}")
        return ", ".join(parts)

    def render(self, obs: Observation[PunishView]) -> str:
        v, me = obs.view, obs.player
        unit, point = _WORDS[self.game.params.framing]
        if not obs.action_mask.any():
            return f"The game is over. Your total: {v.my_total:g} {unit}."
        head = f"Round {v.round + 1} of {v.rounds}."
        if v.punishing:
            mine = list(v.others_last)
            mine.insert(me, v.my_last)
            hit = ", ".join(_label(j) for j in targets(tuple(mine), me))
            return (f"{head} Punishment step. Contributions this round: "
                    f"{self._contributions(v, me)}.\n"
                    f"Your {point}s would fall on {hit}. Each costs you {v.punish_cost:g} and "
                    f"removes {v.punish_effect:g} {unit} from them.\n"
                    f"How many {point}s do you assign (0 to {v.max_punish})? "
                    'Answer with a JSON object like {"punish": 0}.')
        if v.my_last < 0:
            past = "This is the first round."
        else:
            past = (f"Last round's contributions: {self._contributions(v, me)}. You assigned "
                    f"{v.my_points_last} {point}(s) and lost {v.my_loss_last:g} {unit} to "
                    f"others' {point}s.")
        return (f"{head} Contribution step. {past}\n"
                f"How many of your {v.endowment} {unit} do you contribute? "
                'Answer with a JSON object like {"contribute": 5}.')

    def _key(self, v: PunishView) -> tuple[str, int]:
        return ("punish", v.max_punish) if v.punishing else ("contribute", v.endowment)

    def action_schema(self, obs: Observation[PunishView]) -> dict[str, Any]:
        key, high = self._key(obs.view)
        return {
            "type": "object",
            "properties": {key: {"type": "integer", "minimum": 0, "maximum": high}},
            "required": [key],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[PunishView]) -> int:
        key, high = self._key(obs.view)
        return get_int(extract_json_object(text), key, text, 0, high)

    def format_action(self, action: int, obs: Observation[PunishView]) -> str:
        key, _ = self._key(obs.view)
        return f'{{"{key}": {action}}}'
