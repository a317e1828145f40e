"""Open-mode graph growth: labels, the triple parser, merging, strategies, rewards, runs.

The loop is tested with a scripted :class:`LanguageModel` (deterministic canned answers)
and once, marked slow, end to end on the embedded Gemma 3 270M.
"""

from __future__ import annotations

import importlib.util
import json
import zlib
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents.llm.model import Completion, LanguageModel, ModelError, Sampling
from agora.envs import ConfigError
from agora.experiments.growth import (
    Triple,
    TripleParseError,
    choose_focus,
    communities,
    contract,
    empty_graph,
    intrinsic_rewards,
    load_growth_config,
    merge_similar,
    merge_triples,
    normalize_label,
    parse_growth_config,
    parse_triples,
    prune_small_components,
    read_graph,
    resolve,
    run_growth,
    write_graph,
)
from agora.experiments.growth.iteration import iteration_rng
from agora.experiments.growth.strategies import mark_asked

ROOT = Path(__file__).parents[1]
VOCAB = ["spider silk", "protein", "beta sheet", "elasticity", "hydrogen bond", "keratin",
         "amino acid", "fibre", "toughness", "crystal", "water", "web"]


# ----- labels ----------------------------------------------------------------------------
@pytest.mark.parametrize("raw, norm", [
    ("Spider Silk", "spider silk"), ("  spider\tsilk ", "spider silk"),
    ("Proteins", "protein"), ("Beta-Sheets!", "beta sheet"), ("cities", "city"),
    ("Matches", "match"), ("glass", "glass"), ("virus", "virus"), ("analysis", "analysis"),
    ("DNA", "dna"), ("!!!", ""), ("H2O molecules", "h2o molecule"),
])
def test_normalize_label_known_values(raw, norm):
    assert normalize_label(raw) == norm


@given(st.text(max_size=40))
def test_normalize_label_is_idempotent_and_tidy(text):
    once = normalize_label(text)
    assert normalize_label(once) == once
    assert once == once.strip() and "  " not in once
    assert once == once.casefold()


@given(st.lists(st.sampled_from(VOCAB + ["Proteins", "SILK"]), min_size=1, max_size=4))
def test_normalize_label_ignores_case_spacing_and_punctuation(words):
    plain = " ".join(words)
    noisy = "  " + " ,  ".join(w.upper() for w in words) + " ."
    assert normalize_label(noisy) == normalize_label(plain)


# ----- parser ----------------------------------------------------------------------------
T1 = {"source": "Spider silk", "relation": "made of", "target": "proteins"}
T2 = {"source": "beta sheets", "relation": "give", "target": "strength"}


@pytest.mark.parametrize("text", [
    json.dumps({"triples": [T1, T2]}),
    json.dumps([T1, T2]),
    "Sure! Here they are:\n```json\n" + json.dumps([T1, T2]) + "\n```\nHope that helps.",
    "Note [1]: " + json.dumps({"triples": [T1, T2]}),
])
def test_parser_reads_triples_through_fences_and_prose(text):
    parsed = parse_triples(text)
    assert parsed.triples == (Triple(**T1), Triple(**T2))
    assert parsed.rejected == ()


def test_parser_accepts_a_single_triple_object_and_an_empty_list():
    assert parse_triples(json.dumps(T1)).triples == (Triple(**T1),)
    assert parse_triples('{"triples": []}').triples == ()


def test_parser_rejects_bad_items_with_reasons_and_keeps_good_ones():
    items = [T1, {"source": "x"}, "text", {"source": "a", "relation": "r", "target": 3},
             {"source": "Cats", "relation": "are", "target": "cat"},
             {"source": "...", "relation": "r", "target": "b"}]
    parsed = parse_triples(json.dumps(items))
    assert parsed.triples == (Triple(**T1),)
    assert [r for _, r in parsed.rejected] == [
        "missing relation, target", "not an object", "a field is not a string",
        "source and target are the same concept", "an empty label"]


@pytest.mark.parametrize("text", ["", "no json here", "{broken", '{"answer": "x"}', "[1, 2",
                                  '"just a string"'])
