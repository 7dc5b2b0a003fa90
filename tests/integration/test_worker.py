"""The worker loop on real SQLite and PostgreSQL, with real (short) timings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.conftest import make_settings
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.queue import Handler, LeasedJob, PermanentJobError, Snooze
from whatsapp_ai.core.queue.worker import Worker

POLL_S = 0.02


def _worker(
    container: Container,
    handlers: Mapping[str, Handler],
    *,
    concurrency: int = 2,
    heartbeat_s: float = 5.0,
    shutdown_timeout_s: float = 5.0,
) -> Worker:
    return Worker(
        container.queue,
        handlers,
        container.metrics,
        concurrency=concurrency,
        poll_interval_s=POLL_S,
        heartbeat_s=heartbeat_s,
        shutdown_timeout_s=shutdown_timeout_s,
    )


@asynccontextmanager
async def _running(worker: Worker) -> AsyncIterator[asyncio.Task[None]]:
    """Run the worker in the background; stop it and wait for ``run()`` on the way out."""
    task = asyncio.create_task(worker.run())
    try:
        yield task
    finally:
        worker.stop()
        await asyncio.wait_for(task, 5)


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 2.5) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def _enqueue(container: Container, kind: str, payload: dict[str, Any], **kw: Any) -> str:
    async with container.db.transaction() as session:
        job_id = await container.queue.enqueue(session, kind, payload, **kw)
    assert job_id is not None
    return job_id


async def _statuses(container: Container) -> dict[str, str]:
    return {job.id: job.status for job in await container.queue.list_jobs(limit=1000)}


def _outcomes(container: Container, kind: str, outcome: str) -> float:
    value = container.metrics.registry.get_sample_value(
        "jobs_processed_total", {"kind": kind, "outcome": outcome}
    )
    return value or 0.0


async def test_handlers_run_and_jobs_end_done(container: Container) -> None:
    seen: list[tuple[str, int]] = []

    async def on_a(payload: dict[str, Any], job: LeasedJob) -> None:
        assert job.kind == "a"
        seen.append(("a", payload["n"]))

    async def on_b(payload: dict[str, Any], job: LeasedJob) -> None:
        await asyncio.sleep(0.01)
        seen.append(("b", payload["n"]))

    ids = [await _enqueue(container, kind, {"n": n}) for kind in "ab" for n in range(4)]
    worker = _worker(container, {"a": on_a, "b": on_b}, concurrency=3)

    async def all_done() -> bool:
        return set((await _statuses(container)).values()) == {"done"}

    async with _running(worker):
        await _eventually(all_done)

    assert sorted(seen) == sorted((kind, n) for kind in "ab" for n in range(4))
    assert set(await _statuses(container)) == set(ids)
    assert _outcomes(container, "a", "done") == 4
    assert _outcomes(container, "b", "done") == 4
    duration = container.metrics.registry.get_sample_value(
        "job_duration_seconds_count", {"kind": "b"}
    )
    assert duration == 4


async def test_run_until_idle_returns_how_many_ran(container: Container) -> None:
    ran: list[int] = []

    async def handler(payload: dict[str, Any], _job: LeasedJob) -> None:
        ran.append(payload["n"])

    for n in range(5):
        await _enqueue(container, "count", {"n": n})
    worker = _worker(container, {"count": handler}, concurrency=2)

    assert await worker.run_until_idle() == 5
    assert sorted(ran) == [0, 1, 2, 3, 4]
    assert set((await _statuses(container)).values()) == {"done"}
    assert await worker.run_until_idle() == 0
    assert _outcomes(container, "count", "done") == 5


async def test_failing_handler_is_retried_then_dead_lettered(container: Container) -> None:
    attempts: list[int] = []

    async def flaky(_payload: dict[str, Any], job: LeasedJob) -> None:
        attempts.append(job.attempts)
        raise ValueError(f"boom on attempt {job.attempts} for ana.souza@example.com")

    job_id = await _enqueue(container, "flaky", {}, max_attempts=3)
    worker = _worker(container, {"flaky": flaky})

    async def is_dead() -> bool:
        return [job.id for job in await container.queue.list_jobs(status="dead")] == [job_id]

    async with _running(worker):
        await _eventually(is_dead)

    assert attempts == [1, 2, 3]
    [dead] = await container.queue.list_jobs(status="dead")
    assert dead.attempts == 3
    assert dead.last_error is not None
    assert "Traceback" in dead.last_error
    assert "ValueError: boom on attempt 3 for [EMAIL]" in dead.last_error
    assert "ana.souza@example.com" not in dead.last_error
    assert _outcomes(container, "flaky", "retry") == 2
    assert _outcomes(container, "flaky", "dead") == 1
    assert _outcomes(container, "flaky", "done") == 0


async def test_unknown_kind_is_dead_lettered_at_once(container: Container) -> None:
    job_id = await _enqueue(container, "no.such.kind", {"x": 1})
    worker = _worker(container, {})

    assert await worker.run_until_idle() == 1
    [dead] = await container.queue.list_jobs(status="dead")
    assert dead.id == job_id
    assert dead.attempts == 1 < dead.max_attempts
    assert "no handler for job kind 'no.such.kind'" in (dead.last_error or "")
    assert _outcomes(container, "no.such.kind", "dead") == 1


async def test_permanent_error_is_dead_lettered_at_once(container: Container) -> None:
    calls = 0

    async def refuse(_payload: dict[str, Any], _job: LeasedJob) -> None:
        nonlocal calls
        calls += 1
        raise PermanentJobError("tenant was deleted")

    await _enqueue(container, "refuse", {})
    worker = _worker(container, {"refuse": refuse})

    assert await worker.run_until_idle() == 1
    assert await worker.run_until_idle() == 0
    [dead] = await container.queue.list_jobs(status="dead")
    assert calls == 1
    assert dead.attempts == 1
    assert "tenant was deleted" in (dead.last_error or "")
    assert _outcomes(container, "refuse", "dead") == 1


async def test_snooze_reschedules_without_counting_an_attempt(container: Container) -> None:
    attempts: list[int] = []

    async def patient(_payload: dict[str, Any], job: LeasedJob) -> None:
        attempts.append(job.attempts)
        if len(attempts) <= 2:
            raise Snooze(timedelta(seconds=0.05), "waiting for the turn lease")
        if len(attempts) == 3:
            raise RuntimeError("one real failure")

    # Two attempts allowed: if the snoozes counted, the real failure would dead-letter the job.
    job_id = await _enqueue(container, "patient", {}, max_attempts=2)
    worker = _worker(container, {"patient": patient})

    async def is_done() -> bool:
        return (await _statuses(container))[job_id] == "done"

    async with _running(worker):
        await _eventually(is_done)

    assert attempts == [1, 1, 1, 2]
    [done] = await container.queue.list_jobs(status="done")
    assert done.attempts == 2
    assert _outcomes(container, "patient", "snoozed") == 2
    assert _outcomes(container, "patient", "retry") == 1
    assert _outcomes(container, "patient", "done") == 1


async def test_concurrency_is_bounded(container: Container) -> None:
    gate = asyncio.Event()
    running = 0
    peak = 0

    async def blocking(_payload: dict[str, Any], _job: LeasedJob) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        try:
            await gate.wait()
        finally:
            running -= 1

    for n in range(7):
        await _enqueue(container, "block", {"n": n})
    worker = _worker(container, {"block": blocking}, concurrency=3)

    async def three_running() -> bool:
        return running == 3

    async def all_done() -> bool:
        return set((await _statuses(container)).values()) == {"done"}

    async with _running(worker):
        await _eventually(three_running)
        await asyncio.sleep(10 * POLL_S)  # several polls: room to over-lease if it would
        assert running == 3
        stats = await container.queue.stats()
        assert stats.by_status["running"] == 3
        assert stats.by_status["queued"] == 4
        gate.set()
        await _eventually(all_done)

    assert peak == 3
    assert _outcomes(container, "block", "done") == 7


async def test_stop_lets_the_running_job_finish(container: Container) -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    finished: list[int] = []

    async def slow(payload: dict[str, Any], _job: LeasedJob) -> None:
        started.set()
        await release.wait()
        finished.append(payload["n"])

    first = await _enqueue(container, "slow", {"n": 1})
    second = await _enqueue(container, "slow", {"n": 2})
    worker = _worker(container, {"slow": slow}, concurrency=1)
    run = asyncio.create_task(worker.run())

    await asyncio.wait_for(started.wait(), 2)
    worker.stop()
    assert worker.stopping
    await asyncio.sleep(0.1)
    assert not run.done(), "run() returned while a job was still in flight"
    release.set()
    await asyncio.wait_for(run, 2)

    assert finished == [1]
    statuses = await _statuses(container)
    assert statuses[first] == "done"
    assert statuses[second] == "queued"  # not taken after stop()


async def test_stop_gives_up_on_a_job_after_the_shutdown_timeout(container: Container) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck(_payload: dict[str, Any], _job: LeasedJob) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    job_id = await _enqueue(container, "stuck", {})
    worker = _worker(container, {"stuck": stuck}, concurrency=1, shutdown_timeout_s=0.2)
    run = asyncio.create_task(worker.run())
    await asyncio.wait_for(started.wait(), 2)

    worker.stop()
    await asyncio.wait_for(run, 2)
    await asyncio.wait_for(cancelled.wait(), 1)
    # Left running: its lease expires and another worker takes it again.
    assert (await _statuses(container))[job_id] == "running"


async def test_stop_while_idle_returns_promptly(container: Container) -> None:
    worker = _worker(container, {})
    run = asyncio.create_task(worker.run())
    await asyncio.sleep(3 * POLL_S)
    worker.stop()
    await asyncio.wait_for(run, 1)


async def test_enqueue_wakes_an_idle_worker(db_url: str, tmp_path: Path) -> None:
    container = bootstrap(make_settings(db_url, tmp_path, queue={"poll_interval_s": 30}))
    done = asyncio.Event()

    async def handler(_payload: dict[str, Any], _job: LeasedJob) -> None:
        done.set()

    worker = Worker(
        container.queue,
        {"wake": handler},
        container.metrics,
        concurrency=1,
        poll_interval_s=30,
        heartbeat_s=10,
        shutdown_timeout_s=1,
    )
    try:
        async with _running(worker):
            await asyncio.sleep(0.1)  # the worker is now waiting out a 30 s poll
            await _enqueue(container, "wake", {})
            await asyncio.wait_for(done.wait(), 2)
    finally:
        await container.close()


async def test_heartbeat_keeps_a_long_job_leased(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, queue={"visibility_timeout_s": 0.6})
    container = bootstrap(settings)
    rival = bootstrap(settings)  # another process trying to take the same job
    calls = 0
    stolen: list[LeasedJob] = []

    async def long(_payload: dict[str, Any], _job: LeasedJob) -> None:
        nonlocal calls
        calls += 1
        loop = asyncio.get_running_loop()
        until = loop.time() + 1.0  # well past one visibility timeout
        while loop.time() < until:
            stolen.extend(await rival.queue.lease(limit=1))
            await asyncio.sleep(0.05)

    async def is_done() -> bool:
        return (await _statuses(container)).get(job_id) == "done"

    try:
        job_id = await _enqueue(container, "long", {})
        worker = _worker(container, {"long": long}, heartbeat_s=0.1)
        async with _running(worker):
            await _eventually(is_done)
        assert stolen == []
        assert calls == 1
        [done] = await container.queue.list_jobs(status="done")
        assert done.attempts == 1
        assert _outcomes(container, "long", "done") == 1
    finally:
        await container.close()
        await rival.db.dispose()


async def test_job_whose_lease_was_taken_over_is_counted_lost(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, queue={"visibility_timeout_s": 0.2})
    container = bootstrap(settings)
    rival = bootstrap(settings)
    taken: list[LeasedJob] = []

    async def slow(_payload: dict[str, Any], _job: LeasedJob) -> None:
        # No heartbeat in time: the lease expires and the rival takes the job over.
        loop = asyncio.get_running_loop()
        until = loop.time() + 2
        while not taken and loop.time() < until:
            await asyncio.sleep(0.05)
            taken.extend(await rival.queue.lease(limit=1))

    try:
        job_id = await _enqueue(container, "slow", {})
        worker = _worker(container, {"slow": slow}, heartbeat_s=10)
        assert await worker.run_until_idle() == 1
        assert [job.id for job in taken] == [job_id]
        assert taken[0].attempts == 2
        assert _outcomes(container, "slow", "lost") == 1
        assert _outcomes(container, "slow", "done") == 0
        assert (await _statuses(container))[job_id] == "running"  # the rival's now
        assert await rival.queue.complete(taken[0]) is True
    finally:
        await container.close()
        await rival.db.dispose()
