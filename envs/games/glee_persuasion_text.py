"""Text face of GLEE persuasion.

The seller answers ``{"recommendation": "buy" | "do not buy"}``; in text mode its answer
also carries ``"message"``, the free text the buyer reads (the cheap-talk channel routes
it). The buyer answers ``{"decision": "buy" | "pass"}``. A myopic buyer is told only the
aggregate statistics of earlier rounds.
"""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.errors import IllegalActionError
from agora.envs.games.glee_persuasion import (
    BUY,
    NO,
    SELLER,
    GleePersuasionGame,
    GleePersuasionView,
)
from agora.envs.text import TextFace, extract_json_object, get_choice

_RECOMMEND = {"buy": BUY, "do not buy": NO}
_DECIDE = {"buy": BUY, "pass": NO}
_SHOWN_ROUNDS = 10

# framing -> (seller, buyer, the good (noun), its high / low quality)
_WORDS = {
    "product": ("Alice (the seller)", "Bob (the buyer)", "product",
                ("high quality", "low quality")),
    "neutral": ("Player A", "Player B", "item", ("good", "bad")),
    "advisor": ("Alice (a financial advisor)", "Bob (her client)", "investment",
                ("sound", "poor")),
}


def _money(x: float) -> str:
    """``12,345.5`` for amounts, ``0.001`` for small units (no trailing zeros)."""
    text = f"{x:,.2f}" if abs(x) >= 1 else f"{x:.4g}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class GleePersuasionText(TextFace[GleePersuasionView]):
    """Prose for :class:`GleePersuasionGame`."""

    game: GleePersuasionGame

    def rules(self, player: int) -> str:
        p = self.game.params
        seller, buyer, good, (high, low) = _WORDS[p.framing]
        lines = [
            f"{seller} offers {buyer} a new {good} at a price of {_money(p.price)} in each of "
            f"{p.rounds} rounds.",
            f"Each round it is {high} with probability {p.p_high:.3g} and {low} otherwise; "
            "the seller sees which before the buyer decides, the buyer does not.",
            f"A {high} {good} is worth {_money(p.value_high * p.price)} to the buyer, a {low} "
            f"one {_money(p.value_low * p.price)}. The seller earns {_money(p.price)} per sale "
            "whatever the quality.",
            "Each round the seller first recommends buying or not"
            + (" and writes a message to the buyer" if p.message_mode == "text" else "")
            + "; then the buyer buys or passes and learns the quality.",
        ]
        if p.message_mode == "text":
            lines.append("The buyer sees only the seller's written message, not its "
                         "recommendation.")
        if p.myopic:
            lines.append("A new buyer comes every round and is told only how many earlier "
                         "buyers bought and how many of the products were of each quality.")
        else:
            lines.append("The same buyer plays every round and remembers every round.")
        me = seller if player == SELLER else buyer
        goal = "sell as much as you can" if player == SELLER else "gain as much as you can"
        lines.append(f"You are {me.split(' (')[0]}. Your goal is to {goal}.")
        return "\n".join(lines)

    def render(self, obs: Observation[GleePersuasionView]) -> str:
        v = obs.view
        _, _, good, (high, low) = _WORDS[self.game.params.framing]
        head = f"Round {v.round} of {v.rounds}. {self._past(v, high)}"
        if v.over:
            return f"{head} The game is over."
        if not obs.action_mask.any():
            return f"{head} Waiting for the other player."
        if v.player == SELLER:
            quality = high if v.quality else low
            example = '{"recommendation": "buy"' + (
                ', "message": "..."}' if v.text_mode else "}")
            return (f"{head} This round the {good} is {quality}. Do you recommend buying it?"
                    f'\nAnswer with a JSON object like {example} ("buy" or "do not buy").')
        if v.text_mode:
            said = "The seller's message for this round, if it wrote one, is in your messages."
        else:
            said = "The seller recommends: " + ("buy." if v.recommendation == BUY
                                                 else "do not buy.")
        return (f"{head} {said} Do you buy at {_money(v.price)}?\n"
                'Answer with a JSON object: {"decision": "buy"} or {"decision": "pass"}.')

    def _past(self, v: GleePersuasionView, high: str) -> str:
        a = v.past
        if not a.rounds:
            return "This is the first round."
        counts = (f"In the {a.rounds} earlier round(s) {a.purchases} product(s) were bought, "
                  f"{a.high} were {high}, and {a.purchases_high} of those bought were {high}.")
        if not v.history:  # a myopic buyer sees the counts only
            return counts
        shown = v.history[-_SHOWN_ROUNDS:]
        first = len(v.history) - len(shown) + 1
        rows = "; ".join(
            f"round {first + i}: " + (f"recommended {'buy' if r == BUY else 'do not buy'}, "
                                      if r >= 0 else "")
            + f"{'bought' if b else 'passed'}, {high if q else 'not ' + high}"
            for i, (r, b, q) in enumerate(shown))
        return f"{counts} Recent rounds: {rows}."

    def action_schema(self, obs: Observation[GleePersuasionView]) -> dict[str, Any]:
        v = obs.view
        if v.player == SELLER:
            prop: dict[str, Any] = {"recommendation": {"type": "string",
                                                       "enum": list(_RECOMMEND)}}
            required = ["recommendation"]
            if v.text_mode:
                prop["message"] = {"type": "string"}
                required.append("message")
        else:
            prop = {"decision": {"type": "string", "enum": list(_DECIDE)}}
            required = ["decision"]
        return {"type": "object", "properties": prop, "required": required,
                "additionalProperties": False}

    def decode(self, text: str, obs: Observation[GleePersuasionView]) -> int:
        obj = extract_json_object(text)
        if obs.view.player == SELLER:
            return get_choice(obj, "recommendation", text, _RECOMMEND)
        return get_choice(obj, "decision", text, _DECIDE)

    def format_action(self, action: int, obs: Observation[GleePersuasionView]) -> str:
        if action not in (BUY, NO):
            raise IllegalActionError(f"answers are buy (1) or not (0), not {action}")
        if obs.view.player == SELLER:
            label = "buy" if action == BUY else "do not buy"
            return f'{{"recommendation": "{label}"}}'
        return f'{{"decision": "{"buy" if action == BUY else "pass"}"}}'
