"""The `smol` command. Parses arguments, reads input, streams tool output, logs each tool run
to the history (`smol history`; `--no-log` or `history = false` turns that off), maps errors to
one-line messages and exit codes (0 done, 1 runtime failure, 2 bad usage/input, 130 interrupted).

Keep imports here light: `smol --help` must not load llama_cpp, textual or torch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from smol_tools import __version__
from smol_tools.errors import SmolError, UsageError

if TYPE_CHECKING:
    from smol_tools.store import RunLog

PROG = "smol"
EXIT_CODES = """exit codes: 0 done, 1 runtime failure (model missing or corrupt, engine error,
  unreadable or locked history), 2 bad usage or input (empty, not UTF-8, unknown style,
  unknown history ID), 130 interrupted (Ctrl-C)"""
DEBUG_HELP = "show tracebacks (also before the command: smol --debug ...)"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`smol: error: ...`) and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _common(parser: argparse.ArgumentParser, adapters: bool = True) -> None:
    group = parser.add_argument_group("model and sampling")
    group.add_argument("--model", metavar="NAME|PATH", help="catalog name or .gguf path")
    if adapters:  # tool commands; the app, the server and the hotkeys pick theirs per request
        group.add_argument(
            "--adapter", metavar="NAME|PATH",
            help="LoRA adapter: a name from `smol adapters` or a .gguf path (default: the"
            " tool's registered one)",
        )  # fmt: skip
        group.add_argument(
            "--no-adapter", action="store_true", help="the base model, without any adapter"
        )
    group.add_argument("--remote", metavar="URL", help="use an OpenAI-compatible server")
    group.add_argument(
        "--no-server",
        action="store_true",
        help="load the model in this process even when `smol serve` (or the app) runs",
    )
    group.add_argument("--max-tokens", type=int, metavar="N", help="answer length limit")
    group.add_argument("--temperature", type=float, metavar="T")
    group.add_argument(
        "--thinking",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="SmolLM3 reasoning mode (off by default)",
    )
    _debug(parser)


def _debug(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a subcommand that does not see --debug must not reset the top-level one
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)


def _no_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-log", action="store_true", help="do not save this run in the history")


def _output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="text file; '-' or none: stdin")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-stream", action="store_true", help="print the result at the end")


def _functions(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--functions",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="add functions from FILE.py (typed functions) or FILE.json (schemas; --dry-run only)",
    )
    parser.add_argument(
        "--no-builtins",
        dest="builtins",
        action="store_false",
        default=None,
        help="only the --functions files (and configured ones), not the built-in functions"
        " (config: builtins = false)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Local assistant tools on SmolLM models (llama.cpp). No cloud.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"smol-tools {__version__}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, **kw: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            **kw,
        )
        return p

    p = command("ui", "open the terminal app (the default)")
    p.add_argument(
        "--open", metavar="ID", help="open a history item (r7: a run in its tool; c12: a chat)"
    )
    _common(p, adapters=False)
    p = command("chat", "open the terminal app on a new chat")
    _common(p, adapters=False)

    p = command("summarize", "summarize a text, or answer a question about it")
    _output(p)
    p.add_argument("-q", "--question", metavar="TEXT", help="answer this question about the text")
    _no_log(p)
    _common(p)

    p = command("rewrite", "rewrite a text in a style")
    _output(p)
    p.add_argument("-s", "--style", default="professional", help="style (default: professional)")
    p.add_argument("--styles", action="store_true", help="list the styles and exit")
    _no_log(p)
    _common(p)

    p = command("agent", "ask the function-calling agent")
    p.add_argument("request", nargs="*", metavar="REQUEST", help="the request; '-' or none: stdin")
    p.add_argument("--json", action="store_true", help="print calls and answer as one JSON object")
    p.add_argument("--no-stream", action="store_true", help="print the answer at the end")
    p.add_argument("--dry-run", action="store_true", help="print the calls, run nothing")
    p.add_argument("--yes", action="store_true", help="allow side effects and network calls")
    p.add_argument(
        "--explain",
        action="store_true",
        help="print on stderr what each pass of the decision did (in --json: 'explain')",
    )
    _functions(p)
    _no_log(p)
    _common(p)

    p = command("functions", "list the functions the agent can call, with their schemas")
    p.add_argument("--json", action="store_true", help="the OpenAI-style schemas as JSON")
    _functions(p)
    _debug(p)

    p = command(
        "eval",
        "measure a tool: the agent (BFCL, built-ins), the summarizer or the rewriter on its"
        " eval set",
    )
    p.add_argument("tool", choices=["agent", "summarize", "rewrite"])
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        choices=["bfcl", "builtin", "generated"],
        help="agent sets: BFCL, the built-in requests, the generated eval split (default: all)",
    )
    p.add_argument(
        "--categories",
        default="simple,multiple,parallel,irrelevance",
        help="BFCL categories, comma-separated",
    )
    p.add_argument(
        "--split",
        choices=["all", "dev", "test"],
        default="all",
        help="BFCL items: the dev half, the never-inspected test half, or all (default)",
    )
    p.add_argument("--limit", type=_positive, help="first N items (of each category for the agent)")
    p.add_argument(
        "--items",
        type=Path,
        metavar="FILE",
        help="items as JSONL (default: the agent's builtin_eval.jsonl, or"
        " assets/data/TOOL/eval.jsonl); for the agent, requests with the calls expected",
    )
    _functions(p)
    p.add_argument(
        "--output",
        type=Path,
        help="JSON results file (default: DATA_DIR/eval/TOOL.json; summarize and rewrite write"
        " a Markdown report and PNG chart next to it)",
    )
    _common(p)

    p = command(
        "finetune",
        "train a LoRA adapter for a tool on its data and register it (needs '.[train]')",
    )
    p.add_argument("tool", choices=["summarize", "rewrite", "agent"])
    p.add_argument(
        "--base", default=None, metavar="MODEL",
        help="a local GGUF path, a catalog name (default: the configured model) or a Hub id",
    )  # fmt: skip
    p.add_argument(
        "--data", type=Path, metavar="FILE",
        help="training set as JSONL (default: assets/data/TOOL/train.jsonl)",
    )  # fmt: skip
    p.add_argument("--name", help="adapter name (default: TOOL-lora)")
    p.add_argument(
        "--output", type=Path, metavar="DIR",
        help="where the adapter and its card go (default: the user's adapters dir: registered)",
    )  # fmt: skip
    p.add_argument("--rank", type=_positive, default=8, help="LoRA rank (default 8)")
    p.add_argument("--alpha", type=float, default=16.0, help="LoRA alpha (default 16)")
    p.add_argument("--lr", type=float, default=4e-4, help="learning rate (default 4e-4)")
    p.add_argument("--epochs", type=float, default=1.0, help="passes over the data (default 1)")
    p.add_argument("--steps", type=_positive, help="stop after N optimizer steps")
    p.add_argument("--batch", type=_positive, default=8, help="examples per step (default 8)")
    p.add_argument("--examples", type=_positive, help="train on a seeded sample of N examples")
    p.add_argument(
        "--max-length", type=_positive, default=512, help="tokens per example (default 512)"
    )
    p.add_argument(
        "--eval-limit", type=int, default=0, metavar="N",
        help="score base and adapter on the first N eval items into the card (default 0: none)",
    )  # fmt: skip
    p.add_argument("--save-every", type=_positive, default=10, help="checkpoint every N steps")
    p.add_argument("--restart", action="store_true", help="drop checkpoints, start over")
    _common(p, adapters=False)

    p = command("models", "list, locate and download models")
    p.add_argument("action", nargs="?", default="list", choices=["list", "path", "pull"])
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("--dir", type=Path, help="download into this folder (pull)")
    p.add_argument("--json", action="store_true", help="machine-readable list")
    _debug(p)

    p = command("adapters", "list the LoRA adapters the tools can use (`--adapter NAME`)")
    p.add_argument("--json", action="store_true", help="machine-readable list")
    _debug(p)

    p = command(
        "history",
        "the history of app, shell and hotkey runs: list, search, show, export",
        usage="smol history [list | search WORDS... | show ID | export ID [-o FILE]] [options]",
    )
    p.add_argument(
        "action", nargs="?", default="list", metavar="ACTION",
        help="list (default), search, show or export",
    )  # fmt: skip
    p.add_argument(
        "words", nargs="*", metavar="WORDS|ID",
        help="search: the words to find; show/export: an ID such as c12 or r7",
    )  # fmt: skip
    p.add_argument(
        "-n", "--limit", type=_positive, default=20, metavar="N",
        help="at most N items (default 20)",
    )  # fmt: skip
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="export: write to FILE")
    _debug(p)
    p = command(
        "serve",
        "the resident engine: one warm model for the app, the shell and the hotkeys",
        usage="smol serve [--port N [--host 127.0.0.1] [--api-key KEY]] | --stop | --status",
    )
    p.add_argument(
        "--port", type=int, metavar="N",
        help="also serve the OpenAI API (/v1/chat/completions, /v1/models) on this port",
    )  # fmt: skip
    p.add_argument(
        "--host", default="127.0.0.1",
        help="address for --port; only loopback (127.0.0.1, ::1, localhost) is allowed",
    )  # fmt: skip
    p.add_argument("--api-key", metavar="KEY", help="require this bearer key on the HTTP API")
    p.add_argument("--stop", action="store_true", help="stop the running server")
    p.add_argument("--status", action="store_true", help="say whether a server runs, and what")
    p.add_argument("--json", action="store_true", help="--status as JSON")
    _common(p, adapters=False)

    p = command("hotkeys", "the global-shortcut daemon (foreground; Ctrl-C stops it)")
    p.add_argument("--list", action="store_true", help="print each shortcut and its action")
    p.add_argument("--json", action="store_true", help="--list as JSON")
    _no_log(p)
    _common(p, adapters=False)
    return parser


# -- helpers --------------------------------------------------------------------------------
def read_input(file: str | None, stdin: TextIO | None = None) -> str:
    """The text of FILE, or of stdin for '-' / no FILE. Raises UsageError on bad input."""
    from smol_tools.tools.text import check_input

    stdin = stdin or sys.stdin
    if file in (None, "-"):
        if file is None and stdin.isatty():
            raise UsageError("no input", hint="pass a FILE or pipe text into stdin")
        return check_input(stdin.buffer.read(), "stdin")
    from smol_tools.interfaces.files import read_text_file

    return read_text_file(file)


def settings_from(args: argparse.Namespace) -> Any:
    from smol_tools.config import load_settings

    overrides = {
        "model": getattr(args, "model", None),
        "max_tokens": getattr(args, "max_tokens", None),
        "temperature": getattr(args, "temperature", None),
        "thinking": getattr(args, "thinking", None),
        "server": False if getattr(args, "no_server", False) else None,
        "builtins": getattr(args, "builtins", None),
    }
    if getattr(args, "remote", None):
        overrides.update(backend="remote", remote_url=args.remote)
    return load_settings(overrides)


class ProgressBar:
    """A chunk progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, label: str, stream: TextIO | None = None, unit: str = "parts") -> None:
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()

    def __call__(self, done: int, total: int, detail: str = "") -> None:
        width = 20
        filled = width * done // max(total, 1)
        line = f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {self.unit}"
        line += f"  {detail}" if detail else ""
        end = "\n" if done >= total or not self.tty else ""
        self.stream.write(("\r" if self.tty else "") + line + end)
        self.stream.flush()


