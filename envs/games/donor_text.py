"""Text face of the donor game.

Answers: ``{"donate": X}`` (a whole number of units; with ``granularity > 1`` the amount
as a string from the listed grid, e.g. ``{"donate": "2.5"}``). With punishment or partner
choice the answer is one choice string instead: ``{"choice": "donate 3"}``,
``{"choice": "punish 2"}`` or ``{"choice": "refuse"}``. The recipient's trace is told in
prose, most recent action first. Three framings word the same rules: ``neutral`` (the
paper's donor setup), ``neighbours`` (favours on a street) and ``economics`` (transfers,
costs and surplus).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from agora.envs.core import Observation
from agora.envs.errors import ActionParseError, IllegalActionError
from agora.envs.games.donor import DONATE, PUNISH, REFUSE, DonorEvent, DonorGame, DonorView
from agora.envs.text import TextFace, extract_json_object, get_field, get_int

_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")

# Per framing: default label of a slot, the unit, the verb for giving, a round's name.
_WORDS: dict[str, dict[str, str]] = {
    "neutral": {"label": "Agent {}", "unit": "units", "give": "donated", "round": "round",
                "when": "In round"},
    "neighbours": {"label": "Household {}", "unit": "coins", "give": "did a favour worth",
                   "round": "day", "when": "On day"},
    "economics": {"label": "Player {}", "unit": "dollars", "give": "transferred",
                  "round": "period", "when": "In period"},
}


def fmt(value: float) -> str:
    """A number without float noise: ``3``, ``2.5``, ``0.333333``.

    Example:
        >>> fmt(3.0), fmt(2.5), fmt(1 / 3)
        ('3', '2.5', '0.333333')
    """
    if abs(value - round(value)) < 1e-9:
        return str(int(round(value)))
    return f"{value:.6f}".rstrip("0").rstrip(".")


class DonorText(TextFace[DonorView]):
    """Prose for :class:`DonorGame`."""

    game: DonorGame

    def __init__(self, game: DonorGame) -> None:
        super().__init__(game)
        p = game.params
        self.words = _WORDS[p.framing]
        self.choice = p.punishment or p.partner_choice
        self.key = "choice" if self.choice else "donate"
        g = p.granularity
        grid = range(game.cap_units + 1) if self.choice or g > 1 else range(0)
        self._amounts = {fmt(u / g): u for u in grid}  # answer strings -> grid units

    # ----- words -----------------------------------------------------------------
    def name(self, slot: int) -> str:
        """How the text calls agent ``slot`` (``names`` if given, else numbered)."""
        names = self.game.params.names
        return names[slot] if names else self.words["label"].format(slot + 1)

    def _units_phrase(self, value: float) -> str:
        unit = self.words["unit"]
        return f"{fmt(value)} {unit[:-1] if fmt(value) == '1' else unit}"

    def rules(self, player: int) -> str:
        p, w = self.game.params, self.words
        n, rounds, m = p.n_agents, self.game.num_rounds, fmt(p.multiplier)
        if p.framing == "neighbours":
            lines = [
                f"You are {self.name(player)}, one of {n} households on a street. Everyone "
                f"starts with {self._units_phrase(p.endowment)}, and what you have carries "
                f"over from day to day for {rounds} days.",
                "Each day you are paired with another household: one of you may do the other "
                "a favour. A favour costs the helper some coins and is worth "
                f"{m} times as much to the household helped.",
                "Before helping, you hear how much the other household has and how it, and "
                "the households it dealt with before, treated their neighbours recently.",
            ]
        elif p.framing == "economics":
            lines = [
                f"You are {self.name(player)} in a market of {n} players, each starting with "
                f"{self._units_phrase(p.endowment)}. Wealth carries over across {rounds} "
                "periods.",
                "Each period you are matched with another player as sender or receiver. A "
                f"transfer of x dollars costs the sender x and pays the receiver {m}x, so "
                f"every dollar transferred creates {fmt(p.multiplier - 1)} dollars of surplus.",
                "Senders observe the receiver's wealth and a record of its recent transfers "
                "and of the players it dealt with. Transfers are voluntary and unenforced.",
            ]
        else:
            lines = [
                f"Your name is {self.name(player)}. You are one of {n} players. Each player "
                f"is given an initial endowment of {self._units_phrase(p.endowment)} of a "
                f"valuable resource. Resources carry over for {rounds} rounds.",
                "In each round you are paired with another player. One of you is the donor "
                "and the other the recipient. The donor decides how many units to give up; "
                f"the recipient receives {m} times the number of units the donor gave up.",
                "As a donor you see the recipient's resources and what the recipient and its "
                "earlier partners did in previous rounds.",
            ]
        depth = p.trace_depth
        lines.append(f"The record goes back at most {depth} action(s)." if depth else
                     "In this game no record of past actions is shown.")
        lines.append(f"No single gift can be more than {self._units_phrase(p.max_donation)}.")
        if p.punishment:
            lines.append(f"Instead of giving, a {self._role()} may spend x {w['unit']} to take "
                         f"{fmt(p.punishment_loss)}x {w['unit']} away from the other side.")
        if p.partner_choice:
            lines.append(f"A {self._role()} may also refuse to deal with the other side.")
        lines.append(f"Your goal is to have as many {w['unit']} as possible after the last "
                     f"{w['round']}.")
        return "\n".join(lines)

    def _role(self) -> str:
        return {"neutral": "donor", "neighbours": "helper",
                "economics": "sender"}[self.game.params.framing]

    def describe(self, ev: DonorEvent) -> str:
        """One trace link in prose."""
        p, w = self.game.params, self.words
        who, whom = self.name(ev.donor), self.name(ev.recipient)
        when = f"{w['when']} {ev.round}"
        share = f"{ev.fraction:.0%} of what they could give"
        if ev.kind == REFUSE:
            return f"{when}, {who} refused to deal with {whom}."
        if ev.kind == DONATE and ev.amount == 0 and ev.fraction == 1.0:
            return f"{when}, {who} had nothing to give {whom}."
        if ev.kind == PUNISH:
            return (f"{when}, {who} punished {whom}: they spent {self._units_phrase(ev.amount)} "
                    f"({share}) to take away {self._units_phrase(-ev.effect)}.")
        if p.framing == "neighbours":
            return (f"{when}, {who} {w['give']} {self._units_phrase(ev.amount)} ({share}) "
                    f"for {whom}.")
        return f"{when}, {who} {w['give']} {self._units_phrase(ev.amount)} ({share}) to {whom}."

    def trace_prose(self, recipient: int, trace: tuple[DonorEvent, ...]) -> str:
        """The recipient's trace as sentences, most recent first."""
        if not trace:
            return f"{self.name(recipient)} has not yet been a {self._role()}."
        parts = [self.describe(ev) for ev in trace]
        joined = " Before that: ".join(parts)
        return f"What {self.name(recipient)} and its earlier partners did: {joined}"

    # ----- turns -----------------------------------------------------------------
    def render(self, obs: Observation[DonorView]) -> str:
        v, w = obs.view, self.words
        head = (f"{w['round'].capitalize()} {v.round} of {v.rounds}. You have "
                f"{self._units_phrase(v.my_resources)}.")
        if not v.donating:
            if v.donor < 0:
                return f"{head} The game is over."
            return (f"{head} {self.name(v.donor)} is deciding about {self.name(v.recipient)} "
                    "now; wait for your turn.")
        rec = self.name(v.recipient)
        return "\n".join([
            f"{head} You are the {self._role()}; you are paired with {rec}, who has "
            f"{self._units_phrase(v.recipient_resources)}.",
            self.trace_prose(v.recipient, v.recipient_trace),
            self._answer_format(obs),
        ])

    def _answer_format(self, obs: Observation[DonorView]) -> str:
        v, unit = obs.view, self.words["unit"]
        top = fmt(v.affordable / v.granularity)
        if not self.choice:
            if v.granularity == 1:
                return (f"How many {unit} do you give (a whole number from 0 to {top})? "
                        'Answer with a JSON object like {"donate": 3}.')
            return (f"How many {unit} do you give (a multiple of {fmt(1 / v.granularity)} "
                    f'from 0 to {top}, as a string)? Answer with a JSON object like '
                    '{"donate": "2.5"}.')
        options = [f'"donate X" (X from 0 to {top})']
        if self.game.params.punishment and v.affordable > 0:
            options.append(f'"punish X" (X from {fmt(1 / v.granularity)} to {top})')
        if self.game.params.partner_choice:
            options.append('"refuse"')
        return (f"Choose one of {', '.join(options)}. Answer with a JSON object like "
                '{"choice": "donate 3"}.')

    def label(self, action: int) -> str:
        """The answer value of ``action`` (an int for whole-unit donations)."""
        kind, units = self.game.decode_action(action)
        amount = fmt(units / self.game.params.granularity)
        if not self.choice:
            return amount
        return REFUSE if kind == REFUSE else f"{kind} {amount}"

    def action_schema(self, obs: Observation[DonorView]) -> dict[str, Any]:
        legal = obs.legal_actions.tolist()
        if not self.choice and self.game.params.granularity == 1:
            prop: dict[str, Any] = {"type": "integer", "minimum": 0,
                                    "maximum": obs.view.affordable if legal else -1}
        else:
            prop = {"type": "string", "enum": [self.label(a) for a in legal]}
        return {"type": "object", "properties": {self.key: prop}, "required": [self.key],
                "additionalProperties": False}

    def decode(self, text: str, obs: Observation[DonorView]) -> int:
        obj = extract_json_object(text)
        cap = self.game.cap_units
        if not self.choice and self.game.params.granularity == 1:
            return get_int(obj, "donate", text, 0, cap)
        raw = get_field(obj, self.key, text)
        if not self.choice:
            return self._amount(raw, text)
        words = raw.strip().lower().split() if isinstance(raw, str) else []
        p = self.game.params
        if words == [REFUSE] and p.partner_choice:
            return self.game.refuse_action
        if len(words) == 2 and (words[0] == DONATE or (words[0] == PUNISH and p.punishment)):
            units = self._amount(words[1], text)
            if words[0] == PUNISH and units == 0:
                raise IllegalActionError("a punishment must spend more than 0")
            return self.game.encode_action(words[0], units)
        allowed = ['"donate X"'] + ['"punish X"'] * p.punishment + ['"refuse"'] * (
            p.partner_choice)
        raise ActionParseError(f'"choice" must be one of {", ".join(allowed)}, got {raw!r}',
                               text)

    def _amount(self, raw: Any, text: str) -> int:
        """Grid units of an amount given as a grid string or a number on the grid."""
        if isinstance(raw, str) and raw.strip() in self._amounts:
            return self._amounts[raw.strip()]
        number = isinstance(raw, (int, float)) and not isinstance(raw, bool)
        numeral = isinstance(raw, str) and len(raw) < 30 and _NUMBER.fullmatch(raw.strip())
        value = float(raw) if number or numeral else None
        g, cap = self.game.params.granularity, self.game.cap_units
        if value is None or not math.isfinite(value):
            raise ActionParseError(f'"{self.key}" needs an amount, got {raw!r}', text)
        if not 0 <= value * g <= cap + 1e-6:
            raise IllegalActionError(f"amount {raw!r} is outside 0..{fmt(cap / g)}")
        if abs(value * g - round(value * g)) > 1e-6:
            raise ActionParseError(
                f'"{self.key}" needs a multiple of {fmt(1 / g)}, got {raw!r}', text)
        return round(value * g)

    def format_action(self, action: int, obs: Observation[DonorView]) -> str:
        if not obs.view.donating:
            raise IllegalActionError("only the donor of the current pair answers now")
        if not 0 <= action < self.game.num_actions:
            raise IllegalActionError(f"{action} is not an action of this game")
        label = self.label(action)
        if not self.choice and self.game.params.granularity == 1:
            return json.dumps({"donate": int(label)})
        return json.dumps({self.key: label})
