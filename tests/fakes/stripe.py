"""A fake Stripe API on 127.0.0.1, for the official SDK: Checkout Sessions (payment and
subscription mode, read back, listed by payment intent), customers, Customer Portal sessions,
subscriptions, invoices and charges read back.

It reads the form-encoded body as Stripe does (``line_items[0][price_data][unit_amount]=5990``),
checks the bearer key, honours Idempotency-Key (the same key and body give the same object; the
same key with another body is an ``idempotency_error``), records every request, and injects
faults: an HTTP error of Stripe's shape (optionally for a number of calls) or a slow answer.
Tests move the objects as Stripe would (a session paid or expired, a subscription's status or
price, an invoice paid, a charge refunded) and build the events Stripe would send, signed as
Stripe signs them (:func:`signature_header`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from tests.fakes.server import ThreadedServer

ERRORS = {
    400: ("invalid_request_error", "parameter_invalid"),
    401: ("invalid_request_error", None),
    402: ("card_error", None),
    429: ("invalid_request_error", "rate_limit"),
    500: ("api_error", None),
}
_KEY = re.compile(r"(sk|rk)_(test|live)_\w+")


def nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracketed form keys as nested values: a[0][b]=1 → {"a": [{"b": "1"}]}."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            child: Any = value if last else ([] if following and following.isdigit() else {})
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if node[position] is None or last:
                    node[position] = child
                node = node[position]
            else:
                if part not in node or last:
                    node[part] = child
                node = node[part]
    return root


@dataclass(frozen=True, slots=True)
class StripeRequest:
    """A request the fake answered."""

    method: str
    path: str
    authorization: str | None
    idempotency_key: str | None
    stripe_version: str | None
    form: dict[str, str]
    params: dict[str, Any]
    status: int

    @property
    def api_key(self) -> str | None:
        """The bearer key the SDK sent."""
        if self.authorization and self.authorization.startswith("Bearer "):
            return self.authorization.removeprefix("Bearer ")
        return None


@dataclass(slots=True)
class _Fault:
    status: int
    message: str | None = None
    code: str | None = None
    delay_s: float = 0.0
    remaining: int | None = 1


@dataclass
class _State:
    keys: set[str] = field(default_factory=set)
    faults: list[_Fault] = field(default_factory=list)
    requests: list[StripeRequest] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Idempotency-Key → (the form it came with, the session it made).
    idempotent: dict[str, tuple[dict[str, str], str]] = field(default_factory=dict)
    # Every other object by id (customers, portal sessions, subscriptions, invoices, charges).
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    # (path, Idempotency-Key) → (the form it came with, the object it made).
    created: dict[tuple[str, str], tuple[dict[str, str], str]] = field(default_factory=dict)


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header as Stripe signs: t=<unix time>,v1=HMAC-SHA256 of "<t>.<body>"."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class FakeStripe(ThreadedServer):
    """Fake Stripe API on 127.0.0.1; point the SDK at ``url`` (``base_addresses={"api": url}``)."""

    name = "fake-stripe"

    def __init__(self, host: str = "127.0.0.1") -> None:
        """Prepare the server; call start() (or use it as a context manager) to serve."""
        self._lock = threading.Lock()
        self._state = _State()
        super().__init__(FastAPI(), host)
        self.app.add_api_route("/v1/checkout/sessions", self._create_session, methods=["POST"])
        self.app.add_api_route(
            "/v1/checkout/sessions/{session_id}", self._get_session, methods=["GET"]
        )
        self.app.add_api_route("/v1/checkout/sessions", self._list_sessions, methods=["GET"])
        self.app.add_api_route("/v1/customers", self._create_customer, methods=["POST"])
        self.app.add_api_route(
            "/v1/billing_portal/sessions", self._create_portal_session, methods=["POST"]
        )
        self.app.add_api_route(
            "/v1/billing/meter_events", self._create_meter_event, methods=["POST"]
        )
        for kind in ("subscriptions", "invoices", "charges", "customers"):
            self.app.add_api_route(f"/v1/{kind}/{{object_id}}", self._get_object, methods=["GET"])

    # ---------------------------------------------------------------- scripting

    def accept_key(self, key: str) -> None:
        """Accept only the keys given this way (by default any well-formed key)."""
        with self._lock:
            self._state.keys.add(key)

    def fail(
        self,
        status: int,
        *,
        message: str | None = None,
        code: str | None = None,
        times: int | None = 1,
    ) -> None:
        """Answer the next ``times`` session requests with a Stripe error (None: until reset)."""
        with self._lock:
            self._state.faults.append(_Fault(status, message, code, 0.0, times))

    def slow(self, delay_s: float, *, times: int | None = 1) -> None:
        """Answer the next ``times`` session requests only after ``delay_s`` seconds."""
        with self._lock:
            self._state.faults.append(_Fault(200, delay_s=delay_s, remaining=times))

    def reset(self) -> None:
        """Forget keys, faults, requests and sessions."""
        with self._lock:
            self._state = _State()

    @property
    def requests(self) -> list[StripeRequest]:
        """The requests answered, oldest first."""
        with self._lock:
            return list(self._state.requests)

    @property
    def sessions(self) -> dict[str, dict[str, Any]]:
        """The Checkout Sessions created, by id."""
        with self._lock:
            return dict(self._state.sessions)

    def object(self, object_id: str) -> dict[str, Any]:
        """A customer, portal session, subscription, invoice or charge, as Stripe holds it."""
        with self._lock:
            return json.loads(json.dumps(self._state.objects[object_id]))

    def objects_of(self, kind: str) -> list[dict[str, Any]]:
        """Every object of one kind ("customer", "billing_portal.session", ...), oldest first."""
        with self._lock:
            return [dict(o) for o in self._state.objects.values() if o["object"] == kind]

    def complete_session(self, session_id: str, *, paid: bool = True) -> dict[str, Any]:
        """The customer finished Checkout: a payment (intent and charge) or a subscription."""
        with self._lock:
            session = self._state.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = "paid" if paid else "unpaid"
            if session["mode"] == "subscription":
                price = session["line_items"][0]["price"]
                subscription = self._subscription(session["customer"], price)
                session["subscription"] = subscription["id"]
            elif paid:
                intent = _id("pi")
                charge = {
                    "id": _id("ch"),
                    "object": "charge",
                    "amount": session["amount_total"],
                    "amount_refunded": 0,
                    "currency": session["currency"],
                    "payment_intent": intent,
                    "paid": True,
                    "refunded": False,
                    "status": "succeeded",
                }
                self._state.objects[charge["id"]] = charge
                session["payment_intent"] = intent
                session["charge"] = charge["id"]
            return dict(session)

    def expire_session(self, session_id: str) -> dict[str, Any]:
        """The Checkout Session expired unpaid."""
        with self._lock:
            session = self._state.sessions[session_id]
            session["status"] = "expired"
            return dict(session)

    def refund(self, charge_id: str) -> dict[str, Any]:
        """The whole charge was given back."""
        with self._lock:
            charge = self._state.objects[charge_id]
            charge["refunded"] = True
            charge["amount_refunded"] = charge["amount"]
            return dict(charge)

    def set_subscription(
        self, subscription_id: str, *, status: str | None = None, price: str | None = None
    ) -> dict[str, Any]:
        """Move a subscription as Stripe would (its status, or the price of its item)."""
        with self._lock:
            subscription = self._state.objects[subscription_id]
            if status is not None:
                subscription["status"] = status
                if status == "canceled":
                    subscription["canceled_at"] = int(time.time())
            if price is not None:
                subscription["items"]["data"][0]["price"] = {"id": price, "object": "price"}
            return json.loads(json.dumps(subscription))

    def add_invoice(self, subscription_id: str, *, status: str = "open") -> dict[str, Any]:
        """An invoice of the subscription (open: not paid yet; paid)."""
        with self._lock:
            subscription = self._state.objects[subscription_id]
            invoice = {
                "id": _id("in"),
                "object": "invoice",
                "customer": subscription["customer"],
                "status": status,
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {"subscription": subscription_id},
                },
            }
            self._state.objects[invoice["id"]] = invoice
            return dict(invoice)

    def set_invoice(self, invoice_id: str, *, status: str) -> dict[str, Any]:
        """An invoice paid (or voided, uncollectible) later."""
        with self._lock:
            invoice = self._state.objects[invoice_id]
            invoice["status"] = status
            return dict(invoice)

    @staticmethod
    def event(kind: str, obj: dict[str, Any], *, created: int | None = None) -> dict[str, Any]:
        """The event Stripe would send about ``obj`` (as it is now)."""
        return {
            "id": _id("evt"),
            "object": "event",
            "api_version": "2025-09-30.clover",
            "created": int(time.time()) if created is None else created,
            "livemode": False,
            "pending_webhooks": 1,
            "type": kind,
            "data": {"object": json.loads(json.dumps(obj))},
        }

    def _subscription(self, customer: str, price: str) -> dict[str, Any]:
        now = int(time.time())
        subscription_id = _id("sub")
        subscription = {
            "id": subscription_id,
            "object": "subscription",
            "customer": customer,
            "status": "active",
            "billing_cycle_anchor": now,
            "created": now,
            "trial_end": None,
            "canceled_at": None,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": _id("si"),
                        "object": "subscription_item",
                        "price": {"id": price, "object": "price"},
                        "quantity": 1,
                    }
                ],
            },
        }
        self._state.objects[subscription_id] = subscription
        return subscription

    # ---------------------------------------------------------------- handlers

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            if not self._state.faults:
                return None
            fault = self._state.faults[0]
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._state.faults.pop(0)
            return fault

    def _record(self, request: Request, pairs: list[tuple[str, str]], status: int) -> None:
        record = StripeRequest(
            method=request.method,
            path=request.url.path,
            authorization=request.headers.get("authorization"),
            idempotency_key=request.headers.get("idempotency-key"),
            stripe_version=request.headers.get("stripe-version"),
            form=dict(pairs),
            params=nest(pairs),
            status=status,
        )
        with self._lock:
            self._state.requests.append(record)

    def _authorized(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        key = header.removeprefix("Bearer ") if header.startswith("Bearer ") else ""
        with self._lock:
            allowed = self._state.keys
            if allowed:
                return key if key in allowed else None
        return key if _KEY.fullmatch(key) else None

    @staticmethod
    def _error(
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        kind: str | None = None,
    ) -> Response:
        default_kind, default_code = ERRORS.get(status, ("api_error", None))
        body = {
            "error": {
                "type": kind or default_kind,
                "code": code or default_code,
                "message": message,
                "param": param,
            }
        }
        headers = {"request-id": f"req_{secrets.token_hex(7)}"}
        if status >= 500:
            headers["stripe-should-retry"] = "true"
        return JSONResponse(body, status_code=status, headers=headers)

    async def _create_session(self, request: Request) -> Response:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        key = self._authorized(request)
        if key is None:
            self._record(request, pairs, 401)
            return self._error(401, "Invalid API Key provided: sk_****")
        fault = self._take_fault()
        if fault is not None and fault.delay_s:
            deadline = time.monotonic() + fault.delay_s
            while time.monotonic() < deadline:
                if await request.is_disconnected():
                    self._record(request, pairs, 499)
                    return Response(status_code=499)
                await asyncio.sleep(0.02)
        elif fault is not None:
            self._record(request, pairs, fault.status)
            return self._error(
                fault.status, fault.message or f"fake error {fault.status}", code=fault.code
            )
        form = dict(pairs)
        params = nest(pairs)
        problem = self._invalid(params)
        if problem is not None:
            self._record(request, pairs, 400)
            return self._error(400, problem[1], code="parameter_missing", param=problem[0])
        idempotency_key = request.headers.get("idempotency-key")
        with self._lock:
            seen = self._state.idempotent.get(idempotency_key or "")
            if seen is not None and seen[0] != form:
                status = 400
            elif seen is not None:
                status = 200
                session = self._state.sessions[seen[1]]
            else:
                status = 200
                session = self._session(params, live=key.split("_")[1] == "live")
                self._state.sessions[session["id"]] = session
                if idempotency_key:
                    self._state.idempotent[idempotency_key] = (form, session["id"])
        self._record(request, pairs, status)
        if status == 400:
            return self._error(
                400,
                "Keys for idempotent requests can only be used with the same parameters "
                "they were first used with.",
                kind="idempotency_error",
            )
        return JSONResponse(session, headers={"idempotent-replayed": str(seen is not None).lower()})

    async def _get_session(self, request: Request, session_id: str) -> Response:
        if self._authorized(request) is None:
            self._record(request, [], 401)
            return self._error(401, "Invalid API Key provided: sk_****")
        with self._lock:
            session = self._state.sessions.get(session_id)
        self._record(request, [], 200 if session else 404)
        if session is None:
            return self._error(
                404, f"No such checkout.session: '{session_id}'", code="resource_missing"
            )
        return JSONResponse(session)

    async def _list_sessions(self, request: Request) -> Response:
        if self._authorized(request) is None:
            self._record(request, [], 401)
            return self._error(401, "Invalid API Key provided: sk_****")
        intent = request.query_params.get("payment_intent")
        with self._lock:
            found = [
                dict(session)
                for session in self._state.sessions.values()
                if intent is None or session.get("payment_intent") == intent
            ]
        self._record(request, list(request.query_params.multi_items()), 200)
        body = {"object": "list", "data": found, "has_more": False, "url": "/v1/checkout/sessions"}
        return JSONResponse(body)

    async def _get_object(self, request: Request, object_id: str) -> Response:
        if self._authorized(request) is None:
            self._record(request, [], 401)
            return self._error(401, "Invalid API Key provided: sk_****")
        fault = self._take_fault()
        if fault is not None and not fault.delay_s:
            self._record(request, [], fault.status)
            return self._error(fault.status, fault.message or f"fake error {fault.status}")
        with self._lock:
            found = self._state.objects.get(object_id)
            body = None if found is None else json.loads(json.dumps(found))
        self._record(request, [], 200 if body else 404)
        if body is None:
            kind = request.url.path.split("/")[2].rstrip("s")
            return self._error(404, f"No such {kind}: '{object_id}'", code="resource_missing")
        return JSONResponse(body)

    async def _create_customer(self, request: Request) -> Response:
        def make(params: dict[str, Any]) -> dict[str, Any]:
            return {
                "id": _id("cus"),
                "object": "customer",
                "name": params.get("name"),
                "email": params.get("email"),
                "metadata": params.get("metadata") or {},
                "created": int(time.time()),
            }

        return await self._create(request, make)

    async def _create_meter_event(self, request: Request) -> Response:
        """A usage event on a billing meter; one per identifier, as Stripe enforces."""
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        if self._authorized(request) is None:
            self._record(request, pairs, 401)
            return self._error(401, "Invalid API Key provided: sk_****")
        fault = self._take_fault()
        if fault is not None and not fault.delay_s:
            self._record(request, pairs, fault.status)
            return self._error(fault.status, fault.message or f"fake error {fault.status}")
        params = nest(pairs)
        identifier = str(params.get("identifier") or _id("mev"))
        with self._lock:
            seen = any(
                o["object"] == "billing.meter_event" and o["identifier"] == identifier
                for o in self._state.objects.values()
            )
        if seen:
            self._record(request, pairs, 400)
            return self._error(
                400,
                f"An event already exists with identifier {identifier}.",
                code="resource_already_exists",
                param="identifier",
            )
        made = {
            "object": "billing.meter_event",
            "id": identifier,
            "identifier": identifier,
            "event_name": params.get("event_name"),
            "payload": params.get("payload") or {},
            "created": int(time.time()),
        }
        with self._lock:
            self._state.objects[identifier] = made
        self._record(request, pairs, 200)
        return JSONResponse(made)

    async def _create_portal_session(self, request: Request) -> Response:
        def make(params: dict[str, Any]) -> dict[str, Any] | tuple[str, str]:
            customer = params.get("customer")
            with self._lock:
                known = customer in self._state.objects
            if not known:
                return "customer", f"No such customer: '{customer}'"
            session_id = _id("bps")
            return {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": customer,
                "return_url": params.get("return_url"),
                "flow": params.get("flow_data"),
                "created": int(time.time()),
                "url": f"https://billing.stripe.com/p/session/{session_id}",
            }

        return await self._create(request, make)

    async def _create(self, request: Request, make: Any) -> Response:
        """Create an object from the form, once per Idempotency-Key."""
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
        if self._authorized(request) is None:
            self._record(request, pairs, 401)
            return self._error(401, "Invalid API Key provided: sk_****")
        fault = self._take_fault()
        if fault is not None and not fault.delay_s:
            self._record(request, pairs, fault.status)
            return self._error(fault.status, fault.message or f"fake error {fault.status}")
        form = dict(pairs)
        key = (request.url.path, request.headers.get("idempotency-key") or "")
        with self._lock:
            seen = self._state.created.get(key) if key[1] else None
        if seen is not None:
            status = 200 if seen[0] == form else 400
            self._record(request, pairs, status)
            if status == 400:
                return self._error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    kind="idempotency_error",
                )
            with self._lock:
                replay = dict(self._state.objects[seen[1]])
            return JSONResponse(replay, headers={"idempotent-replayed": "true"})
        made = make(nest(pairs))
        if isinstance(made, tuple):
            self._record(request, pairs, 400)
            return self._error(400, made[1], code="resource_missing", param=made[0])
        with self._lock:
            self._state.objects[made["id"]] = made
            if key[1]:
                self._state.created[key] = (form, made["id"])
        self._record(request, pairs, 200)
        return JSONResponse(made, headers={"idempotent-replayed": "false"})

    @staticmethod
    def _invalid(params: dict[str, Any]) -> tuple[str, str] | None:
        if params.get("mode") not in ("payment", "setup", "subscription"):
            return "mode", "Missing required param: mode."
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            return "line_items", "Missing required param: line_items."
        for index, item in enumerate(items):
            data = (item or {}).get("price_data") or {}
            if not str(item.get("quantity", "")).isdigit():
                return f"line_items[{index}][quantity]", "Invalid integer."
            if params["mode"] == "subscription":
                if not str(item.get("price", "")).startswith("price_"):
                    return f"line_items[{index}][price]", "No such price."
                if not params.get("customer"):
                    return "customer", "Missing required param: customer."
                continue
            if not str(data.get("unit_amount", "")).isdigit():
                return f"line_items[{index}][price_data][unit_amount]", "Invalid integer."
            if not data.get("currency") or not (data.get("product_data") or {}).get("name"):
                return f"line_items[{index}][price_data]", "Missing currency or product name."
        return None

    @staticmethod
    def _session(params: dict[str, Any], *, live: bool) -> dict[str, Any]:
        session_id = f"cs_{'live' if live else 'test'}_{secrets.token_hex(16)}"
        items = params["line_items"]
        priced = params["mode"] != "subscription"
        total = (
            sum(int(item["quantity"]) * int(item["price_data"]["unit_amount"]) for item in items)
            if priced
            else None
        )
        return {
            "id": session_id,
            "object": "checkout.session",
            "livemode": live,
            "mode": params["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "currency": items[0]["price_data"]["currency"] if priced else None,
            "amount_subtotal": total,
            "amount_total": total,
            "customer": params.get("customer"),
            "subscription": None,
            "payment_intent": None,
            "line_items": [
                {"price": item.get("price"), "quantity": int(item["quantity"])} for item in items
            ],
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "locale": params.get("locale"),
            "success_url": params.get("success_url"),
            "created": int(time.time()),
            "expires_at": int(time.time()) + 24 * 3600,
            "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        }
