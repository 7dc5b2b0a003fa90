"""The tenant's catalog: products, and finding the one a customer names in chat."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.money import DEFAULT_CURRENCY
from whatsapp_ai.core.paging import DEFAULT_LIMIT, Slice, by, paginate
from whatsapp_ai.core.text import fold
from whatsapp_ai.sales.errors import DuplicateProductError, InvalidInputError, ProductNotFoundError
from whatsapp_ai.sales.matching import hits, pick, terms
from whatsapp_ai.sales.models import Product
from whatsapp_ai.sales.values import (
    currency_of,
    description_of,
    name_of,
    price_of,
    sku_of,
    stock_of,
)

EDITABLE = frozenset({"name", "description", "price", "currency", "stock", "active", "sku"})


def _search_key(name: str, description: str | None) -> str:
    return fold(f"{name} {description or ''}")


async def _check_unique(
    session: AsyncSession,
    *,
    tenant_id: str,
    name_key: str,
    sku: str | None,
    product_id: str | None = None,
) -> None:
    for column, value, label in ((Product.name_key, name_key, "name"), (Product.sku, sku, "sku")):
        if value is None:
            continue
        query = select(Product.id).where(Product.tenant_id == tenant_id, column == value)
        if product_id is not None:
            query = query.where(Product.id != product_id)
        if await session.scalar(query.limit(1)) is not None:
            raise DuplicateProductError(label)


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:  # the same name or SKU written by another request at that moment
        raise DuplicateProductError("name or sku") from None


async def create_product(
    session: AsyncSession,
    *,
    tenant_id: str,
    name: str,
    price: Decimal | int | str,
    now: datetime,
    description: str | None = None,
    currency: str = DEFAULT_CURRENCY,
    stock: int | None = None,
    active: bool = True,
    sku: str | None = None,
) -> Product:
    """Add a product to the tenant's catalog (name and SKU unique within it)."""
    clean_name, code = name_of(name), currency_of(currency)
    clean_description, clean_sku = description_of(description), sku_of(sku)
    product = Product(
        id=new_id(),
        tenant_id=tenant_id,
        name=clean_name,
        name_key=fold(clean_name),
        search_key=_search_key(clean_name, clean_description),
        description=clean_description,
        price=price_of(price, code),
        currency=code,
        stock=stock_of(stock),
        active=bool(active),
        sku=clean_sku,
        created_at=now,
        updated_at=now,
    )
    await _check_unique(session, tenant_id=tenant_id, name_key=product.name_key, sku=clean_sku)
    session.add(product)
    await _flush_unique(session)
    return product


async def get_product(session: AsyncSession, *, tenant_id: str, product_id: str) -> Product | None:
    """A product of the tenant by id."""
    return await session.scalar(
        select(Product).where(Product.tenant_id == tenant_id, Product.id == product_id)
    )


async def update_product(
    session: AsyncSession,
    *,
    tenant_id: str,
    product_id: str,
    changes: Mapping[str, Any],
    now: datetime,
) -> Product | None:
    """Change some of a product's values (see ``EDITABLE``); None when not the tenant's. Orders
    already built keep the name and price they were made with."""
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise InvalidInputError("cannot be changed", field=unknown[0])
    for required in ("name", "price", "currency", "active"):
        if required in changes and changes[required] is None:
            raise InvalidInputError("cannot be empty", field=required)
    product = await get_product(session, tenant_id=tenant_id, product_id=product_id)
    if product is None:
        return None
    currency = currency_of(changes["currency"]) if "currency" in changes else product.currency
    name = name_of(changes["name"]) if "name" in changes else product.name
    description = (
        description_of(changes["description"]) if "description" in changes else product.description
    )
    price = product.price
    if "price" in changes or "currency" in changes:
        price = price_of(changes.get("price", product.price), currency)
    stock = stock_of(changes["stock"]) if "stock" in changes else product.stock
    sku = sku_of(changes["sku"]) if "sku" in changes else product.sku
    await _check_unique(
        session, tenant_id=tenant_id, name_key=fold(name), sku=sku, product_id=product.id
    )
    product.name, product.name_key, product.description = name, fold(name), description
    product.search_key = _search_key(name, description)
    product.price, product.currency, product.stock, product.sku = price, currency, stock, sku
    if "active" in changes:
        product.active = bool(changes["active"])
    product.updated_at = now
    await _flush_unique(session)
    return product


async def delete_product(
    session: AsyncSession, *, tenant_id: str, product_id: str
) -> Product | None:
    """Remove a product from the catalog; orders keep their lines (name and price)."""
    product = await get_product(session, tenant_id=tenant_id, product_id=product_id)
    if product is not None:
        await session.delete(product)
        await session.flush()
    return product


async def list_products(
    session: AsyncSession,
    *,
    tenant_id: str,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Slice[Product]:
    """A page of the tenant's products in the order added."""
    query = select(Product).where(Product.tenant_id == tenant_id)
    if active is not None:
        query = query.where(Product.active.is_(active))
    return await paginate(
        session, query, order=by(Product.created_at, Product.id), cursor=cursor, limit=limit
    )


async def _candidates(
    session: AsyncSession, *, tenant_id: str, wanted: Sequence[str], limit: int = 500
) -> list[Product]:
    query: Select[Product] = select(Product).where(
        Product.tenant_id == tenant_id, Product.active.is_(True)
    )
    if wanted:
        query = query.where(
            or_(
                *(
                    # One letter shorter: "stores" must still find "store" (see matching.same).
                    Product.search_key.contains(
                        term[:-1] if len(term) > 4 else term, autoescape=True
                    )
                    for term in wanted
                )
            )
        )
    return list(await session.scalars(query.order_by(Product.name_key).limit(limit)))


def _ranked(products: Sequence[Product], wanted: Sequence[str]) -> list[tuple[int, int, Product]]:
    """(all hits, name hits, product) of the products matching at least one term, best first."""
    scored = []
    for product in products:
        in_name = hits(wanted, terms(product.name))
        anywhere = hits(wanted, terms(product.search_key))
        if anywhere:
            scored.append((anywhere, in_name, product))
    scored.sort(key=lambda row: (-row[0], -row[1], row[2].name_key))
    return scored


async def find_products(
    session: AsyncSession, *, tenant_id: str, query: str, limit: int = 10
) -> list[Product]:
    """Active products whose name or description has the query's words (accents, case and
    plurals aside), those matching the most words first; the catalog when the query names
    nothing in particular ("what do you sell?")."""
    wanted = terms(query)
    products = await _candidates(session, tenant_id=tenant_id, wanted=wanted)
    if not wanted:
        return products[:limit]
    ranked = _ranked(products, wanted)
    if not ranked:
        return []
    best = ranked[0][0]
    return [product for count, _, product in ranked if count == best][:limit]


async def resolve_product(session: AsyncSession, *, tenant_id: str, name: str) -> Product:
    """The active product a customer means by ``name`` ("camisetas pretas" → Camiseta Preta,
    "brigadero" → Brigadeiro)."""
    wanted = terms(name)
    if not wanted:
        raise ProductNotFoundError(name)
    products = await _candidates(session, tenant_id=tenant_id, wanted=wanted)
    try:
        return pick(wanted, name, [(product, product.name) for product in products])
    except ProductNotFoundError:
        # A typo ("brigadero") is in no name, so the whole catalog is spelled against it.
        everything = await _candidates(session, tenant_id=tenant_id, wanted=[])
        return pick(wanted, name, [(product, product.name) for product in everything])