def test_unparseable_text_is_a_typed_error(text):
    with pytest.raises(TripleParseError) as info:
        parse_triples(text)
    assert info.value.reason and info.value.text == text


label = st.text(alphabet=st.characters(categories=("L", "N"), max_codepoint=0x2FF),
                min_size=1, max_size=12)
prose = st.text(alphabet=st.characters(categories=("L", "Zs"), max_codepoint=0x7F),
                max_size=30)


@given(st.lists(st.tuples(label, label, label), min_size=1, max_size=5), prose, prose,
       st.booleans(), st.booleans())
def test_parser_round_trips_triples_inside_any_prose(rows, before, after, fenced, wrapped):
    rows = [r for r in rows if normalize_label(r[0]) != normalize_label(r[2])]
    items = [{"source": s, "relation": r, "target": t} for s, r, t in rows]
    body = json.dumps({"triples": items} if wrapped else items)
    text = f"{before}\n```json\n{body}\n```\n{after}" if fenced else f"{before} {body} {after}"
    if not items:
        return
    parsed = parse_triples(text)
    assert parsed.triples == tuple(Triple(s.strip(), r.strip(), t.strip()) for s, r, t in rows)


@given(st.text(max_size=200))
def test_parser_only_ever_raises_its_own_error(text):
    try:
        parsed = parse_triples(text)
    except TripleParseError:
        return
    assert all(isinstance(t, Triple) for t in parsed.triples)


# ----- merging and provenance ------------------------------------------------------------
def _graph(*triples: tuple[str, str, str], iteration: int = 1, call: str = "c1") -> nx.MultiDiGraph:
    g, _ = merge_triples(empty_graph(), [Triple(*t) for t in triples], iteration=iteration,
                         call_id=call)
    return g


def test_merge_deduplicates_by_normal_form_and_records_provenance():
    g = _graph(("Spider silk", "made of", "proteins"))
    g2, out = merge_triples(g, [Triple("spider-silk", "Made of", "Protein"),
                                Triple("spider silk", "contains", "beta sheets")],
                            iteration=2, call_id="it0002-extract")
    assert sorted(g2.nodes) == ["beta sheet", "protein", "spider silk"]
    assert [(o.new_edge, o.new_source, o.new_target) for o in out] == [
        (False, False, False), (True, False, True)]
    assert g2.edges["spider silk", "protein", "made of"]["count"] == 2
    assert g2.edges["spider silk", "protein", "made of"]["call_id"] == "c1"
    assert g2.edges["spider silk", "beta sheet", "contains"]["iteration"] == 2
    assert g2.number_of_edges("spider silk", "protein") == 1
    assert g2.nodes["spider silk"]["mentions"] == 3
    assert g.number_of_edges() == 1 and g.nodes["spider silk"]["mentions"] == 1  # input kept
    for _, _, data in g2.edges(data=True):
        assert {"iteration", "call_id", "relation", "count"} <= set(data)


def test_two_relations_between_the_same_pair_are_two_edges():
    g = _graph(("silk", "contains", "protein"), ("silk", "is made of", "protein"))
    assert g.number_of_edges("silk", "protein") == 2


def test_contract_keeps_edges_drops_self_loops_and_updates_aliases():
    g = _graph(("a", "r", "b"), ("c", "r", "b"), ("c", "s", "a"), ("d", "r", "c"))
    g = contract(g, "b", "c")
    assert resolve(g, "c") == "b" and "c" not in g
    assert g.edges["a", "b", "r"]["count"] == 1  # c -> b became a self-loop and was dropped
    assert sorted(g.edges(keys=True)) == [("a", "b", "r"), ("b", "a", "s"), ("d", "b", "r")]
    g = contract(g, "a", "b")  # the alias of c follows b into a
    assert resolve(g, "c") == "a" and resolve(g, "b") == "a"
    assert not any(u == v for u, v in g.edges())
    assert json.loads(g.nodes["a"]["aliases"]) == ["b", "c"]


