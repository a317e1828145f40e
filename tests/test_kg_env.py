"""The knowledge-graph completion world: sources, corruptions, rewards, faces, player."""

from __future__ import annotations

import asyncio
import math

import gymnasium
import networkx as nx
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.agents import Agent
from agora.agents.base import Face
from agora.envs import ActionParseError, ConfigError, IllegalActionError, Status, task_specs
from agora.envs.kg import corruption as cor
from agora.envs.kg.env import KGCompletionEnv
from agora.envs.kg.family import FAMILY_RELATIONS, close_under, rule_world
from agora.envs.kg.graph import KnowledgeGraph
from agora.envs.kg.names import anonymise
from agora.envs.kg.scoring import er_scores, prf
from agora.envs.kg.sources import load_networkx, load_real
from agora.envs.kg.state import KGState
from agora.envs.kg.types import KGAction
from agora.envs.kg.world import CompletionWorld
from agora.experiments.episode import EpisodeResult, aplay_world

# a hand-built world: a path a-b-c-d and two facts about e
FACTS = [("a", "r", "b"), ("b", "r", "c"), ("c", "r", "d"), ("a", "s", "d"),
         ("e", "s", "a"), ("e", "r", "e")]
TOY = KnowledgeGraph.from_named("toy", FACTS)
ID = {n: i for i, n in enumerate(TOY.entity_names)}  # a..e -> 0..4
R, S = 0, 1
BASE = {"anonymise": "none", "corruption": "nodes_only", "budget": 10.0, "cost_weight": 0.5,
        "propose_cost": 0.2, "verify_cost": 2.0, "retract_cost": 0.1, "query_cost": 1.0}


def toy(**params: object) -> tuple[CompletionWorld, KGState]:
    world = CompletionWorld({**BASE, **params}, graph=TOY)
    return world, world.initial_state(np.random.default_rng(0))


def act(world: CompletionWorld, state: KGState, action: KGAction) -> tuple[float, dict]:
    _, reward, info = world.apply(state, action, np.random.default_rng(0))
    return reward, info


# ----- sources -------------------------------------------------------------------------
@pytest.mark.parametrize("name, n, r, k", [("nations", 14, 55, 1992),
                                           ("kinships", 104, 25, 10686),
                                           ("umls", 135, 46, 6529)])
def test_real_kgs_match_their_published_sizes(name: str, n: int, r: int, k: int) -> None:
    kg = load_real(name)
    assert (kg.num_entities, kg.num_relations, len(kg.triples)) == (n, r, k)


@pytest.mark.parametrize("name", ["karate_club", "les_miserables", "florentine_families",
                                  "davis_southern_women"])
def test_networkx_sources_have_both_directions_of_every_edge(name: str) -> None:
    g = getattr(nx, f"{name}_graph")()
    kg = load_networkx(name, typed=True)
    assert len(kg.triples) == 2 * g.number_of_edges()
    pairs = {(h, t) for h, _, t in kg.triple_set()}
    assert all((t, h) in pairs for h, t in pairs)
    assert load_networkx(name, typed=False).relation_names == ("linked",)


def test_rule_world_is_closed_under_its_planted_rules() -> None:
    kg = rule_world(200, np.random.default_rng(3))
    facts = kg.triple_set()
    assert kg.num_entities == 200 and close_under(facts, kg.rules, kg.num_relations) == facts
    p, g = FAMILY_RELATIONS.index("parent_of"), FAMILY_RELATIONS.index("grandparent_of")
    parent = {(h, t) for h, r, t in facts if r == p}
    composed = {(x, z) for x, y in parent for y2, z in parent if y == y2 and x != z}
    assert {(h, t) for h, r, t in facts if r == g} == composed  # grandparent = parent o parent
    assert all(h != t for h, r, t in facts if r != FAMILY_RELATIONS.index("spouse_of"))
    assert (rule_world(200, np.random.default_rng(3)).triples == kg.triples).all()