def warn(message: str) -> None:
    sys.stderr.write(f"{PROG}: warning: {message}\n")
    sys.stderr.flush()


def run_log(
    args: argparse.Namespace,
    settings: Any,
    tool: str,
    text: str,
    options: dict[str, Any],
    *,
    model: str = "",
    adapter: str = "",
) -> RunLog:
    """The history log of one shell run (source "shell"). Off with --no-log or `history =
    false` (then the database is not even opened). A history that cannot be opened or written
    costs one warning line on stderr, never the result."""
    from smol_tools.store import RunLog, Store

    def on_error(exc: SmolError) -> None:
        warn(str(exc))

    store = None
    if not getattr(args, "no_log", False) and settings.history:
        try:
            store = Store.open(settings)
        except SmolError as exc:
            on_error(SmolError(f"history not saved: {exc.message}", hint=exc.hint))
    return RunLog(
        store,
        tool,
        text,
        options,
        model=model,
        adapter=adapter,
        source="shell",
        on_error=on_error,
        owns_store=True,
    )


def consume(
    run: Any,
    log: RunLog | None = None,
    write: TextIO | None = None,
    calls: list[dict[str, Any]] | None = None,
) -> str:
    """The whole text of a ToolRun, written to `write` as it streams (when given) and logged
    as it goes; the log is finished as done, stopped (Ctrl-C) or failed."""
    text = ""
    status = "failed"
    try:
        for chunk in run:
            text += chunk
            if write is not None:
                write.write(chunk)
                write.flush()
            if log is not None:
                log.save(text)
        status = "stopped" if run.cancelled else "done"
    except (KeyboardInterrupt, BrokenPipeError):
        status = "stopped"
        raise
    finally:
        if log is not None:
            log.finish(text, status, run.usage(), calls)
    return text


