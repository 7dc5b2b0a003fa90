"""LLM providers through the real LangChain clients against a fake OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import tool
from pydantic import SecretStr, ValidationError

from tests.fakes.openai import FakeOpenAI
from whatsapp_ai.ai.llm import (
    AllProvidersFailedError,
    FallbackChain,
    ModelPrice,
    ProviderError,
    ProviderSpec,
    ResilientChatModel,
    UsageRecord,
    bind_tools_with_fallbacks,
    build_chain,
    build_chat_model,
    cost_usd,
)
from whatsapp_ai.ai.llm.retry import classify, retry_after_s
from whatsapp_ai.core.config import DEFAULT_PRICES, PriceTable, SettingsError, load_settings

SECRET = "sk-test-Zq9vXw3Lr8T0pKfA"
PRICES = {
    "openai_compatible:primary-model": ModelPrice(input_per_mtok=2.0, output_per_mtok=8.0),
    "openai_compatible:backup-model": ModelPrice(input_per_mtok=0.5, output_per_mtok=1.5),
}


@tool
def record_expense(amount: float, category: str) -> str:
    """Record an expense of `amount` in `category`."""
    return f"recorded {amount:.2f} in {category}"


class OfflineModel(BaseChatModel):
    """A deterministic stand-in for the platform's offline model (no network, tools bindable)."""

    @property
    def _llm_type(self) -> str:
        return "test-offline"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = [t["function"]["name"] for t in kwargs.get("tools", [])]
        text = f"offline answer (tools: {', '.join(tools) or 'none'})"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def bind_tools(
        self, tools: Any, *, tool_choice: str | None = None, **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        from langchain_core.utils.function_calling import convert_to_openai_tool

        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)


@pytest.fixture(scope="module")
def primary() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(scope="module")
def backup() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_fakes(primary: FakeOpenAI, backup: FakeOpenAI) -> None:
    primary.reset()
    backup.reset()


def spec(fake: FakeOpenAI, model: str, **overrides: Any) -> ProviderSpec:
    options: dict[str, Any] = {"timeout_s": 5.0, "max_retries": 2, "api_key": SecretStr(SECRET)}
    options.update(overrides)
    return ProviderSpec(
        provider="openai_compatible", model=model, base_url=fake.base_url, **options
    )


def chain_of(*specs: ProviderSpec, **kwargs: Any) -> tuple[FallbackChain, list[UsageRecord]]:
    records: list[UsageRecord] = []
    return build_chain(list(specs), sink=records.append, prices=PRICES, **kwargs), records


# ----------------------------------------------------------------------------- plain calls


async def test_plain_call_records_tokens_latency_and_cost(primary: FakeOpenAI) -> None:
    primary.reply("Olá! Como posso ajudar?", prompt_tokens=1200, completion_tokens=300)
    chain, records = chain_of(spec(primary, "primary-model"))

    answer = await chain.ainvoke([HumanMessage("oi")])

    assert answer.content == "Olá! Como posso ajudar?"
    [request] = primary.requests
    assert request.model == "primary-model"
    assert request.messages == [{"role": "user", "content": "oi"}]
    assert request.authorization == f"Bearer {SECRET}"
    [record] = records
    assert (record.provider, record.model) == ("openai_compatible", "primary-model")
    assert (record.tokens_in, record.tokens_out) == (1200, 300)
    assert record.cost_usd == pytest.approx((1200 * 2.0 + 300 * 8.0) / 1_000_000)
    assert record.latency_s > 0
    assert (record.fallback, record.position, record.attempts, record.ok) == (False, 0, 1, True)


async def test_sink_gets_tenant_and_conversation_from_the_caller(primary: FakeOpenAI) -> None:
    stored: list[tuple[str, str, UsageRecord]] = []

    def sink_for(tenant_id: str, conversation_id: str) -> Any:
        return lambda record: stored.append((tenant_id, conversation_id, record))

    chain = build_chain([spec(primary, "primary-model")], sink=sink_for("t-1", "c-9"))
    await chain.ainvoke("oi")

    assert [(t, c, r.model) for t, c, r in stored] == [("t-1", "c-9", "primary-model")]


