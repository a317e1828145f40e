"""One iteration of graph growth: answer, extract, merge, score, choose, ask.

:func:`grow_once` is a function of (model, config, carried step, iteration number): its
randomness comes only from ``SeedSequence([seed, iteration])``, drawn up front so a failed
call never shifts a later draw, and the model's answers are the only other input. That
makes any iteration reconstructible from the saved graph and the last question.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from agora.agents.llm.model import (
    Completion,
    LanguageModel,
    ModelError,
    Sampling,
    call_record,
)
from agora.experiments.growth.config import GrowthConfig
from agora.experiments.growth.embedders import Embedder
from agora.experiments.growth.graph import (
    NodeMerge,
    TripleOutcome,
    merge_similar,
    merge_triples,
    resolve,
)
from agora.experiments.growth.prompts import (
    QUESTION_SCHEMA,
    answer_messages,
    extract_messages,
    extract_schema,
    fallback_question,
    question_messages,
    read_answer,
    read_question,
)
from agora.experiments.growth.rewards import intrinsic_rewards
from agora.experiments.growth.strategies import choose_focus, communities, mark_asked
from agora.experiments.growth.triples import (
    ParsedTriples,
    TripleParseError,
    ground,
    parse_triples,
)

PURPOSES = ("answer", "extract", "question")
STOPS_GROWTH = ("budget",)
"""Model error kinds that end a growth run besides the fatal ones (a rejected key or
model, :attr:`ModelError.fatal`): every later call would fail the same way."""


@dataclass(frozen=True)
class Step:
    """What one iteration hands the next: the graph, the question, the question's focus."""

    graph: nx.MultiDiGraph
    question: str
    anchor: str | None = None


@dataclass(frozen=True)
class IterationResult:
    """The new step plus the iteration's rows for calls, triples and iterations."""

    step: Step
    calls: list[dict[str, Any]]
    triples: list[dict[str, Any]]
    record: dict[str, Any]


def call_id(iteration: int, purpose: str) -> str:
    """The id of an iteration's call, e.g. ``it0003-extract``."""
    return f"it{iteration:04d}-{purpose}"


@dataclass
class _Caller:
    """Makes and records one iteration's model calls."""

    model: LanguageModel
    cfg: GrowthConfig
    iteration: int
    seeds: Mapping[str, int]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def ask(self, purpose: str, messages: list[dict[str, str]],
            schema: Mapping[str, Any] | None) -> str | None:
        """The completion text, or None after a (recorded) model error."""
        # free text ends where a plain-turn model would start inventing the next turn
        stop = None if schema is not None else ("\nUser:", "\n\nUser")
        s = Sampling(self.cfg.temperature, self.cfg.max_tokens, self.seeds[purpose], schema,
                     self.cfg.timeout, stop)
        try:
            c = self.model.complete(messages, s)
        except ModelError as exc:
            self._record(purpose, messages, s, exc)
            if exc.fatal or exc.kind in STOPS_GROWTH:
                raise
            return None
        self._record(purpose, messages, s, c)
        return c.text

    def _record(self, purpose: str, messages: list[dict[str, str]], sampling: Sampling,
                outcome: Completion | ModelError) -> None:
        self.rows.append({"iteration": self.iteration, "call_id": call_id(self.iteration, purpose),
                          **call_record(purpose, self.cfg.model.model, sampling, messages,
                                        outcome)})


def _extract(caller: _Caller, answer: str | None) -> tuple[ParsedTriples, str | None]:
    if answer is None:
        return ParsedTriples(()), "no usable answer"
    n = caller.cfg.max_triples
    text = caller.ask("extract", extract_messages(answer, n), extract_schema(n))
    if text is None:
        return ParsedTriples(()), "model error"
    try:
        parsed = parse_triples(text)
    except TripleParseError as exc:
        return ParsedTriples(()), exc.reason
    return (ground(parsed, answer) if caller.cfg.grounded else parsed), None


def _embed_merge(g: nx.MultiDiGraph, outcomes: Sequence[TripleOutcome],
                 embedder: Embedder | None, vectors: dict[str, np.ndarray],
                 threshold: float) -> tuple[nx.MultiDiGraph, tuple[NodeMerge, ...]]:
    if embedder is None:
        return g, ()
    missing = sorted(n for n in g if n not in vectors)
    if missing:
        vectors.update(zip(missing, np.asarray(embedder.embed(missing)), strict=True))
    new = [n for o in outcomes for n, is_new in ((o.source, o.new_source),
                                                 (o.target, o.new_target)) if is_new]
    return merge_similar(g, vectors, list(dict.fromkeys(new)), threshold)


def _new_edges(g: nx.MultiDiGraph, outcomes: Sequence[TripleOutcome]) -> list[tuple[str, str]]:
    edges = [(resolve(g, o.source), resolve(g, o.target)) for o in outcomes if o.new_edge]
    return list(dict.fromkeys(e for e in edges if e[0] != e[1]))


