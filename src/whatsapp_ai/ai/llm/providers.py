"""Chat models of each provider, with retries, usage records and fallback along a chain."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import (
    Runnable,
    RunnableBinding,
    RunnableConfig,
    RunnableWithFallbacks,
)
from langchain_core.runnables.config import (
    ensure_config,
    get_async_callback_manager_for_config,
    get_callback_manager_for_config,
    patch_config,
)
from langchain_core.tools import BaseTool
from pydantic import ConfigDict, Field, SecretStr

from whatsapp_ai.ai.llm.pricing import Prices
from whatsapp_ai.ai.llm.retry import classify, retry_after_s
from whatsapp_ai.ai.llm.usage import UsageCallback, UsageSink
from whatsapp_ai.core.config import DEFAULT_PRICES, ProviderSpec
from whatsapp_ai.core.logging import get_logger

log = get_logger(__name__)

# A Retry-After longer than this is not waited for: the next provider answers sooner.
MAX_RETRY_WAIT_S = 10.0
BACKOFF_BASE_S = 0.5
# Local OpenAI-compatible servers take no key, but the client insists on one; never let it
# pick OPENAI_API_KEY from the environment and send the platform's key to another server.
NO_KEY = "no-key"

ToolLike = dict[str, Any] | type | Callable[..., Any] | BaseTool


class ProviderError(Exception):
    """One provider failed (after its retries); the SDK's exception is the cause."""

    def __init__(self, provider: str, model: str, cause: BaseException, attempts: int) -> None:
        """Name the provider, the model and the kind of failure, never the provider's text."""
        status = next(
            (
                value
                for value in (getattr(cause, "status_code", None), getattr(cause, "code", None))
                if isinstance(value, int)
            ),
            None,
        )
        what = type(cause).__name__ + (f" (HTTP {status})" if status else "")
        super().__init__(
            f"{provider}:{model} failed after {attempts} attempt(s): {what}, {classify(cause)}"
        )
        self.provider = provider
        self.model = model
        self.cause = cause
        self.attempts = attempts


class AllProvidersFailedError(Exception):
    """Every chat model of the chain failed; ``errors`` holds each one's error, in order."""

    def __init__(self, errors: Sequence[BaseException]) -> None:
        """Summarise every provider's failure in one message."""
        listed = "; ".join(str(error) for error in errors) or "no provider was tried"
        super().__init__(f"all {len(errors)} chat model provider(s) failed: {listed}")
        self.errors = list(errors)


class ResilientChatModel(BaseChatModel):
    """A provider's chat model with the platform's retry policy; tools bind through it.

    429 and 5xx are retried up to ``max_retries`` times, honouring Retry-After up to
    ``max_retry_wait_s``; timeouts, connection and client errors fail at once so the chain
    falls back promptly. Failures are raised as ProviderError.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    provider: str
    model: str
    max_retries: int = Field(default=0, ge=0)
    timeout_s: float | None = None
    max_retry_wait_s: float = MAX_RETRY_WAIT_S
    backoff_base_s: float = BACKOFF_BASE_S

    @property
    def _llm_type(self) -> str:
        return f"resilient-{self.provider}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return self.inner._get_ls_params(stop=stop, **kwargs)

    def bind_tools(
        self,
        tools: Sequence[ToolLike],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools in the provider's own format; calls still go through the retries."""
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        bound = self.inner.bind_tools(tools, **kwargs)
        if not isinstance(bound, RunnableBinding):
            raise TypeError(f"{type(self.inner).__name__}.bind_tools did not return a binding")
        return self.bind(**bound.kwargs)

    def _retry_delay(self, exc: BaseException, attempt: int) -> float | None:
        """Seconds to wait before another attempt, or None to give up on this provider."""
        if attempt > self.max_retries:
            return None
        kind = classify(exc)
        if kind == "rate_limit":
            asked = retry_after_s(exc)
            if asked is not None:
                return asked if asked <= self.max_retry_wait_s else None
        elif kind != "server":
            return None
        backoff = min(self.backoff_base_s * 2.0 ** (attempt - 1), self.max_retry_wait_s)
        return backoff * random.uniform(0.75, 1.0)

    def _failed(self, exc: Exception, attempts: int) -> ProviderError:
        error = ProviderError(self.provider, self.model, exc, attempts)
        log.warning(
            "llm.provider_failed",
            provider=self.provider,
            model=self.model,
            error=type(exc).__name__,
            kind=classify(exc),
            attempts=attempts,
        )
        return error

    def _retrying(self, exc: Exception, attempt: int, delay: float) -> None:
        log.info(
            "llm.retry",
            provider=self.provider,
            model=self.model,
            error=type(exc).__name__,
            attempt=attempt,
            delay_s=round(delay, 3),
        )

    def _result(self, result: ChatResult, attempts: int) -> ChatResult:
        llm_output = {**(result.llm_output or {}), "attempts": attempts}
        return ChatResult(generations=result.generations, llm_output=llm_output)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        attempt = 0
        while True:
            attempt += 1
            try:
                result = self.inner._generate(messages, stop, run_manager, **kwargs)
            except Exception as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise self._failed(exc, attempt) from exc
                self._retrying(exc, attempt, delay)
                time.sleep(delay)
            else:
                return self._result(result, attempt)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        attempt = 0
        while True:
            attempt += 1
            try:
                # The SDK's timeout bounds each read; this bounds the whole attempt.
                async with asyncio.timeout(self.timeout_s):
                    result = await self.inner._agenerate(messages, stop, run_manager, **kwargs)
            except Exception as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise self._failed(exc, attempt) from exc
                self._retrying(exc, attempt, delay)
                await asyncio.sleep(delay)
            else:
                return self._result(result, attempt)