async def test_unknown_price_leaves_cost_unknown(primary: FakeOpenAI) -> None:
    chain, records = chain_of(spec(primary, "unpriced-model"))
    await chain.ainvoke("oi")
    assert records[0].cost_usd is None
    assert records[0].tokens_in > 0


async def test_sync_invoke_retries_and_records(primary: FakeOpenAI) -> None:
    primary.fail(429, retry_after=0.05)
    primary.reply("sync ok", prompt_tokens=10, completion_tokens=2)
    chain, records = chain_of(spec(primary, "primary-model"))

    answer = await asyncio.to_thread(chain.invoke, "oi")

    assert answer.content == "sync ok"
    assert [r.status for r in primary.requests] == [429, 200]
    assert (records[0].attempts, records[0].tokens_in) == (2, 10)


# ------------------------------------------------------------------------------------ tools


async def test_bind_tools_round_trip(primary: FakeOpenAI) -> None:
    call_id = primary.tool_call("record_expense", {"amount": 42.5, "category": "food"})
    primary.reply("Anotado: R$ 42,50 em alimentação.")
    chain, records = chain_of(spec(primary, "primary-model"))
    model = chain.bind_tools([record_expense])
    history: list[BaseMessage] = [HumanMessage("gastei 42,50 no almoço")]

    asked = await model.ainvoke(history)

    assert asked.tool_calls == [
        {
            "name": "record_expense",
            "args": {"amount": 42.5, "category": "food"},
            "id": call_id,
            "type": "tool_call",
        }
    ]
    result = await record_expense.ainvoke(asked.tool_calls[0])
    final = await model.ainvoke([*history, asked, result])

    assert final.content == "Anotado: R$ 42,50 em alimentação."
    first, second = primary.requests
    assert first.tool_names == ["record_expense"]
    parameters = first.body["tools"][0]["function"]["parameters"]
    assert set(parameters["properties"]) == {"amount", "category"}
    assert second.messages[-1] == {
        "role": "tool",
        "tool_call_id": call_id,
        "content": "recorded 42.50 in food",
    }
    assert len(records) == 2


async def test_tools_stay_bound_on_the_fallback(primary: FakeOpenAI, backup: FakeOpenAI) -> None:
    primary.fail(500, times=None)
    backup.tool_call("record_expense", {"amount": 10, "category": "taxi"})
    chain, records = chain_of(
        spec(primary, "primary-model", max_retries=0), spec(backup, "backup-model")
    )

    asked = await chain.bind_tools([record_expense]).ainvoke("táxi 10 reais")

    assert asked.tool_calls[0]["args"] == {"amount": 10, "category": "taxi"}
    assert primary.requests[0].tool_names == ["record_expense"]
    assert backup.requests[0].tool_names == ["record_expense"]
    assert [(r.model, r.ok, r.fallback) for r in records] == [
        ("primary-model", False, False),
        ("backup-model", True, True),
    ]


async def test_langchain_with_fallbacks_keeps_tools_too(
    primary: FakeOpenAI, backup: FakeOpenAI
) -> None:
    primary.fail(400, times=None)
    backup.tool_call("record_expense", {"amount": 3, "category": "café"})
    chain, _ = chain_of(spec(primary, "primary-model"), spec(backup, "backup-model"))
    first, *rest = chain.runnables

    plain = first.with_fallbacks(rest).bind_tools([record_expense])
    helper = bind_tools_with_fallbacks([first, *rest], [record_expense])

    assert (await plain.ainvoke("café 3")).tool_calls[0]["name"] == "record_expense"
    backup.tool_call("record_expense", {"amount": 3, "category": "café"})
    assert (await helper.ainvoke("café 3")).tool_calls[0]["name"] == "record_expense"
    assert [r.tool_names for r in backup.requests] == [["record_expense"], ["record_expense"]]


# --------------------------------------------------------------------- retries and fallback


