"""`python -m smol_tools.train.generate summarize|rewrite|agent [--seed N] [--out DIR]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from smol_tools.train.data import DATA_DIR, validate_file
from smol_tools.train.generate import GENERATORS, SEED, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smol_tools.train.generate",
        description="Write a tool's generated train/eval sets (JSONL) and validate them.",
    )
    parser.add_argument("tools", nargs="+", choices=sorted(GENERATORS), metavar="TOOL",
                        help=f"one or more of: {', '.join(sorted(GENERATORS))}")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--out", type=Path, default=DATA_DIR,
                        help="data directory (default: the project's assets/data)")
    args = parser.parse_args(argv)
    status = 0
    for tool in args.tools:
        for path in write(tool, args.out, seed=args.seed).values():
            problems = validate_file(path, tool)
            lines = sum(1 for _ in path.open(encoding="utf-8"))
            print(f"{path}: {lines} items" + (f", {len(problems)} problems" if problems else ""))
            for problem in problems[:20]:
                print(f"  {problem}")
            status = status or (1 if problems else 0)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