class FallbackChain(RunnableWithFallbacks[LanguageModelInput, AIMessage]):
    """Chat models tried in order; raises AllProvidersFailedError when every one failed.

    ``invoke``/``ainvoke`` collect each provider's error; streaming and batching keep
    LangChain's behaviour (fall back before the first chunk, raise the first error).
    """

    def bind_tools(
        self, tools: Sequence[ToolLike], *, tool_choice: str | None = None, **kwargs: Any
    ) -> FallbackChain:
        """Bind the tools on every model of the chain, each in its provider's format."""
        bound = _bind_each(list(self.runnables), tools, tool_choice, kwargs)
        return FallbackChain(
            runnable=bound[0],
            fallbacks=bound[1:],
            exceptions_to_handle=self.exceptions_to_handle,
        )

    def invoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """Try each model in turn; the first reply wins."""
        config = ensure_config(config)
        run_manager = get_callback_manager_for_config(config).on_chain_start(
            None,
            input,
            name=config.get("run_name") or self.get_name(),
            run_id=config.pop("run_id", None),
        )
        errors: list[BaseException] = []
        for runnable in self.runnables:
            try:
                output = runnable.invoke(
                    input, patch_config(config, callbacks=run_manager.get_child()), **kwargs
                )
            except self.exceptions_to_handle as exc:
                errors.append(exc)
            except BaseException as exc:
                run_manager.on_chain_error(exc)
                raise
            else:
                run_manager.on_chain_end(output)
                return output
        error = AllProvidersFailedError(errors)
        run_manager.on_chain_error(error)
        raise error from errors[-1]

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """Try each model in turn; the first reply wins."""
        config = ensure_config(config)
        run_manager = await get_async_callback_manager_for_config(config).on_chain_start(
            None,
            input,
            name=config.get("run_name") or self.get_name(),
            run_id=config.pop("run_id", None),
        )
        errors: list[BaseException] = []
        for runnable in self.runnables:
            try:
                output = await runnable.ainvoke(
                    input, patch_config(config, callbacks=run_manager.get_child()), **kwargs
                )
            except self.exceptions_to_handle as exc:
                errors.append(exc)
            except BaseException as exc:
                await run_manager.on_chain_error(exc)
                raise
            else:
                await run_manager.on_chain_end(output)
                return output
        error = AllProvidersFailedError(errors)
        await run_manager.on_chain_error(error)
        raise error from errors[-1]


def bind_tools_with_fallbacks(
    models: Sequence[Runnable[LanguageModelInput, AIMessage]],
    tools: Sequence[ToolLike],
    *,
    tool_choice: str | None = None,
    **kwargs: Any,
) -> FallbackChain:
    """Bind ``tools`` on each model (each in its provider's format), then chain them."""
    bound = _bind_each(models, tools, tool_choice, kwargs)
    return FallbackChain(runnable=bound[0], fallbacks=bound[1:])


