"""Which provider errors are worth another attempt on the same provider, and when."""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from langchain_core.exceptions import ModelAPIError, ModelRateLimitError, ModelTimeoutError

ErrorKind = Literal["rate_limit", "server", "timeout", "other"]

# OpenAI answers 429 for an exhausted balance too; waiting does not refill it.
_NOT_TRANSIENT_CODES = frozenset(["insufficient_quota"])
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and the ones it was raised from (LangChain wraps the SDKs' errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(exc: BaseException) -> int | None:
    for name in ("status_code", "code", "status"):
        value = getattr(exc, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value < 600:
            return value
    return None


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError | ModelTimeoutError):
        return True
    # httpx, httpx2, openai, groq and google-genai each have their own timeout classes.
    return any("Timeout" in cls.__name__ for cls in type(exc).__mro__)


def classify(exc: BaseException) -> ErrorKind:
    """Rate limit, server error, timeout, or anything else (not worth retrying here)."""
    chain = list(causes(exc))
    if any(_is_timeout(item) for item in chain):
        return "timeout"
    for item in chain:
        if getattr(item, "code", None) in _NOT_TRANSIENT_CODES:
            return "other"
    for item in chain:
        status = _status(item)
        if isinstance(item, ModelRateLimitError) or status == 429:
            return "rate_limit"
        if isinstance(item, ModelAPIError) or (status is not None and status >= 500):
            return "server"
    return "other"


def retry_after_s(exc: BaseException, *, now: float | None = None) -> float | None:
    """Seconds the provider asked us to wait (Retry-After, retry-after-ms, Google RetryInfo)."""
    for item in causes(exc):
        response = getattr(item, "response", None)
        headers = getattr(response, "headers", None)
        if isinstance(headers, Mapping) or hasattr(headers, "get"):
            delay = _from_headers(headers, now)
            if delay is not None:
                return delay
        delay = _from_retry_info(getattr(item, "details", None))
        if delay is not None:
            return delay
    return None


def _from_headers(headers: Any, now: float | None) -> float | None:
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return _finite(float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return _finite(float(raw))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(raw)
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - (time.time() if now is None else now))


def _from_retry_info(details: Any) -> float | None:
    """Google's body: {"error": {"details": [{"@type": ".../google.rpc.RetryInfo", ...}]}}."""
    if not isinstance(details, Mapping):
        return None
    error = details.get("error", details)
    items = error.get("details") if isinstance(error, Mapping) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and str(item.get("@type", "")).endswith("RetryInfo"):
            match = _DURATION.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) and value >= 0 else None
