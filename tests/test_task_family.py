"""A task family is one folder: a package outside agora that declares its ``TASKS`` (world,
Gymnasium env, episode player by path) plays through ``agora run`` with no agora module
edited, and agora's own families are found by scanning, not by a table."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import gymnasium
import pytest
import yaml

from agora.agents import base as agents_base
from agora.analysis.runs import load_run
from agora.envs import ConfigError, EnvSpec, register, task_spec, task_specs
from agora.envs.tasks import discover_families, discover_tasks
from agora.experiments.cli import main
from agora.experiments.tasks import task_player

TOY = "agora_toy_family"
spec_module = sys.modules["agora.envs.spec"]  # the name `spec` is also a function

CATALOG = f'''
from agora.envs import EnvSpec

TASKS = (EnvSpec("ToyCount-v1", "{TOY}.world:CountWorld", defaults={{"target": 5}},
                 summary="count up to a target", family="toy", env="{TOY}.world:CountEnv",
                 player="{TOY}.play:aplay", benchmark="the fewest steps: ceil(target / step)"),)
'''

WORLD = '''
import gymnasium
from agora.envs import ConfigError, GameInfo, Timing


class CountWorld:
    """Count from 0 to ``target`` in steps the one player picks (1 or 2)."""

    info = GameInfo("Count", Timing.SEQUENTIAL, "count to a target", "toy",
                    action_kind="discrete", observation_kind="int")
    num_players = 1

    def __init__(self, params):
        if int(params["target"]) < 1:
            raise ConfigError(f"target={params['target']!r}: want >= 1")
        self.params = dict(params)


class CountEnv(gymnasium.Env):
    def __init__(self, world):
        self.world, self.total = world, 0
        self.action_space = gymnasium.spaces.Discrete(2)
        self.observation_space = gymnasium.spaces.Discrete(world.params["target"] + 2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.total = 0
        return self.total, {}

    def step(self, action):
        self.total += int(action) + 1
        done = self.total >= self.world.params["target"]
        return self.total, -1.0, done, False, {}
'''

PLAY = '''
from agora.agents import Agent, register_agent
from agora.experiments.tasks import TaskEpisode


@register_agent("toy_stepper")
class Stepper(Agent):
    """Always steps ``step``."""

    def __init__(self, step: int = 1):
        super().__init__()
        self.step = step

    def act(self, obs):
        return self.step


async def aplay(world, agents, seed, record_events):
    ep = TaskEpisode(agents, seed, record_events)
    total = 0
    try:
        while total < world.params["target"]:
            step = int(ep.agents[0].act(total))
            total += step
            ep.event(actor=0, kind="count", action=str(step), reward=-1.0)
    except Exception as exc:
        return ep.failed(exc)
    return ep.result(returns=[-float(ep.steps)], metrics={"total": total})
'''


@pytest.fixture
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy family as a package on ``sys.path``; the id store, Gymnasium's registry and
    the agent registry are copies for this test, so nothing leaks into other tests."""
    package = tmp_path / "src" / TOY
    package.mkdir(parents=True)
    for name, source in {"__init__": "", "catalog": CATALOG, "world": WORLD,
                         "play": PLAY}.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.setattr(spec_module, "_STORE", dict(spec_module._STORE))
    monkeypatch.setattr(gymnasium.envs.registration, "registry",
                        dict(gymnasium.envs.registration.registry))
    monkeypatch.setattr(agents_base, "_AGENTS", dict(agents_base._AGENTS))
    yield tmp_path
    for name in [m for m in sys.modules if m == TOY or m.startswith(f"{TOY}.")]:
        del sys.modules[name]


