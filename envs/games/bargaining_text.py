"""Text face of alternating-offers bargaining.

Proposals are ``{"keep": K}`` (units of the pie the proposer keeps); responses are
``{"decision": "accept"}`` or ``{"decision": "reject"}``.
"""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.errors import IllegalActionError
from agora.envs.games.bargaining import ACCEPT, REJECT, BargainingGame, BargainView
from agora.envs.text import TextFace, extract_json_object, get_choice, get_int

_DECISIONS = {"accept": ACCEPT, "reject": REJECT}


class BargainingText(TextFace[BargainView]):
    """Prose for :class:`BargainingGame`."""

    game: BargainingGame

    def rules(self, player: int) -> str:
        p = self.game.params
        me, them = p.discounts[player], p.discounts[1 - player]
        first = "You" if player == 0 else "The other player"
        if p.framing == "story":
            opening = (f"You and a business partner must agree how to split a {p.pie:g} bonus "
                       f"({p.granularity} equal parts); you are partner {player + 1}.")
        else:
            opening = (f"You are player {player + 1} of 2, bargaining over how to split "
                       f"{p.pie:g} (divided into {p.granularity} equal units).")
        if p.framing == "inflation":
            cost = (f"Because of inflation, each round the money is worth {(1 - me) * 100:g}% "
                    f"less to you and {(1 - them) * 100:g}% less to the other player than in "
                    "the round before.")
        else:
            cost = (f"Waiting is costly: a deal in round r is worth your share times "
                    f"{me:g}^(r-1) to you and their share times {them:g}^(r-1) to the other "
                    "player.")
        return "\n".join([
            opening,
            f"{first} proposes in round 1; after a rejection the roles swap and a new round "
            "begins.",
            "A proposal says how many units the proposer keeps; the responder gets the rest.",
            cost,
            f"If there is no deal after round {p.horizon}, both get nothing.",
            "Your goal is to get as much value as you can.",
        ])

    def render(self, obs: Observation[BargainView]) -> str:
        v = obs.view
        head = f"Round {v.round} of at most {v.horizon}."
        if v.proposing:
            return (f"{head} You propose. How many of the {v.granularity} units do you keep?\n"
                    'Answer with a JSON object like {"keep": 60}.')
        if v.offer_to_me >= 0:
            value = v.offer_to_me / v.granularity * v.pie * v.my_discount ** (v.round - 1)
            return (f"{head} The other player offers you {v.offer_to_me} of the "
                    f"{v.granularity} units (worth {value:.4g} to you now).\n"
                    'Answer with a JSON object: {"decision": "accept"} or '
                    '{"decision": "reject"}.')
        return f"{head} Waiting for the other player."

    def action_schema(self, obs: Observation[BargainView]) -> dict[str, Any]:
        v = obs.view
        if v.proposing:
            prop = {"keep": {"type": "integer", "minimum": 0, "maximum": v.granularity}}
            key = "keep"
        else:
            prop = {"decision": {"type": "string", "enum": list(_DECISIONS)}}
            key = "decision"
        return {"type": "object", "properties": prop, "required": [key],
                "additionalProperties": False}

    def decode(self, text: str, obs: Observation[BargainView]) -> int:
        obj = extract_json_object(text)
        if obs.view.proposing:
            return get_int(obj, "keep", text, 0, obs.view.granularity)
        return get_choice(obj, "decision", text, _DECISIONS)

    def format_action(self, action: int, obs: Observation[BargainView]) -> str:
        if obs.view.proposing:
            return f'{{"keep": {action}}}'
        if action not in (ACCEPT, REJECT):
            raise IllegalActionError(f"a responder answers accept (1) or reject (0), not {action}")
        return '{"decision": "accept"}' if action == ACCEPT else '{"decision": "reject"}'
