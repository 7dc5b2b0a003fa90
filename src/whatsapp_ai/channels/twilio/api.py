"""Twilio endpoints: the WhatsApp webhook, delivery status callbacks, the tenant's account."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from whatsapp_ai.channels import service as channels
from whatsapp_ai.channels.twilio import accounts, parse
from whatsapp_ai.channels.twilio import status as delivery
from whatsapp_ai.channels.twilio.models import TwilioAccount
from whatsapp_ai.channels.twilio.schemas import TwilioAccountIn, TwilioAccountOut
from whatsapp_ai.channels.twilio.sending import CHANNEL
from whatsapp_ai.channels.twilio.signature import is_valid, public_url
from whatsapp_ai.conversation import service as conversation
from whatsapp_ai.core.db import enter_tenant, system_scope
from whatsapp_ai.core.http import Principal, Runtime, require, runtime
from whatsapp_ai.core.logging import get_logger

router = APIRouter(prefix="/channels/twilio", tags=["channels: twilio"])
Writer = Annotated[Principal, Depends(require("channels:write"))]
Reader = Annotated[Principal, Depends(require("channels:read"))]
# One answer for an unknown account and a bad signature: callers learn nothing about tenants.
FORBIDDEN = "invalid signature or unknown account"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
log = get_logger(__name__)


async def _form(request: Request) -> dict[str, str]:
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "expected a form-encoded body")
    raw = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(raw, keep_blank_values=True))


def _reject(rt: Runtime, code: int, outcome: str, reason: str) -> HTTPException:
    rt.metrics.inbound_messages.labels(CHANNEL, outcome).inc()
    log.warning("twilio.webhook_rejected", outcome=outcome, reason=reason)
    return HTTPException(code, reason)


async def _account_for(
    rt: Runtime,
    request: Request,
    form: dict[str, str],
    *,
    number: str | None,
) -> accounts.ResolvedAccount:
    """The tenant's account for a webhook, with its signature checked; else 403."""
    account_sid = form.get("AccountSid", "")
    service_sid = form.get("MessagingServiceSid") or None

    async def load() -> accounts.ResolvedAccount | None:
        async with rt.db.read() as session:
            found = await accounts.resolve_account(
                session, account_sid=account_sid, number=number, messaging_service_sid=service_sid
            )
            return None if found is None else accounts.resolved(found)

    key = f"{accounts.MEMO_PREFIX}{account_sid}|{number}|{service_sid}"
    with system_scope():  # routing a webhook to its tenant looks across tenants
        account = await rt.memo.get_or_load(key, load, ttl_s=accounts.MEMO_TTL_S)
    if account is None:
        raise _reject(rt, status.HTTP_403_FORBIDDEN, "unknown_tenant", FORBIDDEN)
    if rt.settings.twilio.validate_signature:
        url = public_url(request, rt.settings.twilio)
        signature = request.headers.get("x-twilio-signature", "")
        if not is_valid(url, form, signature, account.auth_tokens(rt.box)):
            raise _reject(rt, status.HTTP_403_FORBIDDEN, "bad_signature", FORBIDDEN)
    enter_tenant(account.tenant_id)
    return account


def _number(raw: str) -> str | None:
    try:
        return parse.our_number(raw)
    except ValueError:
        return None