async def test_rate_limit_once_is_retried_on_the_same_provider(
    primary: FakeOpenAI, backup: FakeOpenAI
) -> None:
    primary.fail(429, retry_after=0.3)
    primary.reply("depois do limite")
    chain, records = chain_of(spec(primary, "primary-model"), spec(backup, "backup-model"))

    answer = await chain.ainvoke("oi")

    assert answer.content == "depois do limite"
    limited, answered = primary.requests
    assert (limited.status, answered.status) == (429, 200)
    assert answered.at - limited.at >= 0.25, "Retry-After was not honoured"
    assert backup.requests == []
    [record] = records
    assert (record.fallback, record.attempts, record.ok) == (False, 2, True)


async def test_persistent_rate_limit_falls_back(primary: FakeOpenAI, backup: FakeOpenAI) -> None:
    primary.fail(429, retry_after=0.05, times=None)
    backup.reply("resposta do reserva", prompt_tokens=100, completion_tokens=10)
    chain, records = chain_of(
        spec(primary, "primary-model", max_retries=2), spec(backup, "backup-model")
    )

    answer = await chain.ainvoke("oi")

    assert answer.content == "resposta do reserva"
    assert [r.status for r in primary.requests] == [429, 429, 429]
    assert [r.status for r in backup.requests] == [200]
    failed, served = records
    assert (failed.model, failed.attempts, failed.error) == (
        "primary-model",
        3,
        "OpenAIRateLimitError",
    )
    assert (failed.fallback, failed.tokens_in) == (False, 0)
    assert (served.model, served.fallback, served.position, served.ok) == (
        "backup-model",
        True,
        1,
        True,
    )
    assert served.cost_usd == pytest.approx((100 * 0.5 + 10 * 1.5) / 1_000_000)


async def test_long_retry_after_falls_back_without_waiting(
    primary: FakeOpenAI, backup: FakeOpenAI
) -> None:
    primary.fail(429, retry_after=120)
    chain, records = chain_of(spec(primary, "primary-model"), spec(backup, "backup-model"))

    started = time.monotonic()
    await chain.ainvoke("oi")

    assert time.monotonic() - started < 30
    assert len(primary.requests) == 1
    assert [r.fallback for r in records] == [False, True]


async def test_exhausted_quota_is_not_waited_for(primary: FakeOpenAI, backup: FakeOpenAI) -> None:
    primary.fail(429, code="insufficient_quota", message="You exceeded your current quota")
    chain, records = chain_of(spec(primary, "primary-model"), spec(backup, "backup-model"))

    await chain.ainvoke("oi")

    assert len(primary.requests) == 1
    assert [(r.attempts, r.fallback) for r in records] == [(1, False), (1, True)]


async def test_server_error_is_retried(primary: FakeOpenAI, backup: FakeOpenAI) -> None:
    primary.fail(500)
    chain, records = chain_of(
        spec(primary, "primary-model", max_retries=1), spec(backup, "backup-model")
    )

    answer = await chain.ainvoke("oi")

    assert answer.content == "echo: oi"
    assert [r.status for r in primary.requests] == [500, 200]
    assert backup.requests == []
    assert records[0].attempts == 2


async def test_timeout_falls_back_promptly(primary: FakeOpenAI, backup: FakeOpenAI) -> None:
    primary.slow(20.0)
    backup.reply("rápido")
    chain, records = chain_of(
        spec(primary, "primary-model", timeout_s=0.5, max_retries=2), spec(backup, "backup-model")
    )

    started = time.monotonic()
    answer = await chain.ainvoke("oi")
    elapsed = time.monotonic() - started

    assert answer.content == "rápido"
    assert elapsed < 10, f"took {elapsed:.1f}s: the timeout was retried or not applied"
    assert len(primary.requests) <= 1, "a timed-out request must not be retried"
    assert records[0].error is not None
    assert records[0].attempts == 1
    assert records[1].fallback


