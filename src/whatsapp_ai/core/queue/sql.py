"""SQL job queue: a jobs table in the application database (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Index,
    Integer,
    String,
    Text,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import (
    Base,
    Database,
    IdType,
    JSONType,
    UTCDateTime,
    after_commit,
    insert_ignore,
    insert_many_ignore,
)
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.pii import redact
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.core.queue.types import (
    JobInfo,
    JobStatus,
    LeasedJob,
    Outcome,
    QueueStats,
    RetryPolicy,
)

MAX_ERROR_CHARS = 4000


class JobRow(Base):
    """One job; finished jobs stay for a retention period, dead ones until replayed or purged."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_ready", "status", "run_at"),)

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_token: Mapped[str | None] = mapped_column(IdType, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replays: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


def backoff_delay(attempt: int, *, base_s: float, max_s: float) -> timedelta:
    """Exponential backoff with jitter: between half and all of base * 2^(attempt-1), capped."""
    ceiling = min(max_s, base_s * 2 ** max(0, attempt - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class SqlQueue:
    """Queue on the jobs table: FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        visibility_timeout: timedelta,
        max_attempts: int,
        backoff_base_s: float,
        backoff_max_s: float,
        policies: Mapping[str, RetryPolicy] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._visibility = visibility_timeout
        self._default = RetryPolicy(max_attempts, backoff_base_s, backoff_max_s)
        # Kinds that need another schedule (sending to contacts rides out provider outages).
        self._policies = dict(policies or {})
        self._wakeup = asyncio.Event()

    def policy(self, kind: str) -> RetryPolicy:
        """The retry policy of a kind of job."""
        return self._policies.get(kind, self._default)

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
        now = self._clock.now()
        values = {
            "id": new_id(),
            "kind": kind,
            "payload": payload,
            "status": "queued",
            "attempts": 0,
            "max_attempts": max_attempts or self.policy(kind).max_attempts,
            "run_at": now + (delay or timedelta(0)),
            "idempotency_key": idempotency_key,
            "created_at": now,
        }
        if idempotency_key is None:
            await session.execute(insert(JobRow).values(**values))
            job_id: str | None = str(values["id"])
        else:
            row = await insert_ignore(session, JobRow, values, conflict=["idempotency_key"])
            job_id = row.id if row is not None else None
        if job_id is not None:
            # Wake local workers once the caller's transaction is visible.
            after_commit(session, self._wakeup.set)
        return job_id

    async def enqueue_many(
        self, session: AsyncSession, jobs: list[tuple[str, dict[str, Any], str | None]]
    ) -> list[str]:
        """Add (kind, payload, idempotency key) jobs in one statement; the ids of new jobs."""
        now = self._clock.now()
        rows = [
            {
                "id": new_id(),
                "kind": kind,
                "payload": payload,
                "status": "queued",
                "attempts": 0,
                "max_attempts": self.policy(kind).max_attempts,
                "run_at": now,
                "idempotency_key": key,
                "created_at": now,
            }
            for kind, payload, key in jobs
        ]
        ids = await insert_many_ignore(session, JobRow, rows, conflict=["idempotency_key"])
        if ids:
            after_commit(session, self._wakeup.set)
        return [str(job_id) for job_id in ids]

    async def wait_for_work(self, max_wait_s: float) -> None:
        """Return when a local enqueue committed or after ``max_wait_s`` seconds."""
        try:
            await asyncio.wait_for(self._wakeup.wait(), max_wait_s)
        except TimeoutError:
            return
        finally:
            self._wakeup.clear()

    async def lease(self, *, limit: int) -> list[LeasedJob]:
        """Take up to ``limit`` ready jobs, re-taking jobs whose worker lost its lease."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            expired = and_(JobRow.status == "running", JobRow.lease_expires_at <= now)
            await session.execute(
                update(JobRow)
                .where(expired, JobRow.attempts >= JobRow.max_attempts)
                .values(
                    status="dead",
                    finished_at=now,
                    lease_token=None,
                    last_error="lease expired on the last attempt (worker lost mid-job)",
                )
            )
            ready = or_(and_(JobRow.status == "queued", JobRow.run_at <= now), expired)
            ids = (
                await session.scalars(
                    select(JobRow.id)
                    .where(ready)
                    .order_by(JobRow.run_at, JobRow.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not ids:
                return []
            token = new_id()
            rows = (
                await session.scalars(
                    update(JobRow)
                    .where(JobRow.id.in_(ids))
                    .values(
                        status="running",
                        attempts=JobRow.attempts + 1,
                        lease_expires_at=now + self._visibility,
                        lease_token=token,
                    )
                    .returning(JobRow)
                )
            ).all()
            leased = [
                LeasedJob(
                    id=row.id,
                    kind=row.kind,
                    payload=row.payload,
                    attempts=row.attempts,
                    max_attempts=row.max_attempts,
                    lease_token=token,
                    created_at=row.created_at,
                    replays=row.replays,
                )
                for row in rows
            ]
        return sorted(leased, key=lambda job: job.id)

    def _held(self, job: LeasedJob) -> Any:
        return and_(
            JobRow.id == job.id, JobRow.status == "running", JobRow.lease_token == job.lease_token
        )

    async def extend(self, jobs: list[LeasedJob]) -> None:
        """Push the leases of running jobs one visibility timeout from now."""
        if not jobs:
            return
        until = self._clock.now() + self._visibility
        async with self._db.transaction() as session:
            for job in jobs:
                await session.execute(
                    update(JobRow).where(self._held(job)).values(lease_expires_at=until)
                )

    async def complete(self, job: LeasedJob) -> bool:
        """Mark done; False when another worker took the job over meanwhile.

        A job whose payload says ``forget_when_done`` is deleted instead (its payload may hold
        personal data that must not outlive it, e.g. the farewell to an erased contact).
        """
        async with self._db.transaction() as session:
            if job.payload.get("forget_when_done"):
                deleted = await session.execute(delete(JobRow).where(self._held(job)))
                return bool(deleted.rowcount)  # type: ignore[attr-defined]
            result = await session.execute(
                update(JobRow)
                .where(self._held(job))
                .values(
                    status="done",
                    finished_at=self._clock.now(),
                    lease_token=None,
                    lease_expires_at=None,
                )
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def fail(
        self,
        job: LeasedJob,
        error: str,
        *,
        permanent: bool = False,
        delay: timedelta | None = None,
    ) -> Outcome:
        """Retry after ``delay`` or backoff with jitter; dead-letter with the cause when out."""
        now = self._clock.now()
        error = redact(error)[-MAX_ERROR_CHARS:]
        dead = permanent or job.attempts >= job.max_attempts
        values: dict[str, Any] = {
            "last_error": error,
            "lease_token": None,
            "lease_expires_at": None,
        }
        if dead:
            values.update(status="dead", finished_at=now)
        else:
            if delay is None:
                policy = self.policy(job.kind)
                delay = backoff_delay(
                    job.attempts, base_s=policy.backoff_base_s, max_s=policy.backoff_max_s
                )
            values.update(status="queued", run_at=now + delay)
        async with self._db.transaction() as session:
            result = await session.execute(update(JobRow).where(self._held(job)).values(**values))
        if not result.rowcount:  # type: ignore[attr-defined]
            return "lost"
        return "dead" if dead else "retry"

    async def snooze(self, job: LeasedJob, delay: timedelta) -> None:
        """Run later; this attempt does not count."""
        async with self._db.transaction() as session:
            await session.execute(
                update(JobRow)
                .where(self._held(job))
                .values(
                    status="queued",
                    attempts=JobRow.attempts - 1,
                    run_at=self._clock.now() + delay,
                    lease_token=None,
                    lease_expires_at=None,
                )
            )

    async def list_jobs(self, *, status: JobStatus | None = None, limit: int = 50) -> list[JobInfo]:
        """Newest jobs first, optionally of one status."""
        query = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
        if status is not None:
            query = query.where(JobRow.status == status)
        async with self._db.read() as session:
            rows = (await session.scalars(query)).all()
        return [
            JobInfo(
                id=row.id,
                kind=row.kind,
                status=row.status,  # type: ignore[arg-type]
                attempts=row.attempts,
                max_attempts=row.max_attempts,
                run_at=row.run_at,
                created_at=row.created_at,
                finished_at=row.finished_at,
                last_error=row.last_error,
                payload=row.payload,
                replays=row.replays,
            )
            for row in rows
        ]

    async def replay(self, job_ids: list[str] | None = None) -> int:
        """Requeue dead letters with fresh attempts (counted in ``replays``, so a handler knows
        an operator asked for it again); how many were requeued."""
        stmt = update(JobRow).where(JobRow.status == "dead")
        if job_ids is not None:
            stmt = stmt.where(JobRow.id.in_(job_ids))
        async with self._db.transaction() as session:
            result = await session.execute(
                stmt.values(
                    status="queued",
                    attempts=0,
                    run_at=self._clock.now(),
                    finished_at=None,
                    replays=JobRow.replays + 1,
                )
            )
        count = int(result.rowcount)  # type: ignore[attr-defined]
        if count:
            self._wakeup.set()
        return count

    async def stats(self) -> QueueStats:
        """Depth by status and the age of the oldest ready job."""
        now = self._clock.now()
        async with self._db.read() as session:
            counts = (
                await session.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            ).all()
            oldest = await session.scalar(
                select(func.min(JobRow.run_at)).where(
                    JobRow.status == "queued", JobRow.run_at <= now
                )
            )
        by_status = dict.fromkeys(("queued", "running", "done", "dead"), 0)
        by_status.update({str(status): int(count) for status, count in counts})
        age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
        return QueueStats(by_status=by_status, oldest_ready_age_s=age)

    async def purge_done(self, older_than: timedelta) -> int:
        """Delete finished jobs older than ``older_than``."""
        cutoff = self._clock.now() - older_than
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(JobRow).where(JobRow.status == "done", JobRow.finished_at < cutoff)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def ping(self) -> None:
        """Raise when the jobs table cannot be read."""
        async with self._db.read() as session:
            await session.execute(text("SELECT 1 FROM jobs LIMIT 1"))


async def export_contact_jobs(session: AsyncSession, ref: ContactRef) -> list[dict[str, Any]]:
    """Jobs about the contact's messages (kind, state, dates)."""
    return [
        {"id": row.id, "kind": row.kind, "status": row.status, "created_at": row.created_at}
        for row in await _contact_jobs(session, ref)
    ]


async def erase_contact_jobs(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete every job about the contact (their payloads hold ids and the contact's number)."""
    # Running ones too: a job that dies mid-run would otherwise keep the number as a dead letter.
    ids = [row.id for row in await _contact_jobs(session, ref)]
    if ids:
        await session.execute(delete(JobRow).where(JobRow.id.in_(ids)))
    return Erased(rows=len(ids))


async def _contact_jobs(session: AsyncSession, ref: ContactRef) -> list[JobRow]:
    wanted = {
        *ref.related.get("event_ids", []),
        *ref.related.get("message_ids", []),
        ref.address,
    }
    rows = await session.scalars(
        select(JobRow)
        .where(JobRow.payload["tenant_id"].as_string() == ref.tenant_id)
        .order_by(JobRow.id)
    )
    return [
        row for row in rows if wanted.intersection(str(value) for value in row.payload.values())
    ]
