"""The design family's seats in the one episode loop, and ``agora design-constants``.

:class:`DesignSeats` lets :func:`~agora.experiments.episode.aplay_episode` play BoxingGym's
protocol on a :class:`~agora.envs.design.world.DesignWorld`, from one seed and
deterministically (the world's phases are in its state; the seats ask the turns):

1. ``initial_state``: covariates and the true parameters from the prior;
2. for each of ``budget`` experiments: at a checkpoint, score the scientist's answers to
   fresh eval questions (drawn from a per-checkpoint stream, kept out of its memory); ask
   a design (invalid designs: the agent's own re-asks, then a random valid design, counted);
   run it, recording the design's EIG, the best candidate's EIG and the regret;
3. the final checkpoint (after the budget, always scored);
4. the explanation test (``explanation``): the scientist explains its findings within the
   word limit, and a fresh agent of the same spec that sees only the explanation answers
   the final checkpoint's questions; its mean z is the discovery score. For the baselines
   the fresh agent is a novice with the prior only (it predicts the prior-predictive mean),
   so their ``discovery_z`` is about 0 by construction.

Events: one row per design, per query turn (text scientists), per goal of a checkpoint and
for the explanation, each with every :data:`EVENT_FIELDS` column; the record's ``length``
counts the rows. Metrics (flat): ``invalid_designs``, for text scientists
``invalid_answers``, then the world's (``z.<goal>@<k>`` and ``z@<k>`` per checkpoint,
``eig_total`` in nats, ``regret_mean``, ``z_final``), then ``explanation_words``,
``explanation_truncated``, ``novice_fallbacks`` (text) and ``discovery_z``. Returns: the
sum of the rewards (EIG per experiment and/or ``-z_final``, per the ``reward`` param).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from agora.agents import Agent, Face
from agora.agents.llm.factory import ModelSpec, build_model
from agora.agents.llm.model import LanguageModel, ModelError, Sampling
from agora.envs.design import normalizers
from agora.envs.design.model import Model
from agora.envs.design.params import DesignStreams
from agora.envs.design.text import count_words
from agora.envs.design.types import DesignState, Evaluation, Question
from agora.envs.design.world import DesignWorld
from agora.envs.design.worlds import model_keys
from agora.experiments.config import count_arg, tolerance_arg
from agora.experiments.discovery_turns import Turns, fresh_agent
from agora.experiments.episode import Move, Seats, add_task_row, collect_calls

EVENT_FIELDS = ("checkpoint", "goal", "eig", "eig_stderr", "eig_lower", "eig_upper",
                "eig_limit", "best_eig", "regret", "y", "error", "z")
"""Extra event columns; every event row carries all of them (None where not applicable)."""


class DesignSeats(Seats):
    """The scientist's seat (see the module doc): a turn is a design or, at a checkpoint,
    every question's query turns (each kept out of the scientist's memory); after the
    episode, the explanation test. Keeps what cannot live in the world: the outcome
    verbaliser, the counts of invalid designs and answers, the event rows.

    Example:
        >>> import asyncio
        >>> from agora.agents import make_agent
        >>> from agora.envs import task_spec
        >>> from agora.experiments.episode import aplay_world
        >>> w = task_spec("Discovery-v1").make_world({
        ...     "budget": 2, "checkpoints": [0], "n_particles": 256, "eig_outer": 64,
        ...     "eig_inner": 64, "n_candidates": 8})
        >>> r = asyncio.run(aplay_world(w, [make_agent("greedy_eig", w)], 0, True))
        >>> r.status, r.events["kind"].count("design"), r.metrics["eig_total"] > 0
        ('ok', 2, True)
    """

    def __init__(self, world: DesignWorld, text: Any, agents: Sequence[Agent],
                 referee: np.random.Generator, on_invalid: str, record: bool) -> None:
        super().__init__(world, agents, record)
        self.design_world, self.p, self.agent = world, world.params, agents[0]
        self.counts: dict[str, float] = {"invalid_designs": 0.0}
        self.extra: dict[str, float] = {}
        self.outcome_texts: list[str] = []
        self.verbaliser: LanguageModel | None = None

    def start(self, init: DesignStreams) -> None:
        self.streams = init
        self.turns = Turns(self.design_world, init.policy)

    def see(self, state: DesignState, p: int) -> tuple[DesignState, None]:
        return state, None  # the turns are built when asked

    async def ask(self, p: int, seen: DesignState, turn: None) -> Any:
        """The answers to an open checkpoint's questions (query rows recorded as asked),
        else ``(design, reply, invalid)``."""
        if seen.questions:
            return await self.answers(self.agent, seen, seen.questions)
        return await self.turns.design(self.agent, seen, self.outcome_texts)

    def settle(self, state: DesignState, p: int, seen: DesignState, reply: Any) -> Move:
        action, raw, invalid = (reply, None, False) if state.questions else reply
        self.design_world.check(state, p, action)
        return Move(action, raw, "invalid design" if invalid else None, state)

    async def after(self, movers: Sequence[int], chosen: Sequence[Move], state: DesignState,
                    rewards: tuple[float, ...]) -> None:
        """A checkpoint's rows, or the design's row with its outcome in words."""
        (move,) = chosen
        if move.seen.questions:
            self.rows("checkpoint", state.step, state.scores[-1][1])
            return
        info, model = state.reports[-1], state.model
        self.outcome_texts.append(await self.outcome_text(model, move.action,
                                                          state.outcomes[-1]))
        invalid = move.problem is not None
        self.counts["invalid_designs"] += invalid
        self.row("design", self.turns.face.format_design(move.action, model), rewards[0],
                 move.raw, invalid, eig=info.eig.value, eig_stderr=info.eig.stderr,
                 eig_lower=info.eig.lower, eig_upper=info.eig.upper,
                 eig_limit=info.eig.limit, best_eig=info.best_eig.value, regret=info.regret,
                 y=self.outcome_texts[-1])

    async def finish(self, state: DesignState) -> None:
        if self.p.explanation:
            await self.explanation_test(state)

    def metrics(self, state: DesignState | None) -> dict[str, float]:
        return {**self.counts, **super().metrics(state), **self.extra}

    def row(self, kind: str, action: str, reward: float = 0.0, reply: str | None = None,
            invalid: bool = False, **extra: Any) -> None:
        """Record one row (a step of the record) and drain the scientist's calls into it."""
        self.collect(0)
        self.invalid[0] += bool(invalid)
        if self.record:
            add_task_row(self.events, (self.steps, 0, kind, action, reply, invalid, reward),
                         {k: extra.get(k) for k in EVENT_FIELDS})
        self.steps += 1

    def rows(self, kind: str, k: int, ev: Evaluation) -> None:
        for goal, err in ev.errors.items():
            self.row(kind, goal, checkpoint=k, goal=goal, error=err, z=ev.z[goal])

    async def answers(self, agent: Agent, state: DesignState, questions: Sequence[Question],
                      rules: str | None = None, novice: bool = False) -> list[np.ndarray]:
        """Ask every question and record the query turns."""
        answers = []
        for q in questions:
            values, log = await self.turns.answers(agent, state, q, rules, novice)
            answers.append(values)
            for text, reply, invalid in log:
                self.counts["invalid_answers"] = self.counts.get("invalid_answers", 0) + invalid
                self.row("query", text, reply=reply, invalid=invalid, goal=q.goal.name,
                         checkpoint=state.step)
        return answers

    async def explanation_test(self, state: DesignState) -> None:
        """A fresh agent that knows only the explanation (a baseline's: only the prior)
        answers the final checkpoint's questions again."""
        seed = int(self.streams.misc.integers(2**62))
        novice = fresh_agent(self.agent, self.design_world, seed)
        if self.agent.face is Face.TEXT:
            text, reply, truncated = await self.turns.explanation(self.agent, state,
                                                                  self.outcome_texts)
            self.extra.update(explanation_words=float(count_words(text)),
                              explanation_truncated=float(truncated))
            self.row("explanation", text, reply=reply, invalid=truncated)
            rules = self.turns.face.novice_rules(text, state.model)
            # recorded as "checkpoint" rows, as since the text novice was added
            ev = await self.rescore(novice, state, "checkpoint", rules)
            collect_calls(novice, self.steps, 0, self.calls)
            stats = novice.stats()
            self.extra["novice_fallbacks"] = float(stats.get("fallbacks", 0.0))
        else:
            ev = await self.rescore(novice, state, "novice", novice=True)
        self.extra["discovery_z"] = ev.z_mean

    async def rescore(self, agent: Agent, state: DesignState, kind: str,
                      rules: str | None = None, novice: bool = False) -> Evaluation:
        """Score ``agent``'s answers to the final checkpoint's questions (not a step)."""
        answers = await self.answers(agent, state, state.questions, rules, novice)
        ev = self.design_world.score(state, state.questions, answers)
        self.rows(kind, state.step, ev)
        return ev

    async def outcome_text(self, model: Model, design: np.ndarray, y: np.ndarray) -> str:
        """The outcome in words: templated, or by a language model when the model's
        ``verbaliser`` param is ``"llm"`` (cached, temperature 0; template on failure)."""
        face = self.turns.face
        if getattr(model.params, "verbaliser", "template") != "llm":
            return model.format_outcome(design, y, face.story)
        if self.verbaliser is None:
            self.verbaliser = build_model(ModelSpec(model=self.p.verbaliser_model,
                                                    cache="always"))
        return await verbalise(self.verbaliser, model, design, y, face.story)