async def test_all_providers_failing_raise_one_clear_error(
    primary: FakeOpenAI, backup: FakeOpenAI
) -> None:
    primary.fail(503, times=None)
    backup.fail(401, message=f"Incorrect API key provided: {SECRET}", times=None)
    chain, records = chain_of(
        spec(primary, "primary-model", max_retries=0), spec(backup, "backup-model")
    )

    with pytest.raises(AllProvidersFailedError) as caught:
        await chain.ainvoke("oi")

    message = str(caught.value)
    assert "all 2 chat model provider(s) failed" in message
    assert "openai_compatible:primary-model" in message
    assert "HTTP 503" in message
    assert "openai_compatible:backup-model" in message
    assert "HTTP 401" in message
    assert SECRET not in message
    first, second = caught.value.errors
    assert isinstance(first, ProviderError)
    assert isinstance(second, ProviderError)
    assert [r.ok for r in records] == [False, False]
    assert len(backup.requests) == 1, "an authentication error is not retried"


async def test_offline_model_is_the_last_resort(primary: FakeOpenAI) -> None:
    primary.fail(500, times=None)
    chain, records = chain_of(spec(primary, "primary-model", max_retries=0), offline=OfflineModel())

    answer = await chain.bind_tools([record_expense]).ainvoke("oi")

    assert answer.content == "offline answer (tools: record_expense)"
    assert [(r.provider, r.fallback, r.cost_usd) for r in records] == [
        ("openai_compatible", False, 0.0),
        ("offline", True, 0.0),
    ]


async def test_no_specs_means_the_offline_model_only() -> None:
    chain, records = chain_of(offline=OfflineModel())

    answer = await chain.ainvoke("oi")

    assert answer.content == "offline answer (tools: none)"
    assert [(r.provider, r.fallback) for r in records] == [("offline", False)]
    with pytest.raises(ValueError, match="no chat model"):
        build_chain([])


def test_an_offline_spec_places_the_offline_model(primary: FakeOpenAI, backup: FakeOpenAI) -> None:
    chain = build_chain(
        [spec(primary, "a"), ProviderSpec(provider="offline"), spec(backup, "b")],
        offline=OfflineModel(),
    )
    models = list(chain.runnables)
    assert all(isinstance(m, ResilientChatModel) for m in models)
    assert [m.provider for m in models] == [  # type: ignore[attr-defined]
        "openai_compatible",
        "offline",
        "openai_compatible",
    ]
    with pytest.raises(ValueError, match="offline model"):
        build_chain([ProviderSpec(provider="offline")])


def _raised(error: Exception, cause: Exception) -> Exception:
    try:
        try:
            raise cause
        except Exception as inner:
            raise error from inner
    except Exception as outer:
        return outer


class _HeaderError(Exception):
    def __init__(self, status_code: int, headers: dict[str, str]) -> None:
        super().__init__("error")
        self.status_code = status_code
        self.response = type("Response", (), {"headers": headers})()


def test_errors_of_each_sdk_are_classified() -> None:
    import httpx
    from google.genai.errors import ClientError, ServerError
    from groq import APITimeoutError as GroqTimeout
    from groq import RateLimitError as GroqRateLimit
    from langchain_google_genai.chat_models import GoogleRateLimitError

    retry_info = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}],
        }
    }
    gemini_429 = _raised(GoogleRateLimitError("quota"), ClientError(429, retry_info))
    assert (classify(gemini_429), retry_after_s(gemini_429)) == ("rate_limit", 13.0)
    assert classify(ServerError(503, {"error": {"code": 503}})) == "server"

    request = httpx.Request("POST", "https://api.groq.com/openai/v1/chat/completions")
    limited = httpx.Response(429, headers={"retry-after": "2"}, request=request)
    groq_429 = GroqRateLimit("limited", response=limited, body=None)
    assert (classify(groq_429), retry_after_s(groq_429)) == ("rate_limit", 2.0)
    assert classify(GroqTimeout(request)) == "timeout"
    assert classify(TimeoutError()) == "timeout"
    assert classify(ValueError("bad")) == "other"

    by_ms = _HeaderError(429, {"retry-after-ms": "250", "retry-after": "9"})
    assert retry_after_s(by_ms) == 0.25
    by_date = _HeaderError(429, {"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"})
    assert retry_after_s(by_date, now=1445412480.0) == 30.0
    assert retry_after_s(_HeaderError(429, {"retry-after": "soon"})) is None


# ----------------------------------------------------------------------------- builders


