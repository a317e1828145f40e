"""Text face of GLEE bargaining.

Offers are ``{"alice_gain": K}``: the units of the money Alice gets, whoever offers (Bob
gets the rest), as in GLEE's ``{alice_gain, bob_gain}``; with ``messages`` the offer may
carry ``"message"`` (free text for the other player). Responses are
``{"decision": "accept"}`` or ``{"decision": "reject"}``. Only what the player knows is
told: the other's delta only under complete information, the horizon only when shown.
"""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.errors import IllegalActionError
from agora.envs.games.bargaining import ACCEPT, REJECT
from agora.envs.games.glee_bargaining import (
    GleeBargainingGame,
    GleeBargainView,
)
from agora.envs.text import TextFace, extract_json_object, get_choice, get_int

_DECISIONS = {"accept": ACCEPT, "reject": REJECT}
_NAMES = ("Alice", "Bob")
_SHOWN_OFFERS = 10  # rejected offers repeated in each prompt


def _money(x: float) -> str:
    """``12,345.5`` for amounts, ``0.001`` for small units (no trailing zeros)."""
    text = f"{x:,.2f}" if abs(x) >= 1 else f"{x:.4g}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cost(framing: str, who: str, delta: float) -> str:
    """How waiting costs ``who`` (``"you"`` or a name), in the framing's words."""
    if framing == "inflation":
        if delta == 1:
            return f"for {who} money keeps its value from round to round"
        return f"for {who} the money is worth {(1 - delta) * 100:.4g}% less each round"
    if framing == "discount":
        return (f"a deal in round r is worth the agreed amount times {delta:g}^(r-1) to "
                f"{who}")
    return (f"{who} receive{'' if who == 'you' else 's'} only {delta * 100:.4g}% of what "
            "was agreed for every round of delay, compounded")


class GleeBargainingText(TextFace[GleeBargainView]):
    """Prose for :class:`GleeBargainingGame`."""

    game: GleeBargainingGame

    def rules(self, player: int) -> str:
        p = self.game.params
        me, other = _NAMES[player], _NAMES[1 - player]
        unit = p.money / p.granularity
        if p.framing == "shrinking":
            opening = (f"You are {me}. You and {other} have found a sum of {_money(p.money)} "
                       "and must agree how to share it.")
        else:
            opening = (f"You are {me}, bargaining with {other} over how to divide "
                       f"{_money(p.money)}.")
        costs = [_cost(p.framing, "you", p.deltas[player])]
        if p.complete_info:
            costs.append(_cost(p.framing, other, p.deltas[1 - player]))
        else:
            costs.append(f"you do not know how waiting affects {other}")
        if p.horizon_shown:
            end = f"If no offer is accepted by the end of round {p.horizon}, both get nothing."
        else:
            end = ("The number of rounds is not announced; if the game ends without an accepted "
                   "offer, both get nothing.")
        lines = [
            opening,
            "Alice makes the first offer; when an offer is rejected, the player who rejected "
            "it makes the next offer in a new round.",
            f"An offer says how much Alice gets, in units: the money is cut into {p.granularity} "
            f"units of {_money(unit)} each, and Bob gets the units Alice does not.",
            "Timing matters: " + "; ".join(costs) + ".",
            end,
        ]
        if p.messages:
            lines.append(f'With an offer you may send {other} a short message (the "message" '
                         "field).")
        lines.append("Your goal is to end with as much value as you can.")
        return "\n".join(lines)

    def render(self, obs: Observation[GleeBargainView]) -> str:
        v = obs.view
        other = _NAMES[1 - v.player]
        unit = v.money / v.granularity
        head = f"Round {v.round}" + (f" of {v.horizon}." if v.horizon else ".")
        if v.past_offers:
            shown = v.past_offers[-_SHOWN_OFFERS:]
            first = len(v.past_offers) - len(shown) + 1
            past = "; ".join(f"round {first + i}: Alice {a}, Bob {v.granularity - a}"
                             for i, a in enumerate(shown))
            head += f" Rejected offers (units): {past}."
        if v.proposing:
            example = '{"alice_gain": 50' + (', "message": "..."}' if self._talk() else "}")
            return (f"{head} You make the offer. How many of the {v.granularity} units does "
                    f"Alice get (Bob gets the rest)?\nAnswer with a JSON object like {example}.")
        if v.offer_to_me >= 0:
            worth = v.offer_to_me * unit * v.my_delta ** (v.round - 1)
            alice = v.offer_to_me if v.player == 0 else v.granularity - v.offer_to_me
            return (f"{head} {other} offers: Alice {alice} units, Bob {v.granularity - alice} "
                    f"units ({v.offer_to_me} units for you, worth {_money(worth)} to you in "
                    'this round).\nAnswer with a JSON object: {"decision": "accept"} or '
                    '{"decision": "reject"}.')
        if v.over:
            return f"{head} The game is over."
        return f"{head} Waiting for {other}."

    def _talk(self) -> bool:
        return self.game.params.messages

    def action_schema(self, obs: Observation[GleeBargainView]) -> dict[str, Any]:
        v = obs.view
        if v.proposing:
            prop: dict[str, Any] = {
                "alice_gain": {"type": "integer", "minimum": 0, "maximum": v.granularity}}
            if self._talk():
                prop["message"] = {"type": "string"}
            key = "alice_gain"
        else:
            prop = {"decision": {"type": "string", "enum": list(_DECISIONS)}}
            key = "decision"
        return {"type": "object", "properties": prop, "required": [key],
                "additionalProperties": False}

    def decode(self, text: str, obs: Observation[GleeBargainView]) -> int:
        obj = extract_json_object(text)
        if obs.view.proposing:
            return get_int(obj, "alice_gain", text, 0, obs.view.granularity)
        return get_choice(obj, "decision", text, _DECISIONS)

    def format_action(self, action: int, obs: Observation[GleeBargainView]) -> str:
        if obs.view.proposing:
            return f'{{"alice_gain": {action}}}'
        if action not in (ACCEPT, REJECT):
            raise IllegalActionError(f"a responder answers accept (1) or reject (0), not {action}")
        return '{"decision": "accept"}' if action == ACCEPT else '{"decision": "reject"}'
