"""Sales service: the tenant's catalog, a contact's cart built in chat, checkout with a payment
link on the tenant's own Stripe account, leads, and the contact's sales data (export, erasure).

Money is ``Decimal`` everywhere. Order lines keep the product's name and price as they were
when added, so a later catalog change never reprices an order in progress. The caller owns the
transaction; the one network call (Stripe) happens between two transactions in
:func:`prepare_checkout` → :func:`create_payment_link` → :func:`complete_checkout`, so no write
lock is held while Stripe answers (:func:`checkout` runs the three in one session).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, cast

import stripe as stripe_sdk
from sqlalchemy import CursorResult, Select, or_, select, text, update
from sqlalchemy import delete as delete_rows
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_ai.core.config import StripeSettings
from whatsapp_ai.core.crypto import SecretBox
from whatsapp_ai.core.db import as_dict
from whatsapp_ai.core.ids import new_id
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.privacy import ContactRef, Erased
from whatsapp_ai.finance import service as finance
from whatsapp_ai.identity import service as identity
from whatsapp_ai.sales.errors import (
    AmbiguousProductError,
    CartChangedError,
    CurrencyMismatchError,
    DuplicateProductError,
    EmptyCartError,
    InvalidInputError,
    InvalidTransitionError,
    NotInCartError,
    OutOfStockError,
    PaymentLinkError,
    ProductNotFoundError,
    UnknownContactError,
)
from whatsapp_ai.sales.models import Lead, Order, OrderItem, OrderWrite, Product, StripeAccount

log = get_logger(__name__)


class Status(StrEnum):
    """Where an order is."""

    CART = "cart"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    CANCELLED = "cancelled"
    AWAITING_OPERATOR = "awaiting_operator"


DEFAULT_CURRENCY = "BRL"
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_PRICE = Decimal("9999999999.99")  # Numeric(12, 2)
MAX_TOTAL = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_QUANTITY = 999
MAX_STOCK = 1_000_000_000
MAX_LINES = 50
NAME_MAX = 200
DESCRIPTION_MAX = 2000
SKU_MAX = 64
INTEREST_MAX = 500
SOURCE_KEY_MAX = 120
URL_MAX = 2048
EDITABLE = frozenset({"name", "description", "price", "currency", "stock", "active", "sku"})
# Stripe counts these currencies in whole units, and these in thousandths (docs: currencies).
_ZERO_DECIMAL = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
ZERO_DECIMAL = frozenset(_ZERO_DECIMAL.split())
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
_STRIPE_KEY = re.compile(r"^(sk|rk)_(live|test)_[A-Za-z0-9]{10,240}$")
_OPEN_CART = text("status = 'cart'")

# --- folding and matching -----------------------------------------------------------------

# Words that say how someone asks, not what they want (PT and EN, folded).
_STOPWORDS = """
    a o as os um uma uns umas de da do das dos e em no na nos nas num numa para pra pro pros
    com sem por pelo pela que qual quais quanto quanta quantos quantas custa custam preco precos
    valor valores tem teem tenho voce voces vcs vc eu me mim meu minha meus minhas quero queria
    gostaria vou querer levar comprar compra ver mostra mostrar manda mandar adiciona adicionar
    coloca colocar inclui incluir bota botar mais ai aqui ali produto produtos catalogo opcao
    opcoes item itens pedido carrinho isso esse essa este esta estes estas algum alguma alguns
    algumas tb tambem so favor vende vendem venda estoque disponivel disponiveis ainda tira
    tirar remove remover diminui diminuir muda mudar ate tamanho tamanhos cor cores modelo
    modelos sabor sabores ha la ja oi ola bom boa dia tarde noite obrigado obrigada
    the an of and or in on at to for with without my me i ll d s t want like would take add
    put buy get show send what which how much many is are do does you your have has sell any
    some more another please cart order product products catalog catalogue items available
    stock price prices cost costs size sizes color colors colour colours hi hello there can
    pode poderia ve quer vai nao desisti cancela cancelar agora tudo sim tbm from out off
    don dont anymore just also too need deixa deixar
    dois duas tres quatro cinco seis sete oito nove dez two three four five six seven eight
    nine ten
    """
STOPWORDS = frozenset(_STOPWORDS.split())


def fold(value: str) -> str:
    """Lower case, no accents, single spaces: how names are compared ("Boné" → "bone")."""
    decomposed = unicodedata.normalize("NFKD", value.lower())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _stem(word: str) -> str:
    """A word without its plural ending, so "camisetas" finds "Camiseta" (and "paes" "pao")."""
    if len(word) <= 3 or not word.endswith("s") or word.isdigit():
        return word
    for suffix, replacement in (("oes", "ao"), ("aes", "ao"), ("ns", "m")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            return word[: -len(suffix)] + replacement
    return word[:-1]


def terms(value: str) -> list[str]:
    """The words of a text that name something, folded and in the singular."""
    found = []
    for word in re.findall(r"[a-z0-9]+", fold(value)):
        if word not in STOPWORDS and (stem := _stem(word)) not in found:
            found.append(stem)
    return found


def _same(wanted: str, word: str) -> bool:
    if wanted == word:
        return True
    # "store"/"stores" style endings the stemmer leaves apart; never "bone" for "boneca".
    short, long = sorted((wanted, word), key=len)
    return len(short) >= 4 and len(long) - len(short) <= 1 and long.startswith(short)


def _hits(wanted: Sequence[str], words: Iterable[str]) -> int:
    pool = list(words)
    return sum(1 for term in wanted if any(_same(term, word) for word in pool))


# --- values -------------------------------------------------------------------------------


def _name(value: str) -> str:
    name = " ".join(str(value).split())
    if not name or not re.search(r"[a-z0-9]", fold(name)):
        raise InvalidInputError("name", "must have letters or digits")
    if len(name) > NAME_MAX:
        raise InvalidInputError("name", f"at most {NAME_MAX} characters")
    return name


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    text_ = value.strip()
    if len(text_) > DESCRIPTION_MAX:
        raise InvalidInputError("description", f"at most {DESCRIPTION_MAX} characters")
    return text_ or None


def currency_code(value: str) -> str:
    """An ISO 4217 currency code in capitals ('brl' → 'BRL')."""
    try:
        return finance.currency_code(value)
    except finance.InvalidEntryError as exc:
        raise InvalidInputError("currency", exc.message) from None


def price_of(value: Decimal | int | str, currency: str) -> Decimal:
    """A price greater than zero with at most two decimals (whole units where the currency has
    no cents), as a Decimal of scale 2."""
    if isinstance(value, bool | float):
        raise InvalidInputError("price", "give an exact decimal (a string or Decimal)")
    try:
        price = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise InvalidInputError("price", f"not a number: {value!r}") from None
    if not price.is_finite() or price <= 0:
        raise InvalidInputError("price", "must be greater than zero")
    if price != price.quantize(CENT, rounding=ROUND_HALF_UP):
        raise InvalidInputError("price", "at most two decimal places (cents)")
    if price > MAX_PRICE:
        raise InvalidInputError("price", f"at most {MAX_PRICE}")
    if currency in ZERO_DECIMAL and price != price.to_integral_value():
        raise InvalidInputError("price", f"{currency} has no cents: give a whole number")
    return price.quantize(CENT)


def _stock(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_STOCK:
        raise InvalidInputError("stock", f"a whole number from 0 to {MAX_STOCK}, or null")
    return value


def _sku(value: str | None) -> str | None:
    if value is None:
        return None
    sku = value.strip()
    if len(sku) > SKU_MAX:
        raise InvalidInputError("sku", f"at most {SKU_MAX} characters")
    return sku or None


def _quantity(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUANTITY:
        raise InvalidInputError("quantity", f"a whole number from 1 to {MAX_QUANTITY}")
    return value


def _source_key(value: str | None) -> str | None:
    if value is not None and not 0 < len(value) <= SOURCE_KEY_MAX:
        raise InvalidInputError("source_key", f"1 to {SOURCE_KEY_MAX} characters")
    return value


def minor_units(amount: Decimal, currency: str) -> int:
    """An amount in the currency's smallest unit, as Stripe takes it (R$ 59,90 → 5990)."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return int(amount.to_integral_value(rounding=ROUND_HALF_UP))
    if code in THREE_DECIMAL:
        # Stripe wants thousandths rounded to tens for these (docs: currencies, "three-decimal").
        return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP)) * 10
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