def test_openai_builder() -> None:
    model = build_chat_model(
        ProviderSpec(
            provider="openai",
            model="gpt-4o-mini",
            api_key=SecretStr(SECRET),
            timeout_s=12,
            max_retries=3,
            temperature=0.2,
        )
    )
    from langchain_openai import ChatOpenAI

    inner = model.inner
    assert isinstance(inner, ChatOpenAI)
    assert inner.model_name == "gpt-4o-mini"
    assert inner.openai_api_key is not None
    assert inner.openai_api_key.get_secret_value() == SECRET  # type: ignore[union-attr]
    assert inner.openai_api_base is None
    assert (inner.request_timeout, inner.temperature) == (12, 0.2)
    # Retries are the wrapper's (Retry-After aware, timeouts not retried), not the SDK's.
    assert inner.max_retries == 0
    assert inner.root_async_client.max_retries == 0
    assert (model.max_retries, model.timeout_s) == (3, 12)


def test_groq_builder() -> None:
    from langchain_groq import ChatGroq

    model = build_chat_model(
        ProviderSpec(provider="groq", model="llama-3.1-8b-instant", api_key=SecretStr(SECRET))
    )
    inner = model.inner
    assert isinstance(inner, ChatGroq)
    assert inner.model_name == "llama-3.1-8b-instant"
    assert inner.groq_api_key is not None
    assert inner.groq_api_key.get_secret_value() == SECRET
    assert (inner.request_timeout, inner.max_retries) == (20.0, 0)


def test_gemini_builder() -> None:
    from langchain_google_genai import ChatGoogleGenerativeAI

    model = build_chat_model(
        ProviderSpec(
            provider="gemini",
            model="gemini-2.5-flash",
            api_key=SecretStr(SECRET),
            timeout_s=9,
            temperature=0.0,
        )
    )
    inner = model.inner
    assert isinstance(inner, ChatGoogleGenerativeAI)
    assert inner.model.endswith("gemini-2.5-flash")
    assert inner.google_api_key is not None
    assert inner.google_api_key.get_secret_value() == SECRET
    # google-genai reads 0 as "its default"; 1 is a single attempt.
    assert (inner.timeout, inner.max_retries, inner.temperature) == (9, 1, 0.0)


