"""The RLlib backend of ``agora train``: multi-agent PPO on RLlib's new API stack.

The learners' seats of a game are the agents of a thin ``MultiAgentEnv``
(:class:`LearnersEnv`) over agora's PettingZoo shell: the Parallel shell for a
simultaneous-move game, the AEC shell for a turn-based one (only the learner to move gets
an observation; rewards accumulate between its turns). The other seats are played inside
it by fixed opponents built from the config's specs, so RLlib sees only the learners.
``policies: independent`` gives each learner its own module, ``shared`` maps every learner
to one module (self-play). With ``action_masking`` (the default) observations are the
``rllib`` format (``{"observations", "action_mask"}``) and the modules are
:class:`~agora.agents._rllib_masking.MaskedPPOTorchModule`, which never draws an illegal
action; without it they are the ``flat`` format (features then the mask, one Box) and
RLlib's default module. An illegal action that still arrives pays the declared
``penalty`` policy and is counted (the ``env_runners/invalid_actions`` curve). Each seed
trains until ``total_timesteps`` env steps are sampled, logs each iteration's numeric
results as curve rows and saves ``seed_S/checkpoint``.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from agora.envs import AECGameEnv, ConfigError, make
from agora.envs.obs_formats import format_observation, format_space
from agora.envs.opponents import build_opponents
from agora.envs.turns import Face, agent_input, face_of, read_reply

_CURVE = re.compile(r"^(env_runners/(episode_return_mean|episode_len_mean|"
                    r"agent_episode_returns_mean/.+|module_episode_returns_mean/.+|invalid_actions)|"
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
    """Every hyperparameter is an argument of ``PPOConfig.training``.

    Raises:
        ConfigError: naming the first unknown key.
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


