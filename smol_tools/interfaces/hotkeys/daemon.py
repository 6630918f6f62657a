"""`smol hotkeys`: the global-shortcut daemon, in the foreground.

The environment is checked first (an X11 display, xclip), then the engine loads so the
first press is warm. pynput's listener runs in its own thread and only enqueues; one worker
thread runs the jobs, one at a time: capture the selection, run the tool (on its registered
LoRA adapter, if it has one), deliver the result.
A press while a job runs is queued, or cancels the job (`hotkeys_busy = "cancel"`); Esc or
the same shortcut again cancels it, and nothing is pasted after a cancel. No exception ends
the listener or the worker: it costs one line on stderr. Every run is logged in the history
(source "hotkey") unless --no-log or `history = false`. An in-process model is released after
`idle_unload_minutes` without a press and loads again on the next one.

Each job writes one line with measured times from the key press, e.g.
`smol: hotkey <ctrl>+<alt>+s summarize: selection 0.08 s, first token 0.41 s, done 2.30 s,
312 chars -> clipboard`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from smol_tools.config import Settings
from smol_tools.engine.adapters import adapter_engine
from smol_tools.engine.base import Engine
from smol_tools.engine.idle import IdleRelease
from smol_tools.errors import SmolError
from smol_tools.interfaces.hotkeys.actions import Shortcut
from smol_tools.interfaces.hotkeys.clipboard import SecretSelection
from smol_tools.interfaces.hotkeys.keys import AppKeys, app_keys, default_keys
from smol_tools.interfaces.hotkeys.selection import NoSelection, SelectionJob, Timeouts

MAX_PENDING = 4  # presses queued behind a running job; more are dropped with a notice
STOP_JOIN_S = 2.0  # on exit, how long the running job gets to stop
TERMINALS = ("x-terminal-emulator", "gnome-terminal", "konsole", "xterm")
NEEDS_XCLIP = "smol hotkeys needs xclip for the clipboard (install it: sudo apt install xclip)"
NO_DISPLAY = "smol hotkeys needs an X11 display (DISPLAY is not set)"
WAYLAND = (
    "smol hotkeys needs an X11 session: Wayland does not let programs watch global keys or "
    "send keystrokes (choose an Xorg/X11 session at login)"
)


# -- environment ----------------------------------------------------------------------------
def check_environment(
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    which: Callable[[str], str | None] = shutil.which,
    can_open: Callable[[str], str | None] | None = None,
) -> list[str]:
    """Raise SmolError (one line naming what to install or do) when the daemon cannot work
    here; return warnings for what works only in part.

    Args:
        can_open: opens the X display, returning why it cannot (None: it can).
    """
    env = os.environ if env is None else env
    if platform in ("darwin", "win32"):
        return []
    display = env.get("DISPLAY", "")
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
    problem = (can_open or x_display_problem)(display) if display else "DISPLAY is not set"
    if problem is not None:
        if wayland:
            raise SmolError(WAYLAND)
        if not display:
            raise SmolError(NO_DISPLAY)
        raise SmolError(problem)
    if not which("xclip"):
        raise SmolError(NEEDS_XCLIP)
    if wayland:
        return ["a Wayland session: shortcuts and copy/paste reach only X11 (XWayland) windows"]
    return []


def x_display_problem(name: str) -> str | None:
    """Why the X display `name` cannot serve the daemon (None: it can)."""
    try:
        import Xlib.display
        import Xlib.error
    except ImportError:
        return "smol hotkeys needs python-xlib (install it: pip install python-xlib)"
    try:
        d = Xlib.display.Display(name)
    except Exception as exc:
        return f"cannot open the X display {name} ({exc}); is the X server running?"
    try:
        missing = [e for e in ("XTEST", "RECORD") if not d.has_extension(e)]
    finally:
        d.close()
    if missing:
        return (
            f"the X server at {name} lacks the {' and '.join(missing)} extension "
            "(needed to see shortcuts and send copy/paste)"
        )
    return None


# -- opening the app ------------------------------------------------------------------------
def smol_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "smol_tools", *args]


def terminal_command(
    terminal: str, command: list[str], which: Callable[[str], str | None] = shutil.which
) -> list[str]:
    """The command line that runs `command` in a new terminal window.

    `terminal` (the setting) may hold `{command}`, replaced by the command's words; without
    it, `-e` and the command follow (`--` for gnome-terminal). Empty: the first of
    x-terminal-emulator, gnome-terminal, konsole, xterm on PATH."""
    if terminal.strip():
        words = shlex.split(terminal)
        if "{command}" in words:
            i = words.index("{command}")
            return [*words[:i], *command, *words[i + 1 :]]
    else:
        found = next((t for t in TERMINALS if which(t)), None)
        if found is None:
            raise SmolError(
                "no terminal to open the app in",
                hint='set terminal = "xterm" (or your terminal) in the config file',
            )
        words = [found]
    flag = "--" if Path(words[0]).name == "gnome-terminal" else "-e"
    return [*words, flag, *command]


# -- jobs -----------------------------------------------------------------------------------
@dataclass
class Job:
    """One press of a shortcut, from the queue to the end of its delivery."""

    shortcut: Shortcut
    pressed_at: float  # time.perf_counter() of the key press
    cancelled: threading.Event = field(default_factory=threading.Event)
    run: Any = None  # the ToolRun streaming now

    def cancel(self) -> None:
        self.cancelled.set()
        run = self.run
        if run is not None:
            run.cancel()


@dataclass
class JobResult:
    """What a job did, for the stderr line and for tests."""

    shortcut: Shortcut
    status: str = "done"  # done, cancelled, no selection, secret, failed, opened
    output: str = ""  # the output mode used
    chars: int = 0
    selection_s: float | None = None
    first_token_s: float | None = None
    done_s: float | None = None
    ref: str | None = None
    message: str = ""
    adapter: str = ""  # the LoRA adapter the tool ran on ("" for the base model)

    def line(self) -> str:
        parts = []
        if self.selection_s is not None:
            parts.append(f"selection {self.selection_s:.2f} s")
        if self.first_token_s is not None:
            parts.append(f"first token {self.first_token_s:.2f} s")
        if self.done_s is not None:
            parts.append(f"done {self.done_s:.2f} s")
        if self.status == "done":
            parts.append(f"{self.chars} chars -> {self.output}")
        elif self.status == "opened":
            parts.append("opened the app" + (f" on {self.ref}" if self.ref else ""))
        else:
            parts.append(self.status + (f" ({self.message})" if self.message else ""))
        head = f"smol: hotkey {self.shortcut.keys} {self.shortcut.label}"
        if self.adapter:
            head += f" on adapter {self.adapter}"
        return f"{head}: {', '.join(parts)}"


class Daemon:
    """The queue, the worker and the jobs (everything but the listener and the environment).

    Args:
        clipboard, keys: the desktop (clipboard.X11Clipboard and keys.X11Keys, or fakes).
        notify: shows a message (a line on stderr and a desktop notification).
        store: the history store, or None (history off, --no-log).
        focused: the focused window's class (to pick its copy/paste keys).
        launch: starts a command detached (the terminal running the app).
    """

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        clipboard: Any,
        keys: Any,
        notify: Callable[..., None],
        store: Any = None,
        summary_tokens: int = 256,
        focused: Callable[[], tuple[str, ...]] = lambda: (),
        launch: Callable[[list[str]], None] | None = None,
        timeouts: Timeouts | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.clipboard = clipboard
        self.keys = keys
        self.notify = notify
        self.store = store
        self.summary_tokens = summary_tokens
        self.focused = focused
        self.launch = launch or spawn_detached
        self.timeouts = timeouts
        self.out = out
        self.busy = settings.hotkeys_busy
        # the model is freed after idle_unload_minutes without a press (or a request to the
        # server this daemon hosts, which counts on the same IdleRelease)
        self.idle_release = IdleRelease(
            lambda: self.engine, settings.idle_unload_minutes, loaded=False,
            log=lambda line: self.say(f"smol: {line}"),
        )  # fmt: skip
        self.results: deque[JobResult] = deque(maxlen=100)
        self.current: Job | None = None
        self._pending: deque[Job] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._registry: Any = None

    def say(self, line: str) -> None:
        stream = self.out or sys.stderr
        stream.write(line + "\n")
        stream.flush()

    # -- the listener's side: enqueue or cancel, nothing else -------------------------------
    def press(self, shortcut: Shortcut, at: float | None = None) -> None:
        """A shortcut went down (called in the listener thread)."""
        at = time.perf_counter() if at is None else at
        with self._cond:
            current = self.current
            if current is not None and current.shortcut.keys == shortcut.keys:
                current.cancel()  # the same shortcut again: stop it
                return
            for job in list(self._pending):
                if job.shortcut.keys == shortcut.keys:  # pressed again while waiting: drop it
                    self._pending.remove(job)
                    return
            if current is not None and self.busy == "cancel":
                current.cancel()
                self._pending.clear()
            if len(self._pending) >= MAX_PENDING:
                self.say(f"smol: hotkey {shortcut.keys}: {MAX_PENDING} jobs wait already; ignored")
                return
            self._pending.append(Job(shortcut, at))
            self._cond.notify_all()

    def escape(self) -> None:
        """Esc: stop the running job and drop the waiting ones."""
        with self._cond:
            if self.current is not None:
                self.current.cancel()
                self._pending.clear()

    # -- the worker -------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return not self.idle_release.released

    @loaded.setter
    def loaded(self, value: bool) -> None:
        self.idle_release.released = not value

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="smol-hotkeys", daemon=True)
        self._thread.start()
        self.idle_release.start()

    def stop(self, timeout: float = STOP_JOIN_S) -> None:
        self.idle_release.stop()
        with self._cond:
            self._stopping = True
            self._pending.clear()
            if self.current is not None:
                self.current.cancel()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until no job runs or waits (tests)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.current is not None or self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _next(self) -> Job | None:
        """The next job (waits for a press)."""
        with self._cond:
            while not self._pending and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return None
            job = self._pending.popleft()
            self.current = job
            return job

    def _loop(self) -> None:
        while (job := self._next()) is not None:
            try:
                result = self.run_job(job)
            except BaseException as exc:  # a bug: one line, and the daemon goes on
                result = JobResult(job.shortcut, "failed", message=f"{type(exc).__name__}: {exc}")
            finally:
                with self._cond:
                    self.current = None
                    self._cond.notify_all()
            self.results.append(result)
            self.say(result.line())

    def ensure_loaded(self, freed: bool) -> None:
        """Load the model if it was freed (or never loaded), with a notice: it takes a moment."""
        if not freed:
            return
        self.notify(f"loading the model ({self.engine.model_name})...")
        self.engine.load()

    # -- one job ----------------------------------------------------------------------------
    def run_job(self, job: Job) -> JobResult:
        """Capture, run, deliver; every failure becomes the result's status and a notice."""
        shortcut = job.shortcut
        result = JobResult(shortcut)
        if shortcut.action == "app":
            return self._open_app(result, None)
        wm_class = self.focused()
        keys: AppKeys = (
            app_keys(wm_class, self.settings.hotkey_apps) if wm_class else default_keys()
        )
        selection = SelectionJob(self.clipboard, self.keys, keys, shortcut.combo, self.timeouts)
        try:
            text = selection.capture()
            result.selection_s = time.perf_counter() - job.pressed_at
            if job.cancelled.is_set():
                return self._cancelled(result, job)
            with self.idle_release.using() as freed:
                self.ensure_loaded(freed)
                answer = self._run_tool(job, text, result)
            result.done_s = time.perf_counter() - job.pressed_at
            if job.cancelled.is_set():
                return self._cancelled(result, job)
            if not answer.strip():
                result.status, result.message = "failed", "the model gave an empty answer"
                self.notify("the model gave an empty answer: nothing was pasted")
                return result
            result.chars = len(answer)
            self._deliver(selection, shortcut, answer, result)
            result.done_s = time.perf_counter() - job.pressed_at
            return result
        except NoSelection:
            result.selection_s = time.perf_counter() - job.pressed_at
            result.status = "no selection"
            self.notify(f"no text selected: select some text, then press {shortcut.keys} again")
            return result
        except SecretSelection:
            result.status = "secret"
            self.notify("the selection is marked secret (by a password manager): not read")
            return result
        except SmolError as exc:
            result.status, result.message = "failed", str(exc)
            self.notify(f"{shortcut.label} failed: {exc}")
            return result
        except Exception as exc:  # a bug: reported, never the end of the daemon
            result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
            self.notify(f"{shortcut.label} failed: internal error: {type(exc).__name__}: {exc}")
            return result
        finally:
            try:
                selection.finish()
            except Exception as exc:
                self.say(f"smol: could not restore the clipboard: {exc}")

    def _cancelled(self, result: JobResult, job: Job) -> JobResult:
        result.status = "cancelled"
        result.done_s = time.perf_counter() - job.pressed_at
        self.notify(f"{job.shortcut.label} stopped: nothing was pasted")
        return result

    def _deliver(
        self, selection: SelectionJob, shortcut: Shortcut, answer: str, result: JobResult
    ) -> None:
        output = shortcut.output
        if output == "app":
            if result.ref is not None:
                self._open_app(result, result.ref)
                result.status, result.output = "done", "app"
                return
            selection.note = (
                "the run is not in the history (it is off), so the result was copied "
                "instead of opened in the app"
            )
            output = "clipboard"
        result.output = selection.deliver(answer, output)
        if selection.note:
            self.notify(selection.note)
        if result.output == "clipboard":
            what = {"summarize": "summary", "agent": "answer"}.get(shortcut.action, "result")
            self.notify(f"{what} copied to the clipboard", title=f"smol: {what}", body=answer)

    def _functions(self) -> list[Any]:
        if self._registry is None:
            from smol_tools.tools.agent.registry import default_registry

            self._registry = default_registry(
                [Path(p) for p in self.settings.functions], builtins=self.settings.builtins
            )
        return list(self._registry)

    def _run_tool(self, job: Job, text: str, result: JobResult) -> str:
        """Run the shortcut's tool on `text` (on the tool's registered adapter, if any),
        logged; the answer's text ('' if cancelled)."""
        shortcut = job.shortcut
        calls: list[dict[str, Any]] | None = None
        engine, adapter = adapter_engine(self.settings, self.engine, shortcut.action)
        result.adapter = adapter.name if adapter is not None else ""
        if shortcut.action == "summarize":
            from smol_tools.tools.summarize import summarize

            run = summarize(engine, text, max_tokens=self.summary_tokens)
            options: dict[str, Any] = {"question": None}
        elif shortcut.action == "rewrite":
            from smol_tools.tools.rewrite import rewrite

            run = rewrite(
                engine, text, shortcut.style, max_tokens=self.settings.max_tokens,
                extra_styles=self.settings.styles,
            )  # fmt: skip
            options = {"style": shortcut.style}
        else:
            from smol_tools.tools.agent.loop import Agent

            # No one to ask at a shortcut: functions with side effects are refused.
            agent = Agent(engine, self._functions(), allow=None)
            decided = agent.run(text)
            if decided.run is None:  # pragma: no cover - run() always words an answer
                return ""
            run = decided.run
            calls = [c.as_dict() for c in decided.calls]
            options = {"functions": [], "dry_run": False}
        log = self._log(shortcut.action, text, options, result.adapter)
        job.run = run
        if job.cancelled.is_set():
            run.cancel()
        answer = ""
        status = "failed"
        try:
            for chunk in run:
                if result.first_token_s is None:
                    result.first_token_s = time.perf_counter() - job.pressed_at
                answer += chunk
                log.save(answer)
            status = "stopped" if job.cancelled.is_set() else "done"
        finally:
            log.finish(answer, status, run.usage(), calls)
            result.ref = log.ref
        return answer

    def _log(self, tool: str, text: str, options: dict[str, Any], adapter: str = "") -> Any:
        from smol_tools.store import RunLog

        def on_error(exc: SmolError) -> None:
            self.say(f"smol: warning: {exc}")

        return RunLog(
            self.store, tool, text, options, model=self.engine.model_name, adapter=adapter,
            source="hotkey", on_error=on_error,
        )  # fmt: skip

    def _open_app(self, result: JobResult, ref: str | None) -> JobResult:
        args = ["ui", "--open", ref] if ref else ["ui"]
        try:
            self.launch(terminal_command(self.settings.terminal, smol_command(*args)))
        except SmolError as exc:
            result.status, result.message = "failed", str(exc)
            self.notify(f"cannot open the app: {exc}")
            return result
        result.status, result.ref = "opened", ref
        return result