def emit(
    run: Any,
    args: argparse.Namespace,
    meta: dict[str, Any],
    log: RunLog | None = None,
    calls: list[dict[str, Any]] | None = None,
) -> int:
    """Print a ToolRun: streamed, whole (--no-stream) or as JSON (--json); log it as it goes
    (with the agent's `calls`)."""
    out = sys.stdout
    if args.json or args.no_stream:
        text = consume(run, log, calls=calls)
        if args.json:
            record = {"result": text, **meta, "usage": run.usage()}
            if log is not None and log.ref:
                record["history"] = log.ref
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            out.write(text + "\n")
        out.flush()
        return 0
    if consume(run, log, write=out, calls=calls):
        out.write("\n")
        out.flush()
    return 0


def _engine_for(args: argparse.Namespace) -> tuple[Any, Any]:
    from smol_tools.engine import create_engine

    settings = settings_from(args)
    return settings, create_engine(settings)


def tool_engine(args: argparse.Namespace, settings: Any, engine: Any, tool: str) -> tuple[Any, Any]:
    """The engine a tool command runs on, and its adapter (None: the base model): --adapter's,
    none with --no-adapter, else the tool's registered one (`adapter_engine`: `adapters = false`
    turns that off; skipped on a backend that cannot apply adapters, where --adapter is an
    error)."""
    from smol_tools.engine.adapters import adapter_engine, choose_adapter

    spec = getattr(args, "adapter", None)
    off = getattr(args, "no_adapter", False)
    if not spec and not off:
        return adapter_engine(settings, engine, tool)
    adapter = choose_adapter(settings, tool, spec, off=off)
    if adapter is None:
        return engine, None
    if not engine.supports_adapters:
        raise UsageError(
            f"the {engine.name} backend cannot apply the adapter {adapter.name}",
            hint="the in-process engine and smol serve can",
        )
    return engine.with_adapter(str(adapter.path)), adapter


