"""AgentScreen: a request, each function call as it is decided and run, then the answer.

A side-effecting or networked function runs only after the user approves it in a modal.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from smol_tools.errors import SmolError
from smol_tools.interfaces.tui.screens.approve import ApproveScreen
from smol_tools.interfaces.tui.screens.runner import RunnerScreen, run_log
from smol_tools.interfaces.tui.streaming import Streamed
from smol_tools.interfaces.tui.widgets import MessageView
from smol_tools.interfaces.tui.widgets.answer import AnswerView
from smol_tools.interfaces.tui.widgets.calls import CallList
from smol_tools.tools.agent.choose import Call
from smol_tools.tools.agent.loop import Agent
from smol_tools.tools.agent.registry import Function, Registry, default_registry

if TYPE_CHECKING:
    from smol_tools.store import Run, RunLog

HINT = (
    "Ask for something a function can do: the time in Tokyo, 15% of 80, 5 km in miles. "
    "Functions that touch the world ask first."
)


class Stopped(Exception):
    """Raised inside the agent's thread when the user pressed Esc (ends the run early)."""


class AgentScreen(RunnerScreen):
    """Requests and their calls and answers above, the request input below."""

    MODE = "agent"
    BINDINGS = [
        Binding("ctrl+r", "run", "Run"),
        Binding("ctrl+l", "clear", "Clear"),
        Binding("escape", "stop", "Stop"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._registry: Registry | None = None
        self._registry_lock = threading.Lock()
        self._asking: ApproveScreen | None = None  # the approval modal on screen, if any

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="agent-log", classes="tool-output"):
            yield Static(HINT, id="agent-hint", classes="tool-hint")
        yield Input(placeholder="Ask the agent (Enter to run, Esc to stop)", id="agent-request")

    def on_mount(self) -> None:
        self.query_one("#agent-log", VerticalScroll).anchor()
        self.request_input.focus()

    # -- public ----------------------------------------------------------------------------
    @property
    def request_input(self) -> Input:
        return self.query_one("#agent-request", Input)

    def fill_from(self, run: Run) -> None:
        """Put a saved run's request back in the input, ready to run again, under the saved
        answer."""
        self.request_input.value = run.input
        if run.output:
            self.query_one("#agent-hint", Static).display = False
            turn = Vertical(
                MessageView("user", run.input),
                AnswerView("Answer", run.output),
                classes="agent-turn",
            )
            self.query_one("#agent-log", VerticalScroll).mount(turn)
        self.request_input.focus()
        self.set_note(f"{run.ref} reopened: Enter runs it again")

    # -- running ---------------------------------------------------------------------------
    @on(Input.Submitted, "#agent-request")
    async def action_run(self) -> None:
        request = self.request_input.value.strip()
        if not request:
            self.request_input.focus()
            return
        try:
            _ = self.smol.engine  # created here, so a bad setting is reported now
        except SmolError as exc:
            self.smol.show_error(exc)
            return
        if not self.begin("deciding"):
            return
        self.request_input.clear()
        self.query_one("#agent-hint", Static).display = False
        calls, answer = CallList(), AnswerView("Answer")
        answer.display = False
        turn = Vertical(MessageView("user", request), calls, answer, classes="agent-turn")
        await self.query_one("#agent-log", VerticalScroll).mount(turn)
        self._agent(request, calls, answer)

    @work(thread=True, group="agent")
    def _agent(self, request: str, view: CallList, answer: AnswerView) -> None:
        app = self.smol
        calls: list[Call] = []
        log: RunLog | None = None
        try:
            if not app.ensure_loaded(lambda: self.stopping):
                raise Stopped
            registry = self._functions()
            engine, adapter = self.tool_engine()
            options = {"functions": list(app.settings.functions)}
            log = run_log(app, "agent", request, options, engine.model_name, adapter)

            def on_call(stage: str, call: Call) -> None:
                if stage == "decided":
                    if self.stopping:
                        raise Stopped
                    calls.append(call)
                    self.call_ui(view.decided, call)
                    self.call_ui(self.set_note, f"calling {call.name} (Esc to stop)")
                else:
                    self.call_ui(view.done, call)

            agent = Agent(engine, list(registry), allow=self._allow, on_call=on_call)
            result = agent.run(request)
        except Stopped:
            if log is not None:
                log.finish("", "stopped", calls=[c.as_dict() for c in calls])
            self.call_ui(self._finished, answer, Streamed(cancelled=True))
            return
        except SmolError as exc:
            if log is not None:
                log.finish("", "failed", calls=[c.as_dict() for c in calls])
            self.call_ui(self._finished, answer, Streamed(error=exc))
            return
        if not result.calls:
            self.call_ui(view.none)
        self.call_ui(self._answering, answer)
        call_dicts = [c.as_dict() for c in result.calls]
        if result.run is None:  # nothing to say (not reached outside --dry-run)
            if log is not None:
                log.finish("", "done", calls=call_dicts)
            self.call_ui(self._finished, answer, Streamed())
            return
        streamed = self.stream(result.run, answer.append, log, calls=lambda: call_dicts)
        self.call_ui(self._finished, answer, streamed)

    def _answering(self, view: AnswerView) -> None:
        self.set_note("answering (Esc to stop)")
        view.display = True

    def _finished(self, view: AnswerView, result: Streamed) -> None:
        if result.error is not None:
            view.display = True
            view.mark_failed(result.error.message)
            self.smol.show_error(result.error)
        elif result.cancelled:
            view.display = True
            view.mark_stopped()
        self.end(self.done_note(result))

    def _functions(self) -> Registry:
        """The built-ins, plugins and the user's function files (settings.functions), loaded
        once; a file that fails to load is reported in one line and left out."""
        with self._registry_lock:
            if self._registry is not None:
                return self._registry
            files = [Path(p) for p in self.smol.settings.functions]
            try:
                self._registry = default_registry(files, builtins=self.smol.settings.builtins)
            except SmolError as exc:
                self.call_ui(self.smol.notify_error, exc)
                self._registry = self._builtins_and(files)
            return self._registry

    def _builtins_and(self, files: list[Path]) -> Registry:
        """The built-ins (unless `builtins = false`) and every file that loads (after one
        failed to)."""
        builtins = self.smol.settings.builtins
        try:
            registry = default_registry(builtins=builtins)
        except SmolError:  # a broken plugin: the built-ins alone
            registry = default_registry(entry_points=False, builtins=builtins)
        for path in files:
            try:
                registry.load_file(path)
            except SmolError:
                pass  # already reported
        return registry

    # -- approval (called in the agent's thread) -------------------------------------------
    def _allow(self, func: Function, arguments: dict[str, Any]) -> bool:
        """Ask the user in a modal; deny when stopped, or when the app is closing."""
        if self.stopping:
            return False
        answered = threading.Event()
        verdict: list[bool] = []

        def decided(ok: bool | None) -> None:
            verdict.append(bool(ok))
            answered.set()

        if not self.call_ui(self._ask, func, arguments, decided):
            return False
        while not answered.wait(0.1):
            if self.stopping or not self.app.is_running:
                self.call_ui(self._unask)
                return False
        return verdict[0]

    def _ask(self, func: Function, arguments: dict[str, Any], decided: Any) -> None:
        self.set_note(f"{func.name} waits for your approval")
        self._asking = ApproveScreen(func, arguments)
        self.app.push_screen(self._asking, decided)

    def _unask(self) -> None:
        if self._asking is not None and self.app.screen is self._asking:
            self._asking.dismiss(False)
        self._asking = None

    # -- other actions ---------------------------------------------------------------------
    def action_clear(self) -> None:
        """Clear the transcript (not the history)."""
        if self.busy:
            self.notify("Still running: press Esc to stop it first.", severity="warning")
            return
        for turn in self.query(".agent-turn"):
            turn.remove()
        self.query_one("#agent-hint", Static).display = True
        self.request_input.focus()
