"""Settings layers: defaults < TOML < SMOL_* env < flags; SMOL_TOOLS_HOME relocates paths."""

from pathlib import Path

import pytest

from smol_tools.config import Settings, load_settings
from smol_tools.errors import ConfigError


def test_defaults(tmp_path):
    s = load_settings(env={"SMOL_TOOLS_HOME": str(tmp_path)})
    assert s.model == Settings.model
    assert s.paths.config_dir == tmp_path / "config"
    assert s.paths.models_dir == tmp_path / "models"


def test_layers_override_in_order(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text('model = "from-toml"\nmax_tokens = 99\n')
    env = {"SMOL_TOOLS_HOME": str(tmp_path), "SMOL_MODEL": "from-env"}
    s = load_settings(env=env)
    assert (s.model, s.max_tokens) == ("from-env", 99)
    s = load_settings({"model": "from-flag", "max_tokens": None}, env=env)
    assert (s.model, s.max_tokens) == ("from-flag", 99)


def test_env_values_are_typed(tmp_path):
    s = load_settings(env={"SMOL_TOOLS_HOME": str(tmp_path), "SMOL_THINKING": "yes",
                           "SMOL_TEMPERATURE": "0.7", "SMOL_N_CTX": "1024"})
    assert s.thinking is True and s.temperature == 0.7 and s.n_ctx == 1024


@pytest.mark.parametrize(
    "env,match",
    [
        ({"SMOL_N_CTX": "lots"}, "SMOL_N_CTX"),
        ({"SMOL_BACKEND": "cloud"}, "backend"),
        ({"SMOL_MAX_TOKENS": "-5"}, "negative"),
    ],
)
def test_bad_env_values_are_config_errors(tmp_path, env, match):
    with pytest.raises(ConfigError, match=match):
        load_settings(env={"SMOL_TOOLS_HOME": str(tmp_path), **env})


def test_bad_toml_names_the_file(tmp_path):
    (tmp_path / "config").mkdir()
    bad = tmp_path / "config" / "config.toml"
    bad.write_text("model = \n")
    with pytest.raises(ConfigError, match=str(bad)):
        load_settings(env={"SMOL_TOOLS_HOME": str(tmp_path)})
    bad.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(env={"SMOL_TOOLS_HOME": str(tmp_path)})


def test_model_dirs_include_the_project_models(tmp_path):
    s = load_settings(env={"SMOL_TOOLS_HOME": str(tmp_path)})
    assert s.model_dirs[0] == tmp_path / "models"
    assert Path(__file__).resolve().parent.parent / "models" in s.model_dirs
