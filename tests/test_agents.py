"""Each heuristic agent does what its docstring says; specs and the registry fail loudly."""

from __future__ import annotations

import inspect
import json
from typing import Any

import numpy as np
import pytest

from agora.agents import (
    Agent,
    AgentSpec,
    Face,
    TextTurn,
    agent_entries,
    make_agent,
    register_agent,
)
from agora.agents.heuristics import FixedShare, RandomAgent, RandomTextAgent
from agora.envs import ConfigError, Status, UnknownIdError, make_game, specs
from agora.envs.games.bargaining import ACCEPT, REJECT, spe_keep_units
from agora.experiments import play_episode

ALL_IDS = [s.id for s in specs()]
C, D = 0, 1


class Scripted(Agent):
    """Plays a fixed sequence of actions (then repeats the last one)."""

    def __init__(self, moves: list[int]) -> None:
        super().__init__()
        self.moves = moves

    def reset(self, seed: int, player: int) -> None:
        super().reset(seed, player)
        self.turn = 0

    def act(self, obs: Any) -> int:
        move = self.moves[min(self.turn, len(self.moves) - 1)]
        self.turn += 1
        return move


def _actions(
    env_id: str, params: dict, agents: list[Agent | str | dict], seed: int = 0
) -> tuple[list[list[int]], Any]:
    """Each player's actions in order, and the episode result."""
    game, text = make_game(env_id, params)
    built = [a if isinstance(a, Agent) else make_agent(a, game) for a in agents]
    result = play_episode(game, text, built, seed=seed)
    assert result.status == "ok", result.error
    ev = result.events
    per_player = [
        [a for a, p in zip(ev["action"], ev["actor"], strict=True) if p == i]
        for i in range(game.num_players)
    ]
    return per_player, result


# ----- repeated 2x2 -------------------------------------------------------------------
def test_tit_for_tat_cooperates_first_then_copies() -> None:
    other = [D, C, C, D, D, C, D, C]
    (tft, _), _ = _actions("RepeatedPD-v1", {"rounds": 9}, ["tit_for_tat", Scripted(other)])
    assert tft == [C, *other]


def test_tit_for_tat_copies_from_either_seat() -> None:
    other = [D, D, C, D]
    (_, tft), _ = _actions("RepeatedPD-v1", {"rounds": 5}, [Scripted(other), "tit_for_tat"])
    assert tft == [C, *other]


def test_grim_trigger_never_forgives() -> None:
    other = [C, C, D] + [C] * 7
    (grim, _), result = _actions("RepeatedPD-v1", {"rounds": 10}, ["grim_trigger", Scripted(other)])
    assert grim == [C, C, C] + [D] * 7
    assert result.returns[0] == 2 * 3 + 0 + 7 * 5  # R, R, S, then T for ever after


def test_grim_trigger_is_reset_between_episodes() -> None:
    game, text = make_game("RepeatedPD-v1", {"rounds": 3})
    grim = make_agent("grim_trigger", game)
    play_episode(game, text, [grim, make_agent("always_defect")], seed=0)
    result = play_episode(game, text, [grim, make_agent("always_cooperate")], seed=1)
    assert result.events["action"][0::2] == [C, C, C]


def test_win_stay_lose_shift_alternates_against_always_defect() -> None:
    (wsls, _), _ = _actions(
        "RepeatedPD-v1", {"rounds": 8}, ["win_stay_lose_shift", "always_defect"]
    )
    assert wsls == [C, D] * 4


def test_win_stay_lose_shift_stays_after_a_win_and_shifts_after_a_loss() -> None:
    other = [C, C, D, D, C, C]
    (wsls, _), _ = _actions(
        "RepeatedPD-v1", {"rounds": 7}, ["win_stay_lose_shift", Scripted(other)]
    )
    # C (first) -> they C: stay C -> they C: stay C -> they D: shift D -> they D: shift C
    # -> they C: stay C -> they C: stay C
    assert wsls == [C, C, C, D, C, C, C]


def test_constant_strategies() -> None:
    (coop, dfct), _ = _actions(
        "RepeatedPD-v1", {"rounds": 4}, ["always_cooperate", "always_defect"]
    )
    assert (coop, dfct) == ([C] * 4, [D] * 4)


