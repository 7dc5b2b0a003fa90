"""Job handlers that walk a message through the modules (DESIGN.md section 2).

A turn answers one message: the turn store keeps the message and gathers what the turn knows,
``turn`` decides what to answer, the reply step composes a reply when one is needed, and the
store keeps the answer and queues its delivery.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from whatsapp_ai import turn as decide
from whatsapp_ai.ai.profile import profile_changes
from whatsapp_ai.ai.service import (
    AttachmentInfo,
    Reply,
    ReplyStep,
    SpeechStep,
    TurnInput,
    fixed_reply,
)
from whatsapp_ai.billing import service as billing
from whatsapp_ai.channels import service as channels
from whatsapp_ai.conversation.handoff import Handoff
from whatsapp_ai.conversation.lifecycle import Lifecycle
from whatsapp_ai.conversation.outbox import DELIVER_JOB
from whatsapp_ai.core.audio import audio_seconds
from whatsapp_ai.core.blobs import BlobStore
from whatsapp_ai.core.clock import Clock
from whatsapp_ai.core.db import Database, tenant_scope
from whatsapp_ai.core.i18n import text
from whatsapp_ai.core.leases import Leases
from whatsapp_ai.core.logging import get_logger
from whatsapp_ai.core.privacy import PrivacyRegistry
from whatsapp_ai.core.queue import Handler, LeasedJob, PermanentJobError, Queue, Snooze
from whatsapp_ai.outbound import NOTICE_JOB, Outbound
from whatsapp_ai.turn import Answer, Context, ErasureStep, HandOff, LeaseLostError, Turn
from whatsapp_ai.turn_store import TurnStore

__all__ = ["DELIVER_JOB", "NOTICE_JOB", "LeaseLostError", "Pipeline"]

TURN_BUSY_RETRY = timedelta(milliseconds=500)
MAX_TURNS_PER_JOB = 50
# The most messages one reply answers; a longer burst is answered in several replies.
MAX_BURST = 10

log = get_logger(__name__)


def _in_tenant_scope(handler: Handler) -> Handler:
    """Run a job handler seeing only the rows of the tenant its payload names."""

    async def run(payload: dict[str, Any], job: LeasedJob) -> None:
        with tenant_scope(str(payload["tenant_id"])):
            await handler(payload, job)

    return run


@dataclass
class Pipeline:
    """The path of one message; built by bootstrap with concrete adapters."""

    db: Database
    clock: Clock
    queue: Queue
    leases: Leases
    reply_step: ReplyStep
    speech: SpeechStep
    blobs: BlobStore
    privacy: PrivacyRegistry
    channels: dict[str, channels.Channel]
    lifecycle: Lifecycle
    handoff: Handoff
    turn_lease: timedelta
    history_turns: int
    typing_after: timedelta = timedelta(seconds=1)
    # Zero: each message is answered on its own.
    burst_window: timedelta = timedelta(0)
    burst_max_wait: timedelta = timedelta(0)
    # The plan's gates and quotas; None: nothing is gated or metered.
    meter: billing.Meter | None = None

    @property
    def outbound(self) -> Outbound:
        """The sending side of the path."""
        return Outbound(self.db, self.clock, self.blobs, self.lifecycle, self.channels)

    @property
    def store(self) -> TurnStore:
        """Where a turn keeps the message and its answer."""
        return TurnStore(
            self.db,
            self.clock,
            self.queue,
            self.leases,
            self.privacy,
            self.lifecycle,
            self.handoff,
            self.history_turns,
            self.meter,
        )

    def handlers(self) -> dict[str, Handler]:
        """Job kind → handler."""
        handlers: dict[str, Handler] = {
            channels.INBOUND_JOB: self.handle_inbound,
            **self.outbound.handlers(),
        }
        return {kind: _in_tenant_scope(handler) for kind, handler in handlers.items()}

    async def handle_inbound(self, payload: dict[str, Any], job: LeasedJob) -> None:
        """Answer the event and every earlier unanswered event of its sender, in arrival order;
        with a burst window, messages sent close together get one reply."""
        tenant_id = str(payload["tenant_id"])
        async with self.db.read() as session:
            event = await channels.get_event(
                session, tenant_id=tenant_id, event_id=str(payload["event_id"])
            )
        if event is None:
            raise PermanentJobError(f"inbound event {payload['event_id']} not found")
        if event.status != "pending":
            return  # answered already (alone, or with the burst it came in)
        lease_key = f"turn:{tenant_id}:{event.channel}:{event.sender}"
        owner = f"{job.id}:{job.lease_token}"
        store = self.store
        failures: list[str] = []
        answered = False
        async with self.leases.hold(lease_key, owner, self.turn_lease) as held:
            if not held:
                raise Snooze(TURN_BUSY_RETRY, "another turn of this conversation is running")
            for _ in range(MAX_TURNS_PER_JOB):
                async with self.db.read() as session:
                    pending = await channels.pending_events(
                        session,
                        tenant_id=tenant_id,
                        channel=event.channel,
                        sender=event.sender,
                        limit=MAX_BURST if self.burst_window else 1,
                    )
                if not pending:
                    break
                wait = decide.burst_wait(
                    [p.received_at for p in pending],
                    now=self.clock.now(),
                    window=self.burst_window,
                    max_wait=self.burst_max_wait,
                )
                if wait > timedelta(0):
                    if answered:
                        return  # the rest has jobs of its own, which wait for the window
                    raise Snooze(wait, "waiting for the rest of a burst of messages")
                answered = answered or event.id in {p.id for p in pending}
                turn = Turn(
                    tenant_id=tenant_id,
                    event_ids=tuple(p.id for p in pending),
                    lease_key=lease_key,
                    owner=owner,
                )
                try:
                    await self._turn(store, turn)
                except LeaseLostError:
                    raise
                except Exception as exc:
                    last_try = job.attempts >= job.max_attempts
                    if not (last_try or isinstance(exc, PermanentJobError)):
                        raise
                    # Out of retries: the user gets a fixed answer and later messages move on.
                    log.error("turn.failed", event_id=turn.event_id, error=repr(exc)[:500])
                    await self._fail_turn(store, turn, exc)
                    failures.append(f"event {turn.event_id}: {exc!r}")
        if failures:
            # The users were answered; the dead letter keeps the cause for the operators.
            raise PermanentJobError("turn failed, fixed reply sent; " + "; ".join(failures))

    async def _turn(self, store: TurnStore, turn: Turn) -> None:
        """Answer one message: an erasure request, an answer that needs no reply step, or a
        composed reply."""
        context = await store.open(turn)
        if await self._privacy_request(store, context):
            return
        answer = decide.before_reply(context)
        if answer is None:
            used_up = await store.reserve_message(context)
            if used_up is not None:
                # No model is asked and nothing is spent; the operators see the message.
                await self._blocked(context, used_up)
                answer = decide.over_quota(context, used_up)
            else:
                answer = await self._answer(store, context)
        await store.finish(context, await self._handoff_in_plan(context, answer))

    async def _handoff_in_plan(self, context: Context, answer: Answer) -> Answer:
        """The answer without its handoff when the plan has no human handoff: the contact is
        told plainly, the operators see the message."""
        if self.meter is None or not isinstance(answer.then, HandOff):
            return answer
        try:
            async with self.db.read() as session:
                await self.meter.check(
                    session, tenant_id=context.tenant_id, feature=billing.HUMAN_HANDOFF
                )
        except billing.PaymentRequiredError:
            await self._blocked(context, billing.HUMAN_HANDOFF)
            said = text(context.language, "billing.feature_unavailable", tenant=context.tenant_name)
            return replace(answer, text="\n\n".join(p for p in (answer.text, said) if p), then=None)
        return answer

    async def _blocked(self, context: Context, feature: str) -> None:
        """Tell the tenant's operators that a contact met the plan's limit."""
        if self.meter is not None:
            await self.meter.blocked(
                tenant_id=context.tenant_id,
                feature=feature,
                conversation_id=context.conversation_id,
                contact_id=context.contact_id,
                message_id=context.user_message_id,
            )

    async def _privacy_request(self, store: TurnStore, context: Context) -> bool:
        """Handle "erase my data" in chat: ask to confirm, then erase; True when handled."""
        now = self.clock.now()
        step = decide.erasure_step(context, now=now)
        if step is None:
            return False
        if step == ErasureStep.ERASE:
            await store.erase(context)
            return True
        # Asking again renews the request; any other reply cancels a pending one.
        await store.remember_erasure_request(context, at=now if step == ErasureStep.ASK else None)
        if step == ErasureStep.CANCEL:
            return False
        await store.finish(context, decide.erasure_confirmation(context))
        return True

    async def _answer(self, store: TurnStore, context: Context) -> Answer:
        """Profile changes the message asks for, then the reply (unless the request was all)."""
        fixed = decide.fixed_meta(context)  # in the language the message came in
        confirmations: list[str] = []
        changes = profile_changes(context.text)
        if changes and await store.update_profile(context, changes):
            confirmations = decide.profile_confirmations(changes, context.language, context.text)
        only = decide.profile_only(context, confirmations, fixed)
        if only is not None:
            return only
        return decide.with_confirmations(await self._compose(store, context), confirmations)

    async def _compose(self, store: TurnStore, context: Context) -> Answer:
        """The reply: fixed notes for unreadable files, then the reply step's answer."""
        notes, heard, files = await self._read_attachments(store, context)
        full_text = "\n".join(part for part in (context.text, *heard) if part.strip())
        fixed = decide.nothing_to_read(context, full_text, notes, bool(files))
        if fixed is not None:
            return fixed
        turn = TurnInput(
            tenant_id=context.tenant_id,
            tenant_name=context.tenant_name,
            contact_id=context.contact_id,
            contact_name=context.contact.name,
            conversation_id=context.conversation_id,
            text=full_text,
            history=context.earlier,
            attachments=files,
            contact_language=context.contact.language,
            contact_timezone=context.contact.timezone,
            contact_preferences=context.contact.preferences,
            message_id=context.user_message_id,
            now=self.clock.now(),
        )
        reply = await self._reply_with_typing(turn, context)
        for feature in reply.blocked:
            await self._blocked(context, feature)
        return decide.answer_of(context, reply, notes)

    async def _fail_turn(self, store: TurnStore, turn: Turn, error: Exception) -> None:
        """Answer a message whose turn cannot succeed with a fixed reply; mark it failed."""
        try:
            context = await store.open(turn)
        except Exception:
            await store.mark_failed(turn)
            return
        context.reservation = f"turn:{turn.event_id}"
        await store.release_message(context)
        await store.finish(context, decide.failed(context, error))

    async def _reply_with_typing(self, turn: TurnInput, context: Context) -> Reply:
        """The reply; if it is slow to come, the contact sees a typing indicator meanwhile."""
        pending = asyncio.ensure_future(self.reply_step.reply(turn))
        try:
            done, _ = await asyncio.wait({pending}, timeout=self.typing_after.total_seconds())
            channel = self.channels.get(context.channel)
            if not done and channel is not None:
                try:
                    await channel.typing(
                        tenant_id=context.tenant_id, external_id=context.external_id
                    )
                except Exception as exc:  # a typing bubble never blocks a reply
                    log.info("turn.typing_failed", error=repr(exc)[:200])
            return await pending
        finally:
            # A cancelled or failed turn must not leave the model call running on its own.
            pending.cancel()

    async def _read_attachments(
        self, store: TurnStore, context: Context
    ) -> tuple[list[str], list[str], list[AttachmentInfo]]:
        """Fixed notes for unreadable files, transcripts of voice notes, and what was stored."""
        channel = self.channels.get(context.channel)
        with_media = [said for said in context.messages if said.payload.get("media")]
        if channel is None or not with_media:
            return [], [], []
        results = [
            item
            for said in with_media
            for item in await channel.attachments(
                tenant_id=context.tenant_id, event_id=said.event_id, payload=said.payload
            )
        ]
        notes: list[str] = []
        heard: list[str] = []
        files: list[AttachmentInfo] = []
        for item in results:
            if item.status != "stored" or item.blob_key is None:
                notes.append(fixed_reply("attachment_failed", context.language))
                continue
            if item.kind != "audio":
                files.append(AttachmentInfo(kind=item.kind, content_type=item.content_type))
                continue
            audio = await self.blobs.get(item.blob_key)
            refused, key, minutes = await self._voice_allowed(
                context, item.media_id, audio, item.content_type
            )
            if refused is not None:
                notes.append(refused)
                continue
            try:
                transcript = await self.speech.transcribe(audio, item.content_type)
            except BaseException:
                await self._voice_spent(context, key, None)
                raise
            await self._voice_spent(context, key, minutes if transcript is not None else None)
            if transcript is None:
                notes.append(fixed_reply("voice_unavailable", context.language))
                continue
            heard.append(transcript)
            await store.set_transcript(context, media_id=item.media_id, transcript=transcript)
        return list(dict.fromkeys(notes)), heard, files

    async def _voice_allowed(
        self, context: Context, media_id: str, audio: bytes, content_type: str
    ) -> tuple[str | None, str | None, int]:
        """Whether the plan lets this voice note be transcribed: the fixed note when not; else
        the key of the minutes held for it and how many."""
        if self.meter is None:
            return None, None, 0
        language, tenant_id = context.language, context.tenant_id
        try:
            async with self.db.read() as session:
                rights = await self.meter.check(
                    session, tenant_id=tenant_id, feature=billing.VOICE_NOTES
                )
        except billing.PaymentRequiredError:
            await self._blocked(context, billing.VOICE_NOTES)
            return text(language, "billing.voice_not_included"), None, 0
        seconds = audio_seconds(audio, content_type)
        longest = rights.quota(billing.VOICE_NOTE_SECONDS)
        if longest is not None and seconds > longest:
            await self._blocked(context, billing.VOICE_NOTE_SECONDS)
            minutes = max(1, longest // 60)
            return text(language, "billing.voice_too_long", minutes=minutes), None, 0
        minutes = max(1, math.ceil(seconds / 60))
        key = f"voice:{media_id}"
        try:
            async with self.db.transaction() as session:
                await self.meter.reserve(
                    session,
                    tenant_id=tenant_id,
                    feature=billing.TRANSCRIPTION_MINUTES,
                    quantity=minutes,
                    key=key,
                )
        except billing.QuotaExceededError:
            await self._blocked(context, billing.TRANSCRIPTION_MINUTES)
            return text(language, "billing.voice_quota_reached"), None, 0
        return None, key, minutes

    async def _voice_spent(self, context: Context, key: str | None, minutes: int | None) -> None:
        """Settle the minutes of a transcribed voice note, or release them (None)."""
        if self.meter is None or key is None:
            return
        async with self.db.transaction() as session:
            if minutes is None:
                await self.meter.release(session, tenant_id=context.tenant_id, key=key)
            else:
                await self.meter.settle(
                    session, tenant_id=context.tenant_id, key=key, actual=minutes
                )