def _adapter_name(adapter: Any) -> str | None:
    return adapter.name if adapter is not None else None


def tool_record(
    args: argparse.Namespace,
    settings: Any,
    tool: str,
    text: str,
    options: dict[str, Any],
    engine: Any,
    adapter: Any,
    shown: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], RunLog]:
    """A shell tool run's `--json` fields (tool, `shown` options, model, adapter, engine) and
    its history log, both naming the same model and adapter."""
    name = _adapter_name(adapter)
    meta = {
        "tool": tool, **(options if shown is None else shown), "model": engine.model_name,
        "adapter": name, "engine": engine.kind,
    }  # fmt: skip
    log = run_log(args, settings, tool, text, options, model=engine.model_name, adapter=name or "")
    return meta, log


# -- commands -------------------------------------------------------------------------------
def cmd_summarize(args: argparse.Namespace) -> int:
    from smol_tools.tools.summarize import summarize

    text = read_input(args.file)
    settings, engine = _engine_for(args)
    engine, adapter = tool_engine(args, settings, engine, "summarize")
    engine.load()
    run = summarize(
        engine,
        text,
        question=args.question,
        max_tokens=args.max_tokens or 256,
        progress=ProgressBar("summarizing"),
    )
    meta, log = tool_record(
        args, settings, "summarize", text, {"question": args.question}, engine, adapter
    )
    return emit(run, args, meta, log)


def cmd_rewrite(args: argparse.Namespace) -> int:
    from smol_tools.tools.rewrite import rewrite, styles

    user_styles = settings_from(args).styles  # the user's own, from config.toml [styles.NAME]
    table = styles(user_styles)
    if args.styles:
        if args.json:
            print(json.dumps(table, indent=2))
        else:
            for name, description in table.items():
                print(f"{name:<14}{description}")
        return 0
    if args.style not in table:
        raise UsageError(f"unknown style '{args.style}'", hint=f"styles: {', '.join(table)}")
    text = read_input(args.file)
    settings, engine = _engine_for(args)
    engine, adapter = tool_engine(args, settings, engine, "rewrite")
    engine.load()
    run = rewrite(
        engine, text, args.style, max_tokens=settings.max_tokens, extra_styles=user_styles
    )
    meta, log = tool_record(args, settings, "rewrite", text, {"style": args.style}, engine, adapter)
    return emit(run, args, meta, log)


def _registry(args: argparse.Namespace) -> Any:
    from smol_tools.tools.agent.registry import default_registry

    settings = settings_from(args)
    configured = [Path(p) for p in settings.functions]  # config `functions = [...]`
    registry = default_registry([*configured, *args.functions], builtins=settings.builtins)
    if not list(registry):
        raise UsageError(
            "the agent has no functions: --no-builtins (or builtins = false) and no function file",
            hint="pass --functions FILE.py, or drop --no-builtins",
        )
    return registry


def cmd_functions(args: argparse.Namespace) -> int:
    registry = _registry(args)
    if args.json:
        print(json.dumps([f.to_json() for f in registry], indent=2))
        return 0
    for func in registry:
        flags = [
            f
            for f, on in (
                ("side effects", func.side_effects),
                ("network", func.network),
                ("schema only", func.fn is None),
            )
            if on
        ]
        params = ", ".join(func.parameters.get("properties", {}))
        note = f"  [{', '.join(flags)}]" if flags else ""
        print(f"{func.name}({params}){note}\n    {func.description}")
    return 0


def ask_permission(func: Any, arguments: dict[str, Any]) -> bool:
    """Ask on the terminal before a side effect; no terminal means no."""
    call = f"{func.name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
    what = "has side effects" if func.side_effects else "uses the network"
    try:
        with open("/dev/tty", "r+") as tty:
            tty.write(f"smol: {call} {what}. Run it? [y/N] ")
            tty.flush()
            return tty.readline().strip().lower() in ("y", "yes")
    except OSError:
        return False


