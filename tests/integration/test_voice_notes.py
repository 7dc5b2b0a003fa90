"""Voice notes transcribed on this machine with the packaged Whisper weights: every format
WhatsApp and phones send, the event loop free while it runs, a clear error at start-up without
a model, and a voice note through the Twilio webhook recorded by the assistant.

The audio is spoken by espeak-ng (English: its Portuguese voice is too robotic for Whisper) and
converted by FFmpeg and PyAV; both come from the machine's packages (`.ci/run` installs them)."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from tests.conftest import make_settings
from tests.fakes.twilio import FakeTwilio, new_sid
from tests.twilio_support import connect_tenant
from whatsapp_ai.ai.speech import LocalSpeech
from whatsapp_ai.bootstrap import bootstrap
from whatsapp_ai.channels.models import MediaItem
from whatsapp_ai.core.config import SettingsError
from whatsapp_ai.finance.models import FinanceEntry

SAID = "I spent fifty dollars on groceries today"
US_NUMBER = "whatsapp:+14155550123"


def _tool(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is needed (apt package; .ci/run installs it)"
    return found


def _amr(wav: bytes) -> bytes:
    """AMR-NB at 8 kHz (old phones' voice notes), encoded by PyAV."""
    out = io.BytesIO()
    with av.open(io.BytesIO(wav)) as source, av.open(out, "w", format="amr") as target:
        stream = target.add_stream("libopencore_amrnb", rate=8000)
        stream.layout = "mono"  # type: ignore[union-attr]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        for frame in source.decode(audio=0):
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):  # type: ignore[union-attr]
                    target.mux(packet)
        for packet in stream.encode(None):  # type: ignore[union-attr]
            target.mux(packet)
    return out.getvalue()


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The sentence in every format, by content type."""
    folder = tmp_path_factory.mktemp("voice")
    wav = folder / "said.wav"
    subprocess.run(
        [_tool("espeak-ng"), "-v", "en-us", "-s", "150", "-w", str(wav), SAID], check=True
    )
    made = {"audio/wav": wav.read_bytes(), "audio/amr": _amr(wav.read_bytes())}
    for content_type, suffix, codec in (
        ("audio/ogg", "ogg", ["-c:a", "libopus", "-b:a", "24k"]),
        ("audio/mpeg", "mp3", []),
        ("audio/mp4", "m4a", ["-c:a", "aac"]),
    ):
        target = folder / f"said.{suffix}"
        subprocess.run(
            [_tool("ffmpeg"), "-y", "-loglevel", "error", "-i", str(wav), *codec, str(target)],
            check=True,
        )
        made[content_type] = target.read_bytes()
    return made


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSpeech]:
    """The packaged Whisper base, assembled in a private directory and loaded once."""
    local = LocalSpeech(model_dir=None, cache_dir=tmp_path_factory.mktemp("models"))
    local.check()
    yield local
    local._executor.shutdown(wait=True)


@pytest.mark.parametrize("content_type", ["audio/ogg", "audio/mpeg", "audio/mp4", "audio/wav"])
async def test_the_packaged_model_hears_every_format(
    speech: LocalSpeech, spoken: dict[str, bytes], content_type: str
) -> None:
    heard = await speech.transcribe(spoken[content_type], content_type)
    assert heard is not None
    words = heard.lower()
    assert "50" in words or "fifty" in words
    assert "groceries" in words


async def test_amr_from_old_phones_is_decoded(
    speech: LocalSpeech, spoken: dict[str, bytes]
) -> None:
    # AMR-NB keeps 8 kHz narrow-band speech: espeak's voice through it is decoded in full, though
    # too thin for Whisper's words, so its length and language are checked.
    heard = await asyncio.get_running_loop().run_in_executor(None, speech.run, spoken["audio/amr"])
    assert heard.language == "en"
    assert 2.5 < heard.seconds < 4.0


async def test_the_language_is_detected_and_the_model_is_assembled_once(
    speech: LocalSpeech, spoken: dict[str, bytes]
) -> None:
    heard = await asyncio.get_running_loop().run_in_executor(None, speech.run, spoken["audio/ogg"])
    assert heard.language == "en"
    assert 2.0 < heard.seconds < 5.0
    model = speech.cache_dir / "whisper-base" / "model.bin"
    assert model.stat().st_size == 94371840 + 50845767  # the two packaged parts, joined
    assert not (model.parent / "model.bin.partial").exists()


async def test_transcribing_leaves_the_event_loop_free(
    speech: LocalSpeech, spoken: dict[str, bytes]
) -> None:
    ticks = 0
    done = asyncio.Event()

    async def heartbeat() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    beating = asyncio.create_task(heartbeat())
    await speech.transcribe(spoken["audio/wav"], "audio/wav")
    done.set()
    await beating
    assert ticks >= 5  # the loop kept running while Whisper worked in its thread


async def test_unreadable_audio_gets_none_not_a_failed_turn(speech: LocalSpeech) -> None:
    assert await speech.transcribe(b"OggS not really audio", "audio/ogg") is None


def test_a_missing_model_stops_the_platform_at_start_with_a_clear_error(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///" + str(tmp_path / "db.sqlite"),
        tmp_path,
        ai={"speech": "local", "speech_model_dir": str(tmp_path / "no-model")},
    )
    with pytest.raises(SettingsError, match=r"ai\.speech: no Whisper model"):
        bootstrap(settings)


async def test_a_voice_note_through_twilio_is_recorded_by_the_assistant(
    db_url: str,
    tmp_path: Path,
    fake_twilio: FakeTwilio,
    speech: LocalSpeech,
    spoken: dict[str, bytes],
) -> None:
    t = await connect_tenant(db_url, tmp_path, fake_twilio, speech=speech)
    try:
        message_sid, media_sid = new_sid("MM"), new_sid("ME")
        url = fake_twilio.add_media(
            t.account_sid, message_sid, media_sid, spoken["audio/ogg"], "audio/ogg"
        )
        form = t.form(message_sid=message_sid, media=[(url, "audio/ogg")], from_=US_NUMBER)
        response = await t.post_inbound(form)
        assert response.status_code == 200, response.text
        await t.container.worker().run_until_idle()

        async with t.container.db.read() as session:
            [item] = list(await session.scalars(select(MediaItem)))
            entries = list(await session.scalars(select(FinanceEntry)))
        assert item.transcript is not None
        assert "groceries" in item.transcript.lower()
        assert [(e.amount, e.currency, e.category) for e in entries] == [(50, "USD", "groceries")]
        [sent] = fake_twilio.messages
        assert "50" in sent.body
    finally:
        await t.client.aclose()
        await t.container.close()
