"""Sales tables: a tenant's catalog, orders built in chat, leads and payment settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from whatsapp_ai.core.db import Base, IdType, TenantScoped, UTCDateTime

_OPEN_CART = text("status = 'cart'")


class Product(TenantScoped, Base):
    """Something the tenant sells, at one price in one currency."""

    __tablename__ = "sales_products"
    __table_args__ = (
        # Customers name products in chat: two with the same folded name could not be told apart.
        Index("ux_sales_products_name_key", "tenant_id", "name_key", unique=True),
        Index("ux_sales_products_sku", "tenant_id", "sku", unique=True),
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # The name lower-cased without accents: what chat messages are matched against.
    name_key: Mapped[str] = mapped_column(String(200))
    # Name and description folded the same way, for catalog searches.
    search_key: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    # None: no stock is kept (always available).
    stock: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Order(TenantScoped, Base):
    """A contact's order: a cart while it is being built in chat, then checked out."""

    __tablename__ = "sales_orders"
    __table_args__ = (
        Index("ix_sales_orders_contact", "tenant_id", "contact_id"),
        # At most one open cart per contact, even when two messages race.
        Index(
            "ux_sales_orders_open_cart",
            "tenant_id",
            "contact_id",
            unique=True,
            sqlite_where=_OPEN_CART,
            postgresql_where=_OPEN_CART,
        ),
        CheckConstraint(
            "status IN ('cart', 'awaiting_payment', 'paid', 'cancelled', 'awaiting_operator')",
            name="status",
        ),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(24), default="cart")
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    total: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    payment_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The payment provider's id for the link (a Stripe Checkout Session id).
    payment_ref: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # When the payment was given back (the order is cancelled then).
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderItem(TenantScoped, Base):
    """One product in an order, with its name and price as they were when it was added."""

    __tablename__ = "sales_order_items"
    __table_args__ = (
        Index("ux_sales_order_items_product", "order_id", "product_id", unique=True),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_orders.id", ondelete="CASCADE"))
    # None once the product is deleted from the catalog; the snapshot below remains.
    product_id: Mapped[str | None] = mapped_column(
        ForeignKey("sales_products.id", ondelete="SET NULL"), nullable=True
    )
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderWrite(TenantScoped, Base):
    """A change the assistant made to an order, by its source key: a retried turn finds it
    here and changes nothing twice."""

    __tablename__ = "sales_order_writes"
    __table_args__ = (
        Index("ux_sales_order_writes_source_key", "tenant_id", "source_key", unique=True),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_orders.id", ondelete="CASCADE"))
    source_key: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(16))
    # The name of the product the change was about (how a retried turn words its answer).
    item: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lead(TenantScoped, Base):
    """A contact who showed interest in the catalog, kept once per contact."""

    __tablename__ = "sales_leads"
    __table_args__ = (
        Index("ux_sales_leads_contact", "tenant_id", "contact_id", unique=True),
        Index("ux_sales_leads_source_key", "tenant_id", "source_key", unique=True),
    )

    id: Mapped[str] = mapped_column(IdType, primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    interest: Mapped[str] = mapped_column(String(500))
    source_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StripeAccount(TenantScoped, Base):
    """The tenant's own Stripe account: payment links are created there, paid to them."""

    __tablename__ = "sales_stripe_accounts"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    # Encrypted with the platform's key ring (core.crypto.SecretBox); never stored in plain.
    secret_key: Mapped[str] = mapped_column(Text)
    # What the console may show of the key: its last four characters and whether it is live.
    key_last4: Mapped[str] = mapped_column(String(4))
    livemode: Mapped[bool] = mapped_column(Boolean)
    # Where Stripe sends the customer after paying; None: Stripe's own confirmation page.
    success_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # The signing secret (whsec_…) of the tenant's webhook endpoint for payment events,
    # encrypted like the key; None: payments are not followed.
    webhook_secret: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