def test_local_server_never_gets_the_platform_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-platform-key")
    model = build_chat_model(
        ProviderSpec(
            provider="openai_compatible", model="llama3.1", base_url="http://127.0.0.1:11434/v1"
        )
    )
    inner = model.inner
    assert inner.openai_api_base == "http://127.0.0.1:11434/v1"  # type: ignore[attr-defined]
    assert inner.root_async_client.api_key != "sk-platform-key"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"provider": "openai", "model": "gpt-4o"}, "api_key is required"),
        ({"provider": "groq", "api_key": "k"}, "model is required"),
        ({"provider": "openai_compatible", "model": "m"}, "base_url must be an http"),
        (
            {"provider": "openai", "model": "m", "api_key": "k", "base_url": "http://evil"},
            "base_url is only for openai_compatible",
        ),
        ({"provider": "anthropic", "model": "m"}, "provider"),
        ({"provider": "openai", "model": "m", "api_key": "k", "timeout_s": 0}, "timeout_s"),
    ],
)
def test_invalid_specs_are_refused(fields: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        ProviderSpec.model_validate(fields)


def test_cost_of_a_call() -> None:
    assert cost_usd(
        DEFAULT_PRICES, provider="openai", model="gpt-4o-mini", tokens_in=1_000_000, tokens_out=0
    ) == pytest.approx(DEFAULT_PRICES["openai:gpt-4o-mini"].input_per_mtok)
    assert cost_usd(None, provider="offline", model="x", tokens_in=5, tokens_out=5) == 0.0
    assert cost_usd({}, provider="groq", model="x", tokens_in=5, tokens_out=5) is None


# ----------------------------------------------------------------------------- settings


def test_default_settings_have_no_chain_and_list_prices() -> None:
    settings = load_settings()
    assert settings.ai.providers == []
    for key in ("openai:gpt-4o-mini", "groq:llama-3.3-70b-versatile", "gemini:gemini-2.5-flash"):
        assert settings.ai.prices.get(key) is not None
    assert PriceTable.model_validate_json(str(settings.ai.prices)) == settings.ai.prices


async def test_providers_and_prices_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, primary: FakeOpenAI
) -> None:
    monkeypatch.setenv(
        "WHATSAPP_AI_AI__PROVIDERS",
        f'[{{"provider":"openai_compatible","model":"primary-model","base_url":"{primary.base_url}",'
        f'"api_key":"{SECRET}","timeout_s":3,"max_retries":1,"temperature":0.3}},'
        '{"provider":"groq","model":"llama-3.1-8b-instant","api_key":"gsk-x"}]',
    )
    monkeypatch.setenv(
        "WHATSAPP_AI_AI__PRICES",
        '{"openai_compatible:primary-model":{"input_per_mtok":1,"output_per_mtok":3}}',
    )
    settings = load_settings()

    first, second = settings.ai.providers
    assert (first.provider, first.model, first.timeout_s, first.max_retries) == (
        "openai_compatible",
        "primary-model",
        3,
        1,
    )
    assert first.temperature == 0.3
    assert first.api_key.get_secret_value() == SECRET
    assert second.provider == "groq"
    assert settings.ai.prices.get("openai:gpt-4o-mini") is None, "a value replaces the table"

    primary.reply("ok", prompt_tokens=1000, completion_tokens=1000)
    records: list[UsageRecord] = []
    chain = build_chain(settings.ai.providers, sink=records.append, prices=settings.ai.prices)
    await chain.ainvoke("oi")
    assert records[0].cost_usd == pytest.approx(0.004)
    assert primary.requests[0].body["temperature"] == 0.3


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("WHATSAPP_AI_AI__PROVIDERS", f'[{{"provider":"openai","api_key":"{SECRET}",}}]', "JSON"),
        ("WHATSAPP_AI_AI__PROVIDERS", f'["{SECRET}"]', "each item must be a JSON object"),
        ("WHATSAPP_AI_AI__PROVIDERS", f'{{"api_key":"{SECRET}"}}', "expected a JSON list"),
        (
            "WHATSAPP_AI_AI__PROVIDERS",
            f'[{{"provider":"openai","model":"m","api_key":"{SECRET}","max_retries":-1}}]',
            "WHATSAPP_AI_AI__PROVIDERS__0__MAX_RETRIES",
        ),
        (
            "WHATSAPP_AI_AI__PRICES",
            '{"gpt-4o":{"input_per_mtok":1,"output_per_mtok":1}}',
            "provider:model",
        ),
        ("WHATSAPP_AI_AI__PRICES", "{nope", "JSON"),
    ],
)
def test_invalid_ai_settings_name_the_problem_not_the_key(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "WHATSAPP_AI_AI" in message
    assert SECRET not in message


# ------------------------------------------------------------------------------ secrets


async def test_api_key_never_in_repr_or_logs(
    primary: FakeOpenAI,
    backup: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    # caplog restores these levels afterwards (left at DEBUG they log from finalizers at exit).
    for name in ("openai", "httpx", "httpx2", "httpcore", "httpcore2", "langchain_core"):
        caplog.set_level(logging.DEBUG, logger=name)
    primary.fail(429, retry_after=0.01)
    primary.fail(500, times=None)
    provider_spec = spec(primary, "primary-model", max_retries=1)
    chain, records = chain_of(provider_spec, spec(backup, "backup-model"))

    await chain.ainvoke("oi")

    assert backup.requests[0].authorization == f"Bearer {SECRET}", "the key was sent"
    shown = [
        repr(provider_spec),
        str(provider_spec),
        provider_spec.model_dump_json(),
        repr(chain),
        str(chain.runnables),
        repr(records),
        caplog.text,
        *capsys.readouterr(),
    ]
    settings_with_key = load_settings(ai={"providers": [provider_spec]})
    shown += [repr(settings_with_key), settings_with_key.model_dump_json()]
    assert "llm.retry" in "".join(shown), "the logs were captured"
    for text in shown:
        assert SECRET not in text
