"""A new contact's defaults from their phone number's country: language, time zone and currency.

The country comes from the number (`phonenumbers`); the zone from its time-zone data (by area
code where the country has several), else the tenant's default when it is one of the country's
zones, else the country's main zone. The contact can change any of them later."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import timezone as number_zones

from whatsapp_ai.core.money import DEFAULT_CURRENCY

DEFAULT_TIMEZONE = "America/Sao_Paulo"
DEFAULT_LANGUAGE = "pt-BR"
_UNKNOWN_ZONE = "Etc/Unknown"

_PORTUGUESE = {"BR": "pt-BR", "PT": "pt-PT", "AO": "pt-PT", "MZ": "pt-PT", "CV": "pt-PT"}
# Regions by the language spoken there (the assistant answers in Portuguese or English; the
# others are kept for when it speaks them).
_REGIONS = {
    "es": "AR BO CL CO CR CU DO EC ES GT HN MX NI PA PE PR PY SV UY VE",
    "fr": "FR BE LU MC SN CI CM",
    "de": "DE AT LI",
    "it": "IT SM VA",
}
_EURO_REGIONS = "AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MC MT NL PT SI SK SM VA"
_EURO = frozenset(_EURO_REGIONS.split())
_CURRENCIES = {
    "BR": "BRL", "US": "USD", "PR": "USD", "EC": "USD", "SV": "USD", "PA": "USD", "GB": "GBP",
    "CA": "CAD", "MX": "MXN", "AR": "ARS", "CL": "CLP", "CO": "COP", "PE": "PEN", "UY": "UYU",
    "PY": "PYG", "BO": "BOB", "AU": "AUD", "NZ": "NZD", "JP": "JPY", "CH": "CHF", "IN": "INR",
    "AO": "AOA", "MZ": "MZN", "CV": "CVE", "CN": "CNY", "ZA": "ZAR", "SE": "SEK", "NO": "NOK",
    "DK": "DKK", "PL": "PLN", "IL": "ILS", "AE": "AED",
} | dict.fromkeys(_EURO, "EUR")  # fmt: skip
# The main zone of a country with several, when the number's area does not say.
_MAIN_ZONE = {
    "US": "America/New_York", "CA": "America/Toronto", "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City", "AU": "Australia/Sydney", "RU": "Europe/Moscow",
    "PT": "Europe/Lisbon", "ES": "Europe/Madrid", "AR": "America/Argentina/Buenos_Aires",
    "CL": "America/Santiago", "ID": "Asia/Jakarta", "GB": "Europe/London",
}  # fmt: skip


@dataclass(frozen=True)
class Locale:
    """A contact's language, time zone and currency (and the country they came from)."""

    language: str
    timezone: str
    currency: str
    region: str | None = None


def _region(number: phonenumbers.PhoneNumber) -> str | None:
    region = phonenumbers.region_code_for_number(number)
    if region is None and number.country_code is not None:
        region = phonenumbers.region_code_for_country_code(number.country_code)
    return None if region in (None, "ZZ", "001") else region


def _language(region: str, default: str) -> str:
    if region in _PORTUGUESE:
        return _PORTUGUESE[region]
    for code, regions in _REGIONS.items():
        if region in regions.split():
            return code
    return "en" if region else default


def _zone(number: phonenumbers.PhoneNumber, region: str, default: str) -> str:
    own = [z for z in number_zones.time_zones_for_number(number) if z != _UNKNOWN_ZONE]
    if len(own) == 1:
        return own[0]
    country = own or [
        z for z in number_zones.time_zones_for_geographical_number(number) if z != _UNKNOWN_ZONE
    ]
    if default in country:
        return default
    if region in _MAIN_ZONE:
        return _MAIN_ZONE[region]
    return country[0] if country else default


def locale_for(
    address: str,
    *,
    default_language: str = DEFAULT_LANGUAGE,
    default_timezone: str = DEFAULT_TIMEZONE,
    default_currency: str = DEFAULT_CURRENCY,
) -> Locale:
    """The defaults for a contact writing from ``address`` (a WhatsApp number, "+5511...")."""
    default = Locale(default_language, default_timezone, default_currency)
    digits = address.removeprefix("whatsapp:").strip()
    if not digits.startswith("+"):
        return default
    try:
        number = phonenumbers.parse(digits, None)
    except phonenumbers.NumberParseException:
        return default
    region = _region(number)
    if region is None:
        return default
    return Locale(
        language=_language(region, default_language),
        timezone=_zone(number, region, default_timezone),
        currency=_CURRENCIES.get(region, default_currency),
        region=region,
    )
