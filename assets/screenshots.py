"""The README's screenshots, from real sessions on the bundled model: `make screenshots`.

Writes assets/chat.svg (a conversation in the chat, sidebar open) and assets/agent.svg (the
agent after a request that calls a function). The history goes to a throwaway folder.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ASSETS = Path(__file__).resolve().parent
SIZE = (110, 32)


async def wait_for(pilot: Any, condition: Any, timeout: float = 120.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.05)


async def type_and_wait(pilot: Any, field: str, text: str) -> None:
    app = pilot.app
    await pilot.click(field)
    await pilot.press(*text, "enter")
    await pilot.pause(0.3)
    await wait_for(pilot, lambda: not app.active_runs)
    await pilot.pause(0.5)


async def chat(app: Any) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: str(app.status).endswith("ready"))
        await type_and_wait(pilot, "#prompt", "What is a good name for a small grey cat?")
        await type_and_wait(pilot, "#prompt", "Give me three more, as a list.")
        await wait_for(pilot, lambda: app.screen.query_one("#sidebar").option_count > 1, 60)
        app.screen.set_focus(None)
        await pilot.pause(0.5)
        app.save_screenshot("chat.svg", str(ASSETS))


async def agent(app: Any) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: str(app.status).endswith("ready"))
        await app.switch_mode("agent")
        await type_and_wait(pilot, "#agent-request", "what is 15% of 80")
        await type_and_wait(pilot, "#agent-request", "convert 5 km to miles")
        app.screen.set_focus(None)
        await pilot.pause(0.5)
        app.save_screenshot("agent.svg", str(ASSETS))


def main() -> int:
    os.environ["SMOL_TOOLS_HOME"] = tempfile.mkdtemp(prefix="smol-shots-")
    from smol_tools.config import load_settings
    from smol_tools.interfaces.tui.app import SmolApp

    settings = load_settings()
    for scene in (chat, agent):
        asyncio.run(scene(SmolApp(settings)))
        print(f"wrote {ASSETS / (scene.__name__ + '.svg')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