def test_embedding_merge_keeps_the_higher_degree_node_above_the_threshold():
    g = _graph(("silk", "r", "protein"), ("silk", "r", "web"), ("silk fibre", "r", "water"))
    vec = {"silk": np.array([1.0, 0.0, 0.0]), "silk fibre": np.array([0.96, 0.28, 0.0]),
           "protein": np.array([0.0, 1.0, 0.0]), "web": np.array([0.0, 0.0, 1.0]),
           "water": np.array([0.0, 0.7, 0.7])}
    cos = float(vec["silk fibre"] @ vec["silk"])  # 0.96 (unit vectors)
    same, merges = merge_similar(g, vec, ["silk fibre"], threshold=cos + 1e-9)
    assert merges == () and nx.utils.graphs_equal(same, g)
    merged, merges = merge_similar(g, vec, ["silk fibre"], threshold=0.95)
    assert [(m.removed, m.kept) for m in merges] == [("silk fibre", "silk")]
    assert merges[0].cosine == pytest.approx(0.96)
    assert merged.has_edge("silk", "water") and resolve(merged, "silk fibre") == "silk"


def test_graphml_round_trip_keeps_every_attribute(tmp_path):
    g = contract(_graph(("a", "r", "b"), ("c", "q", "b"), ("b", "r", "a")), "b", "c")
    g = mark_asked(g, ["a"])
    h = read_graph(write_graph(g, tmp_path / "g.graphml", iteration=7))
    assert sorted(h.nodes(data=True)) == sorted(g.nodes(data=True))
    assert sorted(h.edges(keys=True, data=True)) == sorted(g.edges(keys=True, data=True))
    assert h.graph["aliases"] == {"c": "b"} and h.graph["iteration"] == 7


def test_prune_small_components():
    g = _graph(("a", "r", "b"), ("b", "r", "c"), ("x", "r", "y"))
    assert sorted(prune_small_components(g, 3)) == ["a", "b", "c"]
    assert sorted(prune_small_components(g, 2)) == ["a", "b", "c", "x", "y"]


# ----- strategies ------------------------------------------------------------------------
def _three_cliques() -> nx.MultiDiGraph:
    """Cliques A (a0..a3), B (b0..b3), C (c0..c3) joined in a path A - B - C."""
    g = nx.MultiDiGraph()
    for p in "abc":
        names = [f"{p}{i}" for i in range(4)]
        g.add_edges_from((u, v) for i, u in enumerate(names) for v in names[i + 1:])
    g.add_edges_from([("a0", "b0"), ("b1", "c0")])
    for n in g:
        g.nodes[n].update(asked=0, iteration=1, label=n)
    return g


def test_communities_agree_with_networkx_louvain():
    g = _three_cliques()
    ours = communities(g, seed=3)
    theirs = nx.community.louvain_communities(nx.Graph(g), seed=3)
    assert sorted(map(sorted, ours)) == sorted(map(sorted, theirs))
    assert len(ours) == 3


def test_frontier_takes_the_lowest_degree_unasked_node():
    g = _graph(("hub", "r", "a"), ("hub", "r", "b"), ("a", "r", "b"), ("hub", "r", "leaf"))
    assert choose_focus(g, "frontier", np.random.default_rng(0)).nodes == ("leaf",)
    g = mark_asked(g, ["leaf"])
    assert choose_focus(g, "frontier", np.random.default_rng(0)).nodes in (("a",), ("b",))


def test_novelty_takes_the_newest_nodes():
    g = _graph(("a", "r", "b"))
    g, _ = merge_triples(g, [Triple("b", "r", "c"), Triple("c", "r", "d")], iteration=2,
                         call_id="c2")
    focus = choose_focus(g, "novelty", np.random.default_rng(1))
    assert sorted(focus.nodes) == ["c", "d"]


def test_leap_jumps_to_the_farthest_community():
    focus = choose_focus(_three_cliques(), "leap", np.random.default_rng(0), anchor="a2")
    assert focus.used == "leap" and focus.nodes[0].startswith("c")