def spawn_detached(argv: list[str]) -> None:
    """Start `argv` in its own session, its output not ours."""
    try:
        subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise SmolError(f"cannot start {argv[0]}: {exc.strerror or exc}") from None


def warm_up(engine: Engine, shortcuts: list[Shortcut], settings: Settings) -> None:
    """The first token of each tool the shortcuts use, on a word of text and the tool's
    adapter: it pages the weights in and caches each tool's system prompt, so the first press
    is as fast as the next ones."""
    from smol_tools.tools.rewrite import rewrite
    from smol_tools.tools.summarize import summarize

    def on_adapter(tool: str) -> Engine:
        try:
            return adapter_engine(settings, engine, tool)[0]
        except SmolError:
            return engine  # a bad adapter file: the press reports it

    runs = []
    if any(s.action == "summarize" for s in shortcuts):
        runs.append(summarize(on_adapter("summarize"), "Warm up.", max_tokens=8))
    styles = [s.style for s in shortcuts if s.action == "rewrite"]
    if styles:
        rewriter = on_adapter("rewrite")
        runs.append(
            rewrite(rewriter, "Warm up.", styles[0], max_tokens=8, extra_styles=settings.styles)
        )
    for run in runs:
        try:
            next(run, None)
        except SmolError:
            pass
        finally:
            run.cancel()
            run.close()


