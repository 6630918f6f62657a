"""Reading the user's text files, with one set of rules for every interface."""

from __future__ import annotations

from pathlib import Path

from smol_tools.errors import UsageError
from smol_tools.tools.text import check_input


def read_text_file(path: str) -> str:
    """The text of a file: a one-line UsageError for a missing file, a directory, an unreadable
    file, or bytes that are not UTF-8 text."""
    file = Path(path).expanduser()
    if file.is_dir():
        raise UsageError(f"{path} is a directory, not a text file")
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return check_input(data, path)