def test_a_family_outside_agora_plays_through_agora_run(toy_package: Path) -> None:
    config = {"name": "toy", "env": "ToyCount-v1", "params": {"target": 5},
              "agents": {"player_0": {"name": "toy_stepper", "step": 2}},
              "episodes": 2, "seed": 7, "imports": [f"{TOY}.catalog", f"{TOY}.play"]}
    path = toy_package / "toy.yaml"
    path.write_text(yaml.safe_dump(config))
    out = toy_package / "run"
    assert main(["run", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    run = load_run(out)
    assert run.episodes["status"].tolist() == ["ok", "ok"]
    assert run.episodes["return.player_0"].tolist() == [-3.0, -3.0]  # 2 + 2 + 2 >= 5
    assert run.episodes["metric.total"].tolist() == [6.0, 6.0]
    assert run.episodes["length"].tolist() == [3, 3]
    events = run.events()
    assert events["kind"].tolist() == ["count"] * 6
    assert events["action_text"].tolist() == ["2"] * 6
    assert task_spec("ToyCount-v1").family == "toy"
    assert task_player("toy").__module__ == f"{TOY}.play"
    env = gymnasium.make("agora/ToyCount-v1", target=3)
    env.reset(seed=0)
    assert env.step(1)[:3] == (2, -1.0, False) and env.step(1)[2] is True


def test_a_family_that_names_no_player_and_has_no_agora_world_is_refused_by_the_run_config(
        toy_package: Path) -> None:
    """A spec without a player means "the one episode loop", which plays agora Worlds
    only: the toy's world is a plain class, so the config is refused, naming why."""
    (toy_package / "src" / TOY / "quiet.py").write_text(
        f"from {TOY}.catalog import TASKS as _T\n"
        f"from dataclasses import replace\n"
        f"TASKS = (replace(_T[0], id='ToyQuiet-v1', family='quiet', player=''),)\n")
    config = {"name": "q", "env": "ToyQuiet-v1", "agents": {"default": "random"},
              "episodes": 1, "imports": [f"{TOY}.quiet"]}
    path = toy_package / "q.yaml"
    path.write_text(yaml.safe_dump(config))
    from agora.experiments.config import load_config

    with pytest.raises(ConfigError, match="env: task family 'quiet' has no episode player: "
                       r"its specs name none .* and its world is not an agora World"):
        load_config(path)


def test_one_family_has_one_player_and_a_player_is_a_path(toy_package: Path) -> None:
    graph = task_specs("graph")[0]
    discover_tasks(f"{TOY}.catalog")
    with pytest.raises(ConfigError, match=f"family 'toy' plays with '{TOY}.play:aplay'"):
        register(EnvSpec("ToyOther-v1", graph.world, family="toy", env=graph.env,
                         player="x.y:other"))
    with pytest.raises(ConfigError, match="family 'graph' plays with the one episode loop"):
        register(EnvSpec("KGOther-v1", graph.world, family="graph", env=graph.env,
                         player="x.y:other"))
    with pytest.raises(ConfigError, match="player 'x.y.other' is not 'module:function'"):
        register(EnvSpec("KGOther-v1", graph.world, family="graph", env=graph.env,
                         player="x.y.other"))
    with pytest.raises(ConfigError, match="family 'no family' is not a name"):
        register(EnvSpec("KGOther-v1", graph.world, family="no family", env=graph.env))


def test_agoras_families_are_found_by_scanning_their_folders() -> None:
    before = {s.id for s in task_specs()}
    discover_families()  # again: every id is already there, nothing is added twice
    assert {s.id for s in task_specs()} == before
    by_family = {s.family: s.player for s in task_specs()}
    assert by_family == {"design": "", "graph": ""}  # Worlds: the one loop plays them
    assert {f: task_player(f).__name__ for f in by_family} == {"design": "aplay_world",
                                                              "graph": "aplay_world"}


def test_the_envs_layer_only_carries_the_player_path() -> None:
    """``agora.envs`` names the players of its families as data and imports none of them
    (nor anything else above it): registering every family loads no other subpackage."""
    code = ("import sys, agora.envs\n"
            "print(sorted(m for m in sys.modules if m.startswith('agora.')"
            " and not m.startswith('agora.envs')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_every_world_names_its_loop_seats_as_a_path_or_not_at_all() -> None:
    """``World.loop_seats`` is a class attribute every registered world inherits; a game's
    own attribute of a similar name (El Farol's ``seats``, the bar's size) must not shadow
    it, and only the design worlds name seats of their own."""
    from agora.envs import all_specs

    named = {s.world.loop_seats for s in all_specs()}
    assert all(isinstance(p, str) for p in named)
    assert named == {"", "agora.experiments.discovery:DesignSeats"}
    assert {s.family for s in all_specs() if s.world.loop_seats} == {"design"}
