"""The rewriter: the same text in another style (professional, friendly, concise, ...)."""

from __future__ import annotations

from collections.abc import Generator

from smol_tools.engine.base import Engine
from smol_tools.errors import UsageError
from smol_tools.prompts import load_prompts
from smol_tools.tools.run import ToolRun
from smol_tools.tools.summarize import input_budget
from smol_tools.tools.text import check_input, split_text


def styles() -> dict[str, str]:
    """Style name -> one-line description."""
    return {name: s["description"] for name, s in load_prompts("rewrite")["styles"].items()}


def rewrite(engine: Engine, text: str, style: str, *, max_tokens: int = 512) -> ToolRun:
    """Stream `text` rewritten in `style`. Long text is rewritten part by part."""
    p = load_prompts("rewrite")
    if style not in p["styles"]:
        raise UsageError(f"unknown style '{style}'", hint=f"styles: {', '.join(p['styles'])}")
    text = check_input(text)
    instruction = p["styles"][style]["instruction"]

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
