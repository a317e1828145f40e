"""The turns of a discovery episode, for either face of a scientist.

A baseline (face GAME) gets a :class:`~agora.envs.design.types.ScientistView` and returns
a design or the answers; a language agent (face TEXT) gets a
:class:`~agora.agents.TextTurn` whose ``check`` is the text face's parser and whose
``fallback`` draws a random valid answer (designs have constraints no JSON schema states).
Each ask returns the value and whether it was *invalid*: the agent fell back, or its
answer still failed the parser and the declared policy replaced it (a random valid design;
a prior-predictive draw for an answer; the explanation truncated to the word limit).

Eval questions stay out of the scientist's memory: its ``history``, ``summary`` and random
stream are restored after every query turn (:func:`isolated`), so the experiments of an
episode are the same whichever checkpoints are scored.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from agora.agents import Agent, Face, TextTurn, make_agent
from agora.envs import ActionParseError, IllegalActionError
from agora.envs.design.model import Model
from agora.envs.design.text import DesignText, truncate_words
from agora.envs.design.types import DesignState, Question
from agora.envs.design.world import DesignWorld
from agora.envs.text import extract_json_object
from agora.envs.turns import parse_checker

MEMORY_ATTRS = ("history", "summary")
"""Agent attributes that hold a language agent's memory of earlier turns."""


@contextlib.contextmanager
def isolated(agent: Agent) -> Iterator[None]:
    """Restore the agent's memory (``history``, ``summary``) and its random stream after
    the block, so an eval turn changes nothing the agent does later (call records and
    counters are kept).

    Example:
        >>> from agora.agents import make_agent
        >>> agent = make_agent("random_designer")
        >>> agent.reset(1, 0)
        >>> with isolated(agent):
        ...     before = agent.rng.random()
        >>> agent.rng.random() == before
        True
    """
    saved = {k: copy.deepcopy(getattr(agent, k)) for k in MEMORY_ATTRS if hasattr(agent, k)}
    rng_state = copy.deepcopy(agent.rng.bit_generator.state)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(agent, k, v)
        agent.rng.bit_generator.state = rng_state


def fresh_agent(agent: Agent, world: DesignWorld, seed: int) -> Agent:
    """A new agent of the same spec, reset with ``seed``: rebuilt from ``agent_spec``
    when the agent records one, else a shallow copy (shared model client, own memory and
    counters: :meth:`Agent.reset` replaces them)."""
    spec = getattr(agent, "agent_spec", None)
    new = make_agent(spec, world) if spec is not None else copy.copy(agent)
    new.reset(seed, 0)
    return new


def _fallbacks(agent: Agent) -> float:
    return float(agent.stats().get("fallbacks", 0.0))


async def ask_text(agent: Agent, turn: TextTurn, parse: Callable[[str], Any],
                   fallback: Callable[[np.random.Generator], str], rng: np.random.Generator
                   ) -> tuple[Any, str, bool]:
    """``(value, reply, invalid)`` of one text turn under the declared policy."""
    before = _fallbacks(agent)
    reply = await agent.aact(turn)
    invalid = _fallbacks(agent) > before
    try:
        return parse(reply), str(reply), invalid
    except (ActionParseError, IllegalActionError):
        return parse(fallback(rng)), str(reply), True