def cmd_agent(args: argparse.Namespace) -> int:
    from smol_tools.tools.agent.loop import Agent

    if args.request and args.request != ["-"]:
        request = " ".join(args.request).strip()
        if not request:
            raise UsageError("the request is empty")
    else:
        request = read_input(None)
    registry = _registry(args)
    settings, engine = _engine_for(args)
    engine, adapter = tool_engine(args, settings, engine, "agent")
    engine.load()
    agent = Agent(engine, list(registry), allow=(lambda f, a: True) if args.yes else ask_permission)
    options = {"functions": [str(f) for f in args.functions], "dry_run": args.dry_run}
    meta, log = tool_record(args, settings, "agent", request, options, engine, adapter, shown={})
    try:
        if args.dry_run:
            calls = agent.plan(request)
        else:
            result = agent.run(request)
    except BaseException as exc:
        log.finish("", "stopped" if isinstance(exc, KeyboardInterrupt) else "failed")
        raise
    if log.ref:
        meta["history"] = log.ref
    if args.explain:
        meta["explain"] = agent.notes
        if not args.json:
            for note in agent.notes:
                print(f"smol: explain: {note}", file=sys.stderr)
    if args.dry_run:
        lines = [
            f"{c.name}({json.dumps(c.arguments, ensure_ascii=False)})"
            + (f"  # refused: {c.error}" if c.error else "")
            for c in calls
        ] or ["(no function fits: the agent would answer in words)"]
        log.finish("\n".join(lines), "done", calls=[c.as_dict() for c in calls])
        if args.json:
            print(json.dumps({"calls": [c.as_dict() for c in calls], **meta}, ensure_ascii=False))
        else:
            print("\n".join(lines))
        return 0
    call_dicts = [c.as_dict() for c in result.calls]
    if args.json:
        answer = consume(result.run, log, calls=call_dicts) if result.run else ""
        if not result.run:
            log.finish("", "done", calls=call_dicts)
        record = {
            "calls": call_dicts,
            "answer": answer,
            **meta,
            "usage": result.run.usage() if result.run else {},
        }
        print(json.dumps(record, ensure_ascii=False))
        return 0
    for c in result.calls:
        shown = c.result if c.status == "ok" else c.error
        print(
            f"smol: {c.name}({json.dumps(c.arguments, ensure_ascii=False)}) -> {shown}",
            file=sys.stderr,
        )
    return emit(result.run, args, meta, log, calls=call_dicts)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return value


def cmd_eval(args: argparse.Namespace) -> int:
    if args.tool != "agent":
        return _eval_tool(args)
    from smol_tools.train import bfcl
    from smol_tools.train.agent_eval import evaluate_builtins

    sets = args.sets or ["bfcl", "builtin", "generated"]
    categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    unknown = sorted(set(categories) - set(bfcl.CATEGORIES))
    if not categories and "bfcl" in sets:
        raise UsageError("--categories names no BFCL category")
    if unknown:
        raise UsageError(
            f"unknown BFCL categories: {', '.join(unknown)}",
            hint=f"known: {', '.join(bfcl.CATEGORIES)}",
        )
    if args.functions and not args.sets:
        sets = ["builtin"]  # a user's functions: their own request set
    if args.functions and "builtin" in sets and not args.items:
        raise UsageError(
            "--functions needs --items: your requests and the calls you expect, as JSONL",
            hint='one line each: {"request": "...", "calls": [{"name": ..., "arguments": {...}}]}',
        )
    items = generated = registry = None  # read before the model loads: a bad file fails at once
    if "builtin" in sets:
        from smol_tools.tools.agent.registry import default_registry
        from smol_tools.train.agent_eval import BUILTIN_SET, load_items

        items = load_items(args.items or BUILTIN_SET)[: args.limit]
        builtins = settings_from(args).builtins
        registry = default_registry(args.functions, entry_points=False, builtins=builtins)
    if "generated" in sets:
        from smol_tools.train.agent_eval import evaluate_generated, load_generated

        generated = load_generated()[: args.limit]
    settings, engine = _engine_for(args)
    out = args.output or settings.paths.data_dir / "eval" / "agent.json"
    if out.is_dir():  # found out before the run, not after it
        raise UsageError(f"--output {out} is a directory")
    engine.load()
    bar = ProgressBar("evaluating", unit="items")

    def progress(category: str, done: int, total: int) -> None:
        bar.label = f"{category:<12}"
        bar(done, total)

    results: dict[str, Any] = {"model": engine.model_name}
    for adapter, runner in eval_engines(args, settings, engine, "agent"):
        part: dict[str, Any] = {"adapter": adapter}
        title = f"[{adapter or 'base'}] "
        if "bfcl" in sets:
            part["bfcl"] = bfcl.evaluate_agent(
                runner, categories, args.limit, progress, split=args.split
            )
            print(title + "BFCL\n" + bfcl.format_table(part["bfcl"]))
        if "builtin" in sets:
            built = evaluate_builtins(runner, registry, items, progress)
            part["builtin"] = built
            quiet = built["no_call"]
            print(
                f"{title}requests ({args.items or 'built-in set'}): {built['correct']}/"
                f"{built['n']} = {built['accuracy']:.1%}; no call where none fits"
                f" {quiet['correct']}/{quiet['n']}; median decision {built['median_seconds']} s"
            )
        if "generated" in sets:
            gen = evaluate_generated(runner, generated or [], progress)
            part["generated"] = gen
            print(
                f"{title}generated eval split: choose {gen['choose']['accuracy']:.1%}"
                f" (none {gen['none']['accuracy']:.1%}), fill {gen['fill']['accuracy']:.1%}"
                f" of {gen['all']['n']} ({gen['seconds']} s)"
            )
        if adapter is None:
            results.update(part)
        else:
            results["with_adapter"] = part
    try:
        print(f"results: {bfcl.write_results(results, out)}")
    except OSError as exc:
        raise SmolError(f"cannot write {out}: {exc.strerror or exc}") from None
    return 0


