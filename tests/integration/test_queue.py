"""The SQL job queue on real SQLite and PostgreSQL, with time moved by a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import make_settings
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.core.queue import JobInfo, LeasedJob
from whatsapp_ai.core.queue.sql import MAX_ERROR_CHARS, backoff_delay

VISIBILITY_S = 30.0
BACKOFF_BASE_S = 10.0
BACKOFF_MAX_S = 25.0
MAX_ATTEMPTS = 4
# timedelta keeps microseconds, so a jittered delay can round past a bound by half of one.
RESOLUTION = timedelta(microseconds=1)

QUEUE_SETTINGS: dict[str, Any] = {
    "visibility_timeout_s": VISIBILITY_S,
    "max_attempts": MAX_ATTEMPTS,
    "backoff_base_s": BACKOFF_BASE_S,
    "backoff_max_s": BACKOFF_MAX_S,
}


class Boom(Exception):
    """Raised inside a transaction to roll it back."""


@pytest.fixture
def clock() -> ManualClock:
    """Time that only moves when a test says so."""
    return ManualClock()


@pytest.fixture
async def qc(db_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Container]:
    """A container whose queue runs on the manual clock with slow, easy-to-bound timings."""
    built = bootstrap(make_settings(db_url, tmp_path, queue=QUEUE_SETTINGS), clock=clock)
    yield built
    await built.close()


async def _enqueue(
    container: Container, kind: str = "test.job", payload: dict[str, Any] | None = None, **kw: Any
) -> str | None:
    async with container.db.transaction() as session:
        return await container.queue.enqueue(session, kind, payload or {}, **kw)


async def _job(container: Container, job_id: str | None) -> JobInfo:
    assert job_id is not None
    found = [info for info in await container.queue.list_jobs(limit=1000) if info.id == job_id]
    assert len(found) == 1, f"job {job_id} not found"
    return found[0]


async def _lease_one(container: Container) -> LeasedJob:
    jobs = await container.queue.lease(limit=1)
    assert len(jobs) == 1, jobs
    return jobs[0]


# -- enqueue ---------------------------------------------------------------------------------


async def test_enqueue_in_rolled_back_transaction_leaves_no_job(qc: Container) -> None:
    job_ids: list[str | None] = []
    with pytest.raises(Boom):  # noqa: PT012 - the enqueue must run inside the failed transaction
        async with qc.db.transaction() as session:
            job_ids.append(await qc.queue.enqueue(session, "test.job", {"n": 1}))
            raise Boom
    assert job_ids[0] is not None

    assert await qc.queue.list_jobs() == []
    assert await qc.queue.lease(limit=10) == []
    # A rolled-back enqueue must not wake workers either; a committed one must.
    loop = asyncio.get_running_loop()
    started = loop.time()
    await qc.queue.wait_for_work(0.2)
    assert loop.time() - started >= 0.15
    await _enqueue(qc)
    await asyncio.wait_for(qc.queue.wait_for_work(30), 5)


async def test_committed_job_is_leased_with_its_payload(qc: Container, clock: ManualClock) -> None:
    payload = {"text": "olá, pão de queijo", "items": [1, 2, {"x": None}]}
    job_id = await _enqueue(qc, "msg.turn", payload)
    assert job_id is not None

    job = await _lease_one(qc)
    assert (job.id, job.kind, job.payload) == (job_id, "msg.turn", payload)
    assert job.attempts == 1
    assert job.max_attempts == MAX_ATTEMPTS
    assert job.created_at == clock.now()
    assert (await _job(qc, job_id)).status == "running"
    assert await qc.queue.lease(limit=10) == []  # held, not handed out twice

    assert await qc.queue.complete(job) is True
    info = await _job(qc, job_id)
    assert info.status == "done"
    assert info.finished_at == clock.now()
    assert await qc.queue.complete(job) is False  # already finished


async def test_idempotency_key_enqueues_once(qc: Container) -> None:
    first = await _enqueue(qc, payload={"v": 1}, idempotency_key="inbound:SM123")
    second = await _enqueue(qc, payload={"v": 2}, idempotency_key="inbound:SM123")
    other = await _enqueue(qc, payload={"v": 3}, idempotency_key="inbound:SM456")

    assert first is not None
    assert second is None
    assert other is not None
    assert other != first
    jobs = await qc.queue.list_jobs()
    assert sorted(job.id for job in jobs) == sorted([first, other])
    assert next(job for job in jobs if job.id == first).payload == {"v": 1}

    # Within one transaction too, and the transaction still commits.
    async with qc.db.transaction() as session:
        third = await qc.queue.enqueue(session, "k", {}, idempotency_key="same-tx")
        again = await qc.queue.enqueue(session, "k", {}, idempotency_key="same-tx")
    assert third is not None
    assert again is None
    assert len(await qc.queue.list_jobs()) == 3


async def test_delayed_job_waits_for_its_time(qc: Container, clock: ManualClock) -> None:
    job_id = await _enqueue(qc, delay=timedelta(minutes=5))

    assert await qc.queue.lease(limit=10) == []
    clock.advance(seconds=299)
    assert await qc.queue.lease(limit=10) == []
    clock.advance(seconds=1)
    assert [job.id for job in await qc.queue.lease(limit=10)] == [job_id]


async def test_lease_takes_oldest_ready_first_and_respects_limit(
    qc: Container, clock: ManualClock
) -> None:
    late = await _enqueue(qc, payload={"n": "late"}, delay=timedelta(seconds=10))
    clock.advance(seconds=1)
    early = [await _enqueue(qc, payload={"n": i}) for i in range(3)]
    clock.advance(seconds=20)

    first = await qc.queue.lease(limit=2)
    rest = await qc.queue.lease(limit=10)
    # The early jobs were ready at t0+1, ``late`` only at t0+10.
    assert len(first) == 2
    assert {job.id for job in first} < set(early)
    assert {job.id for job in first} | {job.id for job in rest} == {late, *early}
    assert len(rest) == 2


# -- concurrency -----------------------------------------------------------------------------


async def test_concurrent_leasers_never_share_a_job(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> None:
    settings = make_settings(db_url, tmp_path, queue=QUEUE_SETTINGS)
    first = bootstrap(settings, clock=clock)
    second = bootstrap(settings, clock=clock)  # another engine: as if another process
    try:
        async with first.db.transaction() as session:
            created = {await first.queue.enqueue(session, "test.job", {"n": i}) for i in range(20)}
        leasers = [first.queue, second.queue, first.queue, second.queue]

        seen: list[str] = []
        for _round in range(20):
            batches = await asyncio.gather(*(queue.lease(limit=3) for queue in leasers))
            assert all(len(batch) <= 3 for batch in batches)
            ids = [job.id for batch in batches for job in batch]
            if not ids:
                break
            seen.extend(ids)

        assert len(seen) == len(set(seen)), "a job was leased twice"
        assert set(seen) == created
        jobs = await first.queue.list_jobs(limit=100)
        assert {(job.status, job.attempts) for job in jobs} == {("running", 1)}
    finally:
        await first.db.dispose()
        await second.db.dispose()


# -- visibility timeout ----------------------------------------------------------------------


async def test_expired_lease_is_taken_again_and_stale_holder_loses(
    qc: Container, clock: ManualClock
) -> None:
    job_id = await _enqueue(qc)
    stale = await _lease_one(qc)
    assert stale.attempts == 1

    clock.advance(seconds=VISIBILITY_S - 1)
    assert await qc.queue.lease(limit=1) == []
    clock.advance(seconds=2)
    fresh = await _lease_one(qc)
    assert fresh.id == job_id
    assert fresh.attempts == 2
    assert fresh.lease_token != stale.lease_token

    assert await qc.queue.complete(stale) is False
    assert await qc.queue.fail(stale, "late failure") == "lost"
    await qc.queue.snooze(stale, timedelta(hours=1))  # must not touch the job either
    await qc.queue.extend([stale])
    info = await _job(qc, job_id)
    assert (info.status, info.attempts, info.last_error) == ("running", 2, None)

    assert await qc.queue.complete(fresh) is True
    assert (await _job(qc, job_id)).status == "done"


async def test_extend_keeps_a_running_job_from_being_retaken(
    qc: Container, clock: ManualClock
) -> None:
    await _enqueue(qc)
    job = await _lease_one(qc)

    clock.advance(seconds=VISIBILITY_S * 2 / 3)
    await qc.queue.extend([job])
    clock.advance(seconds=VISIBILITY_S * 2 / 3)  # past the original lease, within the new one
    assert await qc.queue.lease(limit=1) == []
    assert await qc.queue.complete(job) is True


async def test_lease_expiring_on_last_attempt_is_dead_lettered(
    qc: Container, clock: ManualClock
) -> None:
    job_id = await _enqueue(qc, max_attempts=2)
    first = await _lease_one(qc)
    clock.advance(seconds=VISIBILITY_S + 1)
    second = await _lease_one(qc)
    assert second.attempts == 2
    clock.advance(seconds=VISIBILITY_S + 1)

    assert await qc.queue.lease(limit=1) == []
    info = await _job(qc, job_id)
    assert info.status == "dead"
    assert info.attempts == 2
    assert "lease expired" in (info.last_error or "")
    assert info.finished_at == clock.now()
    assert await qc.queue.complete(first) is False
    assert await qc.queue.complete(second) is False
    assert [job.id for job in await qc.queue.list_jobs(status="dead")] == [job_id]


# -- failures, retries, dead letters ---------------------------------------------------------


async def test_fail_retries_with_backoff_then_dead_letters(
    qc: Container, clock: ManualClock
) -> None:
    job_id = await _enqueue(qc)
    assert job_id is not None
    for attempt in range(1, MAX_ATTEMPTS):
        job = await _lease_one(qc)
        assert job.attempts == attempt
        assert await qc.queue.fail(job, f"RuntimeError: boom {attempt}") == "retry"

        info = await _job(qc, job_id)
        assert info.status == "queued"
        assert info.last_error == f"RuntimeError: boom {attempt}"
        assert info.finished_at is None
        ceiling = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        delay = info.run_at - clock.now()
        low, high = timedelta(seconds=ceiling / 2), timedelta(seconds=ceiling)
        assert low - RESOLUTION <= delay <= high + RESOLUTION, (attempt, delay)

        assert await qc.queue.lease(limit=1) == []  # not before the backoff is over
        clock.advance(delay - timedelta(milliseconds=1))
        assert await qc.queue.lease(limit=1) == []
        clock.set(info.run_at)

    job = await _lease_one(qc)
    assert job.attempts == MAX_ATTEMPTS
    assert await qc.queue.fail(job, "ValueError: the final straw") == "dead"

    info = await _job(qc, job_id)
    assert info.status == "dead"
    assert info.attempts == MAX_ATTEMPTS
    assert info.finished_at == clock.now()
    assert "the final straw" in (info.last_error or "")
    clock.advance(timedelta(days=30))
    assert await qc.queue.lease(limit=1) == []


async def test_permanent_failure_dead_letters_at_once(qc: Container) -> None:
    job_id = await _enqueue(qc)
    job = await _lease_one(qc)
    assert job.attempts == 1 < job.max_attempts

    assert await qc.queue.fail(job, "bad payload: no tenant", permanent=True) == "dead"
    info = await _job(qc, job_id)
    assert (info.status, info.attempts, info.last_error) == ("dead", 1, "bad payload: no tenant")
    assert await qc.queue.lease(limit=1) == []


async def test_last_error_is_redacted_and_bounded(qc: Container) -> None:
    job_id = await _enqueue(qc)
    job = await _lease_one(qc)
    message = "ValueError: could not bill ana.souza@example.com (CPF 529.982.247-25)"
    await qc.queue.fail(job, message, permanent=True)

    stored = (await _job(qc, job_id)).last_error
    assert stored == "ValueError: could not bill [EMAIL] (CPF [CPF])"

    other_id = await _enqueue(qc)
    other = await _lease_one(qc)
    assert other.id == other_id
    await qc.queue.fail(other, "x" * (3 * MAX_ERROR_CHARS) + " the real cause", permanent=True)
    stored = (await _job(qc, other_id)).last_error
    assert stored is not None
    assert len(stored) == MAX_ERROR_CHARS
    assert stored.endswith("the real cause")


async def test_snooze_does_not_consume_an_attempt(qc: Container, clock: ManualClock) -> None:
    job_id = await _enqueue(qc, max_attempts=1)
    for _ in range(3):
        job = await _lease_one(qc)
        assert job.attempts == 1
        await qc.queue.snooze(job, timedelta(minutes=2))
        info = await _job(qc, job_id)
        assert (info.status, info.attempts) == ("queued", 0)
        assert info.run_at == clock.now() + timedelta(minutes=2)
        clock.advance(seconds=119)
        assert await qc.queue.lease(limit=1) == []
        clock.advance(seconds=1)

    job = await _lease_one(qc)
    assert job.attempts == 1
    assert await qc.queue.complete(job) is True


async def test_replay_requeues_dead_jobs_with_fresh_attempts(
    qc: Container, clock: ManualClock
) -> None:
    # One job dies by running out of attempts, two by permanent failures.
    exhausted = await _enqueue(qc, max_attempts=2)
    assert exhausted is not None
    assert await qc.queue.fail(await _lease_one(qc), "boom") == "retry"
    clock.advance(minutes=1)
    assert await qc.queue.fail(await _lease_one(qc), "boom") == "dead"
    dead = [exhausted]
    for _ in range(2):
        job_id = await _enqueue(qc)
        assert job_id is not None
        job = await _lease_one(qc)
        await qc.queue.fail(job, "gave up", permanent=True)
        dead.append(job_id)
    done_id = await _enqueue(qc)
    assert await qc.queue.complete(await _lease_one(qc)) is True
    assert done_id is not None
    clock.advance(hours=1)

    assert await qc.queue.replay([dead[0], done_id, "01NOTAJOB0000000000000000X"]) == 1
    info = await _job(qc, dead[0])
    assert (info.status, info.attempts, info.finished_at) == ("queued", 0, None)
    assert info.run_at == clock.now()
    assert (await _job(qc, done_id)).status == "done"
    assert {job.id for job in await qc.queue.list_jobs(status="dead")} == set(dead[1:])

    assert await qc.queue.replay() == 2
    assert await qc.queue.list_jobs(status="dead") == []
    assert await qc.queue.replay() == 0

    leased = await qc.queue.lease(limit=10)
    assert {job.id for job in leased} == set(dead)
    assert {job.attempts for job in leased} == {1}
    again = next(job for job in leased if job.id == exhausted)
    assert await qc.queue.fail(again, "boom") == "retry"  # its attempts really were reset


# -- operations ------------------------------------------------------------------------------


async def test_stats_counts_by_status_and_oldest_ready_age(
    qc: Container, clock: ManualClock
) -> None:
    empty = await qc.queue.stats()
    assert empty.by_status == {"queued": 0, "running": 0, "done": 0, "dead": 0}
    assert empty.oldest_ready_age_s == 0.0

    await _enqueue(qc)
    await qc.queue.fail(await _lease_one(qc), "x", permanent=True)
    await _enqueue(qc)
    await qc.queue.complete(await _lease_one(qc))
    await _enqueue(qc)
    await _lease_one(qc)
    await _enqueue(qc)
    await _enqueue(qc)
    await _enqueue(qc, delay=timedelta(hours=1))
    clock.advance(seconds=90)

    stats = await qc.queue.stats()
    assert stats.by_status == {"queued": 3, "running": 1, "done": 1, "dead": 1}
    assert stats.oldest_ready_age_s == pytest.approx(90.0)

    clock.advance(hours=1)
    assert (await qc.queue.stats()).oldest_ready_age_s == pytest.approx(3690.0)


async def test_purge_done_deletes_only_old_finished_jobs(qc: Container, clock: ManualClock) -> None:
    old_done = await _enqueue(qc)
    await qc.queue.complete(await _lease_one(qc))
    old_dead = await _enqueue(qc)
    await qc.queue.fail(await _lease_one(qc), "x", permanent=True)
    old_queued = await _enqueue(qc, delay=timedelta(days=1))
    clock.advance(hours=2)
    new_done = await _enqueue(qc)
    await qc.queue.complete(await _lease_one(qc))
    clock.advance(hours=1)

    assert await qc.queue.purge_done(timedelta(hours=2)) == 1
    remaining = {job.id for job in await qc.queue.list_jobs()}
    assert remaining == {old_dead, old_queued, new_done}
    assert old_done not in remaining
    assert await qc.queue.purge_done(timedelta(hours=2)) == 0
    assert await qc.queue.purge_done(timedelta(0)) == 1
    assert {job.id for job in await qc.queue.list_jobs()} == {old_dead, old_queued}


async def test_list_jobs_newest_first_filtered_and_limited(
    qc: Container, clock: ManualClock
) -> None:
    ids = []
    for _ in range(4):
        ids.append(await _enqueue(qc))
        clock.advance(seconds=1)
    await qc.queue.fail(await _lease_one(qc), "x", permanent=True)

    assert [job.id for job in await qc.queue.list_jobs()] == ids[::-1]
    assert [job.id for job in await qc.queue.list_jobs(limit=2)] == ids[:1:-1]
    assert [job.id for job in await qc.queue.list_jobs(status="dead")] == [ids[0]]
    assert [job.id for job in await qc.queue.list_jobs(status="queued")] == ids[:0:-1]
    await qc.queue.ping()


# -- backoff (unit) --------------------------------------------------------------------------


@given(
    attempt=st.integers(min_value=1, max_value=20),
    base_s=st.floats(min_value=0.001, max_value=60.0),
    max_s=st.floats(min_value=0.001, max_value=3600.0),
)
def test_backoff_delay_is_jittered_within_bounds(attempt: int, base_s: float, max_s: float) -> None:
    ceiling = min(max_s, base_s * 2 ** (attempt - 1))
    delay = backoff_delay(attempt, base_s=base_s, max_s=max_s)
    assert timedelta(seconds=ceiling / 2) - RESOLUTION <= delay
    assert delay <= timedelta(seconds=ceiling) + RESOLUTION
    assert delay <= timedelta(seconds=max_s) + RESOLUTION


def test_backoff_delay_is_actually_jittered() -> None:
    delays = [backoff_delay(3, base_s=1.0, max_s=60.0).total_seconds() for _ in range(200)]
    assert all(2.0 - 1e-6 <= delay <= 4.0 + 1e-6 for delay in delays)
    # Spread over the range, not one value.
    assert min(delays) < 2.5
    assert max(delays) > 3.5
    assert backoff_delay(30, base_s=1.0, max_s=60.0) <= timedelta(seconds=60)