class Turns:
    """Builds and settles the turns of one episode (one world, one text face)."""

    def __init__(self, world: DesignWorld, rng: np.random.Generator) -> None:
        self.world = world
        self.face = DesignText(world)
        self.design_rng, self.answer_rng = rng.spawn(2)
        """Policy streams: random replacements for invalid designs, and for invalid answers
        and the novice's prior (apart, so eval turns never shift the designs)."""

    # ----- designs ------------------------------------------------------------------
    async def design(self, agent: Agent, state: DesignState,
                     outcome_texts: list[str]) -> tuple[np.ndarray, str, bool]:
        """The agent's next design, its reply text and whether it was invalid."""
        model = state.model
        if agent.face is Face.TEXT:
            prose, schema = self.face.design_turn(state, outcome_texts)
            parse = lambda reply: self.face.parse_design(reply, model)  # noqa: E731
            fallback = self._random_design(model)
            turn = TextTurn(0, self.face.rules(model=model), prose, schema,
                            check=parse_checker(parse), fallback=fallback)
            return await ask_text(agent, turn, parse, fallback, self.design_rng)
        reply = await agent.aact(self.world.view(state, 0))
        try:
            self.world.check(state, 0, reply)
        except IllegalActionError:
            return model.sample_designs(self.design_rng, 1)[0], repr(reply), True
        return np.asarray(reply, dtype=float).reshape(-1), repr(reply), False

    def _random_design(self, model: Model) -> Callable[[np.random.Generator], str]:
        return lambda rng: self.face.format_design(model.sample_designs(rng, 1)[0], model)

    # ----- eval questions -----------------------------------------------------------
    async def answers(self, agent: Agent, state: DesignState, question: Question,
                      rules: str | None = None, novice: bool = False
                      ) -> tuple[np.ndarray, list[tuple[str, str, bool]]]:
        """The agent's answers to one goal's queries and, for text agents, the
        ``(answer text, reply, invalid)`` of each query turn. ``rules`` replaces the
        system prompt (a novice's); ``novice`` gives a baseline only the prior."""
        if agent.face is not Face.TEXT:
            post = self.world.prior(state, self.answer_rng) if novice else None
            view = self.world.query_view(state, question, post, history=not novice)
            with isolated(agent):
                return np.asarray(await agent.aact(view), dtype=float), []
        model, goal = state.model, question.goal
        queries = question.queries if goal.kind == "outcome" else question.queries[:1]
        rows, log = [], []
        for query in queries:
            prose, schema = self.face.query_turn(goal, query, model)
            parse = lambda reply: self.face.parse_answer(goal, reply)  # noqa: E731
            fallback = self._prior_answer(state, question, query)
            turn = TextTurn(0, rules or self.face.rules(model=model), prose, schema,
                            check=parse_checker(parse), fallback=fallback)
            with isolated(agent):
                value, reply, invalid = await ask_text(agent, turn, parse, fallback,
                                                       self.answer_rng)
            rows.append(value)
            log.append((self.face.format_answer(goal, value), reply, invalid))
        return np.stack(rows), log

    def _prior_answer(self, state: DesignState, question: Question, query: np.ndarray
                      ) -> Callable[[np.random.Generator], str]:
        """A random valid answer: the truth of a world drawn from the prior."""
        model, goal = state.model, question.goal

        def draw(rng: np.random.Generator) -> str:
            theta = model.sample_prior(rng, 1)[0]
            value = model.true_answer(goal, theta, np.asarray(query)[None, :], rng)
            return self.face.format_answer(goal, np.asarray(value, dtype=float)[0])

        return draw

    # ----- the explanation ----------------------------------------------------------
    async def explanation(self, agent: Agent, state: DesignState, outcome_texts: list[str]
                          ) -> tuple[str, str, bool]:
        """``(explanation, reply, truncated)``; the policy for a reply that stays over the
        limit is to truncate the last over-limit explanation to the limit (counted)."""
        limit = self.world.params.word_limit
        prose, schema = self.face.explanation_turn(state, limit, outcome_texts)
        last: list[str] = []

        def parse(reply: str) -> str:
            try:
                return self.face.parse_explanation(reply, limit)
            except ActionParseError:
                with contextlib.suppress(ActionParseError):
                    text = extract_json_object(reply).get("explanation")
                    if isinstance(text, str):
                        last.append(text)
                raise

        def fallback(rng: np.random.Generator) -> str:
            return json.dumps({"explanation": truncate_words(last[-1] if last else "", limit)})

        turn = TextTurn(0, self.face.rules(model=state.model), prose, schema,
                        check=parse_checker(parse), fallback=fallback)
        return await ask_text(agent, turn, parse, fallback, self.answer_rng)