def test_anonymised_names_are_fresh_unique_tokens() -> None:
    kg = anonymise(load_real("nations"), np.random.default_rng(0), "all")
    assert len(set(kg.entity_names)) == 14 and "usa" not in kg.entity_names
    assert len(set(kg.relation_names)) == 55 and "treaties" not in kg.relation_names
    assert set(kg.entity_names).isdisjoint(kg.relation_names)


def test_names_are_redrawn_each_episode_unless_the_instance_is_fixed() -> None:
    world = CompletionWorld({"source": "nations", "corruption": "nodes_only"})
    a, b = (world.initial_state(np.random.default_rng(s)).start.entity_names for s in (0, 1))
    assert a != b and set(a).isdisjoint(load_real("nations").entity_names)
    for source in ("nations", "rule_world"):
        fixed = CompletionWorld({"source": source, "instance_seed": 3, "num_entities": 30})
        x, y = (fixed.initial_state(np.random.default_rng(s)) for s in (0, 1))
        assert x.kg.entity_names == y.kg.entity_names and (x.kg.triples == y.kg.triples).all()


# ----- corruptions ---------------------------------------------------------------------
KG = rule_world(150, np.random.default_rng(7))
TRUTH = KG.triple_set()


def corrupted(modes: str, seed: int = 0, **kw: object) -> cor.Corrupted:
    params = cor.CorruptionParams(modes=cor.parse_modes(modes), **kw)  # type: ignore[arg-type]
    return cor.corrupt(KG, params, np.random.default_rng(seed))


def triples(c: cor.Corrupted) -> set[tuple[int, int, int]]:
    return {(int(c.alias_of[h]), r, int(c.alias_of[t])) for h, r, t in c.initial.tolist()}


def test_empty_and_nodes_only_start_without_triples() -> None:
    empty, nodes = corrupted("empty", seeds=4), corrupted("nodes_only")
    assert len(empty.initial) == len(nodes.initial) == 0
    assert empty.visible.sum() == 4 and nodes.visible.all()


@given(st.floats(0.0, 1.0), st.integers(0, 2**16))
@settings(max_examples=25, deadline=None)
def test_missing_edges_removes_an_exact_fraction(fraction: float, seed: int) -> None:
    c = corrupted("missing_edges", seed, missing=fraction)
    assert triples(c) <= TRUTH
    assert len(c.initial) == len(TRUTH) - round(fraction * len(TRUTH))


def test_partial_subgraph_is_the_ball_networkx_finds() -> None:
    g = nx.Graph([(h, t) for h, _, t in TRUTH])
    g.add_nodes_from(range(KG.num_entities))
    seeds = np.array([3, 40])
    ball = cor._ball(KG.triples, KG.num_entities, seeds, 2)
    expected = set().union(*(nx.ego_graph(g, int(s), radius=2) for s in seeds))
    assert set(np.flatnonzero(ball).tolist()) == expected
    c = corrupted("partial_subgraph", hops=2, seeds=2)
    inside = set(np.flatnonzero(c.visible).tolist())
    assert triples(c) == {(h, r, t) for h, r, t in TRUTH if h in inside and t in inside}


def test_wrong_relations_relabel_to_false_triples_on_the_same_pairs() -> None:
    c = corrupted("wrong_relations", wrong=0.2)
    wrong = triples(c) - TRUTH
    assert len(c.initial) == len(TRUTH) and len(wrong) == round(0.2 * len(TRUTH))
    pairs = {(h, t) for h, _, t in TRUTH}
    assert all((h, t) in pairs for h, _, t in wrong)


def test_extra_edges_add_false_triples_between_visible_entities() -> None:
    c = corrupted("missing_edges+extra_edges", missing=0.5, extra=0.3)
    kept = len(TRUTH) - round(0.5 * len(TRUTH))
    assert len(triples(c) - TRUTH) == round(0.3 * kept) and len(triples(c) & TRUTH) == kept


