"""Queue and pipeline throughput against a same-run baseline, on SQLite and PostgreSQL.

Baseline: single-row INSERT transactions into a scratch table (the floor cost of one durable
write on that database). Each measured step is reported as operations/s and as a ratio to the
baseline, so noisy machines still give comparable numbers.

    .venv/bin/python bench/throughput.py [--n 2000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.config import LogSettings, Settings
from whatsapp_ai.core.logging import configure_logging
from whatsapp_ai.core.migrate import upgrade
from whatsapp_ai.core.queue.worker import Worker
from whatsapp_ai.identity import service as identity

RESULTS = Path(__file__).parent / "results"


def _settings(url: str, data_dir: Path) -> Settings:
    return Settings.model_validate(
        {
            "app": {"env": "test", "data_dir": str(data_dir)},
            "log": {"level": "WARNING"},
            "database": {"url": url},
            "queue": {"concurrency": 8, "poll_interval_s": 0.01},
        }
    )


async def _timed(n: int, run: Any) -> float:
    started = time.perf_counter()
    await run()
    return n / (time.perf_counter() - started)


async def _baseline(container: Container, n: int) -> float:
    async with container.db.transaction() as session:
        await session.execute(text("CREATE TABLE bench_scratch (id VARCHAR(26) PRIMARY KEY)"))

    async def run() -> None:
        for i in range(n):
            async with container.db.transaction() as session:
                await session.execute(
                    text("INSERT INTO bench_scratch (id) VALUES (:id)"), {"id": f"{i:026d}"}
                )

    return await _timed(n, run)


async def _enqueue(container: Container, n: int) -> float:
    async def run() -> None:
        for i in range(n):
            async with container.db.transaction() as session:
                await container.queue.enqueue(session, "bench.noop", {"i": i})

    return await _timed(n, run)


async def _drain(container: Container, n: int) -> float:
    done = asyncio.Event()
    seen = 0

    async def noop(_payload: dict[str, Any], _job: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == n:
            done.set()

    worker = Worker(
        container.queue,
        {"bench.noop": noop},
        container.metrics,
        concurrency=8,
        poll_interval_s=0.01,
        heartbeat_s=20,
        shutdown_timeout_s=5,
    )

    async def run() -> None:
        task = asyncio.create_task(worker.run())
        await done.wait()
        worker.stop()
        await task

    return await _timed(n, run)


async def _messages(container: Container, n: int) -> tuple[float, float]:
    async with container.db.transaction() as session:
        tenant = await identity.create_tenant(
            session, name="Bench", slug="bench", now=container.clock.now()
        )
        _key, secret = await identity.create_api_key(
            session, tenant_id=tenant.id, name="bench", now=container.clock.now()
        )
    transport = httpx.ASGITransport(app=create_app(container))
    headers = {"Authorization": f"Bearer {secret}"}

    async def ingest() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
            for i in range(n):
                response = await client.post(
                    "/channels/sandbox/messages",
                    json={"from": f"+55119{i % 50:08d}", "text": f"oi {i}", "id": f"b-{i}"},
                    headers=headers,
                )
                assert response.status_code == 202

    async def answer() -> None:
        worker = container.worker()
        task = asyncio.create_task(worker.run())
        while True:
            stats = await container.queue.stats()
            if stats.by_status["queued"] == 0 and stats.by_status["running"] == 0:
                break
            await asyncio.sleep(0.05)
        worker.stop()
        await task

    return await _timed(n, ingest), await _timed(n, answer)


async def _one_backend(name: str, url: str, n: int, data_dir: Path) -> dict[str, float]:
    container = bootstrap(_settings(url, data_dir))
    await upgrade(container.db)
    try:
        baseline = await _baseline(container, n)
        enqueue = await _enqueue(container, n)
        drain = await _drain(container, n)
        ingest, answer = await _messages(container, max(100, n // 4))
    finally:
        await container.close()
    return {
        "baseline_insert_tx_per_s": baseline,
        "enqueue_per_s": enqueue,
        "worker_noop_jobs_per_s": drain,
        "sandbox_ingest_per_s": ingest,
        "messages_answered_per_s": answer,
    }


def _print(results: dict[str, dict[str, float]]) -> None:
    print(f"{'backend':<10} {'step':<28} {'ops/s':>10} {'x baseline':>11}")
    for backend, steps in results.items():
        base = steps["baseline_insert_tx_per_s"]
        for step, value in steps.items():
            print(f"{backend:<10} {step:<28} {value:>10.0f} {value / base:>11.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    configure_logging(LogSettings(level="WARNING"), "test")
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        results["sqlite"] = await _one_backend(
            "sqlite", f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}", args.n, tmp_path
        )
        if not args.no_postgres:
            import pgserver

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = pgserver.get_server(tmp_path / "pg", cleanup_mode="delete")
            uri = server.get_uri().replace(
                "postgresql://postgres:@/", "postgresql+asyncpg://postgres@/"
            )
            try:
                results["postgres"] = await _one_backend("postgres", uri, args.n, tmp_path)
            finally:
                server.cleanup()
    _print(results)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"throughput-{stamp}.json"
    out.write_text(json.dumps({"n": args.n, "at": stamp, "results": results}, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    asyncio.run(main())
