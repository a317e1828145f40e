"""Bad config files, config values and command-line flags: one typed error naming the key
and the value, raised before anything runs; the CLI prints one line and exits 2."""

from __future__ import annotations

import pytest

from agora.agents.llm.factory import ModelSpec
from agora.agents.llm.wrappers import Retrying
from agora.envs import ConfigError
from agora.experiments import load_config, parse_config, run_experiment
from agora.experiments.cli import main as cli_main
from agora.experiments.growth import parse_growth_config

BASE = {"name": "t", "env": "RepeatedPD-v1", "params": {"rounds": 2},
        "agents": {"default": "random"}, "episodes": 1}
GOOD_YAML = "name: t\nenv: RepeatedPD-v1\nagents: {default: random}\nepisodes: 1\n"


def _llm(**params: object) -> dict[str, object]:
    return {**BASE, "agents": {"default": {"name": "llm", **params}}}


# ----- the config file ---------------------------------------------------------------
def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD_YAML.replace("name: t", "name: caf\xe9").encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


@pytest.mark.parametrize("text, key", [
    (GOOD_YAML + "episodes: 3\n", "'episodes'"),
    (GOOD_YAML + "params: {rounds: 1, rounds: 2}\n", "'rounds'"),
])
def test_a_key_given_twice_is_a_config_error(tmp_path, text, key):
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"duplicate key {key}"):
        load_config(path)


