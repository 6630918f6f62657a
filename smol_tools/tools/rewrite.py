"""The rewriter: the same text in another style (professional, friendly, concise, ...)."""

from __future__ import annotations

from collections.abc import Generator, Mapping

from smol_tools.engine.base import Engine
from smol_tools.errors import UsageError
from smol_tools.prompts import load_prompts
from smol_tools.tools.run import ToolRun
from smol_tools.tools.summarize import input_budget
from smol_tools.tools.text import check_input, split_text

Styles = Mapping[str, Mapping[str, str]]  # name -> {"description": ..., "instruction": ...}


def style_table(extra: Styles | None = None) -> dict[str, Mapping[str, str]]:
    """The built-in styles, then the user's own (`settings.styles`; a user style of the same
    name replaces the built-in one)."""
    table: dict[str, Mapping[str, str]] = dict(load_prompts("rewrite")["styles"])
    for name, spec in (extra or {}).items():
        table[name] = {
            "instruction": spec["instruction"],
            "description": spec.get("description") or spec["instruction"],
        }
    return table


def styles(extra: Styles | None = None) -> dict[str, str]:
    """Style name -> one-line description (with `extra`: the user's styles too)."""
    return {name: s["description"] for name, s in style_table(extra).items()}


def rewrite(
    engine: Engine,
    text: str,
    style: str,
    *,
    max_tokens: int = 512,
    extra_styles: Styles | None = None,
) -> ToolRun:
    """Stream `text` rewritten in `style`. Long text is rewritten part by part.

    Args:
        extra_styles: the user's own styles (`settings.styles`), usable by name.
    """
    p = load_prompts("rewrite")
    table = style_table(extra_styles)
    if style not in table:
        raise UsageError(f"unknown style '{style}'", hint=f"styles: {', '.join(table)}")
    text = check_input(text)
    instruction = table[style]["instruction"]

    def body(run: ToolRun) -> Generator[str, None, None]:
        prompt = p["user"].format(instruction=instruction, text="")
        # The answer is about as long as the input: give each part half the room.
        budget = min(max_tokens, input_budget(engine, prompt, p["system"], 0) // 2)
        for i, part in enumerate(split_text(text, engine.count_tokens, budget)):
            if run.cancelled:
                return
            if i:
                yield "\n\n"
            user = p["user"].format(instruction=instruction, text=part)
            messages = [
                {"role": "system", "content": p["system"]},
                {"role": "user", "content": user},
            ]
            yield from run.stream(messages, max_tokens=max_tokens, stop=p["stop"])

    return ToolRun(engine, body)
