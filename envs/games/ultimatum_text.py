"""Text face of the ultimatum and dictator games.

Proposals are ``{"offer": K}`` (``{"give": K}`` in the dictator game), the units of the pie
handed to the other player; responses are ``{"decision": "accept"}`` or
``{"decision": "reject"}`` (the dictator's recipient can only accept). With
``messages=True`` a proposal may carry a free-text ``"message"`` for the other player.
Three framings word the same rules: ``neutral``, ``story`` (Alice and Bob share a gift of
money) and ``loaded`` (fair, generous and unfair offers).
"""

from __future__ import annotations

from typing import Any

from agora.envs.core import Observation
from agora.envs.errors import IllegalActionError
from agora.envs.games.ultimatum import ACCEPT, REJECT, UltimatumGame, UltimatumView
from agora.envs.text import TextFace, extract_json_object, get_choice, get_int

_DECISIONS = {"accept": ACCEPT, "reject": REJECT}


def _amount(x: float, story: bool) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return f"${text}" if story else text


def _rounds(n: int) -> str:
    return "one round" if n == 1 else f"{n} rounds"


class UltimatumText(TextFace[UltimatumView]):
    """Prose for :class:`UltimatumGame` in the framing its params select."""

    game: UltimatumGame

    # ----- wording --------------------------------------------------------------------
    @property
    def _story(self) -> bool:
        return self.game.params.framing == "story"

    @property
    def _units(self) -> str:
        return "shares" if self._story else "units"

    def _name(self, player: int) -> str:
        return ("Alice", "Bob")[player] if self._story else f"player {player + 1}"

    def _roles(self) -> tuple[str, str]:
        return ("giver", "recipient") if self.game.params.dictator else ("proposer", "responder")

    def _rules_core(self) -> list[str]:
        p = self.game.params
        pie, unit = _amount(p.pie, self._story), _amount(p.pie / p.granularity, self._story)
        giver, taker = self._roles()
        if p.framing == "story":
            times = "once" if p.rounds == 1 else f"{p.rounds} times over"
            head = (f"A benefactor hands Alice and Bob {pie}, {times}"
                    f"{'' if p.dictator else ', on one condition'}: the {giver} says how many "
                    f"of {p.granularity} equal shares (each worth {unit}) go to the other.")
            tail = ("The other has no say: whatever the giver decides is final."
                    if p.dictator else
                    "If the other agrees, the money is shared that way; if they refuse, the "
                    "benefactor takes it all back and neither gets anything.")
        elif p.framing == "loaded":
            head = (f"This is a fairness game of {_rounds(p.rounds)} over {pie}, divided "
                    f"into {p.granularity} equal units.")
            tail = (f"Each round the {giver} decides how generous to be: share fairly with the "
                    f"{taker} or keep it all; the {taker} must accept whatever it is given."
                    if p.dictator else
                    f"Each round the {giver} makes the {taker} an offer (fair, generous or "
                    f"unfair); the {taker} can accept it, or reject it as unfair, and then "
                    "both get nothing for that round.")
        else:
            each = "The game has one round, in which" if p.rounds == 1 else (
                f"The game has {p.rounds} rounds; in each")
            head = (f"{each} the {giver} divides {pie} into {p.granularity} equal units by "
                    f"offering some units to the {taker} and keeping the rest.")
            tail = (f"The {taker} cannot refuse: the split is final, and the {taker} only "
                    "confirms it." if p.dictator else
                    f"The {taker} then accepts, and both are paid as proposed, or rejects, "
                    "and neither is paid for that round.")
        return [head, tail]

    def rules(self, player: int) -> str:
        p = self.game.params
        giver, taker = self._roles()
        if p.alternate_roles:
            turn = (f"Roles alternate: {self._name(0)} is the {giver} in odd rounds and "
                    f"{self._name(1)} in even rounds.")
        else:
            turn = (f"{self._name(0).capitalize()} is the {giver} and {self._name(1)} the "
                    f"{taker} in every round.")
        lines = [f"You are {self._name(player)} of two.", *self._rules_core(), turn]
        if p.messages:
            lines.append(f'The {giver} may add a short "message" for the other player.')
        lines.append("Your goal is to earn as much money as you can.")
        return "\n".join(lines)

    # ----- turns ----------------------------------------------------------------------
    def _key(self) -> str:
        return "give" if self.game.params.dictator else "offer"

    def render(self, obs: Observation[UltimatumView]) -> str:
        v = obs.view
        head = f"Round {v.round} of {v.rounds}."
        if v.last_offer >= 0:
            outcome = "accepted" if v.last_accepted == 1 else "rejected"
            head += (f" Last round {v.last_offer} of the {v.granularity} {self._units} were "
                     f"offered ({outcome}).")
        other = self._name(1 - obs.player) if self._story else "the other player"
        if v.proposing:
            return f"{head}\n{self._ask_offer(v, other)}"
        if v.offer_to_me >= 0:
            return f"{head}\n{self._ask_decision(v, other)}"
        if v.over:
            return f"{head} The game is over."
        return f"{head} Waiting for {other}."

    def _ask_offer(self, v: UltimatumView, other: str) -> str:
        key, g = self._key(), v.granularity
        if self.game.params.framing == "loaded":
            question = (f"How generous are you? How many of the {g} units do you give {other} "
                        "(you keep the rest)?" if v.dictator else
                        f"How fair an offer do you make? How many of the {g} units do you offer "
                        f"{other} (you keep the rest)?")
        else:
            verb = "give" if v.dictator else "offer"
            question = (f"How many of the {g} {self._units} do you {verb} {other} (you keep the "
                        "rest)?")
        answer = f'Answer with a JSON object like {{"{key}": {g // 2}}}.'
        if self.game.params.messages:
            answer += ' You may add "message": "..." for the other player.'
        return f"{question}\n{answer}"

    def _ask_decision(self, v: UltimatumView, other: str) -> str:
        share = v.offer_to_me / v.granularity * v.pie
        mine = _amount(share, self._story)
        theirs = _amount(v.pie - share, self._story)
        verb, keep = ("gives", "keeps") if v.dictator else ("offers", "would keep")
        offer = (f"{other[0].upper() + other[1:]} {verb} you {v.offer_to_me} of the "
                 f"{v.granularity} {self._units} (worth {mine}) and {keep} {theirs}.")
        if v.dictator:
            return f'{offer} The split is final.\nConfirm with {{"decision": "accept"}}.'
        if self.game.params.framing == "loaded":
            offer += " Accept the offer, or reject it as unfair (both then get nothing)?"
        return (f"{offer}\n"
                'Answer with a JSON object: {"decision": "accept"} or {"decision": "reject"}.')

    def action_schema(self, obs: Observation[UltimatumView]) -> dict[str, Any]:
        v = obs.view
        props: dict[str, Any]
        if v.proposing:
            key = self._key()
            props = {key: {"type": "integer", "minimum": 0, "maximum": v.granularity}}
            if self.game.params.messages:
                props["message"] = {"type": "string"}
        else:
            key = "decision"
            legal = [name for name, a in _DECISIONS.items() if obs.action_mask[a]]
            props = {key: {"type": "string", "enum": legal or ["accept"]}}
        return {"type": "object", "properties": props, "required": [key],
                "additionalProperties": False}

    def decode(self, text: str, obs: Observation[UltimatumView]) -> int:
        obj = extract_json_object(text)
        if obs.view.proposing:
            return get_int(obj, self._key(), text, 0, obs.view.granularity)
        return get_choice(obj, "decision", text, _DECISIONS)

    def format_action(self, action: int, obs: Observation[UltimatumView]) -> str:
        if obs.view.proposing:
            return f'{{"{self._key()}": {action}}}'
        if action not in (ACCEPT, REJECT):
            raise IllegalActionError(f"a responder answers accept (1) or reject (0), not {action}")
        return '{"decision": "accept"}' if action == ACCEPT else '{"decision": "reject"}'