def test_duplicates_split_entities_into_aliases_that_map_back() -> None:
    plain = corrupted("duplicates", seed=5, duplicate=0.0)
    c = corrupted("duplicates", seed=5, duplicate=0.2)
    assert len(c.alias_of) == 150 + 30 and len(set(c.entity_names)) == 180
    assert np.bincount(c.alias_of).max() == 2 and (np.bincount(c.alias_of) == 2).sum() == 30
    assert triples(c) == TRUTH == triples(plain)  # every triple survives, under some alias
    assert len(c.initial) > len(TRUTH) - 1 and not (c.alias_of == np.arange(180) % 150).all()


def test_corruptions_are_seeded() -> None:
    modes = "missing_edges+wrong_relations+extra_edges+duplicates"
    a, b, c = corrupted(modes, 1), corrupted(modes, 1), corrupted(modes, 2)
    assert (a.initial == b.initial).all() and (a.alias_of == b.alias_of).all()
    assert a.entity_names == b.entity_names and a.initial.tolist() != c.initial.tolist()


@pytest.mark.parametrize("bad", ["missing_edges+empty", "typo", "extra_edges+extra_edges"])
def test_bad_corruptions_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError, match="corruption"):
        CompletionWorld({"corruption": bad})


# ----- rewards and scores on the hand-built world -------------------------------------
def test_rewards_of_true_false_duplicate_and_retracted_triples() -> None:
    world, s = toy()
    reward, info = act(world, s, KGAction.propose(ID["a"], R, ID["b"]))
    assert reward == pytest.approx(1.0 - 0.5 * 0.2)
    assert info == pytest.approx({"kind": "propose", "new_true": 1, "new_false": 0, "cost": 0.2})
    assert act(world, s, KGAction.propose(ID["a"], R, ID["c"]))[0] == pytest.approx(-1.1)
    assert act(world, s, KGAction.propose(ID["a"], R, ID["b"]))[0] == pytest.approx(-0.1)
    assert act(world, s, KGAction.retract(ID["a"], R, ID["c"]))[0] == pytest.approx(1 - 0.05)
    assert act(world, s, KGAction.verify(ID["b"], R, ID["c"]))[0] == pytest.approx(0.0)
    assert act(world, s, KGAction.verify(ID["c"], S, ID["d"]))[0] == pytest.approx(-1.0)
    assert (ID["c"], S, ID["d"]) in world.view(s).verified_false
    assert s.budget_left == pytest.approx(10 - 0.2 * 3 - 0.1 - 4.0)


def test_precision_recall_f1_closed_form() -> None:
    world, s = toy()
    for h, r, t in [("a", R, "b"), ("b", R, "c"), ("a", R, "d")]:  # 2 true, 1 false
        act(world, s, KGAction.propose(ID[h], r, ID[t]))
    m = world.metrics(s)
    assert (m["precision"], m["recall"]) == pytest.approx((2 / 3, 2 / 6))
    assert m["f1"] == pytest.approx(2 * (2 / 3) * (1 / 3) / (2 / 3 + 1 / 3))
    assert m["initial_f1"] == 0.0 and m["f1_gain"] == pytest.approx(m["f1"])
    assert prf(0, 0, 5) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_an_oracle_recovers_the_whole_graph() -> None:
    world = CompletionWorld({"num_entities": 40, "budget": 1e6, "missing_fraction": 0.5})
    s = world.initial_state(np.random.default_rng(4))
    missing = s.kg.triple_set() - {tuple(t) for t in s.graph.rows[:s.graph.n].tolist()}
    total = sum(act(world, s, KGAction.propose(*t))[0] for t in sorted(missing))
    m = world.metrics(s)
    assert m["f1"] == m["precision"] == m["recall"] == 1.0
    assert total == pytest.approx(len(missing) * (1 - 0.1 * 0.2))


