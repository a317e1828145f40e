"""The record schema: every writer produces its columns with its types, every caller of a
model records the same call fields, and the parts reader keeps only committed batches."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from agora.agents import AgentSpec, make_agent
from agora.agents.llm import Completion, LanguageModel, Sampling
from agora.agents.llm import agent as agent_module
from agora.analysis import records
from agora.envs import make_game
from agora.experiments import play_episode
from agora.experiments.batch import BatchTask, run_batch
from agora.experiments.growth import iteration as growth_iteration
from agora.experiments.growth.config import parse_growth_config
from agora.experiments.growth.store import COLUMNS as GROWTH_COLUMNS
from agora.experiments.store import RunStore


class Cooperator(LanguageModel):
    """Always cooperates; reports no cost (as providers without a price table do)."""

    name = "cooperator"

    def complete(self, messages: Any, sampling: Sampling) -> Completion:
        return Completion('{"action": "cooperate"}', self.name, tokens_in=7, tokens_out=3)


def _llm_batch(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(agent_module, "build_model", lambda spec: Cooperator())
    llm = AgentSpec.parse({"name": "llm", "model": "openai/gpt-4o-mini"})
    task = BatchTask("RepeatedPD-v1", {"rounds": 2}, (llm, AgentSpec.parse("tit_for_tat")),
                     cell=3, swept={}, episodes=(0, 1), seeds=(11, 12))
    return run_batch(task)


def test_batch_tables_carry_the_declared_types(monkeypatch):
    batch = _llm_batch(monkeypatch)
    tables = {records.EPISODES: batch.episodes, records.EVENTS: batch.events,
              records.CALLS: batch.calls}
    for name, table in tables.items():
        declared = {f.name: records.column_type(name, f.name) for f in table.schema}
        wrong = {f.name: (str(f.type), str(declared[f.name])) for f in table.schema
                 if declared[f.name] is not None and f.type != declared[f.name]}
        assert not wrong, f"{name}: {wrong}"
    # a column whose batch holds only nulls keeps its declared type (not Arrow's null)
    assert batch.calls.column("cost").null_count == len(batch.calls) == 4
    assert batch.calls.schema.field("cost").type == pa.float64()
    assert batch.episodes.schema.field("error").type == pa.string()


def test_batch_columns_are_the_schemas(monkeypatch):
    batch = _llm_batch(monkeypatch)
    ep = batch.episodes.column_names
    assert ep[:6] == list(records.EPISODE_COLUMNS)[:6] and ep[-1] == records.DURATION
    assert {"param.rounds", records.player_column(records.AGENT, 1),
            records.player_column(records.RETURN, 0), records.player_column(records.INVALID, 1),
            records.player_column(records.STAT, 0, "llm_calls")} <= set(ep)
    assert batch.events.column_names == [records.CELL, records.EPISODE,
                                         *records.GAME_EVENT_COLUMNS]
    assert batch.calls.column_names == list(records.CALL_COLUMNS)
    assert batch.calls.column("cell").to_pylist() == [3] * 4


def test_agents_and_graph_growth_record_the_same_call_fields():
    game, text = make_game("RepeatedPD-v1", {"rounds": 1})
    agent = make_agent({"name": "llm", "model": "openai/gpt-4o-mini"}, game)
    agent._model = Cooperator()
    result = play_episode(game, text, [agent, make_agent("tit_for_tat")], seed=0)
    fields = list(records.MODEL_CALL_COLUMNS)
    assert list(result.calls) == [records.STEP, records.ACTOR, records.ATTEMPT, *fields]
    cfg = parse_growth_config({"name": "g", "seed_question": "Why?", "iterations": 1})
    caller = growth_iteration._Caller(Cooperator(), cfg, 1, {"answer": 5})
    assert caller.ask("answer", [{"role": "user", "content": "Why?"}], None) is not None
    assert list(caller.rows[0]) == ["iteration", "call_id", *fields]
    assert list(GROWTH_COLUMNS["calls"]) == ["iteration", "call_id", *fields]
    assert caller.rows[0]["seed"] == 5 and caller.rows[0]["tokens_in"] == 7


def _part(episodes: list[tuple[int, int, str]], steps: int = 1) -> dict[str, pa.Table]:
    """An episodes table of (cell, episode, status) and its events, ``steps`` per episode."""
    ev = [(c, e, s) for c, e, _ in episodes for s in range(steps)]
    return {records.EPISODES: records.to_table(records.EPISODES, {
                records.CELL: [c for c, _, _ in episodes],
                records.EPISODE: [e for _, e, _ in episodes],
                records.STATUS: [s for _, _, s in episodes]}),
            records.EVENTS: records.to_table(records.EVENTS, {
                records.CELL: [c for c, _, _ in ev], records.EPISODE: [e for _, e, _ in ev],
                records.STEP: [s for _, _, s in ev]})}


def test_the_parts_reader_keeps_committed_batches_and_latest_rows(tmp_path):
    store = RunStore(tmp_path)
    store.parts.mkdir(parents=True)
    first = _part([(0, 1, "failed"), (0, 0, "ok")], steps=2)
    store.write_part(first[records.EPISODES], first[records.EVENTS])
    retry = _part([(0, 1, "ok")], steps=3)
    store.write_part(retry[records.EPISODES], retry[records.EVENTS])
    orphan = records.part_path(store.parts, 2, records.EVENTS)  # a killed batch's events
    orphan.write_bytes(records.part_path(store.parts, 1, records.EVENTS).read_bytes())
    assert records.committed_parts(store.parts) == [0, 1]
    assert records.EPISODE_PARTS.uncommitted(store.parts) == [orphan]
    episodes, events = records.read_parts(tmp_path)
    assert episodes[[records.CELL, records.EPISODE, records.STATUS]].values.tolist() == [
        [0, 0, "ok"], [0, 1, "ok"]]
    assert events is not None and events.columns.tolist() == [records.CELL, records.EPISODE,
                                                              records.STEP]
    # episode 0's two steps from part 0, episode 1's three from its retry (part 1) only
    assert events.values.tolist() == [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1], [0, 1, 2]]


def test_rows_and_columns_are_typed_by_one_rule():
    rows = [{"generation": 1, "strategy": 0, "metric.gini": None},
            {"generation": 2, "strategy": 1, "metric.gini": 3, "extra": "x"}]
    by_rows = records.typed_table(records.GENERATIONS, rows)
    declared = list(records.GENERATION_COLUMNS)
    assert by_rows.column_names == [*declared, "metric.gini", "extra"]
    columns = {k: [r.get(k) for r in rows] for k in by_rows.column_names}
    assert by_rows.equals(records.to_table(records.GENERATIONS, columns))
    assert by_rows.schema.field("metric.gini").type == pa.float64()
    assert by_rows.schema.field("share").type == pa.float64()
    assert by_rows["share"].null_count == 2 and by_rows.schema.field("extra").type == pa.string()
    society = records.SOCIETY_COLUMNS[records.AGENTS]
    empty = records.typed_table(society, [])
    assert empty.num_rows == 0 and empty.schema == pa.schema(list(society.items()))
