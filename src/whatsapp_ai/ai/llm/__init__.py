"""LLM providers: chat models of OpenAI, Groq, Gemini and OpenAI-compatible servers.

Each provider retries rate limits and server errors itself, then the chain falls back to the
next; every call leaves a UsageRecord (tokens, latency, cost) with the sink its caller gave.
"""

from whatsapp_ai.ai.llm.pricing import Prices, cost_usd
from whatsapp_ai.ai.llm.providers import (
    AllProvidersFailedError,
    FallbackChain,
    ProviderError,
    ResilientChatModel,
    bind_tools_with_fallbacks,
    build_chain,
    build_chat_model,
    provider_model,
)
from whatsapp_ai.ai.llm.usage import UsageCallback, UsageRecord, UsageSink
from whatsapp_ai.core.config import ModelPrice, PriceTable, ProviderSpec

__all__ = [
    "AllProvidersFailedError",
    "FallbackChain",
    "ModelPrice",
    "PriceTable",
    "Prices",
    "ProviderError",
    "ProviderSpec",
    "ResilientChatModel",
    "UsageCallback",
    "UsageRecord",
    "UsageSink",
    "bind_tools_with_fallbacks",
    "build_chain",
    "build_chat_model",
    "cost_usd",
    "provider_model",
]