def test_bridge_bonus_pays_for_linking_distant_nodes_only() -> None:
    for distance, bonus in [(3, 0.5), (4, 0.0)]:  # a and d end 3 steps apart
        world, s = toy(bridge_bonus=0.5, bridge_distance=distance)
        for h, t in [("a", "b"), ("b", "c"), ("c", "d")]:  # each joins a cut-off node
            assert act(world, s, KGAction.propose(ID[h], R, ID[t]))[0] == pytest.approx(1.4)
        assert act(world, s, KGAction.propose(ID["a"], S, ID["d"]))[0] == pytest.approx(
            0.9 + bonus)
        assert act(world, s, KGAction.propose(ID["e"], R, ID["e"]))[0] == pytest.approx(0.9)
        assert act(world, s, KGAction.propose(ID["a"], R, ID["e"]))[0] == pytest.approx(-1.1)


def test_query_reveals_true_triples_and_noise_reveals_false_ones() -> None:
    world, s = toy(reveal_k=2)
    act(world, s, KGAction.query(ID["a"]))
    shown = {tuple(t) for t in world.view(s).revealed.tolist()}
    assert len(shown) == 2 and shown <= TOY.triple_set()
    assert all(ID["a"] in (h, t) for h, _, t in shown)
    noisy, n = toy(reveal_k=3, reveal_noise=1.0)
    act(noisy, n, KGAction.query(ID["a"]))
    assert noisy.metrics(n)["precision"] == 0.0 and len(noisy.view(n).revealed) == 3


def test_empty_start_hides_entities_until_a_query_shows_them() -> None:
    world, s = toy(corruption="empty", partial_seeds=1)
    seen = int(np.flatnonzero(s.visible)[0])
    hidden = next(i for i in range(5) if not s.visible[i])
    with pytest.raises(IllegalActionError, match="not visible"):
        world.check(s, 0, KGAction.query(hidden))
    act(world, s, KGAction.query(seen))
    assert s.visible.sum() > 1


def test_merges_score_entity_resolution() -> None:
    world = CompletionWorld({"num_entities": 30, "corruption": "duplicates",
                             "duplicate_fraction": 0.2, "budget": 100.0})
    s = world.initial_state(np.random.default_rng(0))
    alias = s.start.alias_of
    pairs = [tuple(np.flatnonzero(alias == e).tolist()) for e in range(30)
             if (alias == e).sum() == 2]
    assert len(pairs) == 6 and world.metrics(s)["er_recall"] == 0.0
    f1 = world.metrics(s)["f1"]
    for a, b in pairs:
        assert act(world, s, KGAction.merge(a, b))[0] == pytest.approx(1.0 - 0.1 * 0.5)
    m = world.metrics(s)
    assert m["er_accuracy"] == m["er_precision"] == m["er_recall"] == 1.0 and m["f1"] == f1
    keep = pairs[0][0]
    wrong = next(i for i in range(36) if alias[i] != alias[keep])
    assert act(world, s, KGAction.merge(keep, wrong))[0] < -1.0  # wrong merge, wrong triples
    m = world.metrics(s)
    assert m["er_precision"] < 1.0 and m["er_recall"] == 1.0 and m["f1"] < f1
    assert er_scores([0, 0, 0], np.array([0, 0, 1])) == pytest.approx(
        {"er_precision": 1 / 3, "er_recall": 1.0, "er_accuracy": 1 / 3})


def test_illegal_actions_and_the_declared_policy() -> None:
    world, s = toy()
    for bad, why in [(KGAction("jump"), "unknown action"), (KGAction.query(99), "not in"),
                     (KGAction.propose(0, 7, 1), "relation"),
                     (KGAction.retract(0, R, 1), "not in your graph"),
                     (KGAction.merge(2, 2), "itself")]:
        with pytest.raises(IllegalActionError, match=why):
            world.apply(s, bad, np.random.default_rng(0))
    _, reward, _ = world.apply(s, world.invalid_action(s, 0), np.random.default_rng(0))
    assert reward == pytest.approx(-0.5 * 1.0) and s.counts["invalid"] == 1
    assert s.budget_left == pytest.approx(9.0)


