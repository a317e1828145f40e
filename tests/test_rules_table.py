"""One table of agents as rule data (agora.agents.rules_table), used by the population
engine's vector kernels and by ``vectorized: true`` training.

The table covers exactly the games the two tables it replaces covered, keyed by game names
that match the games' classes; its arrays are the ones the vector envs take as
``opponent=``; so ``vectorized: true`` seats non-default bidders and donors, and its rows
replay through the single env with those agents seated; an agent without a rule stays a
ConfigError naming the seat and the agent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from vec_replay import replay_rows

import agora.envs  # noqa: F401  (registers the ids)
from agora.agents import AgentSpec
from agora.agents.bid_rule import bid_rule_of
from agora.agents.commons_rule import commons_rule_of
from agora.agents.donor_rule import donor_rule_of
from agora.agents.group_rule import group_rule_of
from agora.agents.memory_one import memory_one_of
from agora.agents.rules_table import RULE_TABLES, rule_table
from agora.envs import ConfigError, make_game
from agora.envs.games.auction import AuctionGame
from agora.envs.games.commons import CommonsGame
from agora.envs.games.donor import DonorGame
from agora.envs.games.public_goods import PublicGoodsGame
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.envs.registry import specs
from agora.envs.vector import make_vec
from agora.experiments.population.engine import PayoffEngine

CLASSES = {"RepeatedMatrix": RepeatedMatrixGame, "PublicGoods": PublicGoodsGame,
           "Commons": CommonsGame, "Auction": AuctionGame, "DonorGame": DonorGame}
TRAIN = {"name": "v", "vectorized": True, "n_envs": 8, "total_timesteps": 64,
         "eval_episodes": 0, "hyperparameters": {"n_steps": 4, "batch_size": 32,
                                                 "n_epochs": 1}}
SHADE = {"name": "auction_shade", "fraction": 0.3}
STANDING = {"name": "donor_standing", "threshold": 0.4}
COOPERATOR = {"name": "donor_cooperator", "fraction": 0.3}


def test_the_table_covers_the_games_both_old_tables_covered() -> None:
    # train_sb3's table: RepeatedMatrix and PublicGoods; the engine's: memory-one tables
    # for RepeatedMatrix and rules for PublicGoods, Commons, Auction and DonorGame.
    assert {g: (t.rule_of, t.what) for g, t in RULE_TABLES.items()} == {
        "RepeatedMatrix": (memory_one_of, "memory-one strategy"),
        "PublicGoods": (group_rule_of, "contribution rule"),
        "Commons": (commons_rule_of, "commons rule"),
        "Auction": (bid_rule_of, "bid rule"), "DonorGame": (donor_rule_of, "donor rule")}
    for spec in specs():  # the names key exactly the classes' games
        game = spec.make_game({})
        kind = next((n for n, c in CLASSES.items() if isinstance(game, c)), None)
        assert rule_table(game) is (None if kind is None else RULE_TABLES[kind]), spec.id


@pytest.mark.parametrize(("env_id", "params", "agents"), [
    ("PublicGoods-v1", {}, ["fixed_contributor", {"name": "threshold_contributor",
                                                  "below": 0.2}, "conditional_cooperator"]),
    ("SecondPriceAuction-v1", {"n_players": 3, "granularity": 6}, [SHADE, "auction_truthful"]),
    ("DonorGame-v1", {"n_agents": 4}, [STANDING, COOPERATOR, "donor_defector"]),
])
def test_the_tables_arrays_are_what_the_vector_envs_seat(env_id: str, params: dict,
                                                         agents: list[Any]) -> None:
    game = make_game(env_id, params)[0]
    table = rule_table(game)
    assert table is not None
    data = table.data(agents, game.params)
    rules = [table.rule_of(a) for a in agents]
    expected = [r.table(game.params) if hasattr(r, "table") else r.row() for r in rules]
    assert data is not None and data.tolist() == np.stack(expected).tolist()
    env: Any = make_vec(2, env_id, opponent=data, **params)
    seated = {"Auction": lambda: env.tables, "DonorGame": lambda: env.rules[1:],
              "PublicGoods": lambda: env.rules[0, 1:]}[game.info.name]()
    assert seated.tolist() == data.tolist()
    assert table.data([*agents, "llm"], game.params) is None
    assert table.lacking([*agents, "llm"]) == ["llm"]


def _specs(*agents: Any) -> list[AgentSpec]:
    return [AgentSpec.parse(a) for a in agents]


def test_the_engine_plays_the_tables_arrays() -> None:
    eng = PayoffEngine("FirstPriceAuction-v1", {"granularity": 5},
                       _specs(SHADE, "auction_bne"), engine="vector")
    assert eng.rules is not None and eng.rules.tolist() == [
        bid_rule_of(SHADE).table(eng.game.params).tolist(),
        bid_rule_of("auction_bne").table(eng.game.params).tolist()]
    pairs = PayoffEngine("RepeatedPD-v1", {}, _specs("grim_trigger", "alternator"))
    assert pairs.rules is None and pairs.probs is not None and pairs.probs.tolist() == [
        memory_one_of(s).probabilities().tolist() for s in ("grim_trigger", "alternator")]
    with pytest.raises(ConfigError, match=r"strategies \['donor_random'\] have no donor rule"):
        PayoffEngine("DonorGame-v1", {}, _specs("donor_defector", "donor_random"),
                     engine="vector")
    with pytest.raises(ConfigError, match="Ultimatum-v1 is not a repeated 2x2, public goods, "
                                          "commons, auction or donor game"):
        PayoffEngine("Ultimatum-v1", {}, _specs("random"), engine="vector")


def _train(env: str, params: dict, learner: str, opponents: dict) -> Any:
    from agora.experiments.train import parse_train_config

    return parse_train_config({**TRAIN, "env": env, "params": params, "learners": [learner],
                               "opponents": opponents})


@pytest.mark.parametrize(("env_id", "params", "learner", "opponents"), [
    ("FirstPriceAuction-v1", {"n_players": 3, "granularity": 8, "rounds": 3}, "player_1",
     {"player_0": SHADE, "player_2": "auction_truthful"}),
    ("AllPayAuction-v1", {"n_players": 2, "granularity": 5, "rounds": 2}, "player_0",
     {"player_1": "auction_truthful"}),
    ("DonorGame-v1", {"n_agents": 4}, "player_2",  # player_3: the default image scorer
     {"player_0": STANDING, "player_1": COOPERATOR}),
])
def test_vectorized_training_seats_bidders_and_donors_as_the_single_env_does(
        env_id: str, params: dict, learner: str, opponents: dict) -> None:
    from agora.experiments.train_sb3 import vector_keywords

    cfg = _train(env_id, params, learner, opponents)
    kw = vector_keywords(cfg)
    game = make_game(env_id, params)[0]
    fixed = [a for a in cfg.seats().values() if a is not None]
    table = rule_table(game)
    assert table is not None and kw["opponent"].tolist() == table.data(
        fixed, game.params).tolist()
    shell = {k: kw[k] for k in ("player", "observation_format", "reward_scale")}
    rng = np.random.default_rng(4)

    def choose(step: int, masks: np.ndarray) -> np.ndarray:  # a legal action, or invalid
        legal = [np.flatnonzero(m) for m in masks]
        return np.array([rng.choice(m) if len(m) and rng.random() > 0.1 else -1
                         for m in legal])

    ends = replay_rows(env_id, params, shell, 7, 4, 12, choose, 3,
                       opponent=kw["opponent"], opponents=opponents)
    assert ends >= 4


@pytest.mark.parametrize(("env_id", "opponents", "message"), [
    ("FirstPriceAuction-v1", {"player_1": "auction_random"},
     "vectorized: opponents.player_1: 'auction_random' is not a bid rule"),
    ("DonorGame-v1", {"player_1": STANDING, "player_2": "donor_random"},
     "vectorized: opponents.player_2: 'donor_random' is not a donor rule"),
    ("PublicGoods-v1", {"player_3": "llm"},
     "vectorized: opponents.player_3: 'llm' is not a contribution rule"),
])
def test_an_agent_without_a_rule_is_a_config_error_naming_seat_and_agent(
        env_id: str, opponents: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _train(env_id, {}, "player_0", opponents)