# ----- bargaining ---------------------------------------------------------------------
def _responder_obs(game: Any, offer_to_responder: int) -> Any:
    """Player 1's observation in round 1 when player 0 offers it ``offer`` units."""
    rng = np.random.default_rng(0)
    state = game.initial_state(rng)
    state = game.step(state, (game.params.granularity - offer_to_responder,), rng).state
    obs = game.observe(state, 1)
    assert obs.view.offer_to_me == offer_to_responder
    return obs


@pytest.mark.parametrize("granularity", [10, 100, 1000])
def test_fixed_share_threshold_boundary(granularity: int) -> None:
    game, _ = make_game("Bargaining-v1", {"granularity": granularity})
    step = max(1, granularity // 20)
    for k in range(step, granularity + 1, step):
        agent = make_agent({"name": "fixed_share", "threshold": k / granularity}, game)
        agent.reset(seed=0, player=1)
        assert agent.act(_responder_obs(game, k)) == ACCEPT, k
        assert agent.act(_responder_obs(game, k - 1)) == REJECT, k


@pytest.mark.parametrize(
    ("share", "granularity", "keep"),
    [
        (0.5, 100, 50),
        (0.6, 100, 60),
        (0.0, 100, 0),
        (1.0, 100, 100),
        (0.333, 10, 3),
        (0.37, 10, 4),
    ],
)
def test_fixed_share_proposes_its_share(share: float, granularity: int, keep: int) -> None:
    game, _ = make_game("Bargaining-v1", {"granularity": granularity})
    agent = make_agent({"name": "fixed_share", "share": share}, game)
    agent.reset(seed=0, player=0)
    obs = game.observe(game.initial_state(np.random.default_rng(0)), 0)
    assert obs.view.proposing
    assert agent.act(obs) == keep


def test_fixed_share_pair_agrees_when_shares_are_compatible() -> None:
    agents = [{"name": "fixed_share", "share": 0.6}, {"name": "fixed_share", "threshold": 0.4}]
    (p0, p1), result = _actions("Bargaining-v1", {}, agents)
    assert (p0, p1) == ([60], [ACCEPT])
    assert result.returns == pytest.approx([0.6, 0.4])
    greedy = [{"name": "fixed_share", "share": 0.7}, {"name": "fixed_share", "share": 0.7}]
    (p0, p1), result = _actions("Bargaining-v1", {"horizon": 4}, greedy)
    assert p1[0] == REJECT  # 30 units < threshold 50
    assert result.metrics["agreed"] == 0.0


def test_spe_bargainer_accepts_exactly_what_it_could_get_by_waiting() -> None:
    params = {"granularity": 100, "horizon": 4, "discounts": (0.9, 0.8)}
    game, _ = make_game("Bargaining-v1", params)
    # In round 2 player 1 proposes and would keep spe_keep_units(round 2): need = ceil(0.8 k).
    next_keep = spe_keep_units((0.9, 0.8), 4, 100, round_=2)
    need = -(-8 * next_keep // 10)  # ceil(0.8 * next_keep) in integers
    agent = make_agent("spe_bargainer", game)
    agent.reset(seed=0, player=1)
    assert agent.act(_responder_obs(game, need)) == ACCEPT
    assert agent.act(_responder_obs(game, need - 1)) == REJECT


# ----- public goods -------------------------------------------------------------------
def test_fixed_contributor_contributes_its_fraction() -> None:
    agents = [{"name": "fixed_contributor", "fraction": f} for f in (0.0, 0.25, 0.5, 1.0)]
    per_player, _ = _actions("PublicGoods-v1", {"rounds": 3}, agents)
    assert per_player == [[0] * 3, [5] * 3, [10] * 3, [20] * 3]


@pytest.mark.parametrize(("slope", "expected"), [(1.0, 8), (0.5, 4), (3.0, 20), (0.0, 0)])
def test_conditional_cooperator_follows_the_others_mean(slope: float, expected: int) -> None:
    agents = [
        {"name": "conditional_cooperator", "initial": 0.25, "slope": slope},
        Scripted([4]),
        Scripted([8]),
        Scripted([12]),
    ]
    (cc, *_), _ = _actions("PublicGoods-v1", {"rounds": 4}, agents)
    assert cc == [5, expected, expected, expected]  # 0.25 * 20 first, then slope * mean(4, 8, 12)


def test_conditional_cooperator_tracks_changing_contributions() -> None:
    others = [Scripted([0, 20, 10, 6]), Scripted([20, 20, 2, 6])]
    agents = [{"name": "conditional_cooperator", "initial": 1.0}, *others]
    (cc, *_), _ = _actions("PublicGoods-v1", {"n_players": 3, "rounds": 5}, agents)
    assert cc == [20, 10, 20, 6, 6]


# ----- any game -----------------------------------------------------------------------
def _text_turns(env_id: str, seed: int = 0) -> list[tuple[Any, Any, TextTurn]]:
    """(text face, obs, turn) for mover states reached by random legal play."""
    game, text = make_game(env_id)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(3):
        state = game.initial_state(rng)
        while game.status(state) is Status.RUNNING:
            joint = []
            for p in game.to_move(state):
                obs = game.observe(state, p)
                turn = TextTurn(p, text.rules(p), text.render(obs), text.action_schema(obs))
                out.append((text, obs, turn))
                joint.append(int(rng.choice(obs.legal_actions)))
            state = game.step(state, tuple(joint), rng).state
    return out


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_random_text_answers_always_parse(env_id: str) -> None:
    agent = make_agent("random_text")
    assert agent.face is Face.TEXT
    agent.reset(seed=0, player=0)
    chosen = set()
    for text, obs, turn in _text_turns(env_id):
        for _ in range(5):
            answer = agent.act(turn)
            json.loads(answer)  # plain JSON, as a language model would answer
            action = text.parse(answer, obs)
            assert obs.action_mask[action]
            chosen.add(action)
    assert len(chosen) > 1, "random_text never varies its answer"


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_random_text_plays_whole_episodes_without_invalid_answers(env_id: str) -> None:
    game, text = make_game(env_id)
    for seed in range(3):
        agents = [make_agent("random_text", game) for _ in range(game.num_players)]
        result = play_episode(game, text, agents, seed=seed)
        assert result.status == "ok", result.error
        assert result.invalid == [0] * game.num_players
        assert all(r is not None for r in result.events["reply"])


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_random_agent_plays_legal_moves(env_id: str) -> None:
    game, text = make_game(env_id)
    agents = [make_agent("random", game) for _ in range(game.num_players)]
    result = play_episode(game, text, agents, seed=0)
    assert result.status == "ok" and result.invalid == [0] * game.num_players


@pytest.mark.parametrize("cls", [RandomAgent, RandomTextAgent])
def test_same_seed_same_random_actions(cls: type[Agent]) -> None:
    def run(seed: int) -> list[Any]:
        agent = cls()
        agent.reset(seed=seed, player=0)
        out = []
        for _, obs, turn in _text_turns("PublicGoods-v1"):
            out.append(agent.act(turn if agent.face is Face.TEXT else obs))
        return out

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_reset_restarts_the_random_stream() -> None:
    game, text = make_game("Bargaining-v1")
    obs = game.observe(game.initial_state(np.random.default_rng(0)), 0)
    agent = make_agent("random", game)
    agent.reset(seed=9, player=0)
    first = [agent.act(obs) for _ in range(10)]
    agent.reset(seed=9, player=0)
    assert [agent.act(obs) for _ in range(10)] == first


def test_play_episode_with_same_seed_gives_agents_the_same_draws() -> None:
    game, text = make_game("PublicGoods-v1")
    runs = [
        play_episode(game, text, [make_agent("random") for _ in range(4)], seed=3) for _ in range(2)
    ]
    assert runs[0].events["action"] == runs[1].events["action"]
    # Agents get distinct streams: four random agents do not move in lockstep.
    first_round = runs[0].events["action"][:4]
    assert len(set(first_round)) > 1


# ----- specs and the registry ---------------------------------------------------------
def test_make_agent_unknown_name() -> None:
    with pytest.raises(UnknownIdError, match="no_such_agent") as info:
        make_agent("no_such_agent")
    assert "tit_for_tat" in str(info.value)  # the error lists what is registered
    assert isinstance(info.value, KeyError)


def test_make_agent_unknown_parameter_is_named() -> None:
    with pytest.raises(ConfigError, match="sharee"):
        make_agent({"name": "fixed_share", "sharee": 0.5})
    with pytest.raises(ConfigError, match="anything"):
        make_agent({"name": "tit_for_tat", "anything": 1})


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ({"name": "fixed_share", "share": 1.5}, "share"),
        ({"name": "fixed_share", "threshold": -0.1}, "threshold"),
        ({"name": "fixed_contributor", "fraction": 2}, "fraction"),
        ({"name": "conditional_cooperator", "initial": 1.1}, "initial"),
        ({"name": "conditional_cooperator", "slope": -1}, "slope"),
    ],
)
def test_make_agent_bad_value(spec: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        make_agent(spec)


@pytest.mark.parametrize(
    ("spec", "name"),
    [
        ({"name": "fixed_share", "share": "half"}, "share"),
        ({"name": "conditional_cooperator", "slope": "steep"}, "slope"),
    ],
)
def test_make_agent_mistyped_value_names_the_parameter(spec: dict, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_agent(spec)
    assert name in str(info.value).replace(f"'{spec['name']}'", "")


@pytest.mark.parametrize(
    ("agent", "env_id"),
    [
        ("tit_for_tat", "Bargaining-v1"),
        ("spe_bargainer", "RepeatedPD-v1"),
        ("fixed_contributor", "Bargaining-v1"),
        ("fixed_share", "PublicGoods-v1"),
    ],
)
def test_make_agent_wrong_game(agent: str, env_id: str) -> None:
    game, _ = make_game(env_id)
    with pytest.raises(ConfigError, match=agent):
        make_agent(agent, game)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_generic_agents_play_every_game(env_id: str) -> None:
    game, _ = make_game(env_id)
    assert isinstance(make_agent("random", game), RandomAgent)
    assert isinstance(make_agent("random_text", game), RandomTextAgent)


def test_agent_spec_parse_forms() -> None:
    assert AgentSpec.parse("tit_for_tat") == AgentSpec("tit_for_tat", {})
    parsed = AgentSpec.parse({"name": "fixed_share", "share": 0.6, "threshold": 0.3})
    assert parsed == AgentSpec("fixed_share", {"share": 0.6, "threshold": 0.3})
    same = AgentSpec("random")
    assert AgentSpec.parse(same) is same
    for bad in ({"share": 0.6}, {"name": 3}, 42, None, ["tit_for_tat"]):
        with pytest.raises(ConfigError):
            AgentSpec.parse(bad)  # type: ignore[arg-type]
    assert json.loads(parsed.to_json()) == {"name": "fixed_share", "share": 0.6, "threshold": 0.3}
    assert parsed.to_json() == AgentSpec("fixed_share", {"threshold": 0.3, "share": 0.6}).to_json()


def test_make_agent_accepts_every_spec_form() -> None:
    for raw in ({"name": "fixed_share", "share": 0.6}, AgentSpec("fixed_share", {"share": 0.6})):
        agent = make_agent(raw)
        assert isinstance(agent, FixedShare) and agent.share == 0.6


def test_registry_entries_document_their_parameters() -> None:
    entries = {e.name: e for e in agent_entries()}
    assert list(entries) == sorted(entries)
    expected = {
        "random",
        "random_text",
        "always_cooperate",
        "always_defect",
        "tit_for_tat",
        "grim_trigger",
        "win_stay_lose_shift",
        "spe_bargainer",
        "fixed_share",
        "fixed_contributor",
        "conditional_cooperator",
    }
    assert expected <= set(entries)
    assert entries["fixed_share"].parameters() == {"share": 0.5, "threshold": 0.5}
    assert entries["tit_for_tat"].parameters() == {}
    for entry in entries.values():
        assert entry.summary, f"{entry.name} has no docstring summary"
        required = [k for k, v in entry.parameters().items() if v is inspect.Parameter.empty]
        if not required:
            make_agent(entry.name)  # defaults are valid
            continue
        with pytest.raises(ConfigError, match=required[0]):  # named when missing
            make_agent(entry.name)
    assert [k for k, v in entries["policy"].parameters().items()
            if v is inspect.Parameter.empty] == ["checkpoint"]
    with pytest.raises(ConfigError, match="already registered"):
        register_agent("tit_for_tat")(Scripted)