def test_budget_ends_the_episode() -> None:
    world, s = toy(budget=1.5)
    act(world, s, KGAction.query(0))
    assert world.status(s) is Status.RUNNING
    assert act(world, s, KGAction.verify(0, R, 1)) == (0.0, {"kind": "verify",
                                                            "exhausted": True})
    assert world.status(s) is Status.TERMINATED and world.metrics(s)["n_verify"] == 0


# ----- faces ---------------------------------------------------------------------------
@pytest.mark.parametrize("spec", task_specs("graph"), ids=lambda s: s.id)
def test_every_graph_task_passes_the_gymnasium_checker(spec: object) -> None:
    env = gymnasium.make(spec.gym_id, render_mode="ansi").unwrapped  # type: ignore[attr-defined]
    check_env(env, skip_render_check=True)
    assert isinstance(env.render(), str)


def test_gym_env_counts_invalid_actions_and_reports_metrics() -> None:
    env = KGCompletionEnv(CompletionWorld({**BASE, "budget": 2.0}, graph=TOY))
    env.reset(seed=0)
    _, reward, term, trunc, info = env.step(np.array([0, 0, 0, 0]))  # query a
    assert reward == pytest.approx(info["new_true"] - 0.5) and not (term or trunc)
    _, reward, term, _, info = env.step(np.array([4, 0, 0, 0]))  # retract unknown (a r a)
    assert info["invalid_actions"] == 1 and "invalid_reason" in info
    assert term and "f1" in info["metrics"]


@pytest.mark.parametrize("action", [
    [6, 0, 0, 0],      # kind past the last (was a bare IndexError)
    [-1, 0, 0, 0],     # kind -1 (wrapped around to "stop")
    [0, -1, 0, 0],     # a negative entity id
    [0, 0, 0, 5],      # tail past the last entity (the toy graph has 5)
    [0.5, 0, 0, 0],    # not an integer
    [0, 0, 0],         # wrong length
    "x",
])
def test_actions_outside_the_action_space_are_invalid_not_wrapped(action: object) -> None:
    env = KGCompletionEnv(CompletionWorld({**BASE, "budget": 5.0}, graph=TOY))
    env.reset(seed=0)
    assert env.action_space.nvec.tolist()[3] == 5
    _, _, term, _, info = env.step(action)
    assert info["kind"] == "invalid" and info["invalid_actions"] == 1 and not term


def ready_state(seed: int = 0) -> tuple[CompletionWorld, KGState]:
    world = CompletionWorld({"num_entities": 30, "corruption": "missing_edges+duplicates",
                             "budget": 20.0})
    return world, world.initial_state(np.random.default_rng(seed))


WORLD, STATE = ready_state()


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_text_round_trip_of_random_legal_actions(seed: int) -> None:
    action = WORLD.text.random_action(STATE, np.random.default_rng(seed))
    WORLD.check(STATE, 0, action)
    assert WORLD.text.parse(WORLD.text.format_action(action, STATE), STATE) == action


@given(st.text(max_size=80) | st.builds(lambda k, v: f'{{"action": "{k}", "head": "{v}"}}',
                                        st.sampled_from(["propose", "query", "merge", "x"]),
                                        st.text(max_size=8)))
@settings(max_examples=80, deadline=None)
def test_text_junk_raises_only_typed_errors(junk: str) -> None:
    try:
        action = WORLD.text.parse(junk, STATE)
    except (ActionParseError, IllegalActionError) as exc:
        assert str(exc)
    else:
        WORLD.check(STATE, 0, action)


def test_text_parse_errors_say_why() -> None:
    t, s = WORLD.text, STATE
    name = s.start.entity_names[0]
    cases = [("no json here", ActionParseError, "no JSON object"),
             ('{"action": "fly"}', ActionParseError, "must be one of"),
             (f'{{"action": "propose", "head": "{name}"}}', ActionParseError, '"relation"'),
             ('{"action": "query", "node": "nobody"}', IllegalActionError, "unknown entity"),
             ('{"action": "query", "node": 3}', ActionParseError, "a name")]
    for reply, error, why in cases:
        with pytest.raises(error, match=why):
            t.parse(reply, s)
    assert t.parse(f'{{"action": "QUERY", "node": " {name.upper()} "}}', s) == KGAction.query(0)
    assert t.format_action(KGAction.query(3)) == '{"action": "query", "node": "#3"}'
    props = t.action_schema(s)["properties"]
    assert props["relation"]["enum"] == list(FAMILY_RELATIONS)
    assert props["node"]["enum"] == [s.start.entity_names[i] for i in np.flatnonzero(s.visible)]
    prose = t.render(s)
    assert prose.startswith("Budget left: 20 (step 0)") and "Facts around" in prose
    assert "Relations: parent_of, child_of" in prose


