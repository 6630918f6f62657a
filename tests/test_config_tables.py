"""Config tables: the user's rewrite styles and agent function files reach the commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from smol_tools.config import load_settings
from smol_tools.errors import ConfigError
from smol_tools.interfaces.cli import main


def write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(exist_ok=True)
    (home / "config" / "config.toml").write_text(text, encoding="utf-8")


def test_user_style_is_listed_next_to_the_built_ins(_isolated_home: Path, capsys) -> None:
    write_config(
        _isolated_home,
        '[styles.pirate]\ndescription = "talk like a pirate"\n'
        'instruction = "Rewrite as a pirate."\n',
    )
    assert main(["rewrite", "--styles"]) == 0
    out = capsys.readouterr().out
    assert "pirate" in out and "talk like a pirate" in out
    assert "professional" in out


def test_style_without_instruction_is_a_config_error(_isolated_home: Path) -> None:
    write_config(_isolated_home, '[styles.pirate]\ndescription = "no instruction"\n')
    with pytest.raises(ConfigError, match="pirate"):
        load_settings()


def test_configured_function_file_is_loaded_by_smol_functions(
    _isolated_home: Path, tmp_path: Path, capsys
) -> None:
    funcs = tmp_path / "mine.py"
    funcs.write_text(
        'def water_plants(minutes: int) -> str:\n    """Water the plants."""\n    return "ok"\n'
    )
    write_config(_isolated_home, f'functions = ["{funcs}"]\n')
    assert main(["functions"]) == 0
    assert "water_plants(minutes)" in capsys.readouterr().out


def test_functions_setting_must_be_a_list_of_paths(_isolated_home: Path) -> None:
    write_config(_isolated_home, "functions = [1, 2]\n")
    with pytest.raises(ConfigError, match="functions"):
        load_settings()