async def verbalise(lm: LanguageModel, model: Model, design: np.ndarray, y: np.ndarray,
                    story: bool, max_tokens: int = 96) -> str:
    """An outcome in words by ``lm`` from ``model.verbalise_prompt(design, y)`` (a string or
    chat messages); the templated ``format_outcome`` when the call fails or is empty, unless
    the failure is fatal (a rejected key or model), which stops the run like any agent's."""
    prompt = model.verbalise_prompt(design, y)  # type: ignore[attr-defined]
    messages = ([{"role": "user", "content": prompt}] if isinstance(prompt, str)
                else list(prompt))
    try:
        completion = await lm.acomplete(messages, Sampling(0.0, max_tokens, 0, None))
    except ModelError as exc:
        if exc.fatal:
            raise
        return model.format_outcome(design, y, story)
    text = completion.text.strip()
    return text or model.format_outcome(design, y, story)


# ----- the normalising constants --------------------------------------------------------
def add_design_constants_parser(sub: Any) -> None:
    """Register ``agora design-constants`` on the CLI's subparsers."""
    p = sub.add_parser("design-constants",
                       help="recompute (or --check) the design worlds' z normalisers")
    p.add_argument("--check", action="store_true",
                   help="recompute and compare with the stored values; write nothing")
    p.add_argument("--models", nargs="*", default=None, help="model keys (default: all)")
    p.add_argument("--n-worlds", type=count_arg, default=None, help="override the sample size")
    p.add_argument("--rtol", type=tolerance_arg, default=1e-6, help="relative tolerance of --check")
    p.set_defaults(func=cmd_design_constants)


