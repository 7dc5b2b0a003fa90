"""Composition root: the only place that chooses concrete adapters. Tests pass their own."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import timedelta

from whatsapp_ai.ai.offline import OfflineReplyStep
from whatsapp_ai.ai.service import ReplyStep
from whatsapp_ai.channels.sandbox.service import SandboxChannel
from whatsapp_ai.channels.service import Channel
from whatsapp_ai.core.clock import Clock, SystemClock
from whatsapp_ai.core.config import Settings, load_settings
from whatsapp_ai.core.db import Database, create_engine
from whatsapp_ai.core.http import Principal
from whatsapp_ai.core.leases import Leases
from whatsapp_ai.core.metrics import Metrics
from whatsapp_ai.core.queue import Queue
from whatsapp_ai.core.queue.sql import SqlQueue
from whatsapp_ai.core.queue.worker import Worker
from whatsapp_ai.core.scheduler import PeriodicTask, Scheduler
from whatsapp_ai.identity import service as identity
from whatsapp_ai.pipeline import Pipeline


@dataclass
class Container:
    """Every long-lived dependency of one process."""

    settings: Settings
    clock: Clock
    db: Database
    queue: Queue
    leases: Leases
    metrics: Metrics
    reply_step: ReplyStep
    channels: dict[str, Channel] = field(default_factory=dict)

    @property
    def pipeline(self) -> Pipeline:
        """The message path wired to this container's adapters."""
        return Pipeline(
            db=self.db,
            clock=self.clock,
            queue=self.queue,
            leases=self.leases,
            reply_step=self.reply_step,
            channels=self.channels,
            turn_lease=timedelta(seconds=self.settings.conversation.turn_lease_s),
            history_turns=self.settings.conversation.history_turns,
        )

    async def authenticate(self, token: str) -> Principal | None:
        """Resolve a bearer API key to its tenant (a read; the use is written once a minute)."""
        now = self.clock.now()
        async with self.db.read() as session:
            key = await identity.find_api_key(session, token=token)
        if key is None:
            return None
        if identity.key_needs_touch(key, now=now):
            async with self.db.transaction() as session:
                await identity.touch_api_key(session, key_id=key.id, now=now)
        return identity.principal_of(key)

    def worker(self) -> Worker:
        """A worker running the pipeline's handlers."""
        queue_settings = self.settings.queue
        return Worker(
            self.queue,
            self.pipeline.handlers(),
            self.metrics,
            concurrency=queue_settings.concurrency,
            poll_interval_s=queue_settings.poll_interval_s,
            heartbeat_s=queue_settings.visibility_timeout_s / 3,
            shutdown_timeout_s=queue_settings.shutdown_timeout_s,
        )

    def scheduler(self) -> Scheduler:
        """The periodic maintenance scheduler."""
        retention = timedelta(hours=self.settings.queue.done_retention_h)
        tasks = [
            PeriodicTask(
                name="purge_done_jobs",
                every=timedelta(minutes=10),
                run=lambda: self.queue.purge_done(retention),
            )
        ]
        return Scheduler(
            self.leases,
            self.clock,
            tasks,
            tick_s=self.settings.scheduler.tick_s,
            leader_lease=timedelta(seconds=self.settings.scheduler.leader_lease_s),
        )


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    reply_step: ReplyStep | None = None,
    channels: dict[str, Channel] | None = None,
) -> Container:
    """Build the container from settings; any argument given replaces the default adapter."""
    settings = settings or load_settings()
    clock = clock or SystemClock()
    db = Database(create_engine(settings.database))
    queue = SqlQueue(
        db,
        clock,
        visibility_timeout=timedelta(seconds=settings.queue.visibility_timeout_s),
        max_attempts=settings.queue.max_attempts,
        backoff_base_s=settings.queue.backoff_base_s,
        backoff_max_s=settings.queue.backoff_max_s,
    )
    all_channels: dict[str, Channel] = {}
    if settings.sandbox.enabled:
        all_channels["sandbox"] = SandboxChannel(db, clock)
    all_channels.update(channels or {})
    return Container(
        settings=settings,
        clock=clock,
        db=db,
        queue=queue,
        leases=Leases(db, clock),
        metrics=Metrics(),
        reply_step=reply_step or OfflineReplyStep(),
        channels=all_channels,
    )


def process_name() -> str:
    """A readable name for this process in leases and logs."""
    return socket.gethostname()
