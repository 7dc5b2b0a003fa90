"""What the burst window costs in reply time, against window 0 in the same run.

A contact sends one message, or a burst of three ("oi" / "gastei 50 no mercado" / "e 30 de
uber", 400 ms apart); a real worker loop (production poll interval) answers with the offline
assistant. For each window the table shows how many replies a burst gets and the time from the
last message's arrival to the last reply's delivery (sandbox outbox), median and 95th percentile.

    .venv/bin/python bench/bursts.py [--trials 10] [--window-ms 1200] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.channels.models import InboundEvent, SandboxOutbox
from whatsapp_ai.core.config import LogSettings, Settings
from whatsapp_ai.core.logging import configure_logging
from whatsapp_ai.core.migrate import upgrade
from whatsapp_ai.identity import service as identity

RESULTS = Path(__file__).parent / "results"
SCENARIOS = {
    "single": ["gastei 50 no mercado"],
    "burst of 3": ["oi", "gastei 50 no mercado", "e 30 de uber"],
}
GAP_S = 0.4


def _settings(url: str, data_dir: Path, window_ms: int) -> Settings:
    return Settings.model_validate(
        {
            "app": {"env": "test", "data_dir": str(data_dir)},
            "log": {"level": "WARNING"},
            "database": {"url": url},
            "conversation": {"burst_window_ms": window_ms},
        }
    )


async def _idle(container: Container, sender: str, want: int) -> None:
    """Until every message of ``sender`` is answered and the queue is empty."""
    while True:
        async with container.db.read() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(InboundEvent)
                .where(InboundEvent.sender == sender, InboundEvent.status == "pending")
            )
        stats = await container.queue.stats()
        if pending == 0 and stats.by_status["queued"] + stats.by_status["running"] == 0:
            sent = await _sent(container, sender)
            if len(sent) >= want:
                return
        await asyncio.sleep(0.02)


async def _sent(container: Container, sender: str) -> list[SandboxOutbox]:
    async with container.db.read() as session:
        rows = await session.scalars(select(SandboxOutbox).where(SandboxOutbox.recipient == sender))
        return list(rows)


async def _trial(
    container: Container, client: httpx.AsyncClient, key: str, sender: str, texts: list[str]
) -> tuple[int, float]:
    """One burst: (replies it got, ms from the last message's arrival to the last reply)."""
    for n, text in enumerate(texts):
        if n:
            await asyncio.sleep(GAP_S)
        response = await client.post(
            "/channels/sandbox/messages",
            json={"from": sender, "text": text, "id": f"b{sender.lstrip('+')}-{n}"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 202, response.text
    await _idle(container, sender, want=1)
    async with container.db.read() as session:
        last_in = await session.scalar(
            select(func.max(InboundEvent.received_at)).where(InboundEvent.sender == sender)
        )
    sent = await _sent(container, sender)
    assert last_in is not None
    last_out = max(row.created_at for row in sent)
    return len(sent), (last_out - last_in).total_seconds() * 1000


async def _one(url: str, data_dir: Path, window_ms: int, trials: int) -> dict[str, Any]:
    container = bootstrap(_settings(url, data_dir, window_ms))
    await upgrade(container.db)
    async with container.db.transaction() as session:
        tenant = await identity.create_tenant(
            session, name="Bench", slug=f"bench-{window_ms}", now=container.clock.now()
        )
        _k, key = await identity.create_api_key(
            session, tenant_id=tenant.id, name="bench", now=container.clock.now()
        )
    worker = container.worker()
    running = asyncio.create_task(worker.run())
    out: dict[str, Any] = {}
    try:
        transport = httpx.ASGITransport(app=create_app(container))
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
            # Warm the encoder, the planner and the tables on every scenario before timing.
            for number, texts in enumerate(SCENARIOS.values()):
                await _trial(container, client, key, f"+5511800000{number:03d}", texts)
            for number, (scenario, texts) in enumerate(SCENARIOS.items()):
                replies: list[int] = []
                latencies: list[float] = []
                for trial in range(trials):
                    sender = f"+55119{window_ms % 10000:04d}{number}{trial:03d}"  # +55 11 9...
                    got, ms = await _trial(container, client, key, sender, texts)
                    replies.append(got)
                    latencies.append(ms)
                latencies.sort()
                out[scenario] = {
                    "replies_per_burst": statistics.mean(replies),
                    "p50_ms": statistics.median(latencies),
                    "p95_ms": latencies[max(0, round(0.95 * len(latencies)) - 1)],
                    "latencies_ms": [round(v, 1) for v in latencies],
                }
    finally:
        worker.stop()
        await running
        await container.close()
    return out


async def _backend(url: str, tmp: Path, windows: list[int], trials: int) -> dict[str, Any]:
    return {
        str(window): await _one(url, tmp / f"data-{window}", window, trials) for window in windows
    }


def _print(results: dict[str, dict[str, Any]], windows: list[int]) -> None:
    print(
        f"{'backend':<9} {'scenario':<11} {'window ms':>9} {'replies':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p50 added':>10}"
    )
    for backend, by_window in results.items():
        for scenario in SCENARIOS:
            base = by_window[str(windows[0])][scenario]["p50_ms"]
            for window in windows:
                row = by_window[str(window)][scenario]
                print(
                    f"{backend:<9} {scenario:<11} {window:>9} {row['replies_per_burst']:>8.1f} "
                    f"{row['p50_ms']:>8.0f} {row['p95_ms']:>8.0f} {row['p50_ms'] - base:>10.0f}"
                )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--window-ms", type=int, default=Settings().conversation.burst_window_ms)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    configure_logging(LogSettings(level="WARNING"), "test")
    windows = [0, args.window_ms]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        results["sqlite"] = await _backend(
            f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}", tmp_path, windows, args.trials
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
                results["postgres"] = await _backend(uri, tmp_path, windows, args.trials)
            finally:
                server.cleanup()
    _print(results, windows)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"bursts-{stamp}.json"
    settings = Settings()
    out.write_text(
        json.dumps(
            {
                "at": stamp,
                "trials": args.trials,
                "gap_s": GAP_S,
                "windows_ms": windows,
                "poll_interval_s": settings.queue.poll_interval_s,
                "burst_max_wait_ms": settings.conversation.burst_max_wait_ms,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written {out}")


if __name__ == "__main__":
    asyncio.run(main())
