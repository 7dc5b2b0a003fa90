"""Scheduler: periodic tasks run only by the process holding the leader lease."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.leases import Leases
from whatsapp_ai.core.logging import bind_context, get_logger

LEADER_KEY = "scheduler:leader"
log = get_logger(__name__)


@dataclass
class PeriodicTask:
    """A task and how often it runs."""

    name: str
    every: timedelta
    run: Callable[[], Awaitable[object]]
    last_run: datetime | None = None


class Scheduler:
    """Runs due periodic tasks on each tick while it is the leader."""

    def __init__(
        self,
        leases: Leases,
        clock: Clock,
        tasks: list[PeriodicTask],
        *,
        tick_s: float,
        leader_lease: timedelta,
    ) -> None:
        self._leases = leases
        self._clock = clock
        self._tasks = tasks
        self._tick_s = tick_s
        self._leader_lease = leader_lease
        self.owner = f"scheduler-{new_id()}"
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop after the current tick and give up leadership."""
        self._stopping.set()

    async def tick(self) -> bool:
        """Run due tasks if this process is (or becomes) leader; whether it led."""
        if not await self._leases.acquire(LEADER_KEY, self.owner, self._leader_lease):
            return False
        now = self._clock.now()
        for task in self._tasks:
            if task.last_run is not None and now - task.last_run < task.every:
                continue
            task.last_run = now
            with bind_context(task=task.name):
                try:
                    result = await task.run()
                    log.debug("scheduler.task_done", result=result)
                except Exception:
                    log.exception("scheduler.task_failed")
        return True

    async def run(self) -> None:
        """Tick until stopped."""
        log.info("scheduler.started", owner=self.owner)
        try:
            while not self._stopping.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("scheduler.tick_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._tick_s)
        finally:
            with contextlib.suppress(Exception):
                await self._leases.release(LEADER_KEY, self.owner)
            log.info("scheduler.stopped")
