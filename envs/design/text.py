"""The text face of a design world: rules in story or no-story framing, turns, parsers.

Every prompt comes from the model's one declaration (``story`` / ``abstract``, the design
fields and their descriptions, the goals, ``format_outcome``), so no world writes prose
twice. Parsers are strict: a reply must hold a JSON object
(:func:`~agora.envs.text.extract_json_object`); an unreadable reply raises
:class:`~agora.envs.errors.ActionParseError` and a readable but invalid design raises
:class:`~agora.envs.errors.IllegalActionError`, each with a reason fit for a re-ask.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from agora.envs.design.model import Goal, Model
from agora.envs.design.world import DesignState, DesignWorld
from agora.envs.errors import ActionParseError
from agora.envs.text import extract_json_object, get_field

Schema = dict[str, Any]
PROSE_DIGITS = 6
"""Significant digits of designs shown in prose (history lines, eval questions)."""


def _number(obj: dict[str, Any], key: str, text: str) -> float:
    raw = get_field(obj, key, text)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ActionParseError(f'"{key}" must be a number, got {raw!r}'[:200], text)
    try:
        value = float(raw)
    except OverflowError:
        raise ActionParseError(f'"{key}" is too large a number', text) from None
    if not math.isfinite(value):
        raise ActionParseError(f'"{key}" must be a finite number, got {raw!r}', text)
    return value


def _plain(v: float, integer: bool) -> int | float:
    return int(round(v)) if integer else float(v)


def count_words(text: str) -> int:
    """Words separated by whitespace.

    Example:
        >>> count_words("  The rate  falls\\nwith x. ")
        5
    """
    return len(text.split())


def truncate_words(text: str, limit: int) -> str:
    """The first ``limit`` words of ``text`` (single-spaced)."""
    return " ".join(text.split()[:limit])


class DesignText:
    """Prose and parsers for one design world (``story`` defaults to the world's param).

    Example:
        >>> face = DesignText(DesignWorld({"model": "linear_gaussian", "n_particles": 64}))
        >>> face.parse_design('I pick {"x": 0.5}')
        array([0.5])
        >>> face.parse_design('{"x": 5}')
        Traceback (most recent call last):
        ...
        agora.envs.errors.IllegalActionError: design x=5.0 is outside [-1.0, 1.0]
    """

    def __init__(self, world: DesignWorld, story: bool | None = None) -> None:
        self.world = world
        self.story = world.params.story if story is None else bool(story)

    # ----- rules --------------------------------------------------------------------
    def rules(self, player: int = 0, model: Model | None = None) -> str:
        """The system prompt: the world, the design fields, the budget and the goals
        (``model``: this episode's instance, with its covariates)."""
        model = model or self.world.model
        p = self.world.params
        intro = model.story if self.story else model.abstract
        parts = [intro.strip(), "", "Each experiment is a design with these values:"]
        parts += [f"- {line}" for line in self.field_lines(model)]
        context = model.describe_context()
        if context:
            parts += ["", context.strip()]
        parts += ["", f"You can run {p.budget} experiments, one at a time; after each you "
                      "see its outcome. Choose designs that teach you the most.",
                  "Afterwards you will be asked:"]
        parts += [f"- {g.description}" for g in model.goals]
        return "\n".join(parts)

    def field_lines(self, model: Model) -> list[str]:
        """One line per design field: name, meaning (story framing), type and range."""
        out = []
        for f in model.design_space.fields:
            kind = "an integer" if f.integer else "a number"
            what = f" ({f.description})" if self.story and f.description else ""
            out.append(f"{f.name}{what}: {kind} from {_fmt(f.low)} to {_fmt(f.high)}")
        return out

    # ----- designs ------------------------------------------------------------------
    def design_schema(self, model: Model | None = None) -> Schema:
        """JSON schema of a design: one number/integer property per field, with bounds."""
        model = model or self.world.model
        props = {f.name: {"type": "integer" if f.integer else "number",
                          "minimum": _plain(f.low, f.integer),
                          "maximum": _plain(f.high, f.integer)}
                 for f in model.design_space.fields}
        return {"type": "object", "properties": props, "required": list(props)}

    def history_lines(self, state: DesignState,
                      outcome_texts: Sequence[str] | None = None) -> list[str]:
        """The experiments so far, one line each."""
        lines = []
        for i, (d, y) in enumerate(zip(state.designs, state.outcomes)):
            said = (outcome_texts[i] if outcome_texts is not None
                    else state.model.format_outcome(d, y, self.story))
            lines.append(f"{i + 1}. {self.format_design(d, state.model, PROSE_DIGITS)} -> "
                         f"{said}")
        return lines

    def design_turn(self, state: DesignState, outcome_texts: Sequence[str] | None = None
                    ) -> tuple[str, Schema]:
        """This experiment's prose (the history so far) and the design schema."""
        p = self.world.params
        lines = self.history_lines(state, outcome_texts)
        head = (["Experiments so far (design -> outcome):", *lines] if lines
                else ["No experiments yet."])
        fields = state.model.design_space.names
        keys = (f"the keys {', '.join(json.dumps(n) for n in fields)}" if len(fields) <= 6
                else "one key per design value listed in the rules")
        head += ["", f"Experiment {state.step + 1} of {p.budget}: choose the design. Answer "
                     f"with a JSON object with {keys}."]
        return "\n".join(head), self.design_schema(state.model)

    def format_design(self, design: Sequence[float] | np.ndarray,
                      model: Model | None = None, digits: int | None = None) -> str:
        """Canonical JSON of a design (parses back to the same design); ``digits``: round
        to that many significant digits (shorter prose for the history and queries)."""
        model = model or self.world.model
        values = np.asarray(design, dtype=float).reshape(-1)
        if digits is not None:
            values = np.array([float(f"{v:.{digits}g}") for v in values])
        return json.dumps({f.name: _plain(v, f.integer)
                           for f, v in zip(model.design_space.fields, values)})

    def parse_design(self, reply: str, model: Model | None = None) -> np.ndarray:
        """A reply's design, validated by the model.

        Raises:
            ActionParseError: no JSON object, a missing key or a non-number.
            IllegalActionError: outside the box, not an integer, or a model constraint.
        """
        model = model or self.world.model
        obj = extract_json_object(reply)
        x = [_number(obj, name, reply) for name in model.design_space.names]
        return model.validate_design(x)

    # ----- the text-face protocol (agora.envs.text.TextProtocol), on a design turn -----
    def render(self, state: DesignState) -> str:
        """This experiment's prose (the outcomes in the world's own words)."""
        return self.design_turn(state)[0]

    def action_schema(self, state: DesignState) -> Schema:
        return self.design_schema(state.model)

    def parse(self, text: str, state: DesignState) -> np.ndarray:
        return self.parse_design(text, state.model)

    def format_action(self, design: np.ndarray, state: DesignState) -> str:
        return self.format_design(design, state.model)

    # ----- queries ------------------------------------------------------------------
    def answer_schema(self, goal: Goal) -> Schema:
        """JSON schema of an answer: one number per answer name."""
        props = {n: {"type": "number"} for n in goal.answer_names}
        return {"type": "object", "properties": props, "required": list(props)}

    def query_turn(self, goal: Goal, query: np.ndarray | None,
                   model: Model | None = None) -> tuple[str, Schema]:
        """One eval question (a design for outcome goals, ``None`` for parameter goals)."""
        model = model or self.world.model
        lines = [f"Question: {goal.description}"]
        if query is not None and goal.kind == "outcome":
            lines.append(f"Design: {self.format_design(query, model, PROSE_DIGITS)}")
        names = ", ".join(f'"{n}"' for n in goal.answer_names)
        lines.append(f"Answer with a JSON object with the number(s) {names}.")
        return "\n".join(lines), self.answer_schema(goal)

    def format_answer(self, goal: Goal, answer: np.ndarray | Sequence[float]) -> str:
        """Canonical JSON of an answer."""
        values = np.asarray(answer, dtype=float).reshape(-1)
        return json.dumps(dict(zip(goal.answer_names, map(float, values), strict=True)))

    def parse_answer(self, goal: Goal, reply: str) -> np.ndarray:
        """A reply's answer as ``(len(answer_names),)`` floats, or :class:`ActionParseError`."""
        obj = extract_json_object(reply)
        return np.array([_number(obj, n, reply) for n in goal.answer_names])

    # ----- the explanation test -----------------------------------------------------
    def explanation_turn(self, state: DesignState, word_limit: int,
                         outcome_texts: Sequence[str] | None = None) -> tuple[str, Schema]:
        """Ask the scientist to explain what it learned to a colleague, within the limit."""
        lines = ["Your experiments (design -> outcome):",
                 *self.history_lines(state, outcome_texts), "",
                 "Explain what you have learned about how the outcome depends on the design, "
                 "so that a colleague who sees only your explanation can answer the questions "
                 f"above. Use at most {word_limit} words. Answer with a JSON object "
                 '{"explanation": "..."}.']
        schema = {"type": "object", "properties": {"explanation": {"type": "string"}},
                  "required": ["explanation"]}
        return "\n".join(lines), schema

    def parse_explanation(self, reply: str, word_limit: int) -> str:
        """The explanation text, or :class:`ActionParseError` (also when over the limit)."""
        obj = extract_json_object(reply)
        text = get_field(obj, "explanation", reply)
        if not isinstance(text, str):
            raise ActionParseError('"explanation" must be a string', reply)
        n = count_words(text)
        if n > word_limit:
            raise ActionParseError(f"the explanation has {n} words; the limit is "
                                   f"{word_limit} words, shorten it", reply)
        return text.strip()

    def novice_rules(self, explanation: str, model: Model | None = None) -> str:
        """A fresh agent's system prompt: the world, the goals and the explanation only."""
        model = model or self.world.model
        intro = model.story if self.story else model.abstract
        parts = [intro.strip(), "", "Designs have these values:",
                 *[f"- {line}" for line in self.field_lines(model)]]
        context = model.describe_context()
        if context:
            parts += ["", context.strip()]
        parts += ["", "You ran no experiments. A colleague who did wrote this explanation:",
                  explanation or "(no explanation)", "",
                  "Use it to answer the questions you are asked."]
        return "\n".join(parts)


def _fmt(v: float) -> str:
    return f"{v:g}"