def _status(o: TripleOutcome, source: str, target: str) -> str:
    """new (a new edge), duplicate (the edge existed) or collapsed (both concepts turned
    out to be one node, so no edge)."""
    if o.new_edge:
        return "new" if source != target else "collapsed"
    return "collapsed" if o.source == o.target or source == target else "duplicate"


def _triple_rows(g: nx.MultiDiGraph, iteration: int, outcomes: Sequence[TripleOutcome],
                 parsed: ParsedTriples) -> list[dict[str, Any]]:
    cid = call_id(iteration, "extract")
    rows = []
    for o in outcomes:
        src, dst = resolve(g, o.source), resolve(g, o.target)
        rows.append({"iteration": iteration, "call_id": cid, "source_raw": o.triple.source,
                     "relation_raw": o.triple.relation, "target_raw": o.triple.target,
                     "source": src, "relation": o.relation, "target": dst,
                     "status": _status(o, src, dst),
                     "new_source": o.new_source, "new_target": o.new_target,
                     "embed_merged": (src, dst) != (o.source, o.target), "item": None,
                     "reason": None})
    for item, reason in parsed.rejected:
        rows.append({"iteration": iteration, "call_id": cid, "status": "rejected",
                     "item": item, "reason": reason})
    return rows


def _next_question(caller: _Caller, labels: list[str], current: str) -> tuple[str, bool]:
    """The next question and whether it is a stand-in: the template when the model's
    question is junk, the current question again when the graph has no concept yet."""
    if not labels:
        return current, True
    text = caller.ask("question", question_messages(labels), QUESTION_SCHEMA)
    question = read_question(text) if text is not None else None
    return (question, False) if question else (fallback_question(labels), True)


def iteration_rng(seed: int, iteration: int) -> np.random.Generator:
    """The generator of one iteration: ``SeedSequence([seed, iteration])``.

    Example:
        >>> int(iteration_rng(0, 3).integers(100)) == int(iteration_rng(0, 3).integers(100))
        True
    """
    return np.random.default_rng(np.random.SeedSequence([seed, iteration]))


def grow_once(model: LanguageModel, cfg: GrowthConfig, step: Step, iteration: int,
              embedder: Embedder | None = None,
              vectors: dict[str, np.ndarray] | None = None) -> IterationResult:
    """Run one iteration from ``step`` (``vectors`` caches label embeddings across calls).

    Raises:
        ModelError: only for errors that would fail every later call (budget, auth).
    """
    started = time.perf_counter()
    rng = iteration_rng(cfg.seed, iteration)
    seeds = {p: int(s) for p, s in zip(PURPOSES, rng.integers(2**31, size=len(PURPOSES)))}
    comm_seed = int(rng.integers(2**31))
    caller = _Caller(model, cfg, iteration, seeds)
    vectors = {} if vectors is None else vectors
    raw = caller.ask("answer", answer_messages(step.question), None)
    answer = read_answer(raw) if raw is not None else None
    parsed, parse_error = _extract(caller, answer)
    graph, outcomes = merge_triples(step.graph, parsed.triples, iteration=iteration,
                                    call_id=call_id(iteration, "extract"))
    threshold = cfg.embedding.threshold if cfg.embedding else 1.0
    graph, merges = _embed_merge(graph, outcomes, embedder, vectors, threshold)
    edges = _new_edges(graph, outcomes)
    comms = communities(step.graph, comm_seed)
    rewards = intrinsic_rewards(
        step.graph, graph, edges, len(parsed.triples), comms,
        vectors=vectors if embedder is not None else None,
        surprise_cosine=cfg.embedding.surprise_cosine if cfg.embedding else 0.3,
        surprise_distance=cfg.surprise_distance)
    anchor = resolve(graph, step.anchor) if step.anchor else None
    focus = choose_focus(graph, cfg.strategy, rng, anchor)
    graph = mark_asked(graph, focus.nodes)
    labels = [str(graph.nodes[n]["label"]) for n in focus.nodes]
    question, fallback = _next_question(caller, labels, step.question)
    record = {
        "iteration": iteration, "question": step.question, "answer_ok": answer is not None,
        "triples_valid": len(parsed.triples), "triples_rejected": len(parsed.rejected),
        "parse_error": parse_error,
        "duplicate_triples": sum(not o.new_edge and o.source != o.target for o in outcomes),
        "embed_merges": len(merges), "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(), "communities_before": len(comms),
        **rewards.as_record(), "focus_strategy": focus.strategy, "focus_used": focus.used,
        "focus_nodes": json.dumps(list(focus.nodes)),
        "next_question": question, "question_fallback": fallback,
        "model_errors": sum(r["error"] is not None for r in caller.rows),
        "tokens_in": sum(r["tokens_in"] for r in caller.rows),
        "tokens_out": sum(r["tokens_out"] for r in caller.rows),
        "duration_s": time.perf_counter() - started,
    }
    nxt = Step(graph, record["next_question"], focus.nodes[0] if focus.nodes else anchor)
    return IterationResult(nxt, caller.rows, _triple_rows(graph, iteration, outcomes, parsed),
                           record)
