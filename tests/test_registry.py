"""One registry: games and tasks share one id store, one id pattern and one list."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agora.envs import (
    ConfigError,
    EnvSpec,
    UnknownIdError,
    all_specs,
    lookup,
    register,
    spec,
    specs,
    task_specs,
)
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.experiments.cli import main as cli_main


def test_games_and_tasks_are_one_sorted_store() -> None:
    ids = [s.id for s in all_specs()]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert set(ids) == {s.id for s in specs()} | {s.id for s in task_specs()}
    assert {s.family for s in all_specs()} >= {"design", "graph", "bargaining", "auctions"}


def test_a_task_id_cannot_shadow_a_game_id_nor_the_reverse() -> None:
    game_id, task = specs()[0].id, task_specs()[0]
    with pytest.raises(ConfigError, match="already registered"):
        register(EnvSpec(game_id, task.world, family="design", env=task.env))
    with pytest.raises(ConfigError, match="already registered"):
        register(EnvSpec(task.id, RepeatedMatrixGame, "x:y"))
    with pytest.raises(ConfigError, match="Name-v0"):
        register(EnvSpec("bad id", task.world, family="design", env=task.env))


def test_a_task_is_not_a_game_and_a_wrong_version_names_the_current_one() -> None:
    with pytest.raises(ConfigError, match="task, not a game"):
        spec(task_specs()[0].id)
    current = specs()[0].id
    stale = current.rpartition("-v")[0] + "-v99"
    with pytest.raises(UnknownIdError, match=f"current version is {current}"):
        lookup(stale)
    assert lookup("agora/" + current) is specs()[0]


def test_agora_list_is_one_table_with_a_family_column(capsys) -> None:
    assert cli_main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["envs"]
    assert [r["id"] for r in rows] == [s.id for s in all_specs()]
    assert {r["family"] for r in rows if r["id"].startswith("KG")} == {"graph"}


# ----- one text-face protocol ----------------------------------------------------------
def _task_face_and_obs(task_id: str):
    from agora.envs import task_spec

    s = task_spec(task_id)
    params = ({"budget": 2, "n_particles": 64, "eig_outer": 8, "eig_inner": 8,
               "n_candidates": 2} if s.family == "design" else {})
    world = s.make_world(params)
    rng = np.random.default_rng(0)
    state = world.initial_state(rng)
    if s.family == "design":
        from agora.envs.design.text import DesignText

        face = DesignText(world)
        action = state.model.sample_designs(rng, 1)[0]
    else:
        face = world.text
        action = face.random_action(state, rng)
    return face, state, action


@pytest.mark.parametrize("env_id", [s.id for s in all_specs()])
def test_every_world_speaks_the_one_text_face_protocol(env_id: str) -> None:
    """Rules, render, schema, parse and format with typed errors, for every registered id:
    the canonical answer of an action parses back to it, and junk is an ActionParseError."""
    from agora.envs import ActionParseError, TextProtocol, is_task, make_game
    from agora.envs.core import uniform_legal

    if is_task(env_id):
        face, obs, action = _task_face_and_obs(env_id)
    else:
        game, face = make_game(env_id)
        obs = game.observe(game.initial_state(np.random.default_rng(0)),
                           game.to_move(game.initial_state(np.random.default_rng(0)))[0])
        action = uniform_legal(np.random.default_rng(1), obs)
    assert isinstance(face, TextProtocol)
    assert face.rules(0).strip() and face.render(obs).strip()
    assert face.action_schema(obs)["type"] == "object"
    back = face.parse(face.format_action(action, obs), obs)
    assert np.allclose(np.asarray(back, dtype=float), np.asarray(action, dtype=float)) \
        if not hasattr(action, "kind") else back == action
    with pytest.raises(ActionParseError):
        face.parse("I would rather not say.", obs)