async def _insert_ignore(
    session: AsyncSession, model: type[Any], values: Mapping[str, Any]
) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on any unique index; whether a row was added."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return bool(cast(CursorResult[Any], result).rowcount)


async def _require_contact(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Any:
    contact = await identity.get_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    if contact is None:
        raise UnknownContactError(contact_id)
    return contact


# --- catalog ------------------------------------------------------------------------------


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
    clean_name, code = _name(name), currency_code(currency)
    clean_description, clean_sku = _description(description), _sku(sku)
    product = Product(
        id=new_id(),
        tenant_id=tenant_id,
        name=clean_name,
        name_key=fold(clean_name),
        search_key=_search_key(clean_name, clean_description),
        description=clean_description,
        price=price_of(price, code),
        currency=code,
        stock=_stock(stock),
        active=bool(active),
        sku=clean_sku,
        created_at=now,
        updated_at=now,
    )
    await _check_unique(session, tenant_id=tenant_id, name_key=product.name_key, sku=clean_sku)
    session.add(product)
    await session.flush()
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
        raise InvalidInputError(unknown[0], "cannot be changed")
    for required in ("name", "price", "currency", "active"):
        if required in changes and changes[required] is None:
            raise InvalidInputError(required, "cannot be empty")
    product = await get_product(session, tenant_id=tenant_id, product_id=product_id)
    if product is None:
        return None
    currency = currency_code(changes["currency"]) if "currency" in changes else product.currency
    name = _name(changes["name"]) if "name" in changes else product.name
    description = (
        _description(changes["description"]) if "description" in changes else product.description
    )
    price = product.price
    if "price" in changes or "currency" in changes:
        price = price_of(changes.get("price", product.price), currency)
    stock = _stock(changes["stock"]) if "stock" in changes else product.stock
    sku = _sku(changes["sku"]) if "sku" in changes else product.sku
    await _check_unique(
        session, tenant_id=tenant_id, name_key=fold(name), sku=sku, product_id=product.id
    )
    product.name, product.name_key, product.description = name, fold(name), description
    product.search_key = _search_key(name, description)
    product.price, product.currency, product.stock, product.sku = price, currency, stock, sku
    if "active" in changes:
        product.active = bool(changes["active"])
    product.updated_at = now
    await session.flush()
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
    after: str | None = None,
    limit: int = 50,
) -> list[Product]:
    """The tenant's products in the order added, after the cursor (a product id)."""
    query = select(Product).where(Product.tenant_id == tenant_id)
    if active is not None:
        query = query.where(Product.active.is_(active))
    if after:
        query = query.where(Product.id > after)
    return list(await session.scalars(query.order_by(Product.id).limit(limit)))


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
                    # One letter shorter: "stores" must still find "store" (see _same).
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
        in_name = _hits(wanted, terms(product.name))
        anywhere = _hits(wanted, terms(product.search_key))
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
    return [product for hits, _, product in ranked if hits == best][:limit]