def test_an_empty_file_and_a_directory_are_named_as_such(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing here\n")
    with pytest.raises(ConfigError, match="is empty"):
        load_config(tmp_path / "empty.yaml")
    with pytest.raises(ConfigError, match="is not a file"):
        load_config(tmp_path)


def test_a_top_level_list_is_a_config_error(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- name: t\n- env: RepeatedPD-v1\n")
    with pytest.raises(ConfigError, match="must be a mapping, got list"):
        load_config(path)


# ----- values ------------------------------------------------------------------------
@pytest.mark.parametrize("bad, key", [
    ({"episodes": "3"}, "episodes"),
    ({"episodes": True}, "episodes"),
    ({"workers": 1.5}, "workers"),
    ({"record_events": "yes"}, "record_events"),
    ({"seed": "0"}, "seed"),
    ({"sweep": {"params.rounds": [2, 3, 2]}}, "repeats the value"),
    ({"sweep": {"params.rounds": [2], "rounds": [3]}}, "'params.rounds' and 'rounds'"),
])
def test_values_are_never_coerced_or_silently_repeated(bad, key):
    with pytest.raises(ConfigError, match=key):
        parse_config({**BASE, **bad})


@pytest.mark.parametrize("agents, match", [
    ({"player_01": "always_defect", "default": "random"}, "unknown role 'player_01'"),
    ({"player_0": None, "default": "random"}, r"agents.player_0: no agent given \(null\)"),
    ({"default": {"p": 1}}, r"agents.default \(player_0\).*mapping with 'name'"),
])
def test_agent_roles_are_never_silently_ignored_and_errors_name_the_role(agents, match):
    with pytest.raises(ConfigError, match=match):
        parse_config({**BASE, "agents": agents})


def test_an_unknown_env_id_lists_every_id_games_and_tasks():
    with pytest.raises(ConfigError, match="registered: .*Coin-v1.*KGQuery-v1.*RepeatedPD-v1"):
        parse_config({**BASE, "env": "kgquery-v0"})


@pytest.mark.parametrize("params, key", [
    ({"max_retries": -1}, "max_retries=-1"),
    ({"max_retries": "4"}, "max_retries='4'"),
    ({"structured": "bogus"}, "structured='bogus'"),
    ({"max_concurrency": 0}, "max_concurrency=0"),
    ({"max_calls": 0}, "max_calls=0"),
    ({"cache_dir": 3}, "cache_dir=3"),
    ({"max_tokens": 2.5}, "max_tokens=2.5"),
    ({"reasoning": "yes"}, "reasoning='yes'"),
    ({"persona": 3}, "persona=3"),
    ({"fallback": "no_such_agent"}, "fallback='no_such_agent'"),
])
def test_llm_agent_settings_fail_the_config_not_the_first_call(params, key):
    with pytest.raises(ConfigError, match=key):
        parse_config(_llm(**params))


def test_model_spec_and_retrying_refuse_a_negative_retry_count():
    with pytest.raises(ConfigError, match="max_retries=-1"):
        ModelSpec("openai/x", max_retries=-1)
    with pytest.raises(ConfigError, match="max_retries=-1"):
        Retrying(object(), max_retries=-1)  # type: ignore[arg-type]


def test_growth_config_values_are_not_coerced():
    base = {"name": "g", "seed_question": "Why?", "iterations": 2}
    with pytest.raises(ConfigError, match="iterations"):
        parse_growth_config({**base, "iterations": "2"})
    with pytest.raises(ConfigError, match="grounded"):
        parse_growth_config({**base, "grounded": "no"})


def test_zero_workers_is_refused_not_replaced_by_the_config(tmp_path):
    with pytest.raises(ConfigError, match="workers=0"):
        run_experiment(parse_config(BASE), tmp_path / "run", workers=0, progress=False)
    assert not (tmp_path / "run").exists()


# ----- the command line --------------------------------------------------------------
@pytest.mark.parametrize("argv, flag", [
    (["run", "C", "--workers", "-1", "--out", "O"], "--workers"),
    (["run", "C", "--workers", "0", "--out", "O"], "--workers"),
    (["grow", "C", "--iterations", "0", "--out", "O"], "--iterations"),
    (["design-constants", "--check", "--n-worlds", "-1"], "--n-worlds"),
    (["design-constants", "--check", "--rtol", "-1"], "--rtol"),
])
def test_bad_flags_exit_2_with_one_line_naming_the_flag(tmp_path, capsys, argv, flag):
    (tmp_path / "c.yaml").write_text(GOOD_YAML)
    paths = {"C": str(tmp_path / "c.yaml"), "O": str(tmp_path / "run")}
    argv = [paths.get(a, a) for a in argv]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}:" in err and "Traceback" not in err


@pytest.mark.parametrize("setup, match", [
    (lambda p: p.write_bytes(b"name: caf\xe9\n"), "not UTF-8"),
    (lambda p: p.write_text(GOOD_YAML + "name: u\n"), "duplicate key 'name'"),
])
def test_cli_reports_a_bad_file_in_one_line(tmp_path, capsys, setup, match):
    path = tmp_path / "c.yaml"
    setup(path)
    assert cli_main(["run", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("agora: error:") and match in err and err.count("\n") == 1


def test_cli_out_that_is_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text(GOOD_YAML)
    (tmp_path / "taken").write_text("")
    assert cli_main(["run", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "taken"),
                     "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a run directory" in err and "Traceback" not in err


@pytest.mark.parametrize(("model", "match"), [
    ({"model": "openai/x", "temprature": 0.2}, "temprature"),
    ({"api_base": "http://127.0.0.1:1"}, "needs the key 'model'"),
    (3, "model id or a mapping"),
    ({"model": "openai/x", "max_retries": -1}, "max_retries"),
])
def test_a_model_has_one_shape_in_every_config(model, match):
    """A growth config's model is a ModelSpec (an id, or a mapping of its fields), checked
    like the llm agent's flat keys; a misspelt field is named, not ignored."""
    base = {"name": "g", "seed_question": "why?", "iterations": 1}
    with pytest.raises(ConfigError, match=match):
        parse_growth_config({**base, "model": model})
    assert parse_growth_config({**base, "model": "openai/x"}).model == ModelSpec("openai/x")
    spec = parse_growth_config({**base, "model": {"model": "openai/x", "cache": "off"}}).model
    assert spec == ModelSpec.parse({"model": "openai/x", "cache": "off"})
