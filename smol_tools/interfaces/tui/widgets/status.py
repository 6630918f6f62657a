"""StatusBar: the model and its state, tokens per second of the last answer, context use."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static


class StatusBar(Static):
    """One line under every tool: "smollm2-135m ready · adapter NAME · 142 tok/s · 310/8192
    ctx · <note>".

    The engine part comes from the app's reactives; a screen names the LoRA adapter its runs
    use with `adapter` (nothing is shown for none) and adds its own note ("answering, Esc to
    stop") with `note`.
    """

    def __init__(self) -> None:
        super().__init__(markup=False, id="status")
        self._note = ""
        self._adapter = ""

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

    @property
    def adapter(self) -> str:
        return self._adapter

    @adapter.setter
    def adapter(self, name: str) -> None:
        if name != self._adapter:
            self._adapter = name
            self._refresh_line()

    def _refresh_line(self, _: Any = None) -> None:
        app: Any = self.app
        adapter = f"adapter {self._adapter}" if self._adapter else ""
        parts = [str(app.status), adapter, str(app.speed), str(app.context), self._note]
        self.update(" · ".join(p for p in parts if p))