def _pick[T](wanted: Sequence[str], query: str, options: Sequence[tuple[T, str]]) -> T:
    """The one option whose name best matches ``wanted``; else not found or ambiguous."""
    scored = [(_hits(wanted, terms(name)), item, name) for item, name in options]
    best = max((hits for hits, _, _ in scored), default=0)
    if best == 0:
        raise ProductNotFoundError(query)
    top = [(item, name) for hits, item, name in scored if hits == best]
    if len(top) == 1:
        return top[0][0]
    exact = [item for item, name in top if sorted(terms(name)) == sorted(wanted)]
    if len(exact) == 1:
        return exact[0]
    raise AmbiguousProductError(query, [name for _, name in top])


async def resolve_product(session: AsyncSession, *, tenant_id: str, name: str) -> Product:
    """The active product a customer means by ``name`` ("camisetas pretas" → Camiseta Preta)."""
    wanted = terms(name)
    if not wanted:
        raise ProductNotFoundError(name)
    products = await _candidates(session, tenant_id=tenant_id, wanted=wanted)
    return _pick(wanted, name, [(product, product.name) for product in products])


# --- carts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One product in an order, as the customer sees it."""

    product_id: str | None
    name: str
    unit_price: Decimal
    quantity: int

    @property
    def subtotal(self) -> Decimal:
        """Unit price times quantity."""
        return (self.unit_price * self.quantity).quantize(CENT)


@dataclass(frozen=True)
class Cart:
    """An order's lines and total (an empty cart has no order yet)."""

    order_id: str | None
    status: str
    currency: str
    lines: tuple[Line, ...] = ()
    payment_url: str | None = None

    @property
    def total(self) -> Decimal:
        """The sum of the lines."""
        return sum((line.subtotal for line in self.lines), ZERO)

    @property
    def count(self) -> int:
        """How many units in all."""
        return sum(line.quantity for line in self.lines)

    def line_named(self, name: str) -> Line | None:
        """The line of the product called ``name``."""
        return next((line for line in self.lines if line.name == name), None)


@dataclass(frozen=True)
class CartChange:
    """A cart after a change: the product's name and how many of it the cart now holds.
    ``applied`` is False when a retried turn found the change done already."""

    cart: Cart
    name: str
    quantity: int
    applied: bool = True


async def _items(session: AsyncSession, *, tenant_id: str, order_id: str) -> list[OrderItem]:
    return list(
        await session.scalars(
            select(OrderItem)
            .where(OrderItem.tenant_id == tenant_id, OrderItem.order_id == order_id)
            .order_by(OrderItem.created_at, OrderItem.id)
        )
    )


def _cart_of(order: Order, items: Sequence[OrderItem]) -> Cart:
    return Cart(
        order_id=order.id,
        status=order.status,
        currency=order.currency,
        lines=tuple(
            Line(
                product_id=item.product_id,
                name=item.name,
                unit_price=Decimal(item.unit_price).quantize(CENT),
                quantity=item.quantity,
            )
            for item in items
        ),
        payment_url=order.payment_url,
    )


async def cart_of(session: AsyncSession, order: Order) -> Cart:
    """An order's lines and total."""
    return _cart_of(order, await _items(session, tenant_id=order.tenant_id, order_id=order.id))


async def open_cart(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Order | None:
    """The contact's open cart, if any."""
    return await session.scalar(
        select(Order).where(
            Order.tenant_id == tenant_id,
            Order.contact_id == contact_id,
            Order.status == Status.CART.value,
        )
    )


async def _cart(session: AsyncSession, *, tenant_id: str, contact_id: str, now: datetime) -> Order:
    found = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    if found is not None:
        return found
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "contact_id": contact_id,
        "status": Status.CART.value,
        "currency": DEFAULT_CURRENCY,
        "total": ZERO,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Two messages of the same contact may open a cart at once: one wins, both use it.
    await session.execute(
        insert(Order)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["tenant_id", "contact_id"], index_where=_OPEN_CART)
    )
    created = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    assert created is not None
    return created


