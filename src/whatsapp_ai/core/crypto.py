"""Secrets at rest: Fernet encryption with key rotation (MultiFernet)."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SecretKeyError(Exception):
    """No usable encryption key, or a value that none of the keys can read."""


class SecretBox:
    """Encrypts with the first key; decrypts with any (so keys can rotate)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise SecretKeyError("at least one Fernet key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        except ValueError as exc:
            raise SecretKeyError(
                "each key must be 32 url-safe base64-encoded bytes (Fernet.generate_key())"
            ) from exc

    def encrypt(self, plain: str) -> str:
        """Ciphertext for ``plain``."""
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The plain text of ``token``."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(
                "a stored secret cannot be decrypted with the configured keys"
            ) from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the first key."""
        return self._fernet.rotate(token.encode()).decode()


def local_key(data_dir: Path) -> str:
    """A key kept in the data directory, created on first use (embedded default only)."""
    path = data_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(Fernet.generate_key().decode() + "\n")
    return path.read_text().strip()
