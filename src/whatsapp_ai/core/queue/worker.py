"""Worker loop: leases jobs, runs their handlers with bounded concurrency, shuts down gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import traceback
from collections.abc import Mapping

from whatsapp_ai.core.logging import bind_context, get_logger
from whatsapp_ai.core.metrics import Metrics
from whatsapp_ai.core.queue.types import (
    Handler,
    LeasedJob,
    PermanentJobError,
    Queue,
    RetryLater,
    Snooze,
)

log = get_logger(__name__)


class Worker:
    """Runs jobs until ``stop()``; in-flight jobs finish before ``run()`` returns."""

    def __init__(
        self,
        queue: Queue,
        handlers: Mapping[str, Handler],
        metrics: Metrics,
        *,
        concurrency: int,
        poll_interval_s: float,
        heartbeat_s: float,
        shutdown_timeout_s: float,
    ) -> None:
        self._queue = queue
        self._handlers = dict(handlers)
        self._metrics = metrics
        self._concurrency = concurrency
        self._poll_interval_s = poll_interval_s
        self._heartbeat_s = heartbeat_s
        self._shutdown_timeout_s = shutdown_timeout_s
        self._stopping = asyncio.Event()
        self._in_flight: dict[str, tuple[LeasedJob, asyncio.Task[None]]] = {}

    def stop(self) -> None:
        """Stop taking jobs; running ones are allowed to finish."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """True once ``stop()`` was called."""
        return self._stopping.is_set()

    async def run(self) -> None:
        """Poll and run jobs until stopped, then wait for in-flight jobs."""
        log.info("worker.started", concurrency=self._concurrency)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            while not self._stopping.is_set():
                free = self._concurrency - len(self._in_flight)
                jobs: list[LeasedJob] = []
                if free > 0:
                    try:
                        jobs = await self._queue.lease(limit=free)
                    except Exception:
                        log.exception("worker.lease_failed")
                for job in jobs:
                    task = asyncio.create_task(self._run_one(job))
                    self._in_flight[job.id] = (job, task)
                    task.add_done_callback(functools.partial(self._release, job.id))
                if not jobs:
                    await self._idle()
        finally:
            await self._drain()
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            log.info("worker.stopped")

    async def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Run ready jobs until none is left (tests and one-shot commands); how many ran."""
        ran = 0
        for _ in range(max_rounds):
            jobs = await self._queue.lease(limit=self._concurrency)
            if not jobs:
                return ran
            await asyncio.gather(*(self._run_one(job) for job in jobs))
            ran += len(jobs)
        return ran

    def _release(self, job_id: str, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(job_id, None)

    async def _idle(self) -> None:
        waiter = asyncio.create_task(self._queue.wait_for_work(self._poll_interval_s))
        stopper = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopper):
            task.cancel()

    async def _drain(self) -> None:
        tasks = [task for _job, task in self._in_flight.values()]
        if not tasks:
            return
        log.info("worker.draining", in_flight=len(tasks))
        _done, pending = await asyncio.wait(tasks, timeout=self._shutdown_timeout_s)
        for task in pending:
            # Their leases expire and another worker runs them again.
            task.cancel()
        if pending:
            log.warning("worker.drain_timeout", abandoned=len(pending))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                await self._queue.extend([job for job, _task in self._in_flight.values()])
            except Exception:
                log.exception("worker.heartbeat_failed")

    async def _run_one(self, job: LeasedJob) -> None:
        handler = self._handlers.get(job.kind)
        started = time.perf_counter()
        with bind_context(job_id=job.id, job_kind=job.kind, attempt=job.attempts):
            try:
                if handler is None:
                    raise PermanentJobError(f"no handler for job kind {job.kind!r}")
                await handler(job.payload, job)
            except Snooze as snooze:
                await self._queue.snooze(job, snooze.delay)
                outcome = "snoozed"
            except PermanentJobError as exc:
                outcome = await self._queue.fail(job, _describe(exc), permanent=True)
            except RetryLater as exc:
                outcome = await self._queue.fail(
                    job, f"{type(exc).__name__}: {exc}", delay=exc.delay
                )
                log.info("job.retry_later", outcome=outcome, reason=str(exc))
            except asyncio.CancelledError:
                log.warning("job.cancelled")
                raise
            except Exception as exc:
                outcome = await self._queue.fail(job, _describe(exc))
                log.warning("job.failed", outcome=outcome, error=repr(exc))
            else:
                outcome = "done" if await self._queue.complete(job) else "lost"
            self._metrics.job_outcomes.labels(job.kind, outcome).inc()
            self._metrics.job_duration.labels(job.kind).observe(time.perf_counter() - started)
            if outcome == "dead":
                log.error("job.dead_lettered", error=self._short(job))
            else:
                log.debug("job.finished", outcome=outcome)

    def _short(self, job: LeasedJob) -> str:
        return f"{job.kind} {job.id} after {job.attempts} attempt(s)"


def _describe(exc: BaseException) -> str:
    """The error's type and message, then the traceback (dead letters keep the cause)."""
    return "".join(traceback.format_exception(exc)).strip()
