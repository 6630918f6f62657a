"""SmolApp: owns the settings, the engine and the history store, and hosts one screen per tool.

Each tool is a Textual *mode* (its own screen stack): chat, summarize, rewrite, agent, history.
Screens reach the model only through tools (workers call tools, tools call the engine) and
through `ensure_loaded`; they reach the history through `app.store` (None when it is off).
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from smol_tools.config import Settings
from smol_tools.engine import Engine, create_engine
from smol_tools.errors import SmolError
from smol_tools.interfaces.tui.screens import (
    AgentScreen,
    ChatScreen,
    HistoryScreen,
    RewriteScreen,
    SummarizeScreen,
)
from smol_tools.interfaces.tui.terminal import ExitGuard, guarded_driver_class

if TYPE_CHECKING:
    from textual.driver import Driver

    from smol_tools.engine.adapters import Adapter
    from smol_tools.engine.server import ResidentServer
    from smol_tools.store import Store

EngineSource = Engine | Callable[[], Engine]

LEAVE_DRAIN_S = 1.0  # on exit, how long stopped answers get to save their text

# (mode, label, key): the tools in the order of the navigation bar.
TOOLS: list[tuple[str, str, str]] = [
    ("chat", "Chat", "f2"),
    ("summarize", "Summarize", "f3"),
    ("rewrite", "Rewrite", "f4"),
    ("agent", "Agent", "f5"),
    ("history", "History", "f6"),
]


class SmolApp(App[None]):
    """The terminal assistant: every tool on one shared engine, one saved history."""

    CSS_PATH = "app.tcss"
    TITLE = "smol"
    MODES = {
        "chat": ChatScreen,
        "summarize": SummarizeScreen,
        "rewrite": RewriteScreen,
        "agent": AgentScreen,
        "history": HistoryScreen,
    }
    DEFAULT_MODE = "chat"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
        # The tool keys are shown in the navigation bar on top, which leaves the footer to the
        # screen's own actions (at 80 columns there is room for about eight).
        *(
            Binding(key, f"switch_mode('{mode}')", label, show=False)
            for mode, label, key in TOOLS
        ),
        Binding("f7", "pick_model", "Model"),
    ]

    # One line about the engine ("loading X...", "X ready", "error: ..."); the status bar shows it.
    status: reactive[str] = reactive("")
    # Measured on the last answer: "142 tok/s" and "310/8192 ctx"; "" before the first one.
    speed: reactive[str] = reactive("")
    context: reactive[str] = reactive("")

    def __init__(
        self,
        settings: Settings,
        engine: EngineSource | None = None,
        *,
        store: Store | None | bool = True,
        serve: bool = False,
    ) -> None:
        """Args:
        engine: a ready engine, or a factory called on first use; default `create_engine`.
        store: a Store to use, True to open the user's history (unless settings turn it
            off), False for none.
        serve: while the app runs, serve its in-process engine on smol serve's socket (so
            shell commands and hotkeys reuse the warm model), unless a server holds it.
        """
        super().__init__()
        self.settings = settings
        self._engine: Engine | None = engine if isinstance(engine, Engine) else None
        self._engine_factory: Callable[[], Engine] = (
            engine
            if engine is not None and not isinstance(engine, Engine)
            else lambda: self.engine_maker(self.settings)
        )
        self._store_arg = store
        self._store: Store | None = None
        # Held while loading, so the startup load and a request never load twice at once.
        self._load_lock = threading.Lock()
        self._loaded = False
        # Runs that stream right now (any screen): stopped and saved when the app must end.
        self.active_runs: set[Any] = set()
        self.serve = serve
        self.hosted: ResidentServer | None = None  # the server this app runs, if it does
        self._host_lock = threading.Lock()
        self._unmounted = False

    # -- engine ----------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The engine, created on first use (cheap: the model loads in `ensure_loaded`)."""
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def engine_for(self, tool: str) -> tuple[Engine, Adapter | None]:
        """The engine `tool` runs on and its adapter: a view with the tool's registered LoRA
        adapter, or the engine itself and None (see `adapter_engine`). Raises SmolError for
        an engine that cannot be created or a registered file that is not an adapter."""
        from smol_tools.engine.adapters import adapter_engine

        return adapter_engine(self.settings, self.engine, tool)

    def adapter_name(self, tool: str) -> str:
        """The name of the adapter `tool` would run on now, for the status bar ("" for none,
        or while the engine is not created yet: creating it is the loader's job)."""
        if self._engine is None:
            return ""
        try:
            _, adapter = self.engine_for(tool)
        except SmolError:
            return ""  # a run reports it
        return adapter.name if adapter is not None else ""

    def on_mount(self) -> None:
        # Worker threads hand text to the UI without waiting for it (streaming.pump).
        self.loop = asyncio.get_running_loop()
        self._open_store()
        self._install_signal_handlers()
        self._load_at_start()
        if self.open_ref:
            self.call_later(self.open_item, self.open_ref)

    # -- opening a history item at start (`smol ui --open r12`) ----------------------------
    open_ref: str | None = None  # set by run_app before the app runs

    async def open_item(self, ref: str) -> None:
        """Open history item `ref` as the History screen's Enter does: a run in its tool
        screen (its input back, ready to run again), a conversation in the chat."""
        from smol_tools.store import parse_ref

        store = self.store
        if store is None:
            self.notify(f"History is off: {ref} cannot be opened.", severity="warning")
            return
        try:
            kind, number = parse_ref(ref)
            if kind == "conversation":
                store.conversation(number)  # a missing one fails here, not in the chat
                await self.switch_mode("chat")
                self.screen.open_conversation(number)  # type: ignore[attr-defined]
                return
            run = store.run(number)
        except SmolError as exc:
            self.notify_error(exc)
            return
        if run.tool not in self.MODES or run.tool == "history":
            self.notify(f"No screen shows {run.tool} runs: see `smol history show {ref}`.")
            return
        await self.switch_mode(run.tool)
        self.screen.reopen(run)  # type: ignore[attr-defined]

    @work(thread=True, group="load")
    def _load_at_start(self) -> None:
        # Loading takes seconds with a real model; the UI stays usable meanwhile.
        try:
            self.ensure_loaded()
        except SmolError as exc:
            self.call_from_thread(self.show_error, exc)
            return
        self.host_engine()

    def ensure_loaded(self, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Load the model unless it is loaded (call from a worker thread: it blocks).

        Retries a load that failed earlier, so a fixed file or a started server works
        without a restart. Returns False if `cancelled()` became true while waiting.
        Raises SmolError when the engine cannot be created or loaded.
        """
        while not self._load_lock.acquire(timeout=0.1):
            if cancelled():
                return False
        try:
            if self._loaded:
                return True
            engine = self.engine
            self.call_from_thread(self._set_status, f"loading {engine.model_name}...")
            engine.load()
            self._loaded = True
            self.call_from_thread(self._set_status, f"{engine.model_name} ready")
            return True
        finally:
            self._load_lock.release()

    def _set_status(self, text: str) -> None:
        self.status = text

    def show_error(self, error: SmolError) -> None:
        """Report an expected failure: a notification and the status line, no traceback."""
        self.status = f"error: {error.message}"
        self.notify_error(error)

    def notify_error(self, error: SmolError) -> None:
        """A notification for an expected failure (the status line is left alone)."""
        text = f"{error.message}\n{error.hint}" if error.hint else error.message
        # markup=False: messages quote file names and model output, which may contain [brackets].
        self.notify(text, title="smol", severity="error", timeout=10, markup=False)

    # -- history ---------------------------------------------------------------------------
    @property
    def store(self) -> Store | None:
        """The history store, or None when history is off or could not be opened."""
        return self._store

    def _open_store(self) -> None:
        if self._store_arg is False or self._store_arg is None:
            return
        if self._store_arg is not True:
            self._store = self._store_arg
            return
        if not self.settings.history:
            return
        from smol_tools.store import Store

        try:
            self._store = Store.open(self.settings)
        except SmolError as exc:
            self.notify_error(SmolError(f"history is off: {exc.message}", hint=exc.hint))

    # -- leaving ---------------------------------------------------------------------------
    # Set by `run_app` (a real terminal): the process ends within its grace once the app
    # starts to leave, even if a worker thread is stuck in llama.cpp. None under run_test().
    exit_guard: ExitGuard | None = None
    _leaving: asyncio.Task[None] | None = None  # the exit in progress

    def get_driver_class(self) -> type[Driver]:
        # Textual's Linux driver, made to notice a terminal that hung up (see terminal.py).
        return guarded_driver_class(super().get_driver_class())

    def _install_signal_handlers(self) -> None:
        """SIGTERM and SIGHUP (the terminal closed) end the app at once, keeping what streamed."""
        if threading.current_thread() is not threading.main_thread():
            return  # run_test() under some runners; signals can only be set from the main thread
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            try:
                loop.add_signal_handler(sig, self.leave, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                pass

    def stop_all(self) -> None:
        """Stop every streaming answer (their workers save the partial text)."""
        for run in list(self.active_runs):
            run.cancel()

    def leave(self, sig: int = 0) -> None:
        """End the app now: stop the answers, then exit (code 128+signal when a signal).

        Safe to call more than once and from a signal handler (it runs on the event loop).
        """
        code = 128 + sig if sig else 0
        self.stop_all()
        if self.exit_guard is not None:
            self.exit_guard.arm(code)
        if self._leaving is None and self.is_running:
            self._leaving = asyncio.get_running_loop().create_task(self._leave(code))

    async def _leave(self, code: int) -> None:
        # The stopped answers' workers save their text and end within a token or two; they
        # need the event loop meanwhile (each delta is shown through it), so wait here, not
        # in a blocking join, and not for long (the exit guard has the last word anyway).
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LEAVE_DRAIN_S
        while self.active_runs and loop.time() < deadline:
            await asyncio.sleep(0.02)
        self.exit(return_code=code)

    async def action_quit(self) -> None:
        self.leave()

    def on_unmount(self) -> None:
        self.stop_all()
        with self._host_lock:
            self._unmounted = True
            if self.hosted is not None:
                self.hosted.stop(timeout=1.0)
        if self._store is not None:
            self._store.close()

    # -- navigation ------------------------------------------------------------------------
    def action_help(self) -> None:
        from smol_tools.interfaces.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_pick_model(self) -> None:
        from smol_tools.interfaces.tui.screens.models import ModelScreen

        def chosen(spec: str | None) -> None:
            if spec:
                self.switch_model(spec)

        self.push_screen(ModelScreen(), chosen)

    # -- model -----------------------------------------------------------------------------
    def engine_maker(self, settings: Settings) -> Engine:
        """The engine for `settings` (at start and on a model switch); tests put a fake
        maker here."""
        if self.hosted is not None:  # the server on the socket is ours: not a client of it
            settings = settings.replace(server=False)
        return create_engine(settings)

    def host_engine(self) -> None:
        """Serve this app's engine on the resident socket while the app runs (call from a
        worker thread). Only an in-process engine, and only when no server holds the socket;
        the served model follows a model switch."""
        with self._host_lock:
            if not self.serve or self.hosted is not None or self._unmounted:
                return
            from smol_tools.engine.server import host_engine

            self.hosted = host_engine(self.settings, lambda: self.engine, "app")

    def switch_model(self, spec: str) -> bool:
        """Run `spec` (a catalog name or a .gguf path) from now on; loads in a worker.

        Refused, with a notification, while an answer streams or when `spec` names no model
        file. Returns whether the switch started.
        """
        spec = spec.strip()
        if self.active_runs:
            self.notify(
                "An answer is being written: stop it (Esc) before switching models.",
                severity="warning",
            )
            return False
        settings = self.settings.replace(model=spec)
        if settings.backend == "llama":
            from smol_tools.engine.catalog import resolve_model

            try:
                resolve_model(settings)
            except SmolError as exc:
                self.notify_error(exc)
                return False
        self._switch_model(settings)
        return True

    @work(thread=True, group="load")
    def _switch_model(self, settings: Settings) -> None:
        with self._load_lock:  # waits for a load in progress; requests wait for this one
            old_engine, old_settings = self._engine, self.settings
            try:
                engine = self.engine_maker(settings)
            except SmolError as exc:
                self.call_from_thread(self.show_error, exc)
                return
            # From here on, requests get the new engine (and wait on the lock for its load).
            self._engine, self.settings, self._loaded = engine, settings, False
            if old_engine is not None and old_engine is not engine:
                old_engine.close()
            self.call_from_thread(self._model_status, f"loading {engine.model_name}...")
            try:
                engine.load()
            except SmolError as exc:
                # Back to the old model (closed; it loads again on the next request).
                self._engine, self.settings = old_engine, old_settings
                self.call_from_thread(self.show_error, exc)
                return
            self._loaded = True
            self.call_from_thread(self._model_status, f"{engine.model_name} ready")
        self.host_engine()

    def _model_status(self, text: str) -> None:
        self.status, self.speed, self.context = text, "", ""

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (Ctrl-P) finds every tool and every action by name."""
        yield from super().get_system_commands(screen)
        for mode, label, key in TOOLS:
            yield SystemCommand(
                f"Open {label}", f"Switch to the {label} tool ({key.upper()})",
                partial(self.switch_mode, mode),
            )
        yield SystemCommand("Help: keys", "Every key binding (F1)", self.action_help)
        yield SystemCommand("Pick model", "Choose the model to run (F7)", self.action_pick_model)
        # The current screen's own actions, by the names its footer shows.
        for binding in getattr(screen, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.description:
                yield SystemCommand(
                    binding.description,
                    f"{binding.description} ({binding.key})",
                    partial(screen.run_action, binding.action),
                )