class LearnersEnv:
    """Built as a subclass of RLlib's ``MultiAgentEnv`` by :func:`learners_env_class`.

    One class for both timings: a simultaneous-move game plays through the Parallel shell
    (every learner acts each step); a turn-based one through the AEC shell, RLlib's way:
    ``reset`` and ``step`` return the observation of the learner who moves next only, the
    fixed seats' turns are played inside, and each learner's rewards accumulate between its
    turns (paid with its next observation, or at the end, with every learner that has
    moved). Rewards before a learner's first move are no consequence of its actions and are
    not paid. ``invalid_actions`` counts the learners' penalised actions this episode.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.par = make(config["env"], on_invalid_action="penalty", **config["params"])
        game = self.par.game
        self.game = game
        self.turns = isinstance(self.par, AECGameEnv)
        self.format = "rllib" if config.get("action_masking", True) else "flat"
        self.learners = [f"player_{i}" for i in config["learners"]]
        self._learner_set = set(self.learners)
        fixed = {k: v for k, v in config["seats"].items() if v is not None}
        self.fixed = build_opponents(fixed, game, config["learners"][0], text=self.par.text)
        self._rules: dict[int, str] = {}  # text opponents' rules, once per episode
        self.scale = float(config["reward_scale"])
        self.possible_agents = list(self.learners)
        self.agents = list(self.learners)
        self.observation_spaces = {a: format_space(self.par.observation_space(a), self.format)
                                   for a in self.learners}
        self.action_spaces = {a: self.par.action_space(a) for a in self.learners}
        self._rng = np.random.default_rng(config.get("seed", 0))
        self._pending: dict[str, float] = {}  # turn-based: rewards since a learner's move
        self.invalid_actions = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        episode_seed = int(self._rng.integers(2**31))
        self._rules.clear()
        for j, opponent in self.fixed.items():
            if hasattr(opponent, "reset"):
                opponent.reset(seed=int(self._rng.integers(2**31)), player=j)
        self.invalid_actions = 0
        if self.turns:
            return self._reset_turns(episode_seed), {}
        obs, _ = self.par.reset(seed=episode_seed)
        self._obs = obs
        return self._mine(obs), {}

    def _format(self, obs: dict[str, np.ndarray]) -> Any:
        return format_observation(obs, self.format)

    def _mine(self, obs: dict[str, Any]) -> dict[str, Any]:
        return {a: self._format(o) for a, o in obs.items() if a in self.learners}

    def _fixed_action(self, j: int) -> int:
        """Seat ``j``'s action, its agent's turn as in ``agora run`` (language models answer
        in text through the game's text face; :mod:`agora.envs.turns`)."""
        opponent, face = self.fixed[j], face_of(self.fixed[j])
        if face is Face.TENSOR and not self.turns:
            return int(opponent.act(self._obs[f"player_{j}"]))
        state = self.par.state_
        obs = self.game.observe(state, j)
        turn = agent_input(self.game, self.par.text, face, state, obs, self._rules)
        return read_reply(self.game, self.par.text, face, state, obs, opponent.act(turn))

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if self.turns:
            return self._step_turns(actions)
        joint = {a: int(x) for a, x in actions.items()}
        for a in self.par.agents:
            j = int(a.removeprefix("player_"))
            if j in self.fixed:
                joint[a] = self._fixed_action(j)
        obs, rewards, terms, truncs, infos = self.par.step(joint)
        self.invalid_actions += sum(bool(infos.get(a, {}).get("invalid_action"))
                                    for a in self.learners)
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

    # ----- turn-based games (the AEC shell) ---------------------------------------------
    def _over(self) -> bool:
        aec = self.par
        return all(aec.terminations[a] or aec.truncations[a] for a in aec.agents)

    def _reset_turns(self, seed: int) -> dict[str, Any]:
        self.par.reset(seed=seed)
        self._pending = {}
        self._advance()
        if self._over():
            raise ConfigError(f"env: {self.game.info.name} ended before any of the "
                              f"learners {self.learners} moved")
        agent = self.par.agent_selection
        return {agent: self._format(self.par.observe(agent))}

    def _credit(self, mover: str) -> None:
        """After a turn: the learners who have moved bank its rewards; a fixed mover
        observes its own."""
        aec = self.par
        for a in self._pending:
            self._pending[a] += self.scale * float(aec.rewards.get(a, 0.0))
        j = int(mover.removeprefix("player_"))
        opponent = self.fixed.get(j)
        if opponent is not None and hasattr(opponent, "observe"):
            opponent.observe(float(aec.rewards.get(mover, 0.0)), self._over())

    def _advance(self) -> None:
        """Play the fixed seats' turns until a learner is to move or the episode ends."""
        aec = self.par
        while not self._over() and aec.agent_selection not in self._learner_set:
            mover = aec.agent_selection
            aec.step(self._fixed_action(int(mover.removeprefix("player_"))))
            self._credit(mover)

    def _step_turns(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        aec = self.par
        agent = aec.agent_selection
        self._pending.setdefault(agent, 0.0)
        aec.step(int(actions[agent]))
        self.invalid_actions += bool(aec.infos[agent].get("invalid_action"))
        self._credit(agent)
        self._advance()
        if not self._over():
            nxt = aec.agent_selection
            rew = {nxt: self._pending[nxt]} if nxt in self._pending else {}
            self._pending.update(dict.fromkeys(rew, 0.0))
            flags = {"__all__": False}
            return ({nxt: self._format(aec.observe(nxt))}, rew, flags, dict(flags), {})
        moved = list(self._pending)
        term = all(aec.terminations[a] for a in aec.agents)
        obs = {a: self._format(aec.observe(a)) for a in moved}
        terms = {**dict.fromkeys(moved, term), "__all__": term}
        truncs = {**dict.fromkeys(moved, not term), "__all__": not term}
        return obs, dict(self._pending), terms, truncs, {}


def learners_env_class() -> type:
    """:class:`LearnersEnv` as a subclass of RLlib's ``MultiAgentEnv``."""
    return type("LearnersEnv", (LearnersEnv, _multi_agent_env()), {})


def env_config(cfg: Any, seed: int) -> dict[str, Any]:
    """The config a seed's :class:`LearnersEnv` is built from (also for replaying a
    trained seed's policies outside RLlib)."""
    learners = [int(s.removeprefix("player_")) for s in cfg.learners]
    return {"env": cfg.env, "params": dict(cfg.params), "learners": learners,
            "seats": cfg.seats(), "reward_scale": cfg.reward_scale, "seed": seed,
            "action_masking": cfg.action_masking}


def log_invalid_actions(*, env: Any, env_index: int, metrics_logger: Any,
                        **kwargs: Any) -> None:
    """RLlib's ``on_episode_end`` callback: the learners' invalid actions of the episode
    that ended, summed per iteration as ``env_runners/invalid_actions``."""
    sub = getattr(env, "envs", [env])[env_index]
    count = getattr(sub, "unwrapped", sub).invalid_actions
    metrics_logger.log_value("invalid_actions", count, reduce="sum")


def module_spec(masked: bool) -> Any:
    """The spec of one learner's module: the masked PPO module, or RLlib's default."""
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    if not masked:
        return RLModuleSpec()
    from agora.agents._rllib_masking import MaskedPPOTorchModule

    return RLModuleSpec(module_class=MaskedPPOTorchModule)


def _algo_config(cfg: Any, seed: int) -> Any:
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec

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
                rl_module_specs={m: module_spec(cfg.action_masking) for m in modules}))
            .callbacks(on_episode_end=log_invalid_actions)
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
