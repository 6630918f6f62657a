"""SmolApp: owns the settings and the engine, loads the model, and hosts the screens."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from smol_tools.config import Settings
from smol_tools.engine import Engine, create_engine
from smol_tools.errors import SmolError
from smol_tools.interfaces.tui.screens import ChatScreen

EngineSource = Engine | Callable[[], Engine]


class SmolApp(App[None]):
    """The terminal assistant. Screens reach the model only through tools and `ensure_loaded`."""

    CSS_PATH = "app.tcss"
    TITLE = "smol"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    # One line about the engine ("loading X...", "X ready", "error: ..."); screens show it.
    status: reactive[str] = reactive("")

    def __init__(self, settings: Settings, engine: EngineSource | None = None) -> None:
        """Args:
        engine: a ready engine, or a factory called on first use; default `create_engine`.
        """
        super().__init__()
        self.settings = settings
        self._engine: Engine | None = engine if isinstance(engine, Engine) else None
        self._engine_factory: Callable[[], Engine] = (
            engine
            if engine is not None and not isinstance(engine, Engine)
            else partial(create_engine, settings)
        )
        # Held while loading, so the startup load and a chat request never load twice at once.
        self._load_lock = threading.Lock()
        self._loaded = False

    @property
    def engine(self) -> Engine:
        """The engine, created on first use (cheap: the model loads in `ensure_loaded`)."""
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def on_mount(self) -> None:
        self.push_screen(ChatScreen())
        self._load_at_start()

    @work(thread=True, group="load")
    def _load_at_start(self) -> None:
        # Loading takes seconds with a real model; the UI stays usable meanwhile.
        try:
            self.ensure_loaded()
        except SmolError as exc:
            self.call_from_thread(self.show_error, exc)

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
        text = f"{error.message}\n{error.hint}" if error.hint else error.message
        # markup=False: messages quote file names and model output, which may contain [brackets].
        self.notify(text, title="smol", severity="error", timeout=10, markup=False)