@router.post("/whatsapp", response_class=Response)
async def inbound(request: Request) -> Response:
    """Store the message and queue its turn in one transaction, then answer empty TwiML."""
    rt = runtime(request)
    form = await _form(request)
    account = await _account_for(rt, request, form, number=_number(form.get("To", "")))
    try:
        message = parse.parse_inbound(form)
    except parse.InvalidSenderError as exc:
        # Twilio's request is fine, the sender is not: acknowledged (so it is not retried or
        # flagged), but no contact is made and nothing is answered.
        rt.metrics.inbound_messages.labels(CHANNEL, "refused_sender").inc()
        log.warning(
            "twilio.sender_refused",
            tenant_id=account.tenant_id,
            message_sid=form.get("MessageSid", ""),
            reason=str(exc),
        )
        return Response(EMPTY_TWIML, media_type="text/xml")
    except parse.InvalidWebhookError as exc:
        raise _reject(rt, status.HTTP_400_BAD_REQUEST, "invalid", str(exc)) from exc
    accepted: channels.Accepted = await rt.batcher.submit(
        channels.INBOUND_BULK,
        channels.InboundItem(
            tenant_id=account.tenant_id,
            channel=CHANNEL,
            external_id=message.message_sid,
            sender=message.sender,
            body=parse.text_for_assistant(message),
            profile_name=message.profile_name,
            payload=parse.payload_of(message),
            now=rt.clock.now(),
        ),
    )
    outcome = "duplicate" if accepted.duplicate else "accepted"
    rt.metrics.inbound_messages.labels(CHANNEL, outcome).inc()
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/status", response_class=Response)
async def delivery_status(request: Request) -> Response:
    """Apply a delivery status callback (monotonic), then answer 204."""
    rt = runtime(request)
    form = await _form(request)
    account = await _account_for(rt, request, form, number=_number(form.get("From", "")))
    sid = form.get("MessageSid", "")
    new_status = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not new_status:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "MessageSid and MessageStatus are required"
        )
    code = form.get("ErrorCode", "")
    async with rt.db.transaction() as session:
        changed = await delivery.apply_status(
            session,
            tenant_id=account.tenant_id,
            twilio_sid=sid,
            status=new_status,
            error_code=int(code) if code.isdigit() else None,
            error_message=form.get("ErrorMessage") or None,
            now=rt.clock.now(),
        )
        if changed is not None:
            message_id, message_status = changed
            await conversation.set_delivery_status(
                session, tenant_id=account.tenant_id, message_id=message_id, status=message_status
            )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _out(account: TwilioAccount) -> TwilioAccountOut:
    return TwilioAccountOut(
        account_sid=account.account_sid,
        whatsapp_number=account.whatsapp_number,
        messaging_service_sid=account.messaging_service_sid,
        template_content_sid=account.template_content_sid,
        template_variables=account.template_variables,
        has_secondary_auth_token=account.secondary_auth_token is not None,
        updated_at=account.updated_at,
    )


@router.put("/account", response_model=TwilioAccountOut)
async def put_account(request: Request, caller: Writer, body: TwilioAccountIn) -> TwilioAccountOut:
    """Set the tenant's Twilio credentials and WhatsApp sender (tokens are never shown again)."""
    rt = runtime(request)
    try:
        return await _store_account(rt, caller, body)
    except IntegrityError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "this Twilio number or messaging service is connected to another tenant",
        ) from exc


async def _store_account(rt: Runtime, caller: Principal, body: TwilioAccountIn) -> TwilioAccountOut:
    async with rt.db.transaction() as session:
        account = await accounts.upsert_account(
            session,
            rt.box,
            tenant_id=caller.tenant_id,
            account_sid=body.account_sid,
            auth_token=body.auth_token.get_secret_value(),
            secondary_auth_token=(
                body.secondary_auth_token.get_secret_value() if body.secondary_auth_token else None
            ),
            whatsapp_number=body.whatsapp_number,
            messaging_service_sid=body.messaging_service_sid,
            template_content_sid=body.template_content_sid,
            template_variables=body.template_variables,
            now=rt.clock.now(),
        )
        out = _out(account)
    rt.memo.invalidate(accounts.MEMO_PREFIX)
    return out


@router.get("/account", response_model=TwilioAccountOut)
async def get_account(request: Request, caller: Reader) -> TwilioAccountOut:
    """The tenant's Twilio configuration, without secrets."""
    async with runtime(request).db.read() as session:
        account = await accounts.get_account(session, tenant_id=caller.tenant_id)
    if account is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no Twilio account configured")
    return _out(account)