# -- the command ----------------------------------------------------------------------------
def run(
    settings: Settings, *, log: bool = True, summary_tokens: int = 256, out: TextIO | None = None
) -> int:
    """Run the daemon until Ctrl-C (exit 130) or SIGTERM (exit 0)."""
    from smol_tools.engine import create_engine
    from smol_tools.interfaces.hotkeys.actions import format_table, load_shortcuts
    from smol_tools.interfaces.hotkeys.clipboard import TextClipboard, X11Clipboard
    from smol_tools.interfaces.hotkeys.keys import KeyState, Listener, check_apps, platform_keys
    from smol_tools.interfaces.hotkeys.notify import Notifier

    out = out or sys.stderr

    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    shortcuts = load_shortcuts(settings)
    check_apps(settings.hotkey_apps)
    for warning in check_environment():
        say(f"smol: warning: {warning}")
    x11 = sys.platform not in ("darwin", "win32")
    clipboard: Any = X11Clipboard() if x11 else TextClipboard()
    from smol_tools.engine.server import resident

    engine = create_engine(resident(settings))  # stays loaded: the resident context size
    say(f"smol: loading {engine.model_name} ({engine.kind})...")
    engine.load()
    warm_up(engine, shortcuts, settings)
    store = None
    if log and settings.history:
        from smol_tools.store import Store

        try:
            store = Store.open(settings)
        except SmolError as exc:
            say(f"smol: warning: history not saved: {exc}")
    state = KeyState(shortcuts)
    keys = platform_keys(state)
    daemon = Daemon(
        settings, engine, clipboard=clipboard, keys=keys, notify=Notifier(out), store=store,
        summary_tokens=summary_tokens, focused=keys.focused_class, out=out,
    )  # fmt: skip
    daemon.loaded = True
    hosted = None
    if settings.server:  # our warm model serves the shell and the app too
        from smol_tools.engine.server import host_engine

        hosted = host_engine(
            settings, lambda: engine, "hotkeys",
            log=lambda m: say(f"smol: {m}"), idle=daemon.idle_release,
        )  # fmt: skip
    listener = Listener(state, daemon.press, daemon.escape, lambda m: say(f"smol: {m}"))
    stop = threading.Event()
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    except ValueError:  # not the main thread (embedded): Ctrl-C / stop only
        pass
    code = 0
    try:
        daemon.start()
        listener.start()
        served = f"; serving it on {hosted.socket_path}" if hosted is not None else ""
        say(f"smol: hotkeys ready ({engine.model_name}, {engine.kind}{served}); Ctrl-C stops")
        for line in format_table(shortcuts).splitlines():
            say(f"  {line}")
        while not stop.wait(0.2):
            if not listener.running:
                raise SmolError("the keyboard listener stopped (the X display went away?)")
    except KeyboardInterrupt:
        code = 130
    finally:
        listener.stop()
        daemon.stop()
        if hosted is not None:
            hosted.stop(timeout=1.0)
        engine.close()
        if store is not None:
            store.close()
        clipboard.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    say("smol: hotkeys stopped")
    return code
