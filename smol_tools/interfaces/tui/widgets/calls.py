"""CallList: the agent's function calls, each shown when it is decided and again when it ends."""

from __future__ import annotations

import json
from typing import Any

from textual.containers import Vertical
from textual.widgets import Static

from smol_tools.tools.agent.choose import Call

# status -> (mark, CSS class)
_MARKS = {
    "planned": ("…", "-running"),
    "ok": ("✓", "-ok"),
    "error": ("✗", "-error"),
    "refused": ("✗", "-error"),
    "declined": ("⊘", "-declined"),
}
_RESULT_CHARS = 300  # a long result is cut on screen (the history keeps it whole)


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _RESULT_CHARS else text[: _RESULT_CHARS - 1] + "…"


def call_text(call: Call) -> str:
    """`name(a=1, b="x")`, as the call is shown."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in call.arguments.items())
    return f"{call.name}({args})"


def call_line(call: Call) -> str:
    """One line for a call in any state: running, its result, its error, or declined."""
    mark = _MARKS.get(call.status, ("•", ""))[0]
    line = f"{mark} {call_text(call)}"
    if call.status == "ok":
        return f"{line} → {_short(call.result)}"
    if call.status == "declined":
        return f"{line} → declined"
    if call.status in ("error", "refused"):
        return f"{line} → {call.status}: {call.error}"
    return f"{line} …" if call.status == "planned" else line


class CallList(Vertical):
    """One line per call, updated in place as the call runs and ends."""

    def __init__(self) -> None:
        super().__init__(classes="calls")
        self._lines: dict[int, Static] = {}

    @property
    def lines(self) -> list[str]:
        """The text of each line, in order (what the user sees)."""
        return [str(line.render()) for line in self.query(Static)]

    def decided(self, call: Call) -> None:
        """A call the agent chose: shown before it runs (or waits for approval)."""
        line = Static(call_line(call), markup=False, classes="call -running")
        self._lines[id(call)] = line
        self.mount(line)

    def done(self, call: Call) -> None:
        """The call ended: its result, error, or that it was declined."""
        line = self._lines.get(id(call))
        if line is None:
            self.decided(call)
            line = self._lines[id(call)]
        line.update(call_line(call))
        line.set_class(False, "-running")
        line.add_class(_MARKS.get(call.status, ("", "-error"))[1])

    def none(self) -> None:
        """No function fitted: the agent answers in words."""
        self.mount(Static("no function fits: answering in words", classes="call -none"))
