"""Results of `evaluate` as a terminal table, JSON, and a Markdown report with a PNG chart.

Every function takes a list of runs (results of `evaluate` on the same items): one run today
(the base model); base and adapter side by side once adapters exist. matplotlib is imported only
to draw the chart; without it the report says so and has no chart.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smol_tools.train.evaluate import METRICS

Run = dict[str, Any]


def run_name(run: Run) -> str:
    """The column header of a run: its adapter's name, or "base"."""
    return str(run.get("adapter") or "base")


def _cell(value: Any, share: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if share else str(value)


def table_rows(runs: Sequence[Run]) -> list[list[str]]:
    """Header row, then one row per metric: label, n, then each run's value."""
    tool = runs[0]["tool"]
    rows = [["metric", "n", *(run_name(r) for r in runs)]]
    for name, spec in METRICS[tool].items():
        n = runs[0]["metrics"][name]["n"]
        values = [_cell(r["metrics"][name]["value"], spec.share) for r in runs]
        rows.append([spec.title, str(n), *values])
    return rows


def format_table(runs: Sequence[Run]) -> str:
    """A plain-text table for the terminal."""
    rows = table_rows(runs)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [
            row[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)),
        ]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def markdown_table(runs: Sequence[Run]) -> str:
    rows = table_rows(runs)
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" + "---:|" * (len(rows[0]) - 1)]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out)


def write_json(runs: Sequence[Run], path: Path) -> Path:
    """{"runs": [...]}, base first (one run or several: the same shape). Parent folders are
    made."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data: Any = {"runs": list(runs)}
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_chart(runs: Sequence[Run], path: Path) -> Path | None:
    """A horizontal bar chart of the share metrics, one bar per run; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    specs = {n: s for n, s in METRICS[runs[0]["tool"]].items() if s.share}
    names = list(specs)
    height = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(names) * len(runs) + 1.6))
    for k, run in enumerate(runs):
        values = [run["metrics"][n]["value"] for n in names]
        ys = [i + k * height for i in range(len(names))]
        bars = ax.barh(ys, [(v or 0.0) * 100 for v in values], height=height, label=run_name(run))
        labels = ["n/a" if v is None else f"{v:.0%}" for v in values]  # n/a: no item applies
        ax.bar_label(bars, labels=labels, padding=2, fontsize=8)
    ax.set_yticks([i + height * (len(runs) - 1) / 2 for i in range(len(names))])
    ax.set_yticklabels([specs[n].title for n in names])
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.xaxis.set_major_formatter("{x:.0f}%")
    first = runs[0]
    fig.suptitle(f"smol eval {first['tool']}: {first['model']}, {first['n']} items", fontsize=11)
    fig.subplots_adjust(top=0.85)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(runs), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _quote(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return (text[: limit - 1] + "…" if len(text) > limit else text).replace("|", "\\|")


def write_markdown(runs: Sequence[Run], path: Path) -> Path:
    """The report: settings, the table, the chart (or why there is none), each item's output."""
    first = runs[0]
    chart = write_chart(runs, path.with_suffix(".png"))
    lines = [
        f"# smol eval {first['tool']}",
        "",
        f"Model `{first['model']}`, {first['n']} items, temperature {first['temperature']}, "
        + ", ".join(f"{run_name(r)}: {r['seconds']} s" for r in runs)
        + ".",
        "",
        markdown_table(runs),
        "",
        f"![{first['tool']} metrics]({chart.name})"
        if chart
        else "No chart: matplotlib is not installed (`pip install matplotlib`).",
        "",
        "## Outputs",
        "",
    ]
    for i, item in enumerate(first["items"]):
        lines.append(f"{i + 1}. *{item['kind']}*")
        for run in runs:
            lines.append(f"   - {run_name(run)}: {_quote(run['items'][i]['output'])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
