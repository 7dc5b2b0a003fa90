"""Money: ISO 4217 currencies and the amount types every API shares.

Money is ``Decimal`` everywhere (never float) and travels as text ("50.00") so no cent is lost.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer, StringConstraints

from whatsapp_ai.core.errors import InvalidInputError

DEFAULT_CURRENCY = "BRL"
CENT = Decimal("0.01")
# ISO 4217 codes of currencies in circulation (funds, metals and test codes left out).
_ISO_4217 = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES
    KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU
    MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON
    RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW
    ZWG
    """
CURRENCIES = frozenset(_ISO_4217.split())
# Currencies without minor units, and those with three (as Stripe counts them).
_ZERO_DECIMAL = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
ZERO_DECIMAL = frozenset(_ZERO_DECIMAL.split())
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


def currency_code(value: str) -> str:
    """An ISO 4217 currency code in capitals ('brl' → 'BRL'); InvalidInputError otherwise."""
    code = value.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise InvalidInputError("three letters, ISO 4217 (e.g. BRL, USD)", field="currency")
    if code not in CURRENCIES:
        raise InvalidInputError(f"unknown ISO 4217 currency: {code}", field="currency")
    return code


def _currency(value: str) -> str:
    try:
        return currency_code(value)
    except InvalidInputError as exc:
        raise ValueError(exc.message) from None


Money = Annotated[
    Decimal, PlainSerializer(lambda value: str(Decimal(value).quantize(CENT)), return_type=str)
]
"""An amount in a response, as text with two decimals ("50.00")."""

Currency = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=3),
    AfterValidator(_currency),
    Field(description="ISO 4217 code, e.g. BRL or USD.", examples=["BRL"]),
]
"""A currency in a request or response, validated against ISO 4217."""