async def view_cart(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Cart:
    """The contact's open cart and its total (empty when there is none)."""
    order = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    if order is None:
        return Cart(order_id=None, status=Status.CART.value, currency=DEFAULT_CURRENCY)
    return await cart_of(session, order)


async def _done(
    session: AsyncSession, *, tenant_id: str, source_key: str | None
) -> OrderWrite | None:
    if source_key is None:
        return None
    return await session.scalar(
        select(OrderWrite).where(
            OrderWrite.tenant_id == tenant_id, OrderWrite.source_key == source_key
        )
    )


async def _claim(
    session: AsyncSession,
    order: Order,
    *,
    source_key: str | None,
    action: str,
    item: str,
    now: datetime,
) -> bool:
    """Record that ``source_key`` changes ``order``; False when another attempt got there first."""
    if source_key is None:
        return True
    return await _insert_ignore(
        session,
        OrderWrite,
        {
            "id": new_id(),
            "tenant_id": order.tenant_id,
            "order_id": order.id,
            "source_key": source_key,
            "action": action,
            "item": item[:NAME_MAX],
            "created_at": now,
        },
    )


async def _replay(session: AsyncSession, write: OrderWrite) -> CartChange:
    order = await session.get_one(Order, write.order_id)
    cart = await cart_of(session, order)
    held = sum(line.quantity for line in cart.lines if line.name == write.item)
    return CartChange(cart=cart, name=write.item, quantity=held, applied=False)


async def _replayed(
    session: AsyncSession, *, tenant_id: str, source_key: str | None
) -> CartChange | None:
    """The cart as a change already made under ``source_key`` left it (a retried turn)."""
    write = await _done(session, tenant_id=tenant_id, source_key=source_key)
    return None if write is None else await _replay(session, write)


async def _product_for(
    session: AsyncSession, *, tenant_id: str, product_id: str | None, name: str | None
) -> Product:
    if product_id is not None:
        product = await get_product(session, tenant_id=tenant_id, product_id=product_id)
        if product is None or not product.active:
            raise ProductNotFoundError(product_id)
        return product
    if not name:
        raise InvalidInputError("product", "give a product id or name")
    return await resolve_product(session, tenant_id=tenant_id, name=name)


def _total(lines: Iterable[tuple[Decimal, int]]) -> Decimal:
    total = sum(((Decimal(price) * quantity).quantize(CENT) for price, quantity in lines), ZERO)
    if total > MAX_TOTAL:
        raise InvalidInputError("quantity", f"the order total would exceed {MAX_TOTAL}")
    return total


async def _retotal(session: AsyncSession, order: Order, now: datetime) -> None:
    items = await _items(session, tenant_id=order.tenant_id, order_id=order.id)
    order.total = _total((item.unit_price, item.quantity) for item in items)
    order.updated_at = now
    await session.flush()


async def add_to_cart(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    quantity: int,
    now: datetime,
    product_id: str | None = None,
    name: str | None = None,
    source_key: str | None = None,
) -> CartChange:
    """Put ``quantity`` of a product (by id, or by the name a customer used) in the contact's
    cart, opening one when needed. Checks stock and that the cart stays in one currency."""
    _quantity(quantity)
    _source_key(source_key)
    if (done := await _replayed(session, tenant_id=tenant_id, source_key=source_key)) is not None:
        return done
    product = await _product_for(session, tenant_id=tenant_id, product_id=product_id, name=name)
    await _require_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    order = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    items = [] if order is None else await _items(session, tenant_id=tenant_id, order_id=order.id)
    if order is not None and items and product.currency != order.currency:
        raise CurrencyMismatchError(product.name, product.currency, order.currency)
    line = next((item for item in items if item.product_id == product.id), None)
    if line is None and len(items) >= MAX_LINES:
        raise InvalidInputError("product", f"an order holds at most {MAX_LINES} products")
    wanted = quantity + (line.quantity if line else 0)
    if wanted > MAX_QUANTITY:
        raise InvalidInputError("quantity", f"at most {MAX_QUANTITY} of one product")
    if product.stock is not None and wanted > product.stock:
        raise OutOfStockError(product.name, product.stock)
    if order is None:
        order = await _cart(session, tenant_id=tenant_id, contact_id=contact_id, now=now)
    claimed = await _claim(
        session, order, source_key=source_key, action="add", item=product.name, now=now
    )
    if not claimed:
        return cast(
            CartChange, await _replayed(session, tenant_id=tenant_id, source_key=source_key)
        )
    if line is None:
        line = OrderItem(
            id=new_id(),
            tenant_id=tenant_id,
            order_id=order.id,
            product_id=product.id,
            name=product.name,
            unit_price=product.price,
            quantity=wanted,
            created_at=now,
        )
        session.add(line)
    else:
        line.quantity = wanted
    if not items:
        order.currency = product.currency
    await session.flush()
    await _retotal(session, order, now)
    return CartChange(cart=await cart_of(session, order), name=line.name, quantity=wanted)


async def _cart_line(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    product_id: str | None,
    name: str | None,
) -> tuple[Order, OrderItem]:
    order = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    items = [] if order is None else await _items(session, tenant_id=tenant_id, order_id=order.id)
    if order is None or not items:
        raise EmptyCartError()
    if product_id is not None:
        found = next((item for item in items if item.product_id == product_id), None)
        if found is None:
            raise NotInCartError(product_id)
        return order, found
    if not name:
        raise InvalidInputError("product", "give a product id or name")
    try:
        return order, _pick(terms(name), name, [(item, item.name) for item in items])
    except ProductNotFoundError:
        raise NotInCartError(name) from None


async def remove_from_cart(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    now: datetime,
    product_id: str | None = None,
    name: str | None = None,
    quantity: int | None = None,
    source_key: str | None = None,
) -> CartChange:
    """Take a product out of the contact's cart: ``quantity`` of it, or all of it."""
    if quantity is not None:
        _quantity(quantity)
    _source_key(source_key)
    if (done := await _replayed(session, tenant_id=tenant_id, source_key=source_key)) is not None:
        return done
    order, line = await _cart_line(
        session, tenant_id=tenant_id, contact_id=contact_id, product_id=product_id, name=name
    )
    claimed = await _claim(
        session, order, source_key=source_key, action="remove", item=line.name, now=now
    )
    if not claimed:
        return cast(
            CartChange, await _replayed(session, tenant_id=tenant_id, source_key=source_key)
        )
    left = 0 if quantity is None else max(line.quantity - quantity, 0)
    name_ = line.name
    if left == 0:
        await session.delete(line)
    else:
        line.quantity = left
    await session.flush()
    await _retotal(session, order, now)
    return CartChange(cart=await cart_of(session, order), name=name_, quantity=left)


async def set_quantity(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    quantity: int,
    now: datetime,
    product_id: str | None = None,
    name: str | None = None,
    source_key: str | None = None,
) -> CartChange:
    """Make the cart hold exactly ``quantity`` of a product it has (0 takes it out)."""
    if quantity != 0:
        _quantity(quantity)
    _source_key(source_key)
    if (done := await _replayed(session, tenant_id=tenant_id, source_key=source_key)) is not None:
        return done
    order, line = await _cart_line(
        session, tenant_id=tenant_id, contact_id=contact_id, product_id=product_id, name=name
    )
    if line.product_id is not None and quantity > line.quantity:
        product = await get_product(session, tenant_id=tenant_id, product_id=line.product_id)
        if product is None or not product.active:
            raise OutOfStockError(line.name, 0)
        if product.stock is not None and quantity > product.stock:
            raise OutOfStockError(line.name, product.stock)
    claimed = await _claim(
        session, order, source_key=source_key, action="set", item=line.name, now=now
    )
    if not claimed:
        return cast(
            CartChange, await _replayed(session, tenant_id=tenant_id, source_key=source_key)
        )
    name_ = line.name
    if quantity == 0:
        await session.delete(line)
    else:
        line.quantity = quantity
    await session.flush()
    await _retotal(session, order, now)
    return CartChange(cart=await cart_of(session, order), name=name_, quantity=quantity)


# --- checkout --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentLink:
    """A link where the customer pays, and the provider's id for it."""

    url: str
    ref: str


@dataclass(frozen=True)
class CheckoutPlan:
    """What a cart's checkout will charge, read in one transaction and completed in another.

    ``secret_key`` is the tenant's decrypted Stripe key, None when they have no account; it is
    kept out of ``repr`` so it never reaches a log."""

    tenant_id: str
    contact_id: str
    order_id: str
    currency: str
    lines: tuple[Line, ...]
    digest: str
    secret_key: str | None = field(default=None, repr=False)
    success_url: str | None = None

    @property
    def total(self) -> Decimal:
        """The sum of the lines."""
        return sum((line.subtotal for line in self.lines), ZERO)

    @property
    def idempotency_key(self) -> str:
        """The same cart gets the same Stripe session, however often it is asked for."""
        return f"sales-order-{self.order_id}-{self.digest[:24]}"


@dataclass(frozen=True)
class Checkout:
    """An order after checkout. ``payment_failed``: the tenant's Stripe account did not give a
    link, so the order waits for an operator like one without an account."""

    order: Order
    cart: Cart
    payment_failed: bool = False

    @property
    def needs_operator(self) -> bool:
        """Whether a person must send the customer a way to pay."""
        return self.order.status == Status.AWAITING_OPERATOR.value


def _digest(currency: str, lines: Sequence[Line]) -> str:
    parts = [currency] + [f"{x.product_id}|{x.name}|{x.unit_price}|{x.quantity}" for x in lines]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def _check_available(session: AsyncSession, *, tenant_id: str, lines: Sequence[Line]) -> None:
    for line in lines:
        product = (
            None
            if line.product_id is None
            else await get_product(session, tenant_id=tenant_id, product_id=line.product_id)
        )
        if product is None or not product.active:
            raise OutOfStockError(line.name, 0)
        if product.stock is not None and product.stock < line.quantity:
            raise OutOfStockError(line.name, product.stock)


async def _replay_checkout(session: AsyncSession, write: OrderWrite) -> Checkout:
    order = await session.get_one(Order, write.order_id)
    return Checkout(order=order, cart=await cart_of(session, order))


async def prepare_checkout(
    session: AsyncSession,
    box: SecretBox | None,
    *,
    tenant_id: str,
    contact_id: str,
    source_key: str | None = None,
) -> CheckoutPlan | Checkout:
    """Read the contact's cart for checkout: its lines, checked against the catalog, and the
    tenant's Stripe key (none without a ``box``: the order will wait for an operator). A
    ``source_key`` already used returns that checkout's order."""
    _source_key(source_key)
    if (write := await _done(session, tenant_id=tenant_id, source_key=source_key)) is not None:
        return await _replay_checkout(session, write)
    order = await open_cart(session, tenant_id=tenant_id, contact_id=contact_id)
    cart = None if order is None else await cart_of(session, order)
    if order is None or cart is None or not cart.lines:
        raise EmptyCartError()
    await _check_available(session, tenant_id=tenant_id, lines=cart.lines)
    account = await get_stripe_account(session, tenant_id=tenant_id)
    return CheckoutPlan(
        tenant_id=tenant_id,
        contact_id=contact_id,
        order_id=order.id,
        currency=order.currency,
        lines=cart.lines,
        digest=_digest(order.currency, cart.lines),
        secret_key=None if account is None or box is None else box.decrypt(account.secret_key),
        success_url=None if account is None else account.success_url,
    )


def _session_params(plan: CheckoutPlan, locale: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "client_reference_id": plan.order_id,
        "metadata": {"order_id": plan.order_id},
        "line_items": [
            {
                "quantity": line.quantity,
                "price_data": {
                    "currency": plan.currency.lower(),
                    "unit_amount": minor_units(line.unit_price, plan.currency),
                    "product_data": {"name": line.name},
                },
            }
            for line in plan.lines
        ],
    }
    if plan.success_url:
        params["success_url"] = plan.success_url
    if locale:
        params["locale"] = locale
    return params


async def create_payment_link(
    plan: CheckoutPlan, stripe: StripeSettings, *, locale: str | None = None
) -> PaymentLink:
    """A Stripe Checkout Session for the plan's lines on the tenant's own account (priced from
    the order's snapshot). Call it outside any transaction: it waits on Stripe."""
    if plan.secret_key is None:
        raise PaymentLinkError("the tenant has no Stripe account")
    http = stripe_sdk.HTTPXClient(timeout=stripe.request_timeout_s)
    client = stripe_sdk.StripeClient(
        plan.secret_key,
        base_addresses={"api": stripe.api_base} if stripe.api_base else None,
        http_client=http,
        max_network_retries=stripe.max_network_retries,
    )
    try:
        created = await client.v1.checkout.sessions.create_async(
            cast(Any, _session_params(plan, locale)),
            {"idempotency_key": plan.idempotency_key},
        )
    except stripe_sdk.StripeError as exc:
        # Stripe's messages may quote part of a bad key: keep only the kind and status.
        raise PaymentLinkError(f"{type(exc).__name__} (HTTP {exc.http_status})") from None
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
    if not created.url:
        raise PaymentLinkError("Stripe answered without a URL")
    return PaymentLink(url=created.url, ref=created.id)


async def _reserve(session: AsyncSession, *, tenant_id: str, lines: Sequence[Line]) -> None:
    """Take the lines out of stock, atomically per product (a racing order may get there first)."""
    for line in lines:
        if line.product_id is None:
            raise OutOfStockError(line.name, 0)
        result = await session.execute(
            update(Product)
            .where(
                Product.tenant_id == tenant_id,
                Product.id == line.product_id,
                Product.active.is_(True),
                or_(Product.stock.is_(None), Product.stock >= line.quantity),
            )
            # A null stock (not counted) stays null.
            .values(stock=Product.stock - line.quantity)
            .execution_options(synchronize_session="fetch")
        )
        if not cast(CursorResult[Any], result).rowcount:
            product = await get_product(session, tenant_id=tenant_id, product_id=line.product_id)
            available = 0 if product is None or not product.active else product.stock or 0
            raise OutOfStockError(line.name, available)


async def _release(session: AsyncSession, *, tenant_id: str, lines: Sequence[Line]) -> None:
    for line in lines:
        if line.product_id is not None:
            await session.execute(
                update(Product)
                .where(
                    Product.tenant_id == tenant_id,
                    Product.id == line.product_id,
                    Product.stock.is_not(None),
                )
                .values(stock=Product.stock + line.quantity)
                .execution_options(synchronize_session="fetch")
            )


async def complete_checkout(
    session: AsyncSession,
    plan: CheckoutPlan,
    link: PaymentLink | None,
    *,
    now: datetime,
    source_key: str | None = None,
) -> Checkout:
    """Close the cart: reserve its stock and store the payment link (awaiting payment), or,
    with no link, leave it for an operator (awaiting operator)."""
    _source_key(source_key)
    if (write := await _done(session, tenant_id=plan.tenant_id, source_key=source_key)) is not None:
        return await _replay_checkout(session, write)
    order = await session.scalar(
        select(Order).where(Order.tenant_id == plan.tenant_id, Order.id == plan.order_id)
    )
    if order is None or order.status != Status.CART.value:
        raise CartChangedError()
    cart = await cart_of(session, order)
    if _digest(order.currency, cart.lines) != plan.digest:
        raise CartChangedError()
    claimed = await _claim(
        session, order, source_key=source_key, action="checkout", item="", now=now
    )
    if not claimed:
        write = await _done(session, tenant_id=plan.tenant_id, source_key=source_key)
        return await _replay_checkout(session, cast(OrderWrite, write))
    await _reserve(session, tenant_id=plan.tenant_id, lines=cart.lines)
    order.status = (Status.AWAITING_PAYMENT if link else Status.AWAITING_OPERATOR).value
    order.payment_url = link.url if link else None
    order.payment_ref = link.ref if link else None
    order.total = _total((line.unit_price, line.quantity) for line in cart.lines)
    order.updated_at = now
    await session.flush()
    return Checkout(
        order=order,
        cart=await cart_of(session, order),
        payment_failed=link is None and plan.secret_key is not None,
    )


async def checkout(
    session: AsyncSession,
    box: SecretBox,
    stripe: StripeSettings,
    *,
    tenant_id: str,
    contact_id: str,
    now: datetime,
    source_key: str | None = None,
    locale: str | None = None,
) -> Checkout:
    """Check out the contact's cart in one session: a Stripe payment link when the tenant has
    an account (awaiting payment), otherwise, or when Stripe fails, awaiting an operator (the
    caller hands the conversation to a person)."""
    prepared = await prepare_checkout(
        session, box, tenant_id=tenant_id, contact_id=contact_id, source_key=source_key
    )
    if isinstance(prepared, Checkout):
        return prepared
    link = None
    if prepared.secret_key is not None:
        try:
            link = await create_payment_link(prepared, stripe, locale=locale)
        except PaymentLinkError as exc:
            log.warning("sales.payment_link_failed", order_id=prepared.order_id, error=str(exc))
    return await complete_checkout(session, prepared, link, now=now, source_key=source_key)


# --- orders ----------------------------------------------------------------------------------

# Where an order may go from where it is (operators mark payments taken outside Stripe too).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.CART.value: frozenset({Status.CANCELLED.value}),
    Status.AWAITING_PAYMENT.value: frozenset({Status.PAID.value, Status.CANCELLED.value}),
    Status.AWAITING_OPERATOR.value: frozenset({Status.PAID.value, Status.CANCELLED.value}),
    Status.PAID.value: frozenset(),
    Status.CANCELLED.value: frozenset(),
}


