"""Composition root: the only place that chooses concrete adapters. Tests pass their own."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from whatsapp_ai.ai import dialogue, traces
from whatsapp_ai.ai.agents import sales as sales_agent
from whatsapp_ai.ai.agents.engine import AGENTS, AssistantEngine, offline_model, record_usage
from whatsapp_ai.ai.llm import FallbackChain, build_chain
from whatsapp_ai.ai.router import IntentRouter
from whatsapp_ai.ai.service import NoSpeech, ReplyStep, SpeechStep
from whatsapp_ai.ai.settings import DEFAULT_RETENTION_DAYS
from whatsapp_ai.ai.speech import LocalSpeech, SpeechModelMissingError
from whatsapp_ai.billing import alerts as billing_alerts
from whatsapp_ai.billing import overage
from whatsapp_ai.billing import service as billing
from whatsapp_ai.billing.webhooks import EVENT_JOB as BILLING_STRIPE_JOB
from whatsapp_ai.billing.webhooks import StripeWebhooks
from whatsapp_ai.channels import service as channel_service
from whatsapp_ai.channels.sandbox.service import SandboxChannel
from whatsapp_ai.channels.service import Channel
from whatsapp_ai.channels.twilio.client import TwilioClients
from whatsapp_ai.channels.twilio.media import TwilioMedia
from whatsapp_ai.channels.twilio.sending import TwilioChannel
from whatsapp_ai.conversation import service as conversation_service
from whatsapp_ai.conversation.handoff import Handoff
from whatsapp_ai.conversation.lifecycle import Lifecycle
from whatsapp_ai.conversation.policy import Policy
from whatsapp_ai.conversation.timeouts import Timeouts
from whatsapp_ai.core.blobs import BlobStore, LocalBlobStore
from whatsapp_ai.core.clock import Clock, SystemClock
from whatsapp_ai.core.config import ProviderSpec, Settings, SettingsError, load_settings
from whatsapp_ai.core.crypto import SecretBox, SecretKeyError, local_key
from whatsapp_ai.core.db import Database, WriteBatcher, create_engine, system_scope, tenant_scope
from whatsapp_ai.core.events import EventBus, create_bus
from whatsapp_ai.core.http import PlatformPrincipal, Principal
from whatsapp_ai.core.leases import Leases, erase_contact_leases, export_contact_leases
from whatsapp_ai.core.memo import Memo
from whatsapp_ai.core.metrics import Metrics
from whatsapp_ai.core.privacy import PrivacyRegistry
from whatsapp_ai.core.queue import LeasedJob, Queue, RetryPolicy
from whatsapp_ai.core.queue.sql import SqlQueue, erase_contact_jobs, export_contact_jobs
from whatsapp_ai.core.queue.worker import Worker
from whatsapp_ai.core.ratelimit import SharedRateLimiter
from whatsapp_ai.core.scheduler import PeriodicTask, Scheduler
from whatsapp_ai.finance import service as finance
from whatsapp_ai.identity import service as identity
from whatsapp_ai.payments import SalesPayments
from whatsapp_ai.pipeline import DELIVER_JOB, NOTICE_JOB, Pipeline
from whatsapp_ai.relationships import service as crm
from whatsapp_ai.reminders import ReminderSender
from whatsapp_ai.sales import service as sales

# A reservation older than this was left by a step that will not settle it (longer than any
# turn with its retries).
STALE_RESERVATION = timedelta(hours=1)


@dataclass
class Container:
    """Every long-lived dependency of one process."""

    settings: Settings
    clock: Clock
    db: Database
    queue: Queue
    leases: Leases
    metrics: Metrics
    box: SecretBox
    batcher: WriteBatcher
    memo: Memo
    blobs: BlobStore
    limiter: SharedRateLimiter
    privacy: PrivacyRegistry
    reply_step: ReplyStep
    speech: SpeechStep
    bus: EventBus
    lifecycle: Lifecycle
    meter: billing.Meter
    channels: dict[str, Channel] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Set when the process is asked to stop: long-lived responses (event streams) end.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def handoff(self) -> Handoff:
        """Handoff operations (operators, assignment, return to the assistant)."""
        return Handoff(self.lifecycle)

    async def purge_traces(self) -> int:
        """Delete reply traces past each tenant's retention."""
        with system_scope():
            async with self.db.transaction() as session:
                return await traces.purge(
                    session, now=self.clock.now(), default_days=DEFAULT_RETENTION_DAYS
                )

    async def release_stale_reservations(self) -> int:
        """Give back usage held by steps whose worker died and that nobody retried."""
        with system_scope():
            async with self.db.transaction() as session:
                return await self.meter.release_stale(session, older_than=STALE_RESERVATION)

    @property
    def reminders(self) -> ReminderSender:
        """The sweep that sends due reminders."""
        channel = "sandbox" if "sandbox" in self.channels else "twilio"
        return ReminderSender(self.db, self.lifecycle, default_channel=channel)

    @property
    def stripe_webhooks(self) -> StripeWebhooks:
        """The platform's Stripe events: plans follow the tenants' subscriptions."""
        return StripeWebhooks(self.db, self.queue, self.clock, self.settings.stripe, self.bus)

    @property
    def sales_payments(self) -> SalesPayments:
        """Payment events of the tenants' own Stripe accounts: orders follow them."""
        channel = "sandbox" if "sandbox" in self.channels else "twilio"
        return SalesPayments(
            self.db, self.lifecycle, self.box, self.settings.stripe, default_channel=channel
        )

    @property
    def timeouts(self) -> Timeouts:
        """The sweep of conversations whose timers are due."""
        return Timeouts(
            self.db, self.lifecycle, self.handoff, batch=self.settings.lifecycle.sweep_batch
        )

    @property
    def pipeline(self) -> Pipeline:
        """The message path wired to this container's adapters."""
        return Pipeline(
            db=self.db,
            clock=self.clock,
            queue=self.queue,
            leases=self.leases,
            reply_step=self.reply_step,
            speech=self.speech,
            blobs=self.blobs,
            privacy=self.privacy,
            channels=self.channels,
            lifecycle=self.lifecycle,
            handoff=self.handoff,
            turn_lease=timedelta(seconds=self.settings.conversation.turn_lease_s),
            history_turns=self.settings.conversation.history_turns,
            typing_after=timedelta(seconds=self.settings.conversation.typing_after_s),
            burst_window=timedelta(milliseconds=self.settings.conversation.burst_window_ms),
            burst_max_wait=timedelta(milliseconds=self.settings.conversation.burst_max_wait_ms),
            meter=self.meter,
        )

    async def deliver_usage_alert(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Post a usage alert to the tenant's webhook (a job: retried, then a dead letter)."""
        del job
        tenant_id = str(payload["tenant_id"])
        with tenant_scope(tenant_id):
            async with self.db.read() as session:
                await billing_alerts.deliver(
                    session,
                    self.box,
                    tenant_id=tenant_id,
                    alert=dict(payload["alert"]),
                    now=self.clock.now(),
                    timeout_s=self.settings.usage.alert_webhook_timeout_s,
                    allow_private=self.settings.usage.alert_webhook_allow_private,
                )

    async def authenticate(self, token: str) -> Principal | None:
        """Resolve a bearer API key to its tenant (a read; the use is written once a minute)."""
        now = self.clock.now()
        with system_scope():  # the key says which tenant; nothing is scoped yet
            async with self.db.read() as session:
                key = await identity.find_api_key(session, token=token)
            if key is None:
                return None
            if identity.key_needs_touch(key, now=now):
                async with self.db.transaction() as session:
                    await identity.touch_api_key(session, key_id=key.id, now=now)
        return identity.principal_of(key)

    async def close(self) -> None:
        """Release every connection and session this container opened."""
        await self.lifecycle.flush_events()
        await billing_alerts.flush()
        for closer in self.closers:
            await closer()
        await self.bus.close()
        await self.db.dispose()

    async def authenticate_session(self, token: str) -> Principal | PlatformPrincipal | None:
        """Resolve a console session cookie to its principal."""
        with system_scope():
            async with self.db.read() as session:
                found = await identity.find_session(session, token=token, now=self.clock.now())
        return None if found is None else identity.session_principal(*found)

    def worker(self) -> Worker:
        """A worker running the pipeline's handlers."""
        queue_settings = self.settings.queue
        handlers = {
            **self.pipeline.handlers(),
            billing_alerts.ALERT_JOB: self.deliver_usage_alert,
            BILLING_STRIPE_JOB: self.stripe_webhooks.handle,
            sales.PAYMENT_EVENT_JOB: self.sales_payments.handle,
        }
        return Worker(
            self.queue,
            handlers,
            self.metrics,
            concurrency=queue_settings.concurrency,
            poll_interval_s=queue_settings.poll_interval_s,
            heartbeat_s=queue_settings.visibility_timeout_s / 3,
            shutdown_timeout_s=queue_settings.shutdown_timeout_s,
        )

    def scheduler(self) -> Scheduler:
        """The periodic maintenance scheduler."""
        retention = timedelta(hours=self.settings.queue.done_retention_h)
        timeouts = self.timeouts
        tasks = [
            PeriodicTask(
                name="purge_done_jobs",
                every=timedelta(minutes=10),
                run=lambda: self.queue.purge_done(retention),
            ),
            PeriodicTask(name="conversation_timeouts", every=timedelta(0), run=timeouts.sweep),
            PeriodicTask(
                name="purge_reply_traces", every=timedelta(hours=1), run=self.purge_traces
            ),
            PeriodicTask(
                name="release_stale_reservations",
                every=timedelta(minutes=10),
                run=self.release_stale_reservations,
            ),
            PeriodicTask(name="send_due_reminders", every=timedelta(0), run=self.reminders.sweep),
            PeriodicTask(
                name="report_overage",
                every=timedelta(seconds=self.settings.stripe.overage_report_every_s),
                run=lambda: overage.report(self.db, self.settings.stripe),
            ),
            PeriodicTask(
                name="assign_waiting_conversations",
                every=timedelta(seconds=15),
                run=timeouts.assign_waiting,
            ),
        ]
        return Scheduler(
            self.leases,
            self.clock,
            tasks,
            tick_s=self.settings.scheduler.tick_s,
            leader_lease=timedelta(seconds=self.settings.scheduler.leader_lease_s),
        )


def speech_step(settings: Settings) -> SpeechStep:
    """Whisper on this machine (its model checked now), or none: a fixed reply to voice notes."""
    if settings.ai.speech == "off":
        return NoSpeech()
    configured = settings.ai.speech_model_dir
    local = LocalSpeech(
        model_dir=Path(configured) if configured else None,
        cache_dir=settings.app.data_dir / "models",
        threads=settings.ai.speech_threads,
    )
    try:
        local.check()
    except SpeechModelMissingError as exc:
        raise SettingsError(f"ai.speech: {exc}") from None
    return local


def privacy_registry() -> PrivacyRegistry:
    """Every module's exporter and eraser; rows that others point at are erased last."""
    registry = PrivacyRegistry()
    registry.collect(conversation_service.collect_contact)
    registry.collect(channel_service.collect_contact)
    registry.register(
        "channels", export=channel_service.export_contact, erase=channel_service.erase_contact
    )
    # Traces and dialogue state point at conversations: erased (and counted) before them.
    registry.register("assistant", export=traces.export_contact, erase=traces.erase_contact)
    registry.register("dialogue", export=dialogue.export_contact, erase=dialogue.erase_contact)
    registry.register(
        "conversation",
        export=conversation_service.export_contact,
        erase=conversation_service.erase_contact,
    )
    registry.register("jobs", export=export_contact_jobs, erase=erase_contact_jobs)
    registry.register("leases", export=export_contact_leases, erase=erase_contact_leases)
    registry.register("relationships", export=crm.export_contact, erase=crm.erase_contact)
    registry.register("finance", export=finance.export_contact, erase=finance.erase_contact)
    registry.register("sales", export=sales.export_contact, erase=sales.erase_contact)
    registry.register("identity", export=identity.export_contact, erase=identity.erase_contact)
    return registry


def assistant(
    settings: Settings,
    db: Database,
    box: SecretBox | None = None,
    clock: Clock | None = None,
    meter: billing.Meter | None = None,
) -> AssistantEngine:
    """The assistant: the offline planner for what the router is sure of, the configured hosted
    models (cheap first, then strong; the offline model always last) for the rest;
    with ``box``, each tenant's own settings (agents, chat models, redaction) apply and sales
    checkouts send payment links from the tenant's Stripe account; ``clock`` is "now" for a
    turn that does not carry its own; with ``meter``, the plan's agents and AI-token quota
    apply."""
    clock = clock or SystemClock()

    def chain(specs: Sequence[ProviderSpec]) -> FallbackChain:
        return build_chain(
            list(specs),
            offline=offline_model(clock=clock),
            sink=record_usage,
            prices=settings.ai.prices,
        )

    def hosted_only(specs: Sequence[ProviderSpec]) -> FallbackChain:
        return build_chain(list(specs), sink=record_usage, prices=settings.ai.prices)

    payments = None if box is None else sales.Payments(box=box, stripe=settings.stripe)
    agents = dict(AGENTS)
    agents[sales_agent.AGENT] = replace(
        agents[sales_agent.AGENT], tools=sales_agent.tools(payments)
    )
    return AssistantEngine(
        db=db,
        router=IntentRouter(),
        model=chain(settings.ai.providers),
        agents=agents,
        box=box,
        build=chain,
        hosted=bool(settings.ai.providers),
        clock=clock,
        offline=chain([]),
        providers=tuple(settings.ai.providers),
        build_hosted=hosted_only,
        hosted_for=settings.ai.hosted_for,
        confident_score=settings.ai.confident_score,
        meter=meter,
    )


def secret_box(settings: Settings) -> SecretBox:
    """The key ring for secrets at rest; outside prod a local key file stands in."""
    keys = [key.strip() for key in settings.security.secret_keys.split(",") if key.strip()]
    if not keys:
        if settings.app.env == "prod":
            raise SettingsError(
                "WHATSAPP_AI_SECURITY__SECRET_KEYS: required in prod "
                "(comma-separated Fernet keys, newest first)"
            )
        keys = [local_key(settings.app.data_dir)]
    try:
        return SecretBox(keys)
    except SecretKeyError as exc:
        raise SettingsError(f"WHATSAPP_AI_SECURITY__SECRET_KEYS: {exc}") from exc


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    reply_step: ReplyStep | None = None,
    speech: SpeechStep | None = None,
    blobs: BlobStore | None = None,
    channels: dict[str, Channel] | None = None,
) -> Container:
    """Build the container from settings; any argument given replaces the default adapter."""
    settings = settings or load_settings()
    clock = clock or SystemClock()
    db = Database(create_engine(settings.database))
    delivery = RetryPolicy(
        max_attempts=settings.queue.delivery_max_attempts,
        backoff_base_s=settings.queue.delivery_backoff_base_s,
        backoff_max_s=settings.queue.delivery_backoff_max_s,
    )
    queue = SqlQueue(
        db,
        clock,
        visibility_timeout=timedelta(seconds=settings.queue.visibility_timeout_s),
        max_attempts=settings.queue.max_attempts,
        backoff_base_s=settings.queue.backoff_base_s,
        backoff_max_s=settings.queue.backoff_max_s,
        policies={DELIVER_JOB: delivery, NOTICE_JOB: delivery},
    )
    box = secret_box(settings)
    blobs = blobs or LocalBlobStore(settings.app.data_dir / "blobs")
    twilio = settings.twilio
    clients = TwilioClients(api_base=twilio.api_base, timeout_s=twilio.request_timeout_s)
    media = TwilioMedia(db, clock, box, blobs, twilio)
    limiter = SharedRateLimiter(db, clock)
    all_channels: dict[str, Channel] = {
        "twilio": TwilioChannel(db, clock, box, clients, limiter, twilio, media)
    }
    if settings.sandbox.enabled:
        all_channels["sandbox"] = SandboxChannel(db, clock)
    all_channels.update(channels or {})
    bus = create_bus(settings.events, settings.database.url)
    metrics = Metrics()
    meter = billing.Meter(clock, queue, metrics, bus)
    batcher = WriteBatcher(db)
    closers: list[Callable[[], Awaitable[None]]] = [clients.close, media.close]
    if speech is None:
        speech = speech_step(settings)
        if isinstance(speech, LocalSpeech):
            closers.append(speech.close)  # made here, so stopped here
    batcher.register(
        channel_service.INBOUND_BULK,
        lambda session, items: channel_service.accept_many(session, queue, items),
    )
    return Container(
        settings=settings,
        clock=clock,
        db=db,
        queue=queue,
        leases=Leases(db, clock),
        metrics=metrics,
        box=box,
        batcher=batcher,
        memo=Memo(),
        blobs=blobs,
        limiter=limiter,
        privacy=privacy_registry(),
        reply_step=reply_step or assistant(settings, db, box, clock, meter),
        speech=speech,
        bus=bus,
        lifecycle=Lifecycle(
            clock=clock, queue=queue, bus=bus, defaults=Policy.defaults(settings.lifecycle)
        ),
        meter=meter,
        channels=all_channels,
        closers=closers,
    )