def test_bridge_pairs_two_unlinked_communities():
    focus = choose_focus(_three_cliques(), "bridge", np.random.default_rng(0))
    assert focus.used == "bridge"
    assert sorted(n[0] for n in focus.nodes) == ["a", "c"]  # A and C share no edge


def test_leap_and_bridge_fall_back_to_frontier_with_one_community():
    g = _graph(("a", "r", "b"))
    for strategy in ("leap", "bridge"):
        focus = choose_focus(g, strategy, np.random.default_rng(0))
        assert (focus.strategy, focus.used) == (strategy, "frontier")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 2**31 - 1),
       st.sampled_from(["frontier", "novelty", "leap", "bridge"]))
def test_strategies_are_deterministic_given_the_seed(graph_seed, seed, strategy):
    rng = np.random.default_rng(graph_seed)
    simple = nx.gnm_random_graph(12, 16, seed=graph_seed)
    g = nx.MultiDiGraph()
    g.add_nodes_from((f"n{n}", {"asked": int(rng.integers(2)), "iteration": int(rng.integers(3)),
                                "label": f"n{n}"}) for n in simple)
    g.add_edges_from((f"n{u}", f"n{v}") for u, v in simple.edges())
    shuffled = nx.MultiDiGraph()  # same graph, other insertion order
    shuffled.add_nodes_from(sorted(g.nodes(data=True), reverse=True))
    shuffled.add_edges_from(sorted(g.edges(), reverse=True))
    a = choose_focus(g, strategy, iteration_rng(seed, 1), anchor="n0")
    b = choose_focus(shuffled, strategy, iteration_rng(seed, 1), anchor="n0")
    assert a == b and a.nodes and set(a.nodes) <= set(g)


# ----- rewards ---------------------------------------------------------------------------
def test_rewards_on_a_hand_built_graph():
    before = _three_cliques()
    after = before.copy()
    new = [("a1", "c3"), ("a1", "b2"), ("a1", "a2"), ("c3", "fresh")]
    after.add_edges_from(new)
    r = intrinsic_rewards(before, after, new, valid_triples=8,
                          comms_before=communities(before, seed=0), surprise_distance=4)
    # a1 - c3: A to C, 4 hops (a1 a0 b0 b1 c0 c3 is 5); a1 - b2: 3 hops; a1 - a2: 1 hop
    assert (r.new_nodes, r.new_edges, r.novelty) == (1, 4, 0.5)
    assert r.bridging_edges == 2 and r.surprising_edges == 1
    assert r.surprise_basis == "distance" and r.verifiable is False
    assert r.as_record()["verifiable"] is False


def test_surprise_by_embedding_counts_distant_pairs():
    before = _graph(("a", "r", "b"))
    vec = {"a": np.array([1.0, 0.0]), "b": np.array([0.9, 0.1]), "c": np.array([0.0, 1.0])}
    r = intrinsic_rewards(before, before, [("a", "c"), ("b", "a")], 2, [], vectors=vec,
                          surprise_cosine=0.3)
    assert r.surprising_edges == 1 and r.surprise_basis == "embedding"
    assert r.bridging_edges == 0


