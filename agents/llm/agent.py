"""The language-model agent: plays any game through its text face.

Each turn: a system prompt (the rules, an optional persona, an optional request to reason
first), the history under the memory policy, and the turn's prose with any messages from the
other players. The answer is checked with the game's own parser; an invalid answer is
re-asked with the parser's error message, up to ``max_attempts`` calls; after that, or when
the provider keeps failing, the declared ``fallback`` plays (``"random"``: a random valid
answer; a heuristic's name; ``"none"``: the episode fails with the reason). A provider that
rejects the key, the model or the request (a fatal :class:`ModelError`) is never hidden
behind a fallback: the error stops the episode and the run. Every call, re-ask and
fallback is recorded and counted, never hidden.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from agora.agents.base import Agent, Face, TextTurn, make_agent, register_agent
from agora.agents.heuristics import random_answer
from agora.agents.llm.factory import ModelSpec, build_model
from agora.agents.llm.model import (
    Completion,
    LanguageModel,
    ModelError,
    Sampling,
    call_record,
)
from agora.envs import ConfigError, Game, UnknownIdError

MEMORY = ("full", "last_k", "summary", "none")
SUMMARY_PROMPT = ("You keep notes for yourself while playing a game. Rewrite the notes to "
                  "include the latest turn, in at most {n} short sentences: what happened, "
                  "what the other players seem to do, what you plan. Reply with the notes only.")


def _positive(name: str, value: Any, integer: bool = False) -> None:
    kinds = int if integer else (int, float)
    if not isinstance(value, kinds) or isinstance(value, bool) or value <= 0:
        want = "a positive integer" if integer else "a positive number"
        raise ConfigError(f"parameter {name}={value!r} must be {want}")


@register_agent("llm")
class LLMAgent(Agent):
    """A language model playing through the text face (any litellm model or ``local/...``).

    Args:
        model: litellm model id (``"local/gemma-3-270m"`` is the embedded offline model).
        temperature: sampling temperature.
        max_tokens: completion cap per call.
        persona: optional text appended to the system prompt.
        memory: ``"full"`` history, ``"last_k"`` turns (``memory_k``), ``"summary"`` (a
            running summary the model rewrites after each turn, in at most ``memory_k``
            sentences; those calls are recorded with purpose ``"summary"``) or ``"none"``.
        memory_k: turns kept with ``memory="last_k"``, sentences with ``"summary"``.
        reasoning: ask for a free-text ``"reasoning"`` field before the action.
        max_attempts: model calls per turn, re-asks included.
        fallback: ``"random"``, a heuristic agent's name, or ``"none"`` (fail the episode).
        api_base, api_key_env, structured: passed to the model (see ``LiteLLMModel``);
            the variable named by ``api_key_env`` must be set when the agent is built.
        timeout: seconds per call.
        max_retries, max_concurrency, max_calls, max_tokens_budget, cache, cache_dir:
            the wrappers' settings (shared by all agents of a process naming the same model).
    """

    face = Face.TEXT

    def __init__(self, model: str = "local/gemma-3-270m", temperature: float = 0.0,
                 max_tokens: int = 128, persona: str = "", memory: str = "full",
                 memory_k: int = 4, reasoning: bool = False, max_attempts: int = 3,
                 fallback: str = "random", api_base: str | None = None,
                 api_key_env: str | None = None, structured: str = "auto",
                 timeout: float = 60.0, max_retries: int = 4, max_concurrency: int = 8,
                 max_calls: int | None = None, max_tokens_budget: int | None = None,
                 cache: str = "auto", cache_dir: str | None = None) -> None:
        super().__init__()
        if not isinstance(model, str) or not model:
            raise ConfigError(f"parameter model={model!r} must be a litellm model id")
        if memory not in MEMORY:
            raise ConfigError(f"parameter memory={memory!r} must be one of {MEMORY}")
        if (not isinstance(temperature, (int, float)) or isinstance(temperature, bool)
                or not 0 <= temperature <= 2):
            raise ConfigError(f"parameter temperature={temperature!r} must be in [0, 2]")
        for name, value in (("max_tokens", max_tokens), ("memory_k", memory_k),
                            ("max_attempts", max_attempts)):
            _positive(name, value, integer=True)
        _positive("timeout", timeout)
        for label, text in (("persona", persona), ("fallback", fallback)):
            if not isinstance(text, str):
                raise ConfigError(f"parameter {label}={text!r} must be a string")
        if not isinstance(reasoning, bool):
            raise ConfigError(f"parameter reasoning={reasoning!r} must be true or false")
        if api_key_env is not None and not os.environ.get(api_key_env):
            raise ConfigError(f"parameter api_key_env={api_key_env!r}: the environment "
                              f"variable {api_key_env} is not set")
        self.spec = ModelSpec(model, api_base, api_key_env, structured, max_retries,
                              max_concurrency, max_calls, max_tokens_budget, cache, cache_dir)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.persona = persona
        self.memory = memory
        self.memory_k = int(memory_k)
        self.reasoning = bool(reasoning)
        self.max_attempts = int(max_attempts)
        self.fallback = fallback
        self.timeout = float(timeout)
        self._model: LanguageModel | None = None
        self._fallback_agent: Agent | None = None
        self._game: Game[Any, Any, Any] | None = None
        self.history: list[tuple[str, str]] = []
        self.summary = ""
        self.calls: list[dict[str, Any]] = []
        self.counts: dict[str, float] = {}

    # ----- life cycle ------------------------------------------------------------
    def setup(self, game: Game[Any, Any, Any]) -> None:
        self._game = game
        if self.fallback not in ("random", "none"):
            try:
                self._fallback_agent = make_agent(self.fallback, game)
            except (ConfigError, UnknownIdError) as exc:
                raise ConfigError(f"parameter fallback={self.fallback!r}: {exc}") from None

    @property
    def model(self) -> LanguageModel:
        if self._model is None:
            self._model = build_model(self.spec)
        return self._model

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        if self._fallback_agent is None and self.fallback not in ("random", "none"):
            raise ConfigError(f"fallback {self.fallback!r} needs the game: build the agent "
                              "with make_agent(spec, game)")
        if self._fallback_agent is not None:
            self._fallback_agent.reset(int(self.rng.integers(2**62)), player)
        self.history = []
        self.summary = ""
        self.calls = []
        self.counts = dict.fromkeys(("llm_calls", "requests", "reasks", "invalid_answers",
                                     "fallbacks", "model_errors", "cache_hits", "tokens_in",
                                     "tokens_out", "cost"), 0.0)

    def stats(self) -> dict[str, float]:
        return dict(self.counts)

    def drain_calls(self) -> list[dict[str, Any]]:
        """The call records since the last drain (the runner writes them to the run)."""
        out, self.calls = self.calls, []
        return out

    # ----- one turn --------------------------------------------------------------
    def _schema(self, turn: TextTurn) -> dict[str, Any]:
        schema = json.loads(json.dumps(turn.schema))
        if self.reasoning:
            schema["properties"] = {"reasoning": {"type": "string"}, **schema["properties"]}
            schema["required"] = ["reasoning", *schema.get("required", [])]
        return schema

    def _messages(self, turn: TextTurn, schema: dict[str, Any]) -> list[dict[str, str]]:
        system = turn.rules
        if self.persona:
            system += f"\n\n{self.persona}"
        if self.reasoning:
            system += ('\n\nThink first: put your reasoning in the "reasoning" field, then '
                       "give your move.")
        system += "\nAlways answer with a single JSON object and nothing else."
        if self.memory == "summary" and self.summary:
            system += f"\n\nYour notes on the game so far:\n{self.summary}"
        messages = [{"role": "system", "content": system}]
        past = {"full": self.history, "last_k": self.history[-self.memory_k:],
                "summary": [], "none": []}[self.memory]
        for user, assistant in past:
            messages += [{"role": "user", "content": user},
                         {"role": "assistant", "content": assistant}]
        user = turn.observation
        if turn.inbox:
            user = "Messages you received:\n" + "\n".join(turn.inbox) + "\n\n" + user
        messages.append({"role": "user", "content": user})
        return messages

    def _record(self, attempt: int, messages: list[dict[str, str]], sampling: Sampling,
                outcome: Completion | ModelError, problem: str | None = None,
                purpose: str = "action") -> None:
        """One row per call (:func:`~agora.agents.llm.model.call_record`)."""
        self.calls.append({"attempt": attempt, **call_record(purpose, self.spec.model, sampling,
                                                             messages, outcome, problem)})
        self.counts["requests"] += outcome.requests
        c = outcome if isinstance(outcome, Completion) else None
        if c is not None:
            self.counts["llm_calls"] += 1
            self.counts["cache_hits"] += c.cached
            self.counts["tokens_in"] += c.tokens_in
            self.counts["tokens_out"] += c.tokens_out
            self.counts["cost"] += c.cost or 0.0

    def act(self, obs: TextTurn) -> str:
        """Synchronous turn (runs :meth:`aact` in a fresh event loop)."""
        return asyncio.run(self.aact(obs))

    async def aact(self, obs: TextTurn) -> str:
        schema = self._schema(obs)
        messages = self._messages(obs, schema)
        user = messages[-1]["content"]
        for attempt in range(1, self.max_attempts + 1):
            sampling = Sampling(self.temperature, self.max_tokens,
                                int(self.rng.integers(2**31)), schema, self.timeout)
            try:
                completion = await self.model.acomplete(messages, sampling)
            except ModelError as exc:
                self.counts["model_errors"] += 1
                self._record(attempt, messages, sampling, exc)
                if exc.fatal:  # a rejected key or model: never hidden behind fallbacks
                    raise
                return self._fall_back(obs, f"model error: {exc}")
            text = completion.text
            problem = obs.check(text) if obs.check else None
            self._record(attempt, messages, sampling, completion, problem)
            if problem is None:
                self.history.append((user, text))
                if self.memory == "summary":
                    await self._summarize(user, text)
                return text
            self.counts["invalid_answers"] += 1
            self.model.reject(messages, sampling)  # a resume must ask again, not replay it
            if attempt < self.max_attempts:
                self.counts["reasks"] += 1
                messages = [*messages, {"role": "assistant", "content": text},
                            {"role": "user", "content":
                             f"That answer could not be used: {problem}. Answer again with "
                             f"only a JSON object matching this schema: {json.dumps(schema)}"}]
        return self._fall_back(obs, f"{self.max_attempts} invalid answers")

    async def _summarize(self, observation: str, answer: str) -> None:
        """Rewrite the running notes with the latest turn (a failed call keeps the old)."""
        messages = [{"role": "system", "content": SUMMARY_PROMPT.format(n=self.memory_k)},
                    {"role": "user", "content": f"Notes so far:\n{self.summary or '(none)'}"
                                                f"\n\nLatest turn:\n{observation}\n"
                                                f"Your answer: {answer}"}]
        sampling = Sampling(self.temperature, self.max_tokens, int(self.rng.integers(2**31)),
                            None, self.timeout)
        try:
            completion = await self.model.acomplete(messages, sampling)
        except ModelError as exc:
            self.counts["model_errors"] += 1
            self._record(1, messages, sampling, exc, purpose="summary")
            if exc.fatal:
                raise
            return
        self._record(1, messages, sampling, completion, purpose="summary")
        self.summary = completion.text.strip()

    def _fall_back(self, turn: TextTurn, why: str) -> str:
        self.counts["fallbacks"] += 1
        if self.fallback == "none":
            raise ModelError("fallback", f"no valid answer ({why}) and fallback is 'none'",
                             False)
        if self._fallback_agent is not None and turn.obs is not None and turn.answer:
            return turn.answer(int(self._fallback_agent.act(turn.obs)))
        if turn.fallback is not None:
            return turn.fallback(self.rng)
        return random_answer(turn.schema, self.rng)