def eval_engines(
    args: argparse.Namespace, settings: Any, engine: Any, tool: str
) -> list[tuple[str | None, Any]]:
    """What `smol eval` compares, on the same items: the base model, then the adapter
    (--adapter's, else the tool's registered one; none with --no-adapter)."""
    view, adapter = tool_engine(args, settings, engine, tool)
    runs: list[tuple[str | None, Any]] = [(None, engine)]
    if adapter is not None:
        runs.append((adapter.name, view))
    return runs


def _eval_tool(args: argparse.Namespace) -> int:
    """`smol eval summarize|rewrite`: greedy (temperature 0 unless --temperature), the base
    model and then its adapter on the same items (`eval_engines`)."""
    from smol_tools.train import report
    from smol_tools.train.evaluate import default_items, evaluate, load_items

    items = load_items(args.items or default_items(args.tool), args.tool)[: args.limit]
    if not items:
        raise UsageError(f"no eval items in {args.items or default_items(args.tool)}")
    if args.temperature is None:
        args.temperature = 0.0
    settings, engine = _engine_for(args)
    out = args.output or settings.paths.data_dir / "eval" / f"{args.tool}.json"
    if out.is_dir():  # found out before the run, not after it
        raise UsageError(f"--output {out} is a directory")
    runners = eval_engines(args, settings, engine, args.tool)
    engine.load()
    runs = []
    for adapter, runner in runners:
        bar = ProgressBar(f"evaluating {adapter or 'base'}", unit="items")
        runs.append(
            evaluate(
                runner,
                args.tool,
                items,
                adapter=adapter,
                progress=lambda _, done, total: bar(done, total),  # noqa: B023
            )  # fmt: skip
        )
    print(report.format_table(runs))
    try:
        print(f"results: {report.write_json(runs, out)}")
        print(f"report: {report.write_markdown(runs, out.with_suffix('.md'))}")
    except OSError as exc:
        raise SmolError(f"cannot write {out}: {exc.strerror or exc}") from None
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from smol_tools.engine.adapters import user_adapters_dir
    from smol_tools.train.data import set_path
    from smol_tools.train.finetune import Hyper, Plan, finetune

    settings = settings_from(args)
    hyper = Hyper(
        rank=args.rank, alpha=args.alpha, learning_rate=args.lr, epochs=args.epochs,
        max_steps=args.steps or 0, batch_size=args.batch, max_length=args.max_length,
        examples=args.examples or 0,
    )  # fmt: skip
    plan = Plan(
        tool=args.tool,
        base=args.base or settings.model,
        data=args.data or set_path(args.tool, "train"),
        name=args.name or f"{args.tool}-lora",
        output_dir=args.output or user_adapters_dir(settings),
        work_root=settings.paths.data_dir / "finetune",
        cache_dir=settings.paths.cache_dir,
        hyper=hyper,
        eval_limit=args.eval_limit,
        save_every=args.save_every,
        threads=settings.n_threads,
        restart=args.restart,
    )
    bar = ProgressBar("training", unit="steps")

    def progress(step: int, total: int, info: dict[str, float]) -> None:
        eta = int(info.get("eta_s", 0))
        loss = info.get("loss", float("nan"))
        shown = "-" if math.isnan(loss) else f"{loss:.3f}"
        bar(step, total, f"loss {shown}  eta {eta // 60}:{eta % 60:02d}")

    try:
        run = finetune(plan, settings, report=lambda m: print(f"{PROG}: {m}", file=sys.stderr),
                       progress=progress)  # fmt: skip
    except KeyboardInterrupt:
        sys.stderr.write(
            f"\n{PROG}: interrupted; the same command resumes from the last checkpoint\n"
        )
        return 130
    stats = run.stats
    print(
        f"adapter {plan.name} for {plan.tool}: {run.registered}"
        f" ({stats['examples']} examples, {stats['steps']} steps, {stats['train_seconds']} s,"
        f" loss {stats['first_loss']} -> {stats['final_loss']})"
    )
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from smol_tools.config import load_settings
    from smol_tools.engine.catalog import catalog_rows, pull_model, resolve_model

    settings = load_settings()
    if args.action == "list":
        rows = catalog_rows(settings)
        if args.json:
            print(json.dumps(rows, indent=2))
            return 0
        print(f"{'NAME':<15}{'SIZE':>10}  {'PRESENT':<8} DESCRIPTION")
        for r in rows:
            mark = "yes" if r["present"] else "no"
            print(f"{r['name']:<15}{r['size_mb']:>7.1f} MB  {mark:<8} {r['description']}")
        return 0
    if not args.name:
        raise UsageError(f"`smol models {args.action}` needs a model NAME")
    if args.action == "path":
        print(resolve_model(settings.replace(model=args.name)).path)
        return 0
    dest = args.dir or settings.paths.models_dir
    path = pull_model(args.name, dest, log=lambda m: print(f"smol: {m}", file=sys.stderr))
    print(path)
    return 0


