"""Text face of the repeated 2x2 game: rules, prose turns, a JSON answer format."""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.games.repeated_matrix import MatrixView, RepeatedMatrixGame
from agora.envs.text import TextFace, extract_json_object, get_choice


class RepeatedMatrixText(TextFace[MatrixView]):
    """Prose for :class:`RepeatedMatrixGame`; answers look like ``{"action": "defect"}``."""

    game: RepeatedMatrixGame

    def __init__(self, game: RepeatedMatrixGame) -> None:
        super().__init__(game)
        self.framing = game.params.framing
        if self.framing == "neutral":
            labels = ["A", "B"]
        else:
            labels = [s.strip() for s in game.params.labels]
        self._labels = labels
        self._choices = {label.lower(): i for i, label in enumerate(labels)}

    def _opening(self, player: int) -> list[str]:
        a, b = self._labels
        if self.framing == "neutral":
            return [f"You are participant {player + 1} of 2 in a decision task that repeats.",
                    f"In every round each participant picks option '{a}' or option '{b}'; "
                    "neither sees the other's pick before choosing.",
                    "Points per round (yours, the other participant's):"]
        if self.framing == "business":
            return [f"You run company {player + 1} of 2 competing in the same market.",
                    f"Every quarter both companies commit to a plan, '{a}' or '{b}', "
                    "without knowing the rival's plan.",
                    "Profit per quarter in millions (yours, the rival's):"]
        return [f"You are player {player + 1} of 2 in a repeated game.",
                f"Each round both players choose, at the same time, either '{a}' or '{b}'.",
                "Points per round (yours, the other player's):"]

    def rules(self, player: int) -> str:
        p = self.game.params
        a, b = self._labels
        lines = self._opening(player)
        for i, mine in enumerate((a, b)):
            for j, theirs in enumerate((a, b)):
                cell = p.payoffs[i][j] if player == 0 else p.payoffs[j][i]
                u_me, u_them = (cell[0], cell[1]) if player == 0 else (cell[1], cell[0])
                lines.append(f"- you {mine}, they {theirs}: you get {u_me:g}, they get {u_them:g}")
        if p.delta > 0:
            lines.append(f"After each round the game continues with probability {p.delta:g} "
                         f"(at most {p.rounds} rounds).")
        else:
            lines.append(f"The game lasts exactly {p.rounds} rounds.")
        lines.append("Your goal is to earn as many points as you can.")
        return "\n".join(lines)

    def render(self, obs: Observation[MatrixView]) -> str:
        v = obs.view
        if v.my_last < 0:
            past = "This is the first round."
        else:
            past = (f"Last round you chose '{self._labels[v.my_last]}' and the other player "
                    f"chose '{self._labels[v.their_last]}'.")
        return (f"Round {v.round + 1}. {past} Score so far: you {v.my_score:g}, "
                f"them {v.their_score:g}.\n"
                f'Answer with a JSON object: {{"action": "{self._labels[0]}"}} or '
                f'{{"action": "{self._labels[1]}"}}.')

    def action_schema(self, obs: Observation[MatrixView]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"action": {"type": "string", "enum": list(self._labels)}},
            "required": ["action"],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[MatrixView]) -> int:
        return get_choice(extract_json_object(text), "action", text, self._choices)

    def format_action(self, action: int, obs: Observation[MatrixView]) -> str:
        return f'{{"action": "{self._labels[action]}"}}'
