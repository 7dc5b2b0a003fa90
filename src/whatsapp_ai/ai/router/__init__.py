"""Offline intent routing: which agent and intent a WhatsApp message is for (PT and EN)."""

from whatsapp_ai.ai.router.encoder import EncoderUnavailableError, SentenceEncoder, get_encoder
from whatsapp_ai.ai.router.intents import ASSISTANT, INTENTS, OFF_TOPIC, Intent
from whatsapp_ai.ai.router.router import IntentRouter, IntentScore, looks_like_noise

__all__ = [
    "ASSISTANT",
    "INTENTS",
    "OFF_TOPIC",
    "EncoderUnavailableError",
    "Intent",
    "IntentRouter",
    "IntentScore",
    "SentenceEncoder",
    "get_encoder",
    "looks_like_noise",
]