# ----- a scripted model and full runs ----------------------------------------------------
class ScriptedModel(LanguageModel):
    """Deterministic canned answers picked by the call's schema and a hash of the prompt."""

    name = "scripted"

    def __init__(self, junk_extract_at: Sequence[int] = (), junk_question: bool = False,
                 fail: str | None = None) -> None:
        self.calls = 0
        self.junk_extract_at = set(junk_extract_at)
        self.junk_question = junk_question
        self.fail = fail

    def complete(self, messages, sampling: Sampling) -> Completion:
        self.calls += 1
        if self.fail and self.calls > 4:
            raise ModelError(self.fail, "scripted failure", self.fail != "budget")
        user = messages[-1]["content"]
        h = zlib.crc32(user.encode()) ^ sampling.seed  # the seed varies by iteration
        keys = set(sampling.schema["properties"]) if sampling.schema else set()
        if sampling.schema is None:  # the answer is free text
            words = ", ".join(VOCAB[(h >> s) % 12] for s in (0, 4, 8, 12))
            text = f"On {user}: {words}.\nUser: and now?"
        elif "triples" in keys:
            n = (self.calls + 2) // 3
            present = [w for w in VOCAB if w in user]
            if n in self.junk_extract_at:
                text = "I am sorry, I cannot extract anything."
            else:
                picks = [present[(h >> s) % len(present)] for s in (0, 4, 8, 12)]
                text = json.dumps({"triples": [
                    {"source": picks[0], "relation": "affects", "target": picks[1]},
                    {"source": picks[2].upper() + "s", "relation": "part of", "target": picks[3]},
                    {"source": picks[0], "relation": "affects", "target": picks[0]},
                    {"source": "moon", "relation": "orbits", "target": "earth"}]})
        else:
            concepts = user.split("Concepts: ")[-1]
            text = '{"question": "Wh' if self.junk_question else json.dumps(
                {"question": f"How does {concepts} work?"})
        return Completion(text=text, model=self.name, tokens_in=len(user), tokens_out=9,
                          latency_s=0.001)


def _cfg(**over) -> dict:
    return {"name": "t", "seed_question": "How is spider silk so tough?", "iterations": 4,
            "strategy": "frontier", "seed": 5, **over}


def _run(tmp_path: Path, name: str = "run", model: LanguageModel | None = None, **over):
    cfg = parse_growth_config(_cfg(**over))
    return run_growth(cfg, tmp_path / name, model=model or ScriptedModel(), progress=False)


def test_a_full_run_saves_graphs_tables_and_provenance(tmp_path):
    summary = _run(tmp_path)
    run = summary.run_dir
    assert summary.status == "ok" and summary.iterations_done == 4
    assert json.loads((run / "manifest.json").read_text())["status"] == "ok"
    assert (run / "config.yaml").exists()
    graphs = sorted(p.name for p in (run / "graphs").glob("*.graphml"))
    assert graphs == [f"iter_{i:04d}.graphml" for i in range(1, 5)]
    calls = pd.read_parquet(run / "calls.parquet")
    triples = pd.read_parquet(run / "triples.parquet")
    its = pd.read_parquet(run / "iterations.parquet")
    assert list(calls["purpose"]) == ["answer", "extract", "question"] * 4
    assert calls["call_id"].is_unique and calls["error"].isna().all()
    extract_ids = set(calls.loc[calls["purpose"] == "extract", "call_id"])
    assert set(triples["call_id"]) <= extract_ids
    assert set(triples["status"]) <= {"new", "duplicate", "collapsed", "rejected"}
    assert (triples["status"] == "rejected").sum() == its["triples_rejected"].sum()
    reasons = triples.loc[triples["status"] == "rejected", "reason"]
    assert (its["triples_rejected"] >= 2).all()  # the scripted self-loop and moon, each time
    assert (reasons == "concept not in the text").sum() >= 4 and "moon" not in summary_nodes(run)
    final = read_graph(run / "graphs" / "iter_0004.graphml")
    assert final.number_of_nodes() == summary.nodes == its["nodes"].iloc[-1]
    for _, _, data in final.edges(data=True):
        assert data["call_id"] in extract_ids
        assert data["call_id"] == f"it{data['iteration']:04d}-extract"
    new = triples[triples["status"] == "new"]
    assert len(new) == final.number_of_edges() == its["new_edges"].sum()
    assert not its["verifiable"].any() and its["question"].iloc[0] == _cfg()["seed_question"]
    assert list(its["question"].iloc[1:]) == list(its["next_question"].iloc[:-1])
    sizes = [read_graph(run / "graphs" / g).number_of_nodes() for g in graphs]
    assert sizes == sorted(sizes) and sizes == list(its["nodes"])
    if importlib.util.find_spec("agora.analysis.graphs") is not None:  # optional, lazy
        assert json.loads((run / "panel.json").read_text())["nodes"] == summary.nodes


