"""Blob store for media: a local directory by default, behind a small interface."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$")


class BlobStore(Protocol):
    """Stores bytes under a key."""

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (overwrites)."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes under ``key``; KeyError when absent."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove ``key``; whether it existed."""
        ...


class LocalBlobStore:
    """Files under one directory; keys are relative paths without '..'."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid blob key: {key!r}")
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        """Write atomically (temp file, then rename)."""
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_suffix(path.suffix + ".part")
            temp.write_bytes(data)
            temp.replace(path)

        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        """Read the file for ``key``."""
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError as exc:
            raise KeyError(key) from exc

    async def delete(self, key: str) -> bool:
        """Delete the file for ``key``."""
        path = self._path(key)
        try:
            await asyncio.to_thread(path.unlink)
        except FileNotFoundError:
            return False
        return True
