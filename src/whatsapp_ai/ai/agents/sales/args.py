"""What the sales agent's tools take from the model (validated before a tool runs)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from whatsapp_ai.sales import service as sales


class BrowseArgs(BaseModel):
    """What the customer is looking for."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        default="", max_length=200, description="Product words; empty for the whole catalog."
    )


class AddArgs(BaseModel):
    """A product to put in the order."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=200, description="The product, as named.")
    quantity: int = Field(default=1, ge=1, le=sales.MAX_QUANTITY)


class RemoveArgs(BaseModel):
    """A product to take out of the order."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=200)
    quantity: int | None = Field(
        default=None, ge=1, le=sales.MAX_QUANTITY, description="How many; empty: all of it."
    )


class QuantityArgs(BaseModel):
    """How many of a product in the order the customer wants now."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=0, le=sales.MAX_QUANTITY)