def cmd_adapters(args: argparse.Namespace) -> int:
    from smol_tools.config import load_settings
    from smol_tools.engine.adapters import list_adapters, user_adapters_dir

    settings = load_settings()
    adapters = list_adapters(settings)
    if args.json:
        print(json.dumps([a.as_dict() for a in adapters], ensure_ascii=False, indent=2))
        return 0
    if not adapters:
        print(
            "no adapters yet: put NAME.gguf (a GGUF LoRA adapter, with NAME.json naming its"
            f" tool) in {user_adapters_dir(settings)}"
        )
        return 0
    wide = max(20, *(len(a.name) + 2 for a in adapters))
    print(f"{'NAME':<{wide}}{'TOOL':<11}{'SIZE':>9}  {'BASE MODEL':<24} PATH")
    for a in adapters:
        size = f"{a.size / 1e6:.1f} MB"
        base = a.base_model or "-"
        print(f"{a.name:<{wide}}{a.tool or '-':<11}{size:>9}  {base:<24} {a.path}")
    return 0


HISTORY_ACTIONS = ("list", "search", "show", "export")
EMPTY_HISTORY = "no history yet: runs of summarize, rewrite and agent, and chats, appear here"


def _width() -> int:
    """Line width for listings: the terminal's, or 80 when stdout is not one."""
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((80, 24)).columns)
    return 80


def cmd_history(args: argparse.Namespace) -> int:
    from dataclasses import asdict
    from datetime import datetime

    from smol_tools.config import load_settings
    from smol_tools.store import Store, default_path, one_line, parse_ref

    action, words = args.action, list(args.words)
    if action not in HISTORY_ACTIONS:
        try:
            parse_ref(action)  # `smol history c12` shows c12
        except UsageError:
            raise UsageError(
                f"unknown history action '{action}'",
                hint="use list, search WORDS, show ID or export ID",
            ) from None
        action, words = "show", [action, *words]
    if action == "list" and words:
        raise UsageError(
            "`smol history list` takes no words", hint="search: smol history search WORDS"
        )
    if action == "search" and not " ".join(words).strip():
        raise UsageError("`smol history search` needs WORDS to look for")
    if action in ("show", "export"):
        if len(words) != 1:
            raise UsageError(f"`smol history {action}` needs one ID, such as c12 or r7")
        parse_ref(words[0])  # a bad ID is a usage error before the database is opened
    if args.output and action != "export":
        raise UsageError("-o/--output goes with `smol history export`")

    path = default_path(load_settings())
    if not path.exists():  # nothing logged yet: do not create an empty database to say so
        if action in ("show", "export"):
            raise UsageError(f"no history item {words[0].strip().lower()}")
        if args.json:
            print("[]")
        else:
            print(EMPTY_HISTORY)
        return 0

    def date(ts: float) -> str:
        return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")

    with Store(path) as store:
        if action == "list":
            items = store.history(args.limit)
            if args.json:
                print(json.dumps([asdict(i) for i in items], ensure_ascii=False, indent=2))
            elif not items:
                print(EMPTY_HISTORY)
            for item in items if not args.json else ():
                head = f"{item.ref:<6} {date(item.updated_at)}  {item.tool:<10} "
                print(head + one_line(item.title, _width() - len(head)))
            return 0
        if action == "search":
            query = " ".join(words)
            hits = store.search(query, args.limit)
            if args.json:
                print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
            elif not hits:
                print(f"nothing in the history matches '{query}'")
            for hit in hits if not args.json else ():
                head = f"{hit.ref:<6} {date(hit.created_at)}  "
                print(head + one_line(hit.title, _width() - len(head)))
                print("       " + one_line(hit.snippet, _width() - 7))
            return 0
        ref = words[0].strip().lower()
        if action == "show" and args.json:
            print(json.dumps(store.item(ref), ensure_ascii=False, indent=2))
            return 0
        text = store.export_markdown(ref)
    if action == "export" and args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise SmolError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        print(f"{PROG}: wrote {args.output}", file=sys.stderr)
        return 0
    sys.stdout.write(text)
    return 0


def history_ref(settings: Any, ref: str) -> str:
    """`ref` (r12, c3) normalized, once the history is known to hold it; UsageError (exit 2)
    otherwise, before any UI starts."""
    from smol_tools.store import Store, default_path, parse_ref

    parse_ref(ref)
    ref = ref.strip().lower()
    if not settings.history:
        raise UsageError(f"history is off: there is no {ref} to open", hint="history = true")
    if not default_path(settings).exists():
        raise UsageError(f"no history item {ref}")
    with Store.open(settings) as store:
        store.item(ref)  # MissingItemError (exit 2) when it names nothing
    return ref


def cmd_ui(args: argparse.Namespace) -> int:
    from smol_tools.interfaces.tui import run_app  # says itself when textual is missing

    settings = settings_from(args)
    ref = getattr(args, "open", None)  # `smol ui --open r12` (not `smol chat`)
    if ref is not None:
        return run_app(settings, open_ref=history_ref(settings, ref))
    return run_app(settings)


SERVE_STOP_WAIT_S = 15.0  # `smol serve --stop`: how long the server gets to finish