# ----- the player ----------------------------------------------------------------------
class Oracle(Agent):
    """Proposes the lowest missing true triple (reads the hidden graph: a test double)."""

    def __init__(self, world: CompletionWorld) -> None:
        super().__init__()
        self.world = world
        self.state: object = None

    def act(self, obs: object) -> KGAction:
        known = {tuple(t) for t in obs.known.tolist()}  # type: ignore[attr-defined]
        missing = sorted(self.world.last.kg.triple_set() - known)  # type: ignore[attr-defined]
        return KGAction.propose(*missing[0]) if missing else KGAction.stop()


class Junk(Agent):
    face = Face.TEXT

    def act(self, obs: object) -> str:
        return "I would rather not."


def play(world: CompletionWorld, agent: Agent, seed: int = 0) -> EpisodeResult:
    return asyncio.run(aplay_world(world, [agent], seed, True))


def test_player_is_deterministic_and_records_events() -> None:
    from agora.agents import make_agent

    world = CompletionWorld({"num_entities": 30, "budget": 8.0})
    a = play(world, make_agent("random_text", world), 5)
    b = play(world, make_agent("random_text", world), 5)
    assert a.status == "ok" and a.returns == b.returns and a.metrics == b.metrics
    assert a.events["action_text"] == b.events["action_text"] and a.length == len(a.events["step"])
    assert math.isclose(sum(a.events["reward"]), a.returns[0])


def test_player_counts_invalid_text_answers_and_charges_them() -> None:
    world = CompletionWorld({"num_entities": 30, "budget": 3.0, "invalid_cost": 1.0})
    res = play(world, Junk())
    assert res.status == "ok" and res.invalid == [3] and res.length == 3
    assert res.returns[0] == pytest.approx(-0.3) and set(res.events["kind"]) == {"invalid"}


def test_player_with_a_game_face_oracle_reaches_f1_one() -> None:
    world = CompletionWorld({"num_entities": 20, "budget": 1e4})
    original = world.initial_state

    def remember(rng: np.random.Generator) -> KGState:
        world.last = original(rng)  # type: ignore[attr-defined]
        return world.last  # type: ignore[attr-defined, no-any-return]

    world.initial_state = remember  # type: ignore[method-assign]
    res = play(world, Oracle(world))
    assert res.status == "ok" and res.metrics["f1"] == 1.0 and res.invalid == [0]


@pytest.mark.slow
def test_run_experiment_end_to_end(tmp_path: object) -> None:
    from agora.experiments import parse_config, run_experiment

    cfg = parse_config({"name": "kg-tiny", "env": "KGCompletionER-v1",
                        "params": {"num_entities": 24, "budget": 6.0},
                        "agents": {"default": "random_text"}, "episodes": 2, "seed": 0,
                        "workers": 1})
    out = run_experiment(cfg, tmp_path / "run", progress=False)  # type: ignore[operator]
    assert out.status == "completed" and out.failed == 0 and len(out.episodes) == 2
    assert out.episodes["metric.er_accuracy"].between(0, 1).all()


# ----- the user's own graphs -------------------------------------------------------------
USER_ROWS = [("ann", "knows", "bob"), ("bob", "knows", "cy"), ("cy", "likes", "ann"),
             ("ann", "likes", "dee"), ("dee", "knows", "eve"), ("eve", "likes", "bob"),
             ("bob", "knows", "cy")]  # the last repeats a triple: one triple


