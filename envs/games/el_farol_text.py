"""Text face of the El Farol bar / minority game: answers are ``{"choice": "go"}``."""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.errors import IllegalActionError
from agora.envs.games.el_farol import GO, STAY, ElFarolGame, ElFarolView
from agora.envs.text import TextFace, extract_json_object, get_choice

# (stay label, go label) per framing; labels are what players answer.
_LABELS = {"neutral": ("B", "A"), "story": ("stay", "go"), "gameshow": ("stay", "go")}


class ElFarolText(TextFace[ElFarolView]):
    """Prose for :class:`ElFarolGame` in the framing ``params.framing``."""

    game: ElFarolGame

    def __init__(self, game: ElFarolGame) -> None:
        super().__init__(game)
        self._labels = _LABELS[game.params.framing]
        self._choices = {label.lower(): i for i, label in enumerate(self._labels)}

    def rules(self, player: int) -> str:
        p = self.game.params
        c, n = self.game.seats, p.n_players
        stay, go = self._labels
        if p.framing == "neutral":
            intro = [f"You are player {player + 1} of {n}; the task has {p.rounds} round(s).",
                     f'Each round every player chooses, at the same time, option "{go}" or '
                     f'option "{stay}".']
            counted = f'the number of players who choose "{go}"'
        elif p.framing == "story":
            if self.game.minority:
                intro = [f"You are commuter {player + 1} of {n} in a town with two routes to "
                         f"work, for {p.rounds} day(s).",
                         f'Each morning everyone picks, without knowing the others\' choice, '
                         f'the road ("{go}") or the rail line ("{stay}"); the less used '
                         "route is the fast one."]
            else:
                intro = [f"You are person {player + 1} of {n} in a small town with one bar, "
                         f"El Farol, and you plan {p.rounds} evening(s).",
                         f'Each evening everyone decides, without knowing the others\' plans, '
                         f'to go to the bar ("{go}") or to stay home ("{stay}").',
                         f"The bar is fun only when at most {c} people are there."]
            counted = "the number who go"
        else:
            intro = [f"Welcome to the game show 'Crowd Control'! You are contestant "
                     f"{player + 1} of {n}, playing {p.rounds} round(s).",
                     f'Rule 1: each round every contestant secretly answers "{go}" or '
                     f'"{stay}".']
            counted = f'the number of contestants answering "{go}"'
        return "\n".join([*intro, self._payment_rule(counted),
                          "Your goal is to earn as many points as you can over all rounds."])

    def _payment_rule(self, counted: str) -> str:
        p = self.game.params
        c = self.game.seats
        stay, go = self._labels
        if self.game.minority:
            return (f"Points each round: if {counted} is at most {c}, choosing \"{go}\" earns "
                    f"{p.good:g} and \"{stay}\" earns {p.bad:g}; if it is more than {c}, "
                    f"\"{go}\" earns {p.bad:g} and \"{stay}\" earns {p.good:g}.")
        return (f"Points each round: if {counted} is at most {c}, choosing \"{go}\" earns "
                f"{p.good:g}; if it is more than {c}, \"{go}\" earns {p.bad:g}. Choosing "
                f"\"{stay}\" always earns 0.")

    def render(self, obs: Observation[ElFarolView]) -> str:
        v = obs.view
        stay, go = self._labels
        if v.my_last < 0:
            past = "This is the first round."
        else:
            mine = self._labels[v.my_last]
            counts = ", ".join(str(a) for a in v.history)
            past = (f'Last round you chose "{mine}" and {v.history[-1]} of {v.n_players} chose '
                    f'"{go}". "{go}" counts so far, round by round: {counts}. '
                    f"Your total is {v.my_score:g}.")
        return (f"Round {v.round + 1} of {v.rounds}. {past}\n"
                f'Answer with a JSON object: {{"choice": "{go}"}} or {{"choice": "{stay}"}}.')

    def action_schema(self, obs: Observation[ElFarolView]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"choice": {"type": "string", "enum": list(self._labels)}},
            "required": ["choice"],
            "additionalProperties": False,
        }

    def decode(self, text: str, obs: Observation[ElFarolView]) -> int:
        return get_choice(extract_json_object(text), "choice", text, self._choices)

    def format_action(self, action: int, obs: Observation[ElFarolView]) -> str:
        if action not in (STAY, GO):
            raise IllegalActionError(f"action {action} is not 0 (stay) or 1 (go)")
        return f'{{"choice": "{self._labels[action]}"}}'
