"""agora.experiments: configs, the episode runner, Ray execution and the CLI.

Example:
    >>> from agora.experiments import parse_config
    >>> cfg = parse_config({"name": "demo", "env": "PublicGoods-v1",
    ...                     "agents": {"default": "conditional_cooperator"}, "episodes": 2})
    >>> len(cfg.cells())
    1
"""

from agora.envs.seeding import episode_seed, episode_streams
from agora.experiments.config import Cell, ExperimentConfig, load_config, parse_config
from agora.experiments.episode import EpisodeResult, play_episode
from agora.experiments.runner import RunSummary, run_experiment

__all__ = ["Cell", "EpisodeResult", "ExperimentConfig", "RunSummary", "episode_seed",
           "episode_streams", "load_config", "parse_config", "play_episode", "run_experiment"]