def _write(path, rows, header=("head", "relation", "tail")) -> str:
    import pandas as pd

    df = pd.DataFrame(rows, columns=list(header))
    if path.suffix == ".parquet":
        df.to_parquet(path)
    else:
        df.to_csv(path, sep="\t" if path.suffix == ".tsv" else ",", index=False)
    return str(path)


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".parquet"])
def test_a_triples_file_is_a_source_for_worlds_configs_and_gymnasium(tmp_path, suffix) -> None:
    from agora.experiments import parse_config

    path = _write(tmp_path / f"mine{suffix}", USER_ROWS)
    world = CompletionWorld({"source": path, "anonymise": "none"})
    kg = world.draw.fixed
    assert (kg.num_entities, kg.num_relations, len(kg.triples)) == (5, 2, 6)
    names = {(kg.entity_names[h], kg.relation_names[r], kg.entity_names[t])
             for h, r, t in kg.triples.tolist()}
    assert names == set(USER_ROWS)
    env = gymnasium.make("agora/KGQuery-v1", source=path).unwrapped
    assert env.world.num_entities == 5 and env.max_edges == env.world.max_degree
    cfg = parse_config({"name": "mine", "env": "KGCompletion-v1", "params": {"source": path},
                        "agents": {"default": "random_kg"}, "episodes": 1})
    assert cfg.cells()[0].params["source"] == path


def test_a_networkx_graph_is_a_graph_argument_everywhere() -> None:
    g = nx.Graph()
    g.add_edge("ann", "bob", relation="knows")
    g.add_edge("bob", "cy")
    for world in (CompletionWorld({"anonymise": "none"}, graph=g),
                  gymnasium.make("agora/KGQuery-v1", graph=g).unwrapped.world):
        kg = world.draw.fixed
        assert sorted(kg.relation_names) == ["knows", "linked"] and len(kg.triples) == 4


@pytest.mark.parametrize("rows, header, match", [
    (USER_ROWS, ("subject", "relation", "tail"), r"lacks column\(s\) \['head'\]"),
    ([], ("head", "relation", "tail"), "has no triples"),
    ([("ann", "knows", "ann")], ("head", "relation", "tail"), "1 self-loop"),
    ([("ann", "", "bob")], ("head", "relation", "tail"), "empty"),
])
def test_bad_triples_files_are_config_errors(tmp_path, rows, header, match) -> None:
    path = _write(tmp_path / "bad.tsv", rows, header)
    with pytest.raises(ConfigError, match=match):
        CompletionWorld({"source": path})


def test_missing_files_and_wrong_graph_objects_are_config_errors(tmp_path) -> None:
    with pytest.raises(ConfigError, match="source=.*no such file"):
        CompletionWorld({"source": str(tmp_path / "none.tsv")})
    with pytest.raises(ConfigError, match="graph=list"):
        CompletionWorld({}, graph=[("a", "r", "b")])


@pytest.mark.parametrize("task_id", ["KGCompletion-v1", "KGQuery-v1"])
def test_graph_envs_take_the_one_invalid_action_policy(task_id: str) -> None:
    """``raise`` refuses an illegal action and changes nothing; ``penalty`` plays the
    world's invalid step and counts it in ``info["invalid_actions"]``."""
    bad = {"KGCompletion-v1": [0, 10_000, 0, 0], "KGQuery-v1": -1}[task_id]
    strict = gymnasium.make(f"agora/{task_id}", on_invalid_action="raise").unwrapped
    strict.reset(seed=0)
    before = strict.state_
    with pytest.raises(IllegalActionError):
        strict.step(bad)
    assert strict.state_ is before
    lenient = gymnasium.make(f"agora/{task_id}").unwrapped
    lenient.reset(seed=0)
    _, _, _, _, info = lenient.step(bad)
    assert info["invalid_actions"] == 1 and info["invalid_action"] is True
    with pytest.raises(ConfigError, match="on_invalid_action"):
        gymnasium.make(f"agora/{task_id}", on_invalid_action="ignore")
