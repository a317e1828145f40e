"""The RLlib backend of ``agora train``: multi-agent PPO on RLlib's new API stack.

The learners' seats of a simultaneous-move game are the agents of a thin
``MultiAgentEnv`` (:class:`LearnersEnv`) over agora's PettingZoo Parallel shell; the
other seats are played inside it by fixed opponents built from the config's specs, so
RLlib sees only the learners. ``policies: independent`` gives each learner its own
module, ``shared`` maps every learner to one module (self-play). Observations are the
``flat`` format (features then the legal-action mask, one Box); illegal actions pay the
``penalty`` policy. Each seed trains until ``total_timesteps`` env steps are sampled,
logs each iteration's numeric results as curve rows and saves ``seed_S/checkpoint``.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from agora.envs import ConfigError, Timing, make
from agora.envs.obs_formats import format_observation, format_space
from agora.envs.opponents import build_opponents
from agora.envs.turns import Face, agent_input, face_of, read_reply

_CURVE = re.compile(r"^(env_runners/(episode_return_mean|episode_len_mean|"
                    r"agent_episode_returns_mean/.+|module_episode_returns_mean/.+)|"
                    r"learners/(?!__all_modules__)[^/]+/(policy_loss|vf_loss|entropy|"
                    r"mean_kl_loss|total_loss))$")
"""The flattened result entries kept as curves (returns, lengths, each module's losses)."""

SET_BY_TRAIN = ("train_batch_size_per_learner",)


def _multi_agent_env() -> Any:
    try:
        from ray.rllib.env.multi_agent_env import MultiAgentEnv
    except ImportError as exc:
        raise ConfigError(f"backend rllib needs the rl extra (pip install 'agora-sim[rl]'): "
                          f"{exc}") from None
    return MultiAgentEnv


def check_hyperparameters(cfg: Any) -> None:
    """Every hyperparameter is an argument of ``PPOConfig.training``, the game is
    simultaneous, and every seat that does not learn has an opponent.

    Raises:
        ConfigError: naming the first unknown key, or the game.
    """
    _multi_agent_env()
    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
    from ray.rllib.algorithms.ppo import PPOConfig

    accepted = (set(inspect.signature(PPOConfig.training).parameters)
                | set(inspect.signature(AlgorithmConfig.training).parameters))
    accepted -= {"self", "kwargs"}
    for key in cfg.hyperparameters:
        if key not in accepted:
            raise ConfigError(f"hyperparameters.{key}: RLlib's PPOConfig.training takes no "
                              f"such argument; it takes {sorted(accepted)}")
    env = make(cfg.env, **cfg.params)
    if env.game.info.timing is not Timing.SIMULTANEOUS:
        raise ConfigError(f"env: {cfg.env} is turn-based; the rllib backend trains "
                          "simultaneous-move games")


class LearnersEnv:
    """Built as a subclass of RLlib's ``MultiAgentEnv`` by :func:`learners_env_class`."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.par = make(config["env"], on_invalid_action="penalty", **config["params"])
        game = self.par.game
        self.game = game
        self.learners = [f"player_{i}" for i in config["learners"]]
        fixed = {k: v for k, v in config["seats"].items() if v is not None}
        self.fixed = build_opponents(fixed, game, config["learners"][0], text=self.par.text)
        self._rules: dict[int, str] = {}  # text opponents' rules, once per episode
        self.scale = float(config["reward_scale"])
        self.possible_agents = list(self.learners)
        self.agents = list(self.learners)
        self.observation_spaces = {a: format_space(self.par.observation_space(a), "flat")
                                   for a in self.learners}
        self.action_spaces = {a: self.par.action_space(a) for a in self.learners}
        self._rng = np.random.default_rng(config.get("seed", 0))

    def reset(self, *, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        obs, _ = self.par.reset(seed=int(self._rng.integers(2**31)))
        self._rules.clear()
        for j, opponent in self.fixed.items():
            if hasattr(opponent, "reset"):
                opponent.reset(seed=int(self._rng.integers(2**31)), player=j)
        self._obs = obs
        return self._mine(obs), {}

    def _mine(self, obs: dict[str, Any]) -> dict[str, Any]:
        return {a: format_observation(o, "flat") for a, o in obs.items() if a in self.learners}

    def _fixed_action(self, j: int) -> int:
        """Seat ``j``'s action, its agent's turn as in ``agora run`` (language models answer
        in text through the game's text face; :mod:`agora.envs.turns`)."""
        opponent, face = self.fixed[j], face_of(self.fixed[j])
        if face is Face.TENSOR:
            return int(opponent.act(self._obs[f"player_{j}"]))
        state = self.par.state_
        obs = self.game.observe(state, j)
        turn = agent_input(self.game, self.par.text, face, state, obs, self._rules)
        return read_reply(self.game, self.par.text, face, state, obs, opponent.act(turn))

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        joint = {a: int(x) for a, x in actions.items()}
        for a in self.par.agents:
            j = int(a.removeprefix("player_"))
            if j in self.fixed:
                joint[a] = self._fixed_action(j)
        obs, rewards, terms, truncs, _ = self.par.step(joint)
        done = not self.par.agents
        for j, opponent in self.fixed.items():
            if hasattr(opponent, "observe") and f"player_{j}" in rewards:
                opponent.observe(float(rewards[f"player_{j}"]), done)
        self._obs = obs
        mine = self.learners
        term = {a: bool(terms.get(a, False)) for a in mine}
        trunc = {a: bool(truncs.get(a, False)) for a in mine}
        term["__all__"] = done and any(terms.values())
        trunc["__all__"] = done and not term["__all__"]
        rew = {a: self.scale * float(rewards.get(a, 0.0)) for a in mine}
        return self._mine(obs), rew, term, trunc, {}


def learners_env_class() -> type:
    """:class:`LearnersEnv` as a subclass of RLlib's ``MultiAgentEnv``."""
    return type("LearnersEnv", (LearnersEnv, _multi_agent_env()), {})


def env_config(cfg: Any, seed: int) -> dict[str, Any]:
    """The config a seed's :class:`LearnersEnv` is built from (also for replaying a
    trained seed's policies outside RLlib)."""
    learners = [int(s.removeprefix("player_")) for s in cfg.learners]
    return {"env": cfg.env, "params": dict(cfg.params), "learners": learners,
            "seats": cfg.seats(), "reward_scale": cfg.reward_scale, "seed": seed}


def _algo_config(cfg: Any, seed: int) -> Any:
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    shared = cfg.policies == "shared"
    modules = ["shared"] if shared else list(cfg.learners)
    return (PPOConfig()
            .environment(learners_env_class(), env_config=env_config(cfg, seed))
            .env_runners(num_env_runners=cfg.num_env_runners,
                         num_envs_per_env_runner=cfg.n_envs)
            .multi_agent(policies=set(modules),
                         policy_mapping_fn=(lambda agent_id, episode, **kw: "shared") if shared
                         else (lambda agent_id, episode, **kw: agent_id))
            .rl_module(rl_module_spec=MultiRLModuleSpec(
                rl_module_specs={m: RLModuleSpec() for m in modules}))
            .training(**cfg.hyperparameters)
            .debugging(seed=seed))


def _flatten(result: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in result.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "/"))
        elif isinstance(value, int | float | np.floating | np.integer) and not isinstance(
                value, bool) and np.isfinite(value):
            out[name] = float(value)
    return out


def train_seed(cfg: Any, root: Path, seed: int, bar: Any,
               rows: list[tuple[int, int, str, float]]) -> Path:
    """Train one seed until ``total_timesteps`` env steps; save its checkpoint."""
    algo = _algo_config(cfg, seed).build_algo()
    steps = 0
    try:
        while steps < cfg.total_timesteps:
            result = _flatten(algo.train())
            before = steps
            steps = int(result.get("num_env_steps_sampled_lifetime", steps))
            if steps <= before:
                raise RuntimeError(f"RLlib sampled no env steps in an iteration ({steps})")
            bar.update(min(steps, cfg.total_timesteps) - min(before, cfg.total_timesteps))
            rows.extend((seed, steps, k, v) for k, v in result.items()
                        if _CURVE.match(k))
            every = cfg.checkpoint_every
            if every and steps // every > before // every:
                algo.save_to_path(str((root / f"seed_{seed}" / "checkpoints" /
                                       f"step_{steps}").resolve()))
        path = root / f"seed_{seed}" / "checkpoint"
        algo.save_to_path(str(path.resolve()))
    finally:
        algo.stop()
    return path


def train(cfg: Any, root: Path, progress: bool) -> tuple[dict[int, Path],
                                                         list[tuple[int, int, str, float]]]:
    """Train every seed of ``cfg`` into ``root``: the checkpoints and the curve rows."""
    import ray

    rows: list[tuple[int, int, str, float]] = []
    bar = tqdm(total=cfg.total_timesteps * len(cfg.seeds), unit="step", desc=cfg.name,
               disable=not progress, dynamic_ncols=True, mininterval=0.5)
    started = not ray.is_initialized()
    try:
        checkpoints = {seed: train_seed(cfg, root, seed, bar, rows) for seed in cfg.seeds}
    finally:
        bar.close()
        if started and ray.is_initialized():  # the Ray that building the algorithm started
            ray.shutdown()
    return checkpoints, rows
