"""Text face of GLEE negotiation.

Offers are ``{"product_price": K}`` (the price in units of ``money / granularity``), as in
GLEE's ``{product_price}``; with ``messages`` the offer may carry ``"message"``. Responses
are ``{"decision": "accept" | "reject" | "leave"}`` (no ``"reject"`` in the last round).
Each player is told its own value only.
"""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.errors import IllegalActionError
from agora.envs.games.glee_negotiation import (
    ACCEPT,
    LEAVE,
    REJECT,
    GleeNegotiationGame,
    GleeNegotiationView,
)
from agora.envs.text import TextFace, extract_json_object, get_choice, get_int

_DECISIONS = {"accept": ACCEPT, "reject": REJECT, "leave": LEAVE}
_LABELS = {ACCEPT: "accept", REJECT: "reject", LEAVE: "leave"}
_SHOWN_OFFERS = 10

# framing -> (seller, buyer, the good, the seller's outside buyer, the buyer's outside seller)
_WORDS = {
    "product": ("Alice", "Bob", "a product", "another buyer", "another seller"),
    "neutral": ("Player A", "Player B", "an item", "an outside party", "an outside party"),
    "house": ("Alice", "Bob", "a house", "another family", "another homeowner"),
}


def _money(x: float) -> str:
    """``12,345.5`` for amounts, ``0.001`` for small units (no trailing zeros)."""
    text = f"{x:,.2f}" if abs(x) >= 1 else f"{x:.4g}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class GleeNegotiationText(TextFace[GleeNegotiationView]):
    """Prose for :class:`GleeNegotiationGame`."""

    game: GleeNegotiationGame

    def rules(self, player: int) -> str:
        p = self.game.params
        seller, buyer, good, *outsiders = _WORDS[p.framing]
        outside = outsiders[player]
        me, other = (seller, buyer) if player == 0 else (buyer, seller)
        value = (p.seller_value, p.buyer_value)[player] * p.money
        if player == 0:
            role = (f"You are {seller}, selling {good} to {buyer}. It is worth {_money(value)} "
                    f"to you: you can always sell it to {outside} for exactly that.")
        else:
            role = (f"You are {buyer}, buying {good} from {seller}. It is worth {_money(value)} "
                    f"to you: you can always buy an equal one from {outside} for exactly that.")
        if p.horizon == 1:
            timing = (f"There is one round: {seller} names a price and {buyer} accepts it or "
                      "leaves.")
        else:
            timing = (f"{seller} names a price first; the other side accepts it, rejects it "
                      "and names its own price in the next round, or leaves. There are at "
                      f"most {p.horizon} rounds; in round {p.horizon} an offer can only be "
                      "accepted or left.")
        lines = [
            role,
            timing,
            f"Prices are whole units of {_money(p.unit)} (from 0 to {p.max_units} units).",
            "On a deal at price P the seller gains P minus its value and the buyer its value "
            "minus P. Whoever leaves trades with an outside party at its own value, so both "
            "gain 0; so does everyone when the rounds run out.",
        ]
        if p.messages and (player == 0 or p.horizon > 1):
            lines.append(f'With an offer you may send {other} a short message (the "message" '
                         "field).")
        lines.append(f"You are {me}. Your goal is to gain as much as you can.")
        return "\n".join(lines)

    def render(self, obs: Observation[GleeNegotiationView]) -> str:
        v = obs.view
        seller, buyer, *_ = _WORDS[self.game.params.framing]
        other = (buyer, seller)[v.player]
        head = f"Round {v.round} of {v.horizon}."
        if v.past_offers:
            shown = v.past_offers[-_SHOWN_OFFERS:]
            head += " Rejected prices (units): " + ", ".join(map(str, shown)) + "."
        if v.proposing:
            example = '{"product_price": 100' + (', "message": "..."}' if self._talk() else "}")
            return (f"{head} Name your price in units of {_money(v.unit)} (0 to "
                    f"{v.max_units}).\nAnswer with a JSON object like {example}.")
        if v.offer_to_me >= 0:
            choices = " or ".join(f'{{"decision": "{_LABELS[a]}"}}'
                                  for a in (ACCEPT, REJECT, LEAVE) if obs.action_mask[a])
            return (f"{head} {other} offers a price of {v.offer_to_me} units "
                    f"({_money(v.offer_to_me * v.unit)}); it is worth "
                    f"{_money(v.my_value)} to you.\nAnswer with a JSON object: {choices}.")
        if v.over:
            return f"{head} The negotiation is over."
        return f"{head} Waiting for {other}."

    def _talk(self) -> bool:
        return self.game.params.messages

    def action_schema(self, obs: Observation[GleeNegotiationView]) -> dict[str, Any]:
        v = obs.view
        if v.proposing:
            prop: dict[str, Any] = {
                "product_price": {"type": "integer", "minimum": 0, "maximum": v.max_units}}
            if self._talk():
                prop["message"] = {"type": "string"}
            key = "product_price"
        else:
            legal = [a for a in (ACCEPT, REJECT, LEAVE) if obs.action_mask[a]]
            prop = {"decision": {"type": "string", "enum": [_LABELS[a] for a in legal]}}
            key = "decision"
        return {"type": "object", "properties": prop, "required": [key],
                "additionalProperties": False}

    def decode(self, text: str, obs: Observation[GleeNegotiationView]) -> int:
        obj = extract_json_object(text)
        if obs.view.proposing:
            return get_int(obj, "product_price", text, 0, obs.view.max_units)
        return get_choice(obj, "decision", text, _DECISIONS)

    def format_action(self, action: int, obs: Observation[GleeNegotiationView]) -> str:
        if obs.view.proposing:
            return f'{{"product_price": {action}}}'
        if action not in _LABELS:
            raise IllegalActionError(
                f"a responder answers reject (0), accept (1) or leave (2), not {action}")
        return f'{{"decision": "{_LABELS[action]}"}}'
