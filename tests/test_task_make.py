"""Every task id takes its parameters the way a game id does: as keywords or as
``params={...}``, through ``gymnasium.make``; an unknown keyword is a ConfigError naming it."""

from __future__ import annotations

import gymnasium
import pytest

from agora.envs import ConfigError
from agora.envs.tasks import task_specs

TASKS = task_specs()


def _one_param(spec) -> dict[str, object]:
    """A non-default value for a parameter every id of the family has."""
    return {"budget": 3} if spec.family == "design" else {"instance_seed": 5}


@pytest.mark.parametrize("spec", TASKS, ids=lambda s: s.id)
def test_keywords_and_params_build_the_same_world(spec):
    given = _one_param(spec)
    by_keyword = gymnasium.make(spec.gym_id, **given).unwrapped.world.params
    by_mapping = gymnasium.make(spec.gym_id, params=given).unwrapped.world.params
    assert by_keyword == by_mapping
    (key, value), = given.items()
    assert getattr(by_keyword, key) == value != getattr(spec.make_world().params, key)


@pytest.mark.parametrize("spec", TASKS, ids=lambda s: s.id)
def test_unknown_keywords_are_named(spec):
    with pytest.raises(ConfigError, match="no_such_knob"):
        gymnasium.make(spec.gym_id, no_such_knob=1)


def test_env_options_and_params_mix_and_a_key_given_twice_is_an_error():
    env = gymnasium.make("agora/LocationFinding-v1", budget=2, on_invalid_action="raise").unwrapped
    assert env.world.params.budget == 2 and env.invalid.raises
    with pytest.raises(ConfigError, match=r"\['budget'\] given both"):
        gymnasium.make("agora/LocationFinding-v1", budget=2, params={"budget": 3})
    with pytest.raises(ConfigError, match="params=3"):
        gymnasium.make("agora/KGQuery-v1", params=3)


def test_a_game_id_also_takes_params_as_a_mapping():
    env = gymnasium.make("agora/RepeatedPD-v1", params={"rounds": 3}).unwrapped
    assert env.game.params.rounds == 3
