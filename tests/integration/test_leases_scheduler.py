"""Named leases and the leader-elected scheduler on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import make_settings
from whatsapp_ai.bootstrap import Container, bootstrap
from whatsapp_ai.core.clock import ManualClock
from whatsapp_ai.core.scheduler import LEADER_KEY, PeriodicTask, Scheduler

TTL = timedelta(seconds=30)
LEADER_LEASE = timedelta(seconds=30)


@pytest.fixture
def clock() -> ManualClock:
    """Time that only moves when a test says so."""
    return ManualClock()


@pytest.fixture
async def pair(
    db_url: str, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[tuple[Container, Container]]:
    """Two containers (two engines, as two processes) on one database and one manual clock."""
    settings = make_settings(db_url, tmp_path)
    first = bootstrap(settings, clock=clock)
    second = bootstrap(settings, clock=clock)
    yield first, second
    await first.db.dispose()
    await second.db.dispose()


async def _holds(container: Container, key: str, owner: str) -> bool:
    async with container.db.read() as session:
        return await container.leases.holds(session, key, owner)


# -- leases ----------------------------------------------------------------------------------


async def test_owner_acquires_holds_and_renews(
    pair: tuple[Container, Container], clock: ManualClock
) -> None:
    a, _b = pair
    assert await a.leases.acquire("conv:1", "worker-a", TTL) is True
    assert await _holds(a, "conv:1", "worker-a") is True
    assert await _holds(a, "conv:1", "worker-b") is False
    assert await _holds(a, "conv:2", "worker-a") is False

    clock.advance(seconds=20)
    assert await a.leases.acquire("conv:1", "worker-a", TTL) is True  # renewal
    clock.advance(seconds=20)  # 40 s after the first take, 20 s into the renewed one
    assert await _holds(a, "conv:1", "worker-a") is True
    clock.advance(seconds=10)
    assert await _holds(a, "conv:1", "worker-a") is False  # expired, even with no rival


async def test_second_owner_is_refused_until_expiry_then_takes_over(
    pair: tuple[Container, Container], clock: ManualClock
) -> None:
    a, b = pair
    assert await a.leases.acquire("conv:1", "worker-a", TTL) is True
    assert await b.leases.acquire("conv:1", "worker-b", TTL) is False
    assert await b.leases.acquire("conv:2", "worker-b", TTL) is True  # other keys are free

    clock.advance(seconds=29)
    assert await b.leases.acquire("conv:1", "worker-b", TTL) is False
    assert await _holds(b, "conv:1", "worker-a") is True

    clock.advance(seconds=1)
    assert await b.leases.acquire("conv:1", "worker-b", TTL) is True
    assert await _holds(a, "conv:1", "worker-a") is False
    assert await _holds(a, "conv:1", "worker-b") is True
    # The old owner cannot renew its way back while the new one holds it.
    assert await a.leases.acquire("conv:1", "worker-a", TTL) is False


async def test_release_frees_the_key_only_for_its_owner(
    pair: tuple[Container, Container],
) -> None:
    a, b = pair
    assert await a.leases.acquire("conv:1", "worker-a", TTL) is True

    await b.leases.release("conv:1", "worker-b")  # not the holder: no effect
    assert await _holds(a, "conv:1", "worker-a") is True
    assert await b.leases.acquire("conv:1", "worker-b", TTL) is False

    await a.leases.release("conv:1", "worker-a")
    assert await _holds(a, "conv:1", "worker-a") is False
    assert await b.leases.acquire("conv:1", "worker-b", TTL) is True
    await a.leases.release("conv:1", "worker-a")  # releasing what one lost is harmless
    assert await _holds(b, "conv:1", "worker-b") is True


async def test_concurrent_acquires_have_one_winner(
    pair: tuple[Container, Container],
) -> None:
    a, b = pair
    leases = [a.leases, b.leases, a.leases, b.leases]
    results = await asyncio.gather(
        *(lease.acquire("race", f"owner-{i}", TTL) for i, lease in enumerate(leases))
    )
    assert sum(results) == 1
    winner = f"owner-{results.index(True)}"
    assert await _holds(a, "race", winner) is True


# -- scheduler -------------------------------------------------------------------------------


def _counter(name: str, every: timedelta, runs: list[str]) -> PeriodicTask:
    async def run() -> str:
        runs.append(name)
        return name

    return PeriodicTask(name=name, every=every, run=run)


def _scheduler(container: Container, clock: ManualClock, tasks: list[PeriodicTask]) -> Scheduler:
    return Scheduler(container.leases, clock, tasks, tick_s=0.01, leader_lease=LEADER_LEASE)


async def test_only_one_scheduler_runs_a_task_per_tick(
    pair: tuple[Container, Container], clock: ManualClock
) -> None:
    a, b = pair
    runs_a: list[str] = []
    runs_b: list[str] = []
    first = _scheduler(a, clock, [_counter("purge", timedelta(seconds=10), runs_a)])
    second = _scheduler(b, clock, [_counter("purge", timedelta(seconds=10), runs_b)])

    leaders: set[tuple[bool, ...]] = set()
    for _ in range(5):
        led = tuple(await asyncio.gather(first.tick(), second.tick()))
        assert sorted(led) == [False, True]  # exactly one leads, whoever won the race
        leaders.add(led)
        clock.advance(seconds=10)

    assert len(leaders) == 1  # and it stays the leader while it renews
    assert sorted([runs_a, runs_b]) == [[], ["purge"] * 5]


async def test_follower_takes_over_when_the_leader_stops(
    pair: tuple[Container, Container], clock: ManualClock
) -> None:
    a, b = pair
    runs_a: list[str] = []
    runs_b: list[str] = []
    first = _scheduler(a, clock, [_counter("purge", timedelta(seconds=10), runs_a)])
    second = _scheduler(b, clock, [_counter("purge", timedelta(seconds=10), runs_b)])

    run = asyncio.create_task(first.run())
    await _until(lambda: _leader_is(a, first.owner))
    assert await second.tick() is False
    first.stop()
    await asyncio.wait_for(run, 2)

    # Released on the way out: no need to wait for the leader lease to expire.
    assert await second.tick() is True
    assert runs_b == ["purge"]
    assert runs_a == ["purge"]
    assert await first.tick() is False


async def test_follower_takes_over_when_the_leader_vanishes(
    pair: tuple[Container, Container], clock: ManualClock
) -> None:
    a, b = pair
    runs_b: list[str] = []
    first = _scheduler(a, clock, [_counter("purge", timedelta(seconds=10), [])])
    second = _scheduler(b, clock, [_counter("purge", timedelta(seconds=10), runs_b)])

    assert await first.tick() is True
    clock.advance(LEADER_LEASE - timedelta(seconds=1))
    assert await second.tick() is False
    clock.advance(seconds=1)  # the leader never renewed: crashed
    assert await second.tick() is True
    assert runs_b == ["purge"]
    assert await first.tick() is False


async def test_task_interval_is_respected(
    pair: tuple[Container, Container], clock: ManualClock
) -> None:
    a, _b = pair
    runs: list[str] = []
    scheduler = _scheduler(
        a,
        clock,
        [
            _counter("often", timedelta(seconds=10), runs),
            _counter("rare", timedelta(minutes=1), runs),
        ],
    )

    assert await scheduler.tick() is True
    assert runs == ["often", "rare"]
    runs.clear()
    for _ in range(3):
        clock.advance(seconds=3)
        assert await scheduler.tick() is True
    assert runs == []  # 9 s in: nothing due
    clock.advance(seconds=1)
    await scheduler.tick()
    assert runs == ["often"]

    runs.clear()
    for _ in range(5):  # every 10 s up to 60 s after the first tick
        clock.advance(seconds=10)
        await scheduler.tick()
    assert runs == ["often"] * 4 + ["often", "rare"]


async def test_failing_task_does_not_stop_the_others(
    pair: tuple[Container, Container], clock: ManualClock
) -> None:
    a, _b = pair
    runs: list[str] = []
    failures = 0

    async def broken() -> None:
        nonlocal failures
        failures += 1
        raise RuntimeError("disk full")

    scheduler = _scheduler(
        a,
        clock,
        [
            _counter("before", timedelta(seconds=10), runs),
            PeriodicTask(name="broken", every=timedelta(seconds=10), run=broken),
            _counter("after", timedelta(seconds=10), runs),
        ],
    )

    assert await scheduler.tick() is True
    clock.advance(seconds=10)
    assert await scheduler.tick() is True
    assert runs == ["before", "after", "before", "after"]
    assert failures == 2


async def test_run_keeps_ticking_and_releases_leadership(
    pair: tuple[Container, Container], clock: ManualClock
) -> None:
    a, _b = pair
    runs: list[str] = []
    scheduler = _scheduler(a, clock, [_counter("tick", timedelta(seconds=5), runs)])

    async def ran(times: int) -> None:
        async def check() -> bool:
            return len(runs) >= times

        await _until(check)

    run = asyncio.create_task(scheduler.run())
    await ran(1)
    await asyncio.sleep(0.05)  # several ticks with the clock standing still
    assert runs == ["tick"]
    for expected in (2, 3):
        clock.advance(seconds=5)
        await ran(expected)
    scheduler.stop()
    await asyncio.wait_for(run, 2)
    assert runs == ["tick"] * 3
    assert await _leader_is(a, scheduler.owner) is False


async def _leader_is(container: Container, owner: str) -> bool:
    async with container.db.read() as session:
        return await container.leases.holds(session, LEADER_KEY, owner)


async def _until(check: Callable[[], Awaitable[bool]], timeout: float = 2.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
