"""Data subject rights across modules: each module registers how to export and erase what it
holds about a contact, so nothing is forgotten as modules grow (LGPD / GDPR)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

DELETE_BLOBS_JOB = "privacy.delete_blobs"


@dataclass
class ContactRef:
    """The contact being exported or erased, and ids other modules found for it."""

    tenant_id: str
    contact_id: str
    address: str
    related: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Erased:
    """What one module removed: row count, and blobs to delete once the rows are gone."""

    rows: int
    blob_keys: list[str] = field(default_factory=list)


Collector = Callable[[AsyncSession, ContactRef], Awaitable[None]]
Exporter = Callable[[AsyncSession, ContactRef], Awaitable[Any]]
Eraser = Callable[[AsyncSession, ContactRef], Awaitable[Erased]]


@dataclass
class _Entry:
    name: str
    export: Exporter
    erase: Eraser


class PrivacyRegistry:
    """Exporters and erasers by module, run in registration order (owners of rows others
    point at register last)."""

    def __init__(self) -> None:
        self._collectors: list[Collector] = []
        self._entries: list[_Entry] = []

    def collect(self, collector: Collector) -> None:
        """Add a step that finds related ids (e.g. message ids) before export or erasure."""
        self._collectors.append(collector)

    def register(self, name: str, *, export: Exporter, erase: Eraser) -> None:
        """Declare what module ``name`` holds about a contact."""
        if any(entry.name == name for entry in self._entries):
            raise ValueError(f"{name!r} is registered already")
        self._entries.append(_Entry(name, export, erase))

    @property
    def names(self) -> list[str]:
        """Registered modules, in order."""
        return [entry.name for entry in self._entries]

    async def _collect(self, session: AsyncSession, ref: ContactRef) -> None:
        for collector in self._collectors:
            await collector(session, ref)

    async def export(self, session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
        """Everything every module holds about the contact, by module."""
        await self._collect(session, ref)
        return {entry.name: await entry.export(session, ref) for entry in self._entries}

    async def erase(
        self, session: AsyncSession, ref: ContactRef
    ) -> tuple[dict[str, int], list[str]]:
        """Remove the contact from every module in the caller's transaction.

        Returns rows removed by module and the blob keys to delete after commit.
        """
        await self._collect(session, ref)
        counts: dict[str, int] = {}
        blobs: list[str] = []
        for entry in self._entries:
            erased = await entry.erase(session, ref)
            counts[entry.name] = erased.rows
            blobs.extend(erased.blob_keys)
        return counts, blobs