async def get_order(session: AsyncSession, *, tenant_id: str, order_id: str) -> Order | None:
    """An order of the tenant by id."""
    return await session.scalar(
        select(Order).where(Order.tenant_id == tenant_id, Order.id == order_id)
    )


async def list_orders(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    status: Status | str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[Order]:
    """The tenant's orders in the order created, after the cursor, by contact and status."""
    query = select(Order).where(Order.tenant_id == tenant_id)
    if contact_id is not None:
        query = query.where(Order.contact_id == contact_id)
    if status is not None:
        query = query.where(Order.status == Status(status).value)
    if after:
        query = query.where(Order.id > after)
    return list(await session.scalars(query.order_by(Order.id).limit(limit)))


async def items_of(
    session: AsyncSession, *, tenant_id: str, order_ids: Sequence[str]
) -> dict[str, list[OrderItem]]:
    """The lines of several orders at once, by order id (in the order added)."""
    found: dict[str, list[OrderItem]] = {order_id: [] for order_id in order_ids}
    if not order_ids:
        return found
    rows = await session.scalars(
        select(OrderItem)
        .where(OrderItem.tenant_id == tenant_id, OrderItem.order_id.in_(list(order_ids)))
        .order_by(OrderItem.created_at, OrderItem.id)
    )
    for item in rows:
        found[item.order_id].append(item)
    return found


async def set_status(
    session: AsyncSession,
    *,
    tenant_id: str,
    order_id: str,
    status: Status | str,
    now: datetime,
) -> Order | None:
    """Mark an order paid or cancelled (a cancelled checkout gives its stock back); None when
    not the tenant's."""
    wanted = Status(status).value
    order = await get_order(session, tenant_id=tenant_id, order_id=order_id)
    if order is None:
        return None
    if order.status == wanted:
        return order
    if wanted not in TRANSITIONS[order.status]:
        raise InvalidTransitionError(order.status, wanted)
    if wanted == Status.CANCELLED.value and order.status != Status.CART.value:
        cart = await cart_of(session, order)
        await _release(session, tenant_id=tenant_id, lines=cart.lines)
    order.status = wanted
    order.updated_at = now
    await session.flush()
    return order


# --- leads -----------------------------------------------------------------------------------


async def get_lead(session: AsyncSession, *, tenant_id: str, contact_id: str) -> Lead | None:
    """The contact's lead, if they ever asked about the catalog."""
    return await session.scalar(
        select(Lead).where(Lead.tenant_id == tenant_id, Lead.contact_id == contact_id)
    )


async def capture_lead(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str,
    interest: str,
    now: datetime,
    source_key: str | None = None,
) -> tuple[Lead, bool]:
    """Keep the contact as a lead the first time they ask about products; (lead, created).
    Later questions, and a retried turn, leave the first lead as it is."""
    _source_key(source_key)
    found = await get_lead(session, tenant_id=tenant_id, contact_id=contact_id)
    if found is not None:
        return found, False
    contact = await _require_contact(session, tenant_id=tenant_id, contact_id=contact_id)
    said = " ".join(interest.split())[:INTEREST_MAX]
    if not said:
        raise InvalidInputError("interest", "cannot be empty")
    created = await _insert_ignore(
        session,
        Lead,
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "contact_id": contact_id,
            "name": contact.display_name or contact.profile_name,
            "interest": said,
            "source_key": source_key,
            "created_at": now,
        },
    )
    lead = await get_lead(session, tenant_id=tenant_id, contact_id=contact_id)
    if lead is None:  # the key was used by another contact's lead: a caller's mistake
        raise InvalidInputError("source_key", "already used")
    return lead, created


