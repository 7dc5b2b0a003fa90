"""Server-side reply time: from the Twilio webhook's receipt to the reply handed to the channel.

The platform runs in this process on embedded defaults (SQLite, the offline assistant, the
SQL queue and its worker), served by uvicorn on 127.0.0.1; a fake Twilio REST API (the tests'
own, in a thread) takes the outbound messages. Realistic Portuguese messages (finance,
reminders, questions, small talk) are posted as signed WhatsApp webhooks over real HTTP, one at
a time and then 8 at a time (each client waits for its reply before sending the next); the two
platforms below take turns every 25 messages.

Per message: the inbound event's stored ``received_at`` to the moment the worker calls the
channel's ``send`` with the reply. Baseline, in the same run: the same path with an assistant
that only echoes the text. Prints p50/p95/p99 per level and the ratio to the baseline, and
writes bench/results/reply_time-<UTC>.json.

    .venv/bin/python bench/reply_time.py [--n 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from whatsapp_ai.ai.service import Reply, ReplyStep, TurnInput
from whatsapp_ai.app import create_app
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.channels.models import InboundEvent
from whatsapp_ai.channels.service import AttachmentResult, Channel, Outbound, SendResult
from whatsapp_ai.channels.twilio import accounts as twilio_accounts
from whatsapp_ai.core.config import LogSettings, Settings
from whatsapp_ai.core.db import system_scope
from whatsapp_ai.core.logging import configure_logging
from whatsapp_ai.core.migrate import upgrade
from whatsapp_ai.core.queue.worker import Worker
from whatsapp_ai.identity import service as identity

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' fake Twilio server

from tests.fakes.twilio import FakeTwilio  # noqa: E402

RESULTS = Path(__file__).parent / "results"
PUBLIC = "https://hooks.bench.example"
NUMBER = "+14155238886"
LEVELS = (1, 8)
# Messages each platform answers before the other takes its turn.
CHUNK = 25
CONTACTS = 64
REPLY_TIMEOUT_S = 60.0
# What people write to a personal assistant on WhatsApp; {n} varies amounts and names.
MESSAGES = (
    "gastei {n},90 no mercado hoje",
    "paguei {n} reais de luz",
    "recebi 2.{n}00 de salário",
    "almoço 3{n} reais",
    "quanto gastei esse mês?",
    "qual meu saldo?",
    "me lembra de pagar o aluguel dia 10",
    "me lembra de ligar pro João amanhã às {h}h",
    "quais são meus lembretes?",
    "o que eu tenho pra amanhã?",
    "oi, tudo bem?",
    "bom dia!",
    "obrigado!",
    "você consegue me ajudar com as minhas contas?",
)


def _message(index: int) -> str:
    return MESSAGES[index % len(MESSAGES)].format(n=10 + index % 80, h=8 + index % 10)


@dataclass
class Echo:
    """The baseline assistant: answers with the text it got."""

    async def reply(self, turn: TurnInput) -> Reply:
        return Reply(text=f"eco: {turn.text}", model="echo", language="pt")


@dataclass
class Handed:
    """The channel as the worker sees it, noting when each reply is handed to it."""

    inner: Channel
    name: str = "twilio"
    at: dict[str, datetime] = field(default_factory=dict)
    waiters: dict[str, asyncio.Event] = field(default_factory=dict)

    async def send(self, message: Outbound) -> SendResult:
        key = message.reply_to_external_id or ""
        self.at.setdefault(key, datetime.now(UTC))
        self.waiters.setdefault(key, asyncio.Event()).set()
        return await self.inner.send(message)

    async def attachments(
        self, *, tenant_id: str, event_id: str, payload: dict[str, Any]
    ) -> list[AttachmentResult]:
        return await self.inner.attachments(tenant_id=tenant_id, event_id=event_id, payload=payload)

    async def typing(self, *, tenant_id: str, external_id: str) -> None:
        await self.inner.typing(tenant_id=tenant_id, external_id=external_id)

    async def wait(self, key: str) -> bool:
        try:
            await asyncio.wait_for(
                self.waiters.setdefault(key, asyncio.Event()).wait(), REPLY_TIMEOUT_S
            )
        except TimeoutError:
            return False
        return True


def _settings(data_dir: Path, api_base: str) -> Settings:
    return Settings.model_validate(
        {
            "app": {"env": "test", "data_dir": str(data_dir)},
            "log": {"level": "WARNING"},
            "database": {"url": f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"},
            "queue": {"concurrency": 8, "poll_interval_s": 0.01},
            # The turn's own time: the burst window's deliberate wait is measured apart
            # (bench/bursts.py) and added to this figure in the README.
            "conversation": {"burst_window_ms": 0},
            # Sending is measured up to the hand-off; the account's send rate would only
            # queue the fake's deliveries.
            "twilio": {"public_base_url": PUBLIC, "api_base": api_base, "send_rate_per_s": 1000},
        }
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _connect(container: Container, account_sid: str, token: str) -> None:
    now = container.clock.now()
    with system_scope():
        async with container.db.transaction() as session:
            tenant = await identity.create_tenant(session, name="Bench", slug="bench", now=now)
            await twilio_accounts.upsert_account(
                session,
                container.box,
                tenant_id=tenant.id,
                account_sid=account_sid,
                auth_token=token,
                whatsapp_number=NUMBER,
                now=now,
            )


def _form(account_sid: str, token: str, index: int, sid: str) -> tuple[bytes, dict[str, str]]:
    contact = f"55119{index % CONTACTS:08d}"
    params = {
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": f"whatsapp:+{contact}",
        "To": f"whatsapp:{NUMBER}",
        "Body": _message(index),
        "NumMedia": "0",
        "ProfileName": f"Cliente {index % CONTACTS}",
        "WaId": contact,
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(token).compute_signature(
        f"{PUBLIC}/channels/twilio/whatsapp", params
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return urlencode(params).encode(), headers


async def _level(
    url: str, handed: Handed, account_sid: str, token: str, n: int, concurrency: int, first: int
) -> tuple[list[str], int]:
    """Send ``n`` messages with ``concurrency`` clients, each waiting for its reply."""
    sids: list[str] = []
    missing = 0
    next_index = first

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal next_index, missing
        while next_index < first + n:
            index = next_index
            next_index += 1
            sid = "SM" + uuid.uuid4().hex
            body, headers = _form(account_sid, token, index, sid)
            response = await http.post(
                f"{url}/channels/twilio/whatsapp", content=body, headers=headers
            )
            response.raise_for_status()
            sids.append(sid)
            if not await handed.wait(sid):
                missing += 1

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    return sids, missing


async def _received(container: Container, sids: list[str]) -> dict[str, datetime]:
    with system_scope():
        async with container.db.read() as session:
            rows = await session.execute(
                select(InboundEvent.external_id, InboundEvent.received_at).where(
                    InboundEvent.external_id.in_(sids)
                )
            )
            return {str(sid): at for sid, at in rows}


def _summary(ms: list[float], missing: int, seconds: float) -> dict[str, float]:
    ordered = sorted(ms)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {
        "n": len(ordered),
        "missing": missing,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": ordered[-1],
        "messages_per_s": len(ordered) / seconds,
    }


@dataclass
class Platform:
    """One platform instance in this process: its server, its worker and its tenant."""

    container: Container
    handed: Handed
    account_sid: str
    token: str
    server: uvicorn.Server
    url: str
    worker: Worker
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    sent: int = 0

    @classmethod
    async def start(
        cls, name: str, reply_step: ReplyStep | None, fake: FakeTwilio, tmp: Path
    ) -> Platform:
        account_sid, token = fake.create_account()
        container = bootstrap(_settings(tmp / name, fake.url), reply_step=reply_step)
        await upgrade(container.db)
        await _connect(container, account_sid, token)
        handed = Handed(container.channels["twilio"])
        container.channels["twilio"] = handed
        port = _free_port()
        config = uvicorn.Config(
            create_app(container),
            host="127.0.0.1",
            port=port,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        server, url = uvicorn.Server(config), f"http://127.0.0.1:{port}"
        platform = cls(container, handed, account_sid, token, server, url, container.worker())
        platform.tasks = [
            asyncio.create_task(server.serve()),
            asyncio.create_task(platform.worker.run()),
        ]
        for _ in range(1000):
            if platform.server.started:
                break
            await asyncio.sleep(0.01)
        return platform

    async def send(self, n: int, concurrency: int) -> tuple[list[float], int]:
        """Reply times (ms) of ``n`` messages sent by ``concurrency`` clients; how many lacked
        a reply."""
        sids, missing = await _level(
            self.url, self.handed, self.account_sid, self.token, n, concurrency, self.sent
        )
        self.sent += n
        received = await _received(self.container, sids)
        return [
            (self.handed.at[sid] - received[sid]).total_seconds() * 1000
            for sid in sids
            if sid in self.handed.at and sid in received
        ], missing

    async def stop(self) -> None:
        self.server.should_exit = True
        self.worker.stop()
        await asyncio.gather(*self.tasks)
        await self.container.close()


async def _measure(platforms: dict[str, Platform], n: int) -> dict[str, dict[str, Any]]:
    """Each level in chunks, the platforms taking turns, so a machine whose load drifts
    during the run weighs on both alike."""
    rows: dict[str, dict[str, Any]] = {name: {} for name in platforms}
    for platform in platforms.values():  # warm-up: encoder, router index, connections
        await platform.send(2 * len(MESSAGES), 4)
    for level in LEVELS:
        times: dict[str, list[float]] = {name: [] for name in platforms}
        missing = dict.fromkeys(platforms, 0)
        seconds = dict.fromkeys(platforms, 0.0)
        for chunk in range(0, n, CHUNK):
            for name, platform in platforms.items():
                started = time.perf_counter()
                ms, lost = await platform.send(min(CHUNK, n - chunk), level)
                seconds[name] += time.perf_counter() - started
                times[name] += ms
                missing[name] += lost
        for name in platforms:
            rows[name][str(level)] = _summary(times[name], missing[name], seconds[name])
    return rows


def _print(results: dict[str, dict[str, Any]]) -> None:
    print(
        f"{'assistant':<11}{'clients':>8}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'msg/s':>8}{'p50 x echo':>12}"
    )
    for name, levels in results.items():
        for level, row in levels.items():
            base = results["echo"][level]["p50_ms"]
            print(
                f"{name:<11}{level:>8}{row['n']:>6}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
                f"{row['p99_ms']:>9.1f}{row['messages_per_s']:>8.1f}"
                f"{row['p50_ms'] / base:>12.2f}"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200, help="messages per concurrency level")
    args = parser.parse_args()
    configure_logging(LogSettings(level="WARNING"), "test")
    with tempfile.TemporaryDirectory() as tmp_dir, FakeTwilio() as fake:
        tmp = Path(tmp_dir)
        platforms = {
            "echo": await Platform.start("echo", Echo(), fake, tmp),
            "offline": await Platform.start("offline", None, fake, tmp),
        }
        try:
            results = await _measure(platforms, args.n)
        finally:
            for platform in platforms.values():
                await platform.stop()
    _print(results)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"reply_time-{stamp}.json"
    out.write_text(json.dumps({"n": args.n, "at": stamp, "results": results}, indent=2) + "\n")
    print(f"written {out}")


if __name__ == "__main__":
    asyncio.run(main())
