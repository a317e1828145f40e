"""One registry: games and tasks share one id store, one id pattern and one list."""

from __future__ import annotations

import json

import pytest

from agora.envs import (
    ConfigError,
    EnvSpec,
    TaskSpec,
    UnknownIdError,
    all_specs,
    lookup,
    register,
    spec,
    specs,
    task_specs,
)
from agora.envs.games.repeated_matrix import RepeatedMatrixGame
from agora.envs.tasks import register_task
from agora.experiments.cli import main as cli_main


def test_games_and_tasks_are_one_sorted_store() -> None:
    ids = [s.id for s in all_specs()]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert set(ids) == {s.id for s in specs()} | {s.id for s in task_specs()}
    assert {s.family for s in all_specs()} >= {"design", "graph", "bargaining", "auctions"}


def test_a_task_id_cannot_shadow_a_game_id_nor_the_reverse() -> None:
    game_id, task = specs()[0].id, task_specs()[0]
    with pytest.raises(ConfigError, match="already registered"):
        register_task(TaskSpec(game_id, "design", task.world, task.env))
    with pytest.raises(ConfigError, match="already registered"):
        register(EnvSpec(task.id, RepeatedMatrixGame, "x:y"))
    with pytest.raises(ConfigError, match="Name-v0"):
        register_task(TaskSpec("bad id", "design", task.world, task.env))


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
