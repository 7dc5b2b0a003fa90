"""Queue protocol and the values that cross it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

JobStatus = Literal["queued", "running", "done", "dead"]
Outcome = Literal["done", "retry", "dead", "snoozed", "lost"]


@dataclass(frozen=True)
class LeasedJob:
    """A job a worker holds until its lease expires."""

    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    lease_token: str
    created_at: datetime
    # How many times an operator requeued it from the dead letters.
    replays: int = 0


@dataclass(frozen=True)
class JobInfo:
    """A job as shown to operators (``whatsapp-ai jobs``)."""

    id: str
    kind: str
    status: JobStatus
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None
    payload: dict[str, Any]
    replays: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a kind of job gets, and the backoff between them."""

    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float


@dataclass(frozen=True)
class QueueStats:
    """Counts by status and the age of the oldest ready job."""

    by_status: dict[str, int]
    oldest_ready_age_s: float


Handler = Callable[[dict[str, Any], LeasedJob], Awaitable[None]]


class Snooze(Exception):
    """Raised by a handler to run the job again later without counting an attempt."""

    def __init__(self, delay: timedelta, reason: str = "") -> None:
        super().__init__(reason or f"snoozed for {delay}")
        self.delay = delay


class RetryLater(Exception):
    """Raised by a handler to retry after ``delay`` (counts an attempt; None: usual backoff)."""

    def __init__(self, reason: str, delay: timedelta | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help: the job goes straight to dead letters."""


class Queue(Protocol):
    """Durable job queue; ``enqueue`` joins the caller's transaction."""

    async def enqueue(
        self,
        session: AsyncSession,
        kind: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        delay: timedelta | None = None,
        max_attempts: int | None = None,
    ) -> str | None:
        """Add a job in ``session``'s transaction; None when the idempotency key exists."""
        ...

    async def enqueue_many(
        self, session: AsyncSession, jobs: list[tuple[str, dict[str, Any], str | None]]
    ) -> list[str]:
        """Add (kind, payload, idempotency key) jobs in one statement; the ids of new jobs."""
        ...

    async def lease(self, *, limit: int) -> list[LeasedJob]:
        """Take up to ``limit`` ready jobs (including ones whose lease expired)."""
        ...

    async def extend(self, jobs: list[LeasedJob]) -> None:
        """Push the lease of jobs still running further out."""
        ...

    async def complete(self, job: LeasedJob) -> bool:
        """Mark done; False when the lease was lost meanwhile."""
        ...

    async def fail(
        self,
        job: LeasedJob,
        error: str,
        *,
        permanent: bool = False,
        delay: timedelta | None = None,
    ) -> Outcome:
        """Record a failure: retry after ``delay`` (or backoff), or dead-letter when out."""
        ...

    async def snooze(self, job: LeasedJob, delay: timedelta) -> None:
        """Run later without counting this attempt."""
        ...

    async def list_jobs(self, *, status: JobStatus | None = None, limit: int = 50) -> list[JobInfo]:
        """Newest jobs first, optionally of one status."""
        ...

    async def replay(self, job_ids: list[str] | None = None) -> int:
        """Requeue dead letters (all when ``job_ids`` is None); how many were requeued."""
        ...

    async def stats(self) -> QueueStats:
        """Depth by status and the oldest ready job's age."""
        ...

    async def purge_done(self, older_than: timedelta) -> int:
        """Delete finished jobs older than ``older_than``."""
        ...

    async def ping(self) -> None:
        """Raise when the queue cannot be reached."""
        ...

    async def wait_for_work(self, max_wait_s: float) -> None:
        """Return when work may be ready or after ``max_wait_s`` seconds."""
        ...