def test_junk_answers_are_counted_not_hidden(tmp_path):
    summary = _run(tmp_path, model=ScriptedModel(junk_extract_at=(2,), junk_question=True))
    its = pd.read_parquet(summary.run_dir / "iterations.parquet")
    assert summary.status == "ok"
    assert list(its["parse_error"].notna()) == [False, True, False, False]
    assert its.loc[1, "triples_valid"] == 0 and its.loc[1, "new_edges"] == 0
    assert its["question_fallback"].all() and summary.counts["question_fallbacks"] == 4
    assert summary.counts["parse_errors"] == 1


def test_an_empty_graph_asks_its_question_again_without_a_call(tmp_path):
    summary = _run(tmp_path, iterations=2, model=ScriptedModel(junk_extract_at=(1,)))
    calls = pd.read_parquet(summary.run_dir / "calls.parquet")
    its = pd.read_parquet(summary.run_dir / "iterations.parquet")
    assert list(calls["purpose"]) == ["answer", "extract", "answer", "extract", "question"]
    assert its.loc[0, "nodes"] == 0 and its.loc[0, "question_fallback"]
    assert its.loc[0, "next_question"] == its.loc[1, "question"] == _cfg()["seed_question"]
    assert its.loc[1, "nodes"] > 0 and not its.loc[1, "question_fallback"]


def test_a_model_error_is_recorded_and_a_spent_budget_stops_the_run(tmp_path):
    soft = _run(tmp_path, "soft", model=ScriptedModel(fail="timeout"))
    calls = pd.read_parquet(soft.run_dir / "calls.parquet")
    assert soft.status == "ok" and calls["error"].notna().sum() == soft.counts["model_errors"] > 0
    hard = _run(tmp_path, "hard", model=ScriptedModel(fail="budget"))
    manifest = json.loads((hard.run_dir / "manifest.json").read_text())
    assert hard.status == "stopped" and "budget" in manifest["error"]
    assert hard.iterations_done == 1  # iteration 2 failed on its second call


@pytest.mark.parametrize("kind", ["auth", "bad_request"])
def test_a_rejected_key_or_model_stops_growth(tmp_path, kind):
    """Every fatal kind stops the run (bad_request used to be retried on every call)."""
    summary = _run(tmp_path, kind, model=ScriptedModel(fail=kind))
    manifest = json.loads((summary.run_dir / "manifest.json").read_text())
    assert summary.status == "stopped" and kind in manifest["error"]
    assert summary.iterations_done == 1


def summary_nodes(run: Path) -> set[str]:
    return set(read_graph(run / "graphs" / "iter_0004.graphml"))


def test_grounding_can_be_switched_off(tmp_path):
    summary = _run(tmp_path, grounded=False)
    assert {"moon", "earth"} <= summary_nodes(summary.run_dir)