def _uptime(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def _serve_status(settings: Any, as_json: bool) -> int:
    """`smol serve --status`: exit 0 when a server answers on the socket, 1 when none does."""
    from smol_tools.engine.client import lock_held, read_pid_file, server_status, socket_path

    status = server_status(settings)
    if status is None:
        starting = lock_held(settings)
        record = read_pid_file(settings) if starting else {}
        if as_json:
            print(json.dumps({
                "running": False, "starting": starting, "pid": record.get("pid"),
                "socket": str(socket_path(settings)),
            }))  # fmt: skip
        elif starting:
            print(f"smol serve (pid {record.get('pid', '?')}) is starting or not answering")
        else:
            print("smol serve is not running")
        return 1
    if as_json:
        print(json.dumps({"running": True, **status}))
        return 0
    from smol_tools.engine.server import OWNERS

    who = OWNERS.get(str(status.get("owner")), OWNERS["serve"]) + " is running"
    loaded = "loaded" if status.get("loaded") else "freed while idle; loads on the next request"
    print(f"{who} (pid {status.get('pid')})")
    print(f"  model     {status.get('model')} ({loaded})")
    print(f"  socket    {status.get('socket')}")
    print(f"  http      {status.get('url') or 'off (start with --port N)'}")
    print(f"  uptime    {_uptime(float(status.get('uptime_s') or 0))}")
    print(f"  requests  {status.get('requests', 0)} answered, {status.get('queued', 0)} queued")
    return 0


def _serve_stop(settings: Any) -> int:
    """`smol serve --stop`: SIGTERM to the server that answers on the socket, then wait
    (bounded) until it is gone."""
    import signal
    import time

    from smol_tools.engine.client import lock_held, server_status

    status = server_status(settings)
    if status is None:
        raise SmolError("smol serve is not running")
    pid = int(status.get("pid") or 0)
    if status.get("owner") not in (None, "serve"):
        from smol_tools.engine.server import OWNERS

        who = OWNERS.get(str(status.get("owner")), "another program")
        raise SmolError(f"{who} (pid {pid}) is serving its own model; quit it to stop serving")
    if pid <= 1:
        raise SmolError("smol serve did not say its pid")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        raise SmolError(f"smol serve (pid {pid}) is already gone") from None
    except PermissionError:
        raise SmolError(f"not allowed to stop pid {pid}") from None
    deadline = time.monotonic() + SERVE_STOP_WAIT_S
    while lock_held(settings):  # the lock goes with the process, even while it is a zombie
        if time.monotonic() > deadline:
            raise SmolError(
                f"smol serve (pid {pid}) did not stop within {SERVE_STOP_WAIT_S:g} s",
                hint=f"kill {pid}",
            )
        time.sleep(0.05)
    print(f"{PROG}: stopped smol serve (pid {pid})", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The resident engine in the foreground; SIGTERM, SIGINT (Ctrl-C) or SIGHUP stop it
    cleanly with exit 0: stopping is what a server is for, not an interruption."""
    settings = settings_from(args)
    if args.status and args.stop:
        raise UsageError("--status and --stop do not go together")
    if args.status:
        return _serve_status(settings, args.json)
    if args.json:
        raise UsageError("--json goes with --status")
    if args.stop:
        return _serve_stop(settings)
    if settings.backend == "remote":
        raise UsageError("smol serve runs the model in this process; --remote does not apply")
    from smol_tools.engine.server import loopback_address, run_server

    host = loopback_address(args.host)  # before anything loads: a refused host exits 2 at once
    if args.port is None:
        if args.api_key or args.host != "127.0.0.1":
            raise UsageError("--host and --api-key go with --port N")
    elif not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a TCP port (1-65535; 0 picks a free one)")
    return run_server(settings, port=args.port, host=host, api_key=args.api_key)


def cmd_hotkeys(args: argparse.Namespace) -> int:
    from smol_tools.interfaces.hotkeys.actions import format_table, load_shortcuts, table_json

    settings = settings_from(args)
    if args.list or args.json:
        shortcuts = load_shortcuts(settings)
        print(table_json(shortcuts) if args.json else format_table(shortcuts))
        return 0
    from smol_tools.interfaces.hotkeys import daemon

    return daemon.run(settings, log=not args.no_log, summary_tokens=args.max_tokens or 256)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "summarize": cmd_summarize,
    "rewrite": cmd_rewrite,
    "finetune": cmd_finetune,
    "models": cmd_models,
    "adapters": cmd_adapters,
    "agent": cmd_agent,
    "functions": cmd_functions,
    "history": cmd_history,
    "eval": cmd_eval,
    "ui": cmd_ui,
    "chat": cmd_ui,
    "serve": cmd_serve,
    "hotkeys": cmd_hotkeys,
}


def fail(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv or os.environ.get("SMOL_DEBUG") == "1"
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command or "ui"](args)
    except SmolError as exc:
        if debug:
            traceback.print_exc()
        fail(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stdout.flush()
        fail("interrupted")
        return 130
    except BrokenPipeError:
        # the reader went away (`smol summarize | head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: say so in one line; --debug shows where
        if debug:
            traceback.print_exc()
        fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)")
        return 1
