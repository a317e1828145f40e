"""The episode player of the design family, and the ``agora design-constants`` command.

:func:`aplay_discovery` plays BoxingGym's protocol on a
:class:`~agora.envs.design.world.DesignWorld`, from one seed and deterministically:

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

Metrics (flat): ``eig_total`` (nats), ``regret_mean``, ``z.<goal>@<k>`` and ``z@<k>`` (mean
over goals) per checkpoint, ``z_final``, ``discovery_z``, ``invalid_designs``, and for text
scientists ``invalid_answers``, ``explanation_words``, ``explanation_truncated``. Returns:
the sum of the rewards (EIG per experiment and/or ``-z_final``, per the ``reward`` param).
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
from agora.envs import Status
from agora.envs.design import normalizers
from agora.envs.design.model import Model
from agora.envs.design.text import count_words
from agora.envs.design.types import DesignState, Evaluation, Question
from agora.envs.design.world import DesignWorld
from agora.envs.design.worlds import model_keys
from agora.experiments.config import count_arg, tolerance_arg
from agora.experiments.discovery_turns import Turns, fresh_agent
from agora.experiments.episode import EpisodeResult, collect_calls
from agora.experiments.tasks import TaskEpisode

EVENT_FIELDS = ("checkpoint", "goal", "eig", "eig_stderr", "eig_lower", "eig_upper",
                "eig_limit", "best_eig", "regret", "y", "error", "z")
"""Extra event columns; every event row carries all of them (None where not applicable)."""


async def aplay_discovery(world: DesignWorld, agents: Sequence[Agent], seed: int,
                          record_events: bool) -> EpisodeResult:
    """Play one episode (see the module doc); errors fail the episode, records kept.

    Example:
        >>> import asyncio
        >>> from agora.agents import make_agent
        >>> from agora.envs import task_spec
        >>> w = task_spec("Discovery-v1").make_world({
        ...     "budget": 2, "checkpoints": [0], "n_particles": 256, "eig_outer": 64,
        ...     "eig_inner": 64, "n_candidates": 8})
        >>> r = asyncio.run(aplay_discovery(w, [make_agent("greedy_eig", w)], 0, True))
        >>> r.status, r.events["kind"].count("design"), r.metrics["eig_total"] > 0
        ('ok', 2, True)
    """
    ep = TaskEpisode(agents, seed, record_events)
    episode = _Episode(world, ep)
    try:
        await episode.play()
    except Exception as exc:  # an agent or world error must not crash the run
        return ep.failed(exc, [episode.total], episode.metrics)
    return ep.result([episode.total], episode.metrics)


class _Episode:
    """Drives the world through its contract (``initial_state``, ``to_move``, ``check``,
    ``step``, ``status``, ``view``) and keeps what cannot live in it: asking the agent,
    the events, the outcome verbaliser and the explanation test."""

    def __init__(self, world: DesignWorld, ep: TaskEpisode) -> None:
        self.world, self.ep, self.p = world, ep, world.params
        self.agent = ep.agents[0]
        self.streams = world.streams(ep.rng)
        self.turns = Turns(world, self.streams.policy)
        self.state: DesignState | None = None
        self.counts: dict[str, float] = {"invalid_designs": 0.0}
        self.extra: dict[str, float] = {}
        self.outcome_texts: list[str] = []
        self.verbaliser: LanguageModel | None = None

    @property
    def total(self) -> float:
        return 0.0 if self.state is None else self.world.returns(self.state)[0]

    @property
    def metrics(self) -> dict[str, float]:
        world = {} if self.state is None else self.world.metrics(self.state)
        return {**self.counts, **world, **self.extra}

    def event(self, kind: str, action: str, reward: float = 0.0, reply: str | None = None,
              invalid: bool = False, **extra: Any) -> None:
        self.ep.event(0, kind, action, reward, reply, invalid,
                      **{k: extra.get(k) for k in EVENT_FIELDS})

    async def play(self) -> None:
        world = self.world
        self.state = world.initial_state(self.streams)
        while world.status(self.state) is Status.RUNNING:
            (player,) = world.to_move(self.state)
            if self.state.questions:
                self.state = await self.checkpoint(self.state, player)
            else:
                self.state = await self.experiment(self.state, player)
        if self.p.explanation:
            await self.explanation_test(self.state)

    async def experiment(self, state: DesignState, player: int) -> DesignState:
        design, reply, invalid = await self.turns.design(self.agent, state, self.outcome_texts)
        self.world.check(state, player, design)
        state, (reward,) = self.world.step(state, (design,), self.ep.rng)
        info, model = state.reports[-1], state.model
        self.outcome_texts.append(await self.outcome_text(model, design, state.outcomes[-1]))
        self.counts["invalid_designs"] += invalid
        self.event("design", self.turns.face.format_design(design, model), reward, reply,
                   invalid, eig=info.eig.value, eig_stderr=info.eig.stderr,
                   eig_lower=info.eig.lower, eig_upper=info.eig.upper,
                   eig_limit=info.eig.limit, best_eig=info.best_eig.value, regret=info.regret,
                   y=self.outcome_texts[-1])
        return state

    async def checkpoint(self, state: DesignState, player: int) -> DesignState:
        """The scientist answers the open checkpoint's questions; the world scores them."""
        answers = await self.ask(self.agent, state, state.questions)
        self.world.check(state, player, answers)
        state = self.world.step(state, (answers,), self.ep.rng).state
        self.record("checkpoint", state.step, state.scores[-1][1])
        return state

    async def ask(self, agent: Agent, state: DesignState, questions: Sequence[Question],
                  rules: str | None = None, novice: bool = False) -> list[np.ndarray]:
        """Ask every question and record the query turns."""
        answers = []
        for q in questions:
            values, log = await self.turns.answers(agent, state, q, rules, novice)
            answers.append(values)
            for text, reply, invalid in log:
                self.counts["invalid_answers"] = self.counts.get("invalid_answers", 0) + invalid
                self.event("query", text, reply=reply, invalid=invalid, goal=q.goal.name,
                           checkpoint=state.step)
        return answers

    def record(self, kind: str, k: int, ev: Evaluation) -> None:
        for goal, err in ev.errors.items():
            self.event(kind, goal, checkpoint=k, goal=goal, error=err, z=ev.z[goal])

    async def explanation_test(self, state: DesignState) -> None:
        """A fresh agent that knows only the explanation (a baseline's: only the prior)
        answers the final checkpoint's questions again."""
        seed = int(self.streams.misc.integers(2**62))
        novice = fresh_agent(self.agent, self.world, seed)
        if self.agent.face is Face.TEXT:
            text, reply, truncated = await self.turns.explanation(self.agent, state,
                                                                  self.outcome_texts)
            self.extra.update(explanation_words=float(count_words(text)),
                              explanation_truncated=float(truncated))
            self.event("explanation", text, reply=reply, invalid=truncated)
            rules = self.turns.face.novice_rules(text, state.model)
            # recorded as "checkpoint" rows, as since the text novice was added
            ev = await self.rescore(novice, state, "checkpoint", rules)
            collect_calls(novice, self.ep.steps, 0, self.ep.calls)
            stats = novice.stats()
            self.extra["novice_fallbacks"] = float(stats.get("fallbacks", 0.0))
        else:
            ev = await self.rescore(novice, state, "novice", novice=True)
        self.extra["discovery_z"] = ev.z_mean

    async def rescore(self, agent: Agent, state: DesignState, kind: str,
                      rules: str | None = None, novice: bool = False) -> Evaluation:
        """Score ``agent``'s answers to the final checkpoint's questions (not a step)."""
        answers = await self.ask(agent, state, state.questions, rules, novice)
        ev = self.world.score(state, state.questions, answers)
        self.record(kind, state.step, ev)
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
