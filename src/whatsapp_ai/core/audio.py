"""How long a voice note lasts, read from the file itself (no decoder needed)."""

from __future__ import annotations

import struct

# Opus in Ogg always counts granules at 48 kHz (RFC 7845); WhatsApp voice notes are Ogg/Opus.
OPUS_RATE = 48_000
# For other formats: a voice note's typical bit rate (16 kbit/s), an upper-side estimate.
FALLBACK_BYTES_PER_S = 2_000


def ogg_seconds(data: bytes) -> float | None:
    """The length of an Ogg/Opus stream from its last page's granule position (minus the
    encoder's pre-skip); None when the data is not Ogg/Opus."""
    if not data.startswith(b"OggS"):
        return None
    head = data.find(b"OpusHead")
    if head < 0 or len(data) < head + 12:
        return None
    pre_skip = int(struct.unpack_from("<H", data, head + 10)[0])
    last = data.rfind(b"OggS")
    if last < 0 or len(data) < last + 14:
        return None
    granule = int(struct.unpack_from("<q", data, last + 6)[0])
    if granule < 0:
        return None
    return max(granule - pre_skip, 0) / OPUS_RATE


def audio_seconds(data: bytes, content_type: str) -> float:
    """The length of a voice note: exact for Ogg/Opus, estimated from its size otherwise."""
    del content_type  # the bytes say more than the declared type
    exact = ogg_seconds(data)
    return exact if exact is not None else len(data) / FALLBACK_BYTES_PER_S
