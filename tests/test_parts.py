"""One way to write committed parts: every kind of run names its parts by a
:class:`PartLayout` (the file names unchanged), writes the commit part last, drops what a
killed run left, and consolidates the committed parts into whole tables."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_graph_growth import ScriptedModel, _cfg

from agora.analysis import records
from agora.analysis.records import PartLayout
from agora.experiments import store as store_module
from agora.experiments.growth import parse_growth_config, read_graph, run_growth
from agora.experiments.growth.store import GrowthStore
from agora.experiments.population.archetypes import _StepStore
from agora.experiments.population.society_store import SocietyStore, part_name
from agora.experiments.population.store import PopulationStore
from agora.experiments.store import RunDirectory, RunStore


@pytest.mark.parametrize(("store", "key", "table", "name"), [
    (RunStore, (7,), "events", "000007.events.parquet"),
    (PopulationStore, (7,), "agents", "gen_000007.agents.parquet"),
    (SocietyStore, (3, 7), "calls", "s3_g0007.calls.parquet"),
    (_StepStore, (7,), "archetype_steps", "step_00007.archetype_steps.parquet"),
    (GrowthStore, (7,), "triples", "iter_0007.triples.parquet"),
])
def test_each_run_keeps_its_part_names(store: type[RunDirectory], key: tuple[int, ...],
                                       table: str, name: str, tmp_path: Path) -> None:
    layout = store(tmp_path).layout
    path = layout.path(tmp_path, table, *key)
    assert path.name == name and layout.key(name) == key
    assert layout.key(f"{name}.tmp") is None and layout.key("manifest.json") is None
    assert part_name(3, 7, "calls") == "s3_g0007.calls.parquet"


class _Toy(RunDirectory):
    layout = PartLayout("k{}_{:03d}", "summary")


def _rows(key: int, n: int) -> pa.Table:
    return pa.table({"key": pa.array([key] * n, pa.int64()),
                     "i": pa.array(list(range(n))[::-1], pa.int64())})


def test_the_commit_part_is_written_last(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    run = _Toy(tmp_path)
    run.parts.mkdir()
    written: list[str] = []
    real = store_module._write_table
    monkeypatch.setattr(store_module, "_write_table",
                        lambda path, table: (written.append(path.name), real(path, table)))
    run.commit_part((1, 2), {"summary": _rows(0, 1), "a": _rows(0, 2), "b": None,
                             "c": _rows(0, 1)})
    assert written == ["k1_002.a.parquet", "k1_002.c.parquet", "k1_002.summary.parquet"]
    assert run.committed_keys() == [(1, 2)]


def test_a_killed_runs_leftovers_are_dropped_and_the_rest_consolidated(
        tmp_path: Path) -> None:
    run = _Toy(tmp_path)
    run.parts.mkdir()
    for key in (10, 2):  # committed, out of order
        run.commit_part((0, key), {"a": _rows(key, 2), "summary": _rows(key, 1)})
    pq.write_table(_rows(3, 5), run.layout.path(run.parts, "a", 0, 3))  # killed before commit
    (run.parts / "k0_003.summary.parquet.tmp").write_bytes(b"half")
    stranger = run.parts / "notes.parquet"  # not a part of this layout: kept
    stranger.write_bytes(b"")
    assert run.layout.uncommitted(run.parts) == [run.layout.path(run.parts, "a", 0, 3)]
    run.drop_uncommitted()
    assert sorted(p.name for p in run.parts.iterdir()) == [
        "k0_002.a.parquet", "k0_002.summary.parquet", "k0_010.a.parquet",
        "k0_010.summary.parquet", "notes.parquet"]
    assert run.committed_keys() == [(0, 2), (0, 10)]
    whole = run.consolidate_table("a", order=("key", "i", "absent"))
    assert whole is not None and whole.to_pydict() == {"key": [2, 2, 10, 10],
                                                       "i": [0, 1, 0, 1]}
    assert pq.read_table(tmp_path / "a.parquet").equals(whole)
    assert run.consolidate_table("none") is None and not (tmp_path / "none.parquet").exists()
    empty = _rows(0, 0)
    assert run.consolidate_table("none", empty=empty) is empty


def test_the_episode_readers_use_the_same_layout(tmp_path: Path) -> None:
    assert RunStore.layout is records.EPISODE_PARTS
    assert records.part_path(tmp_path, 5, records.CALLS) == RunStore.layout.path(
        tmp_path, records.CALLS, 5)


def _growth_files(run: Path) -> list[str]:
    return sorted(p.relative_to(run).as_posix() for p in run.rglob("*")
                  if p.is_file() and p.name not in ("manifest.json", "panel.json"))


def _same_rows(a: Path, b: Path, table: str) -> None:
    timing = ["duration_s", "latency_s"]
    left, right = (pd.read_parquet(r / f"{table}.parquet") for r in (a, b))
    pd.testing.assert_frame_equal(left.drop(columns=timing, errors="ignore"),
                                  right.drop(columns=timing, errors="ignore"))


def test_growth_drops_an_iteration_killed_before_its_commit_and_replays_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse_growth_config(_cfg(iterations=4))
    straight = run_growth(cfg, tmp_path / "straight", model=ScriptedModel(),
                          progress=False).run_dir
    real = store_module._write_table

    def killed_at_commit(path: Path, table: pa.Table) -> None:
        if path.name == "iter_0003.iterations.parquet":
            raise KeyboardInterrupt
        real(path, table)

    with monkeypatch.context() as m:
        m.setattr(store_module, "_write_table", killed_at_commit)
        with pytest.raises(KeyboardInterrupt):
            run_growth(cfg, tmp_path / "split", model=ScriptedModel(), progress=False)
    split = tmp_path / "split"
    left = GrowthStore(split)
    assert left.committed() == [1, 2]
    assert left.layout.uncommitted(left.parts) == [
        left.parts / "iter_0003.calls.parquet", left.parts / "iter_0003.triples.parquet"]
    assert (split / "graphs" / "iter_0003.graphml").exists()
    resumed = run_growth(cfg, split, model=ScriptedModel(), resume=True, progress=False)
    assert (resumed.status, resumed.iterations_done) == ("ok", 4)
    assert _growth_files(split) == _growth_files(straight)
    for table in ("iterations", "calls", "triples"):
        _same_rows(straight, split, table)
    for i in range(1, 5):
        a, b = (read_graph(r / "graphs" / f"iter_{i:04d}.graphml") for r in (straight, split))
        assert sorted(a.edges(keys=True, data=True)) == sorted(b.edges(keys=True, data=True))
    assert json.loads((split / "manifest.json").read_text())["attempts"] == 2


def test_growth_consolidates_an_iteration_whose_column_has_no_value(tmp_path: Path) -> None:
    """An iteration whose triples all lack a raw source (unparsed replies) writes that
    column with no value; the consolidated table still holds the other iterations' text
    (pyarrow refused to merge pandas' float NaN column with strings)."""
    import networkx as nx

    st = GrowthStore(tmp_path / "run")
    st.create(parse_growth_config(_cfg(iterations=2)))
    for i, raw in ((1, None), (2, "Paris")):
        row = {"iteration": i, "call_id": 0, "status": "unparsed"}
        if raw is not None:  # an unparsed reply's row has no raw source at all
            row["source_raw"] = raw
        st.write_iteration(i, nx.MultiDiGraph(), None, {
            "calls": [], "triples": [row], "iterations": [{"iteration": i, "triples": 1}]})
    triples = st.consolidate()["triples"]
    assert pd.isna(triples["source_raw"][0]) and triples["source_raw"][1] == "Paris"
    assert triples["iteration"].tolist() == [1, 2]