def _bind_each(
    models: Sequence[Runnable[LanguageModelInput, AIMessage]],
    tools: Sequence[ToolLike],
    tool_choice: str | None,
    kwargs: dict[str, Any],
) -> list[Runnable[LanguageModelInput, AIMessage]]:
    bound: list[Runnable[LanguageModelInput, AIMessage]] = []
    for model in models:
        # A model bound before is bound afresh: the new tools replace the old ones.
        target = model.bound if isinstance(model, RunnableBinding) else model
        if not isinstance(target, BaseChatModel):
            raise TypeError(f"cannot bind tools on {type(model).__name__}")
        bound.append(target.bind_tools(tools, tool_choice=tool_choice, **kwargs))
    if not bound:
        raise ValueError("no chat model to bind tools on")
    return bound


def provider_model(spec: ProviderSpec) -> BaseChatModel:
    """The provider's own LangChain chat model for ``spec``, its SDK's retries turned off."""
    options: dict[str, Any] = {"model": spec.model, "timeout": spec.timeout_s}
    if spec.temperature is not None:
        options["temperature"] = spec.temperature
    match spec.provider:
        case "openai":
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(api_key=spec.api_key, max_retries=0, **options)
        case "openai_compatible":
            from langchain_openai import ChatOpenAI

            return ChatOpenAI(
                base_url=spec.base_url,
                api_key=spec.api_key if spec.api_key.get_secret_value() else SecretStr(NO_KEY),
                organization=None,
                use_responses_api=False,
                max_retries=0,
                **options,
            )
        case "groq":
            from langchain_groq import ChatGroq

            return ChatGroq(api_key=spec.api_key, max_retries=0, **options)
        case "gemini":
            from langchain_google_genai import ChatGoogleGenerativeAI

            # google-genai reads max_retries=0 as "its default"; 1 is a single attempt.
            return ChatGoogleGenerativeAI(
                google_api_key=spec.api_key, vertexai=False, max_retries=1, **options
            )
        case "offline":
            raise ValueError("the offline model is given to build_chat_model, not built")


def build_chat_model(
    spec: ProviderSpec,
    *,
    offline: BaseChatModel | None = None,
    sink: UsageSink | None = None,
    prices: Prices | None = None,
    position: int = 0,
) -> ResilientChatModel:
    """The chat model for ``spec``, retrying as the spec says, recording usage into ``sink``.

    ``position`` is its place in a chain: calls of a model past the first are fallbacks.
    """
    if spec.provider == "offline":
        if offline is None:
            raise ValueError("provider 'offline' needs the offline model")
        inner = offline
        model = spec.model or str(getattr(offline, "model_name", "") or "offline")
        timeout_s: float | None = None
        max_retries = 0
    else:
        inner = provider_model(spec)
        model, timeout_s, max_retries = spec.model, spec.timeout_s, spec.max_retries
    callbacks = []
    if sink is not None:
        table = prices if prices is not None else DEFAULT_PRICES
        callbacks.append(
            UsageCallback(
                sink=sink, provider=spec.provider, model=model, position=position, prices=table
            )
        )
    return ResilientChatModel(
        inner=inner,
        provider=spec.provider,
        model=model,
        max_retries=max_retries,
        timeout_s=timeout_s,
        callbacks=callbacks or None,
    )


def build_chain(
    specs: Sequence[ProviderSpec],
    *,
    offline: BaseChatModel | None = None,
    sink: UsageSink | None = None,
    prices: Prices | None = None,
) -> FallbackChain:
    """The chat models of ``specs`` tried in order, then the offline model as the last resort.

    ``specs`` is the platform's default chain or a tenant's own. The offline model goes
    where an "offline" spec puts it, or last when no spec names it.
    """
    specs = list(specs)
    if offline is not None and not any(spec.provider == "offline" for spec in specs):
        specs.append(ProviderSpec(provider="offline"))
    if not specs:
        raise ValueError("no chat model: give provider specs or the offline model")
    models = [
        build_chat_model(spec, offline=offline, sink=sink, prices=prices, position=position)
        for position, spec in enumerate(specs)
    ]
    return FallbackChain(runnable=models[0], fallbacks=models[1:])
