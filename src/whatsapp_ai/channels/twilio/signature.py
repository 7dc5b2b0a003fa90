"""Twilio request signatures (X-Twilio-Signature), validated with the official SDK."""

from __future__ import annotations

import ipaddress

from fastapi import Request
from twilio.request_validator import RequestValidator

from whatsapp_ai.core.config import TwilioSettings


def public_url(request: Request, settings: TwilioSettings) -> str:
    """The URL Twilio called: configured base, proxy headers from trusted proxies, else ours."""
    path_and_query = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + path_and_query
    scheme, host = request.url.scheme, request.headers.get("host", request.url.netloc)
    client = request.client.host if request.client else None
    if client and _trusted(client, settings):
        forwarded_proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        forwarded_host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        scheme = forwarded_proto or scheme
        host = forwarded_host or host
    return f"{scheme}://{host}{path_and_query}"


def _trusted(client: str, settings: TwilioSettings) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in settings.proxy_networks())


def is_valid(url: str, params: dict[str, str], signature: str, tokens: list[str]) -> bool:
    """True when any of the account's tokens (rotation) signed this request."""
    if not signature:
        return False
    return any(RequestValidator(token).validate(url, params, signature) for token in tokens)
