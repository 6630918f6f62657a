"""The error hierarchy. Each error carries its exit code; interfaces print `message` on one line."""

from __future__ import annotations


class SmolError(Exception):
    """Base class: a failure we expected and can explain in one line."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(SmolError):
    """Bad usage or bad input: empty text, undecodable bytes, unknown style. Exit 2."""

    exit_code = 2


class ConfigError(UsageError):
    """A config file or SMOL_* variable that cannot be used."""


class ModelError(SmolError):
    """Model missing, corrupt, unknown or not downloadable. Exit 1."""


class EngineError(SmolError):
    """The engine failed while running: llama.cpp error, remote server error. Exit 1."""


class GrammarError(EngineError):
    """A JSON schema that cannot be turned into a llama.cpp grammar."""


class Cancelled(SmolError):
    """The user stopped the run (Ctrl-C). Exit 130."""

    exit_code = 130
