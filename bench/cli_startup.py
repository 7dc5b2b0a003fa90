"""How fast `whatsapp-ai` starts, against a Python that only imports typer and httpx.

Each command runs N times (round-robin, after one warm-up each, so a slow moment of the machine
hits every command alike) as a fresh process: the baseline `python -c "import typer, httpx"`,
`whatsapp-ai --help`, `whatsapp-ai chat --help`, and, for scale, importing the application
(`whatsapp_ai.app` and `whatsapp_ai.bootstrap`, what `run` and `serve` load). The sources are this
checkout's. Prints median, p90 and the median's ratio to the baseline, and writes JSON to
bench/results/.

    .venv/bin/python bench/cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
BIN = Path(sys.executable).parent
CLI = str(BIN / "whatsapp-ai")
COMMANDS: dict[str, list[str]] = {
    "baseline": [sys.executable, "-c", "import typer, httpx"],
    "help": [CLI, "--help"],
    "chat_help": [CLI, "chat", "--help"],
    "app_import": [sys.executable, "-c", "import whatsapp_ai.app, whatsapp_ai.bootstrap"],
}
SHOWN = {
    "baseline": 'python -c "import typer, httpx"',
    "help": "whatsapp-ai --help",
    "chat_help": "whatsapp-ai chat --help",
    "app_import": "import whatsapp_ai.app, .bootstrap",
}


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "100"}


def _once(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def _measure(runs: int) -> dict[str, list[float]]:
    env = _env()
    for command in COMMANDS.values():
        _once(command, env)  # warm-up: file system cache and bytecode
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            times[name].append(_once(command, env))
    return times


def _summary(times: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    base = statistics.median(times["baseline"])
    rows = {}
    for name, values in times.items():
        ordered = sorted(values)
        median = statistics.median(ordered)
        rows[name] = {
            "command": SHOWN[name],
            "median_ms": median * 1000,
            "p90_ms": ordered[math.ceil(0.9 * len(ordered)) - 1] * 1000,
            "min_ms": ordered[0] * 1000,
            "ratio": median / base,
            "runs_ms": [v * 1000 for v in values],
        }
    return rows


def _print(rows: dict[str, dict[str, Any]]) -> None:
    print(f"{'command':<38}{'median ms':>10}{'p90 ms':>9}{'x baseline':>12}")
    for row in rows.values():
        print(
            f"{row['command']:<38}{row['median_ms']:>10.0f}{row['p90_ms']:>9.0f}"
            f"{row['ratio']:>12.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rows = _summary(_measure(args.runs))
    _print(rows)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"cli_startup-{stamp}.json"
    out.write_text(json.dumps({"runs": args.runs, "at": stamp, "results": rows}, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    main()