async def list_leads(
    session: AsyncSession,
    *,
    tenant_id: str,
    contact_id: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[Lead]:
    """The tenant's leads in the order captured, after the cursor (a lead id)."""
    query = select(Lead).where(Lead.tenant_id == tenant_id)
    if contact_id is not None:
        query = query.where(Lead.contact_id == contact_id)
    if after:
        query = query.where(Lead.id > after)
    return list(await session.scalars(query.order_by(Lead.id).limit(limit)))


# --- the tenant's Stripe account ---------------------------------------------------------


def _success_url(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    url = value.strip()
    if not url.startswith(("https://", "http://")) or len(url) > URL_MAX or " " in url:
        raise InvalidInputError("success_url", f"an http(s) URL of at most {URL_MAX} characters")
    return url


async def set_stripe_account(
    session: AsyncSession,
    box: SecretBox,
    *,
    tenant_id: str,
    secret_key: str,
    now: datetime,
    success_url: str | None = None,
) -> StripeAccount:
    """Connect (or replace) the tenant's Stripe account; the key is stored encrypted only."""
    key = secret_key.strip()
    match = _STRIPE_KEY.match(key)
    if match is None:
        # Never echo the value: it may be a real key pasted in the wrong place.
        raise InvalidInputError(
            "secret_key", "a Stripe secret key (sk_live_…, sk_test_…) or restricted key (rk_…)"
        )
    url = _success_url(success_url)
    account = await get_stripe_account(session, tenant_id=tenant_id)
    if account is None:
        account = StripeAccount(tenant_id=tenant_id, created_at=now)
        session.add(account)
    account.secret_key = box.encrypt(key)
    account.key_last4 = key[-4:]
    account.livemode = match[2] == "live"
    account.success_url = url
    account.updated_at = now
    await session.flush()
    return account


async def get_stripe_account(session: AsyncSession, *, tenant_id: str) -> StripeAccount | None:
    """The tenant's Stripe account (its key still encrypted)."""
    return await session.scalar(select(StripeAccount).where(StripeAccount.tenant_id == tenant_id))


async def delete_stripe_account(session: AsyncSession, *, tenant_id: str) -> bool:
    """Disconnect the tenant's Stripe account (orders then wait for an operator)."""
    account = await get_stripe_account(session, tenant_id=tenant_id)
    if account is None:
        return False
    await session.delete(account)
    await session.flush()
    return True


async def rotate_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypt every stored Stripe key under the newest key; how many were rewritten."""
    rows = list(await session.scalars(select(StripeAccount)))
    for account in rows:
        account.secret_key = box.rotate(account.secret_key)
    await session.flush()
    return len(rows)


# --- data subject rights ----------------------------------------------------------------------


async def export_contact(session: AsyncSession, ref: ContactRef) -> dict[str, Any]:
    """The contact's orders with their lines, and their lead (amounts as text)."""
    orders = list(
        await session.scalars(
            select(Order)
            .where(Order.tenant_id == ref.tenant_id, Order.contact_id == ref.contact_id)
            .order_by(Order.id)
        )
    )
    exported = []
    for order in orders:
        items = await _items(session, tenant_id=ref.tenant_id, order_id=order.id)
        exported.append(
            {
                **as_dict(
                    order,
                    "id",
                    "status",
                    "currency",
                    "payment_url",
                    "payment_ref",
                    "created_at",
                    "updated_at",
                ),
                "total": str(Decimal(order.total).quantize(CENT)),
                "items": [
                    {
                        **as_dict(item, "product_id", "name", "quantity", "created_at"),
                        "unit_price": str(Decimal(item.unit_price).quantize(CENT)),
                    }
                    for item in items
                ],
            }
        )
    leads = await session.scalars(
        select(Lead)
        .where(Lead.tenant_id == ref.tenant_id, Lead.contact_id == ref.contact_id)
        .order_by(Lead.id)
    )
    return {
        "orders": exported,
        "leads": [
            as_dict(lead, "id", "name", "interest", "source_key", "created_at") for lead in leads
        ],
    }


async def erase_contact(session: AsyncSession, ref: ContactRef) -> Erased:
    """Delete the contact's orders (lines and change records with them) and lead."""
    orders = select(Order.id).where(
        Order.tenant_id == ref.tenant_id, Order.contact_id == ref.contact_id
    )
    rows = 0
    for model in (OrderWrite, OrderItem):
        result = await session.execute(
            delete_rows(model).where(model.tenant_id == ref.tenant_id, model.order_id.in_(orders))
        )
        rows += int(cast(CursorResult[Any], result).rowcount)
    for owned in (Order, Lead):
        result = await session.execute(
            delete_rows(owned).where(
                owned.tenant_id == ref.tenant_id, owned.contact_id == ref.contact_id
            )
        )
        rows += int(cast(CursorResult[Any], result).rowcount)
    return Erased(rows=rows)
