"""Cost of a model call from the price table (USD per million tokens)."""

from __future__ import annotations

from typing import Protocol

from whatsapp_ai.core.config import ModelPrice

TOKENS_PER_PRICE_UNIT = 1_000_000


class Prices(Protocol):
    """Anything that looks a price up by "provider:model" (a dict, or the settings' table)."""

    def get(self, key: str, /) -> ModelPrice | None:
        """The price of ``key``, or None."""
        ...


def cost_usd(
    prices: Prices | None, *, provider: str, model: str, tokens_in: int, tokens_out: int
) -> float | None:
    """The cost of one call in USD; None when the table has no price for the model."""
    if provider == "offline":
        return 0.0
    price = prices.get(f"{provider}:{model}") if prices is not None else None
    if price is None:
        return None
    return (
        tokens_in * price.input_per_mtok + tokens_out * price.output_per_mtok
    ) / TOKENS_PER_PRICE_UNIT
