"""sales catalog and orders

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import whatsapp_ai.core.db
from whatsapp_ai.core.migrate import disable_row_security, enable_row_security

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_TENANT_TABLES = {
    "sales_products": "tenant_id",
    "sales_orders": "tenant_id",
    "sales_order_items": "tenant_id",
    "sales_order_writes": "tenant_id",
    "sales_leads": "tenant_id",
    "sales_stripe_accounts": "tenant_id",
}
OPEN_CART = sa.text("status = 'cart'")


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        ondelete="CASCADE",
    )


def _contact_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["contact_id"],
        ["contacts.id"],
        name=op.f(f"fk_{table}_contact_id_contacts"),
        ondelete="CASCADE",
    )


def _order_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["order_id"],
        ["sales_orders.id"],
        name=op.f(f"fk_{table}_order_id_sales_orders"),
        ondelete="CASCADE",
    )


def _moment(name: str) -> sa.Column[object]:
    return sa.Column(name, whatsapp_ai.core.db.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "sales_products",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("search_key", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        sa.CheckConstraint("price > 0", name=op.f("ck_sales_products_price_positive")),
        sa.CheckConstraint(
            "stock IS NULL OR stock >= 0", name=op.f("ck_sales_products_stock_not_negative")
        ),
        _tenant_fk("sales_products"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_products")),
    )
    with op.batch_alter_table("sales_products", schema=None) as batch_op:
        batch_op.create_index("ux_sales_products_name_key", ["tenant_id", "name_key"], unique=True)
        batch_op.create_index("ux_sales_products_sku", ["tenant_id", "sku"], unique=True)

    op.create_table(
        "sales_orders",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("payment_url", sa.Text(), nullable=True),
        sa.Column("payment_ref", sa.String(length=255), nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        sa.CheckConstraint(
            "status IN ('cart', 'awaiting_payment', 'paid', 'cancelled', 'awaiting_operator')",
            name=op.f("ck_sales_orders_status"),
        ),
        sa.CheckConstraint("total >= 0", name=op.f("ck_sales_orders_total_not_negative")),
        _contact_fk("sales_orders"),
        _tenant_fk("sales_orders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_orders")),
    )
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.create_index("ix_sales_orders_contact", ["tenant_id", "contact_id"], unique=False)
        batch_op.create_index(
            "ux_sales_orders_open_cart",
            ["tenant_id", "contact_id"],
            unique=True,
            sqlite_where=OPEN_CART,
            postgresql_where=OPEN_CART,
        )

    op.create_table(
        "sales_order_items",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("order_id", sa.String(length=26), nullable=False),
        sa.Column("product_id", sa.String(length=26), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _moment("created_at"),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_sales_order_items_quantity_positive")),
        sa.CheckConstraint("unit_price > 0", name=op.f("ck_sales_order_items_unit_price_positive")),
        _order_fk("sales_order_items"),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["sales_products.id"],
            name=op.f("fk_sales_order_items_product_id_sales_products"),
            ondelete="SET NULL",
        ),
        _tenant_fk("sales_order_items"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_items")),
    )
    with op.batch_alter_table("sales_order_items", schema=None) as batch_op:
        batch_op.create_index(
            "ux_sales_order_items_product", ["order_id", "product_id"], unique=True
        )

    op.create_table(
        "sales_order_writes",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("order_id", sa.String(length=26), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        _moment("created_at"),
        _order_fk("sales_order_writes"),
        _tenant_fk("sales_order_writes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_writes")),
    )
    with op.batch_alter_table("sales_order_writes", schema=None) as batch_op:
        batch_op.create_index(
            "ux_sales_order_writes_source_key", ["tenant_id", "source_key"], unique=True
        )

    op.create_table(
        "sales_leads",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("interest", sa.String(length=500), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=True),
        _moment("created_at"),
        _contact_fk("sales_leads"),
        _tenant_fk("sales_leads"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_leads")),
    )
    with op.batch_alter_table("sales_leads", schema=None) as batch_op:
        batch_op.create_index("ux_sales_leads_contact", ["tenant_id", "contact_id"], unique=True)
        batch_op.create_index("ux_sales_leads_source_key", ["tenant_id", "source_key"], unique=True)

    op.create_table(
        "sales_stripe_accounts",
        sa.Column("tenant_id", sa.String(length=26), nullable=False),
        sa.Column("secret_key", sa.Text(), nullable=False),
        sa.Column("key_last4", sa.String(length=4), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("success_url", sa.String(length=2048), nullable=True),
        _moment("created_at"),
        _moment("updated_at"),
        _tenant_fk("sales_stripe_accounts"),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sales_stripe_accounts")),
    )
    enable_row_security(NEW_TENANT_TABLES)


def downgrade() -> None:
    disable_row_security(NEW_TENANT_TABLES)
    op.drop_table("sales_stripe_accounts")
    with op.batch_alter_table("sales_leads", schema=None) as batch_op:
        batch_op.drop_index("ux_sales_leads_source_key")
        batch_op.drop_index("ux_sales_leads_contact")
    op.drop_table("sales_leads")
    with op.batch_alter_table("sales_order_writes", schema=None) as batch_op:
        batch_op.drop_index("ux_sales_order_writes_source_key")
    op.drop_table("sales_order_writes")
    with op.batch_alter_table("sales_order_items", schema=None) as batch_op:
        batch_op.drop_index("ux_sales_order_items_product")
    op.drop_table("sales_order_items")
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_sales_orders_open_cart", sqlite_where=OPEN_CART, postgresql_where=OPEN_CART
        )
        batch_op.drop_index("ix_sales_orders_contact")
    op.drop_table("sales_orders")
    with op.batch_alter_table("sales_products", schema=None) as batch_op:
        batch_op.drop_index("ux_sales_products_sku")
        batch_op.drop_index("ux_sales_products_name_key")
    op.drop_table("sales_products")