def _same_graph(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> bool:
    return (sorted(a.nodes(data=True)) == sorted(b.nodes(data=True))
            and sorted(a.edges(keys=True, data=True)) == sorted(b.edges(keys=True, data=True)))


@pytest.mark.parametrize("strategy", ["frontier", "leap"])
def test_resume_continues_exactly_where_a_straight_run_would(tmp_path, strategy):
    straight = _run(tmp_path, "straight", strategy=strategy).run_dir
    _run(tmp_path, "split", strategy=strategy, iterations=2)
    cfg = parse_growth_config(_cfg(strategy=strategy))
    (tmp_path / "split" / "parts" / "iter_0002.iterations.parquet").unlink()  # a kill
    resumed = run_growth(cfg, tmp_path / "split", model=ScriptedModel(), resume=True,
                         progress=False)
    assert resumed.status == "ok" and resumed.iterations_done == 4
    for i in range(1, 5):
        name = f"iter_{i:04d}.graphml"
        assert _same_graph(read_graph(straight / "graphs" / name),
                           read_graph(resumed.run_dir / "graphs" / name))
    cols = ["question", "next_question", "nodes", "edges", "focus_nodes"]
    a = pd.read_parquet(straight / "iterations.parquet")[cols]
    b = pd.read_parquet(resumed.run_dir / "iterations.parquet")[cols]
    pd.testing.assert_frame_equal(a, b)
    assert json.loads((resumed.run_dir / "manifest.json").read_text())["attempts"] == 2


def test_the_manifest_keeps_its_keys_in_order_and_resumes_count_attempts(tmp_path):
    run = _run(tmp_path, iterations=1).run_dir
    manifest = json.loads((run / "manifest.json").read_text())
    assert list(manifest)[:18] == [
        "name", "kind", "fingerprint", "agora_version", "git_commit", "packages", "command",
        "seed", "seed_scheme", "model", "strategy", "iterations_planned", "iterations_done",
        "rewards", "started", "ended", "status", "attempts"]
    assert manifest["kind"] == "graph_growth" and manifest["iterations_planned"] == 1
    resumed = run_growth(parse_growth_config(_cfg(iterations=3)), run, model=ScriptedModel(),
                         resume=True, progress=False)
    manifest = json.loads((run / "manifest.json").read_text())
    assert (manifest["attempts"], manifest["iterations_planned"]) == (2, 3)
    assert resumed.iterations_done == manifest["iterations_done"] == 3
    assert not list(run.rglob("*.tmp"))


def test_resume_refuses_another_config_and_a_new_run_refuses_an_old_dir(tmp_path):
    _run(tmp_path, iterations=1)
    with pytest.raises(ConfigError, match="fingerprint"):
        run_growth(parse_growth_config(_cfg(seed=6)), tmp_path / "run",
                   model=ScriptedModel(), resume=True, progress=False)
    with pytest.raises(ConfigError, match="already holds a run"):
        _run(tmp_path, iterations=1)


def test_min_component_prunes_saved_graphs_but_resume_reads_the_full_state(tmp_path):
    summary = _run(tmp_path, min_component=50, iterations=2)
    saved = read_graph(summary.run_dir / "graphs" / "iter_0002.graphml")
    assert saved.number_of_nodes() == 0 < summary.nodes
    states = list((summary.run_dir / "state").glob("*.graphml"))
    assert [p.name for p in states] == ["iter_0002.graphml"]
    assert read_graph(states[0]).number_of_nodes() == summary.nodes


KIND = {"spider silk": 0, "web": 0, "fibre": 0, "protein": 1, "amino acid": 1, "keratin": 1,
        "beta sheet": 2, "crystal": 2, "hydrogen bond": 2, "elasticity": 3, "toughness": 3,
        "water": 4}


class KindEmbedder:
    """A toy embedder: one axis per kind of concept plus a small label-specific wobble,
    so labels of one kind have cosine ~0.99 and labels of two kinds ~0."""

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), 5 + 8))
        for i, t in enumerate(texts):
            rows[i, KIND[t]] = 1.0
            rows[i, 5 + zlib.crc32(t.encode()) % 8] = 0.1
        return rows


def test_an_embedder_merges_similar_labels_and_scores_surprise(tmp_path):
    cfg = parse_growth_config(_cfg(embedding={"model": "toy", "threshold": 0.95}))
    summary = run_growth(cfg, tmp_path / "run", model=ScriptedModel(), embedder=KindEmbedder(),
                         progress=False)
    its = pd.read_parquet(summary.run_dir / "iterations.parquet")
    triples = pd.read_parquet(summary.run_dir / "triples.parquet")
    assert (its["surprise_basis"] == "embedding").all()
    final = read_graph(summary.run_dir / "graphs" / "iter_0004.graphml")
    kinds = [KIND[n] for n in final]
    assert len(kinds) == len(set(kinds))  # one survivor per kind: the rest were merged
    aliases = final.graph["aliases"]
    assert its["embed_merges"].sum() == len(aliases) > 0
    assert all(KIND[a] == KIND[k] for a, k in aliases.items())
    assert triples["embed_merged"].fillna(False).any()
    # every edge now joins two kinds (cosine ~0): all new edges between them are surprising
    assert its["surprising_edges"].sum() == its["new_edges"].sum() > 0