def cmd_design_constants(args: argparse.Namespace) -> int:
    """Recompute the stored constants with their settings (``--check``: compare only).

    Returns 0 when written or when every value agrees within ``--rtol``; 1 otherwise.
    """
    stored = normalizers.load()
    settings = normalizers.Settings(**stored["settings"])
    if getattr(args, "n_worlds", None) is not None:
        settings = dataclasses.replace(settings, n_worlds=int(args.n_worlds))
    keys = getattr(args, "models", None) or model_keys()
    fresh = normalizers.compute_constants(keys, settings)
    for key, entry in fresh["models"].items():
        for goal, v in entry["goals"].items():
            print(f"{key:24s} {goal:22s} mu0={v['mu0']:.6g} sigma0={v['sigma0']:.6g}")
    if getattr(args, "check", False):
        problems = normalizers.compare(stored, fresh, rtol=float(getattr(args, "rtol", 1e-6)))
        for line in problems:
            print(f"MISMATCH {line}")
        print("constants agree" if not problems else f"{len(problems)} mismatches")
        return 1 if problems else 0
    same = fresh["settings"] == stored["settings"]
    models = {**stored["models"], **fresh["models"]} if same else fresh["models"]
    normalizers.save({**fresh, "models": models})
    print(f"wrote {normalizers.PATH} (version {normalizers.VERSION})")
    return 0
