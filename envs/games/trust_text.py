"""Text face of the trust game.

The investor answers ``{"send": X}`` and the trustee ``{"return": Y}``, whole tokens.
Three framings word the same rules: ``neutral`` (players and tokens), ``story`` (an
investor and an entrepreneur, in dollars) and ``loaded`` (trust that is honoured or
betrayed).
"""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.games.trust import TrustGame, TrustView
from agora.envs.text import TextFace, extract_json_object, get_int

_KEYS = ("send", "return")


def _amount(x: float, story: bool) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return f"${text}" if story else f"{text} tokens"


class TrustText(TextFace[TrustView]):
    """Prose for :class:`TrustGame` in the framing its params select."""

    game: TrustGame

    @property
    def _story(self) -> bool:
        return self.game.params.framing == "story"

    def _name(self, player: int) -> str:
        if self._story:
            return ("Alice", "Bob")[player]
        if self.game.params.framing == "loaded":
            return ("the investor", "the trustee")[player]
        return f"player {player + 1}"

    def rules(self, player: int) -> str:
        p = self.game.params
        e, m, story = p.endowment, f"{p.multiplier:g}", self._story
        if p.framing == "story":
            body = [
                f"You are {self._name(player)}. Alice, an investor, has {_amount(e, story)}; "
                "Bob runs a start-up.",
                "Alice may invest any whole number of dollars in Bob's start-up; every dollar "
                f"invested has grown to {m} dollars by the time Bob decides how much to pay "
                "back.",
                "Bob may pay back any whole number of dollars of what he holds and keeps the "
                "rest. There is no contract: he may pay back nothing.",
            ]
        elif p.framing == "loaded":
            body = [
                f"You are {self._name(player)} in a game of trust.",
                f"The investor receives {e} tokens and decides how many to entrust to the "
                f"trustee; every token entrusted is multiplied by {m}.",
                "The trustee then honours that trust by returning tokens, or betrays it by "
                "keeping them; any whole number of the tokens it holds may be returned.",
            ]
        else:
            body = [
                f"You are {self._name(player)} of two.",
                f"Player 1 receives {e} tokens and may send any whole number of them to "
                f"player 2; each token sent is multiplied by {m} on the way.",
                "Player 2 then returns any whole number of the tokens received to player 1 "
                "and keeps the rest.",
            ]
        return "\n".join([*body, "Each player keeps what it ends with; the game is played "
                          "once. Your goal is to end with as much money as you can."])

    def render(self, obs: Observation[TrustView]) -> str:
        v, story = obs.view, self._story
        other = self._name(1 - v.role)
        if v.investing:
            verb = "entrust to" if self.game.params.framing == "loaded" else "send to"
            return (f"You hold {_amount(v.endowment, story)}. How much do you {verb} {other} "
                    f"(0 to {v.endowment}; each unit becomes {v.multiplier:g})?\n"
                    f'Answer with a JSON object like {{"send": {v.endowment // 2}}}.')
        if v.returning:
            held = _amount(v.multiplier * v.sent, story)
            return (f"{other[0].upper() + other[1:]} sent {_amount(v.sent, story)}, so you "
                    f"now hold {held}. How much do you return (0 to {v.max_return})?\n"
                    f'Answer with a JSON object like {{"return": {v.max_return // 2}}}.')
        if v.over:
            return (f"The game is over: {_amount(v.sent, story)} sent, "
                    f"{_amount(v.returned, story)} returned.")
        return f"Waiting for {other}."

    def _bounds(self, v: TrustView) -> tuple[str, int]:
        """The answer key and the largest whole amount for this player's role."""
        if v.role == 0:
            return _KEYS[0], v.endowment
        return _KEYS[1], max(v.max_return, 0)

    def action_schema(self, obs: Observation[TrustView]) -> dict[str, Any]:
        key, high = self._bounds(obs.view)
        return {"type": "object",
                "properties": {key: {"type": "integer", "minimum": 0, "maximum": high}},
                "required": [key], "additionalProperties": False}

    def decode(self, text: str, obs: Observation[TrustView]) -> int:
        key, high = self._bounds(obs.view)
        return get_int(extract_json_object(text), key, text, 0, high)

    def format_action(self, action: int, obs: Observation[TrustView]) -> str:
        return f'{{"{self._bounds(obs.view)[0]}": {action}}}'