def test_config_errors_name_the_key_and_value(tmp_path):
    with pytest.raises(ConfigError, match=r"strategy: .*got 'random'"):
        parse_growth_config(_cfg(strategy="random"))
    with pytest.raises(ConfigError, match=r"embedding.threshold: .*got 1.5"):
        parse_growth_config(_cfg(embedding={"model": "m", "threshold": 1.5}))
    with pytest.raises(ConfigError, match=r"colour: Extra inputs"):
        parse_growth_config(_cfg(colour="red"))
    with pytest.raises(ConfigError, match=r"iterations: .*got 0"):
        parse_growth_config(_cfg(iterations=0))
    with pytest.raises(ConfigError, match="does not exist"):
        load_growth_config(tmp_path / "nope.yaml")
    cfg = parse_growth_config(_cfg(model="openai/gpt-4o-mini"))
    assert cfg.model.model == "openai/gpt-4o-mini"
    base = parse_growth_config(_cfg())
    assert base.fingerprint() == parse_growth_config(_cfg(iterations=9)).fingerprint()
    assert base.fingerprint() != parse_growth_config(_cfg(seed=1)).fingerprint()
    assert base.fingerprint() != cfg.fingerprint()


def test_the_shipped_config_loads():
    cfg = load_growth_config(ROOT / "experiments" / "configs" / "graph_growth_local.yaml")
    assert cfg.model.model == "local/gemma-3-270m" and cfg.embedding is None


def test_the_cli_grows_and_resumes(tmp_path, monkeypatch, capsys):
    from agora.experiments import cli
    from agora.experiments.growth import run as run_module

    monkeypatch.setattr(run_module, "build_model", lambda spec: ScriptedModel())
    config = tmp_path / "g.yaml"
    config.write_text(json.dumps(_cfg()))  # JSON is YAML
    out = tmp_path / "run"
    assert cli.main(["grow", str(config), "--out", str(out), "--iterations", "2", "--quiet"]) == 0
    assert cli.main(["grow", str(config), "--out", str(out), "--resume", "--quiet"]) == 0
    assert "growth ok: 4/4 iterations" in capsys.readouterr().out
    assert cli.main(["grow", str(config), "--iterations", "0"]) == 2


# ----- the real embedded model -----------------------------------------------------------
@pytest.mark.slow
def test_growth_on_the_embedded_model(tmp_path):
    pytest.importorskip("llama_cpp", reason="the embedded model needs the 'local' extra")
    cfg = load_growth_config(ROOT / "experiments" / "configs" / "graph_growth_local.yaml")
    cfg = parse_growth_config({**cfg.model_dump(), "iterations": 2,
                               "model": {"model": "local/gemma-3-270m", "cache": "off"}})
    summary = run_growth(cfg, tmp_path / "run", progress=False)
    run = summary.run_dir
    assert summary.status == "ok" and summary.iterations_done == 2
    assert sorted(p.name for p in (run / "graphs").glob("*.graphml")) == [
        "iter_0001.graphml", "iter_0002.graphml"]
    calls = pd.read_parquet(run / "calls.parquet")
    its = pd.read_parquet(run / "iterations.parquet")
    # answer and extract every iteration; a question unless the graph was still empty
    assert 4 <= len(calls) <= 6 and calls["error"].isna().all()
    assert (calls["model"] == "local/gemma-3-270m").all() and (calls["tokens_out"] > 0).all()
    # the grammar keeps even this base model's extraction parseable
    extracts = calls[calls["purpose"] == "extract"]
    assert len(extracts) == 2 and its["parse_error"].isna().all()
    assert extracts["completion"].str.lstrip().str.startswith("{").all()
    triples = pd.read_parquet(run / "triples.parquet")
    assert len(triples) > 0 and set(triples["call_id"]) <= set(extracts["call_id"])
    assert (its["triples_valid"] + its["triples_rejected"]).sum() == len(triples)
    final = read_graph(run / "graphs" / "iter_0002.graphml")
    assert final.number_of_nodes() == its["nodes"].iloc[-1]
    assert {d["call_id"] for _, _, d in final.edges(data=True)} <= set(extracts["call_id"])
    assert not its["verifiable"].any()
