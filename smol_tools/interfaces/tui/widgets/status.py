"""StatusBar: the model and its state, tokens per second of the last answer, context use."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static


class StatusBar(Static):
    """One line under every tool: "smollm2-135m ready · 142 tok/s · 310/8192 ctx · <note>".

    The engine part comes from the app's reactives; a screen adds its own note ("answering,
    Esc to stop") with `note`.
    """

    def __init__(self) -> None:
        super().__init__(markup=False, id="status")
        self._note = ""

    def on_mount(self) -> None:
        for name in ("status", "speed", "context"):
            self.watch(self.app, name, self._refresh_line, init=False)
        self._refresh_line()

    @property
    def note(self) -> str:
        return self._note

    @note.setter
    def note(self, text: str) -> None:
        self._note = text
        self._refresh_line()

    def _refresh_line(self, _: Any = None) -> None:
        app: Any = self.app
        parts = [str(app.status), str(app.speed), str(app.context), self._note]
        self.update(" · ".join(p for p in parts if p))
