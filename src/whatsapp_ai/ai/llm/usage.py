"""Usage of each model call (tokens, latency, cost), handed to a sink the caller gives."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from whatsapp_ai.ai.llm.pricing import Prices, cost_usd


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One call to one provider (its retries included), successful or not."""

    provider: str
    model: str
    tokens_in: int
    tokens_out: int
    latency_s: float
    # USD from the price table; None when the table has no price for the model.
    cost_usd: float | None
    # True when an earlier provider of the chain had failed (position > 0).
    fallback: bool
    position: int
    attempts: int
    # The exception class when the call failed (never its message, which may echo secrets).
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call produced a reply."""
        return self.error is None


# Tenant and conversation are the caller's: it closes over them in the sink it passes.
UsageSink = Callable[[UsageRecord], None]


class UsageCallback(BaseCallbackHandler):
    """Turns a chat model's start/end/error callbacks into UsageRecords for ``sink``."""

    # Called on the event loop itself: the sink is cheap and the record is there on return.
    run_inline = True

    def __init__(
        self,
        *,
        sink: UsageSink,
        provider: str,
        model: str,
        position: int,
        prices: Prices | None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """Record calls of one model, the ``position``-th of its chain."""
        self._sink = sink
        self._provider = provider
        self._model = model
        self._position = position
        self._prices = prices
        self._clock = clock
        self._started: dict[UUID, float] = {}

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        """Note when the call started."""
        self._started[run_id] = self._clock()

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Note when the call started (completion-style models)."""
        self._started[run_id] = self._clock()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Record a successful call."""
        tokens_in, tokens_out = _tokens(response)
        attempts = (response.llm_output or {}).get("attempts", 1)
        self._emit(run_id, tokens_in, tokens_out, int(attempts), None)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Record a failed call."""
        attempts = getattr(error, "attempts", 1)
        cause = getattr(error, "cause", None) or error
        self._emit(run_id, 0, 0, int(attempts), type(cause).__name__)

    def _emit(
        self, run_id: UUID, tokens_in: int, tokens_out: int, attempts: int, error: str | None
    ) -> None:
        started = self._started.pop(run_id, None)
        latency = self._clock() - started if started is not None else 0.0
        self._sink(
            UsageRecord(
                provider=self._provider,
                model=self._model,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                latency_s=latency,
                cost_usd=cost_usd(
                    self._prices,
                    provider=self._provider,
                    model=self._model,
                    tokens_in=tokens_in,
                    tokens_out=tokens_out,
                ),
                fallback=self._position > 0,
                position=self._position,
                attempts=attempts,
                error=error,
            )
        )


def _tokens(response: LLMResult) -> tuple[int, int]:
    """Input and output tokens: the messages' usage metadata, else the provider's llm_output."""
    tokens_in = tokens_out = 0
    found = False
    for generations in response.generations:
        for generation in generations:
            if isinstance(generation, ChatGeneration):
                usage = getattr(generation.message, "usage_metadata", None)
                if usage:
                    found = True
                    tokens_in += usage.get("input_tokens", 0)
                    tokens_out += usage.get("output_tokens", 0)
    if found:
        return tokens_in, tokens_out
    token_usage = (response.llm_output or {}).get("token_usage") or {}
    return int(token_usage.get("prompt_tokens", 0)), int(token_usage.get("completion_tokens", 0))
