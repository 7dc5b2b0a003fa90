"""Twilio webhook throughput and latency against a FastAPI hello-world, same uvicorn settings.

For each database (SQLite, then PostgreSQL) it starts `whatsapp-ai serve` (API only, so the
numbers are the webhook's: store + enqueue + empty TwiML) and a hello-world FastAPI app, both
under uvicorn with one worker, then drives each with 1, 16 and 64 concurrent clients sending
signed WhatsApp webhooks (unique MessageSid each) or plain POSTs. Prints a table and writes JSON
to bench/results/.

    .venv/bin/python bench/webhook.py [--requests 1500] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
BIN = Path(sys.executable).parent
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
NUMBER = "+14155238886"
PUBLIC = "https://hooks.bench.example"
LEVELS = (1, 16, 64)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def _signed_forms(count: int) -> list[tuple[bytes, str]]:
    validator = RequestValidator(AUTH_TOKEN)
    forms = []
    for index in range(count):
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": ACCOUNT_SID,
            "From": f"whatsapp:+55119{index % 500:08d}",
            "To": f"whatsapp:{NUMBER}",
            "Body": f"oi, mensagem {index}",
            "NumMedia": "0",
            "ProfileName": "Cliente",
            "WaId": f"55119{index % 500:08d}",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        signature = validator.compute_signature(f"{PUBLIC}/channels/twilio/whatsapp", params)
        forms.append((urlencode(params).encode(), signature))
    return forms


async def _drive(url: str, concurrency: int, bodies: list[tuple[bytes, str]]) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=concurrency)

    async with aiohttp.ClientSession(connector=connector) as session:

        async def client() -> None:
            nonlocal errors
            while not queue.empty():
                body, signature = queue.get_nowait()
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": signature,
                }
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }


def _platform(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    subprocess.run([str(BIN / "whatsapp-ai"), "seed"], env=env, cwd=cwd, check=True)
    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN / "whatsapp-ai"), "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(f"{url}/healthz", proc)
    return proc, url


def _hello() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "bench.hello_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--no-proxy-headers",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(f"{url}/hello", proc)
    return proc, url


async def _one_database(name: str, db_url: str, tmp: Path, n: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "WHATSAPP_AI_DATABASE__URL": db_url,
        "WHATSAPP_AI_APP__DATA_DIR": str(tmp / f"data-{name}"),
        "WHATSAPP_AI_LOG__LEVEL": "WARNING",
        "WHATSAPP_AI_TWILIO__PUBLIC_BASE_URL": PUBLIC,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_NUMBER": NUMBER,
    }
    platform, platform_url = _platform(env, tmp)
    hello, hello_url = _hello()
    rows: dict[str, Any] = {}
    try:
        for level in LEVELS:
            await _drive(f"{hello_url}/hello", level, _signed_forms(100))  # warm-up
            await _drive(f"{platform_url}/channels/twilio/whatsapp", level, _signed_forms(100))
            base = await _drive(f"{hello_url}/hello", level, _signed_forms(n))
            hook = await _drive(f"{platform_url}/channels/twilio/whatsapp", level, _signed_forms(n))
            rows[str(level)] = {"hello": base, "webhook": hook, "ratio": hook["rps"] / base["rps"]}
    finally:
        for proc in (platform, hello):
            proc.terminate()
            proc.wait(timeout=20)
    return rows


def _print(results: dict[str, Any]) -> None:
    header = f"{'db':<9}{'clients':>8}{'hello rps':>11}{'hook rps':>10}{'ratio':>7}"
    print(header + f"{'hello p50/p99 ms':>19}{'hook p50/p99 ms':>18}{'errors':>8}")
    for database, levels in results.items():
        for level, row in levels.items():
            hello, hook = row["hello"], row["webhook"]
            print(
                f"{database:<9}{level:>8}{hello['rps']:>11.0f}{hook['rps']:>10.0f}"
                f"{row['ratio']:>7.2f}"
                f"{hello['p50_ms']:>10.1f}/{hello['p99_ms']:<8.1f}"
                f"{hook['p50_ms']:>9.1f}/{hook['p99_ms']:<8.1f}{hook['errors']:>6}"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        results["sqlite"] = await _one_database(
            "sqlite", f"sqlite+aiosqlite:///{tmp / 'bench.db'}", tmp, args.requests
        )
        if not args.no_postgres:
            import pgserver

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = pgserver.get_server(tmp / "pg", cleanup_mode="delete")
            uri = server.get_uri().replace("postgresql://", "postgresql+asyncpg://", 1)
            uri = uri.replace("postgres:@/", "postgres@/", 1)
            try:
                results["postgres"] = await _one_database("postgres", uri, tmp, args.requests)
            finally:
                server.cleanup()
    _print(results)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"webhook-{stamp}.json"
    out.write_text(
        json.dumps({"requests": args.requests, "at": stamp, "results": results}, indent=2)
    )
    print(f"written {out}")


if __name__ == "__main__":
    asyncio.run(main())
