"""Time from an inbound message to its conversation showing in an open console inbox.

`whatsapp-ai run` (seeded demo tenant, SQLite, offline assistant) serves on 127.0.0.1; Debian's
Chromium, driven by Playwright, keeps the inbox's "open" view on screen. Each message comes from
a new WhatsApp number through the sandbox channel's API (the same store-and-enqueue path as the
Twilio webhook), and the clock stops when the new row is visible in the page: the event stream,
the refresh it triggers and the render, with nothing reloaded. Goal: p95 under 1 s. A new
conversation is stored by the worker's turn, which first waits out the burst window
(`CONVERSATION__BURST_WINDOW_MS`, 1.2 s) for more messages; `--burst-window-ms 0` shows the
console's own share. Prints
p50/p95/p99 and writes bench/results/console_live-<UTC>.json.

    .venv/bin/python bench/console_live.py [--n 40]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import quantiles

import httpx
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "whatsapp-ai")
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
EMAIL, PASSWORD = "bench@lojademo.com.br", "bench-password-1"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pct(values: list[float], q: int) -> float:
    return round(quantiles(values, n=100, method="inclusive")[q - 1], 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument(
        "--burst-window-ms",
        type=int,
        default=None,
        help="the platform's burst window (default: the platform's own)",
    )
    given = parser.parse_args()
    n = given.n
    work = Path(tempfile.mkdtemp(prefix="console-live-"))
    env = {
        **os.environ,
        "WHATSAPP_AI_DATABASE__URL": f"sqlite+aiosqlite:///{work}/bench.db",
        "WHATSAPP_AI_APP__DATA_DIR": str(work / "data"),
        "WHATSAPP_AI_LOG__LEVEL": "WARNING",
        "WHATSAPP_AI_QUEUE__POLL_INTERVAL_S": "0.05",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
        ),
    }
    if given.burst_window_ms is not None:
        env["WHATSAPP_AI_CONVERSATION__BURST_WINDOW_MS"] = str(given.burst_window_ms)
    for args, stdin in (
        (["migrate"], None),
        (["seed"], None),
        (
            [
                "users",
                "create",
                "--email",
                EMAIL,
                "--name",
                "Bench",
                "--role",
                "operator",
                "--tenant",
                "demo",
                "--password-stdin",
            ],
            PASSWORD + "\n",
        ),
    ):
        subprocess.run(
            [CLI, *args],
            env=env,
            cwd=work,
            input=stdin,
            text=True,
            check=True,
            capture_output=True,
            timeout=120,
        )
    url = f"http://127.0.0.1:{_port()}"
    server = subprocess.Popen(
        [CLI, "run", "--port", url.rsplit(":", 1)[1]],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        key = (work / "data" / "demo-api-key").read_text().strip()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(locale="en-US")
            page.goto(f"{url}/console/login")
            page.get_by_label("E-mail").fill(EMAIL)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.locator("body[data-live=on]")).to_have_count(1, timeout=10_000)
            took: list[float] = []
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as api:
                for i in range(n):
                    sender = f"+55119{80000000 + i}"
                    started = time.perf_counter()
                    sent = api.post(
                        "/channels/sandbox/messages",
                        json={"sender": sender, "text": f"oi, mensagem {i}"},
                    )
                    sent.raise_for_status()
                    page.locator(f"li.row:has-text('{sender}')").wait_for(timeout=10_000)
                    took.append((time.perf_counter() - started) * 1000)
                    page.wait_for_timeout(300)  # let the turn's own events settle
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "when": datetime.now(UTC).isoformat(),
        "n": n,
        "unit": "ms",
        "p50": _pct(took, 50),
        "p95": _pct(took, 95),
        "p99": _pct(took, 99),
        "max": round(max(took), 1),
        "goal_p95": 1000,
        "burst_window_ms": given.burst_window_ms,
    }
    print(
        f"message → visible in an open inbox, n={n}: p50 {result['p50']} ms, "
        f"p95 {result['p95']} ms, p99 {result['p99']} ms, max {result['max']} ms"
    )
    out = ROOT / "bench" / "results" / f"console_live-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
