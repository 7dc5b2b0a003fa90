"""How fast voice notes are transcribed on this machine, and what the model costs in memory.

Speech of about 5 s and 30 s is made with espeak-ng and converted to OGG/Opus (a WhatsApp voice
note) with ffmpeg; each is transcribed N times by the local speech step (the packaged Whisper
base, int8, 2 threads) after a warm-up. Prints the median time and the real-time factor (time /
audio length: under 1 is faster than the note plays). Memory: the resident set of a fresh
process that imported the application, before and after loading the model, side by side with a
bare Python. Writes JSON to bench/results/.

    .venv/bin/python bench/transcription.py [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results"
SHORT = "Remind me to call my mother tomorrow at nine in the morning, please."
LONG = " ".join(
    [
        "I spent fifty dollars on groceries today and twenty more on the bus.",
        "Tomorrow I have a dentist appointment at three in the afternoon.",
        "Please remind me to pay the electricity bill on Friday morning.",
        "My sister Julia moved to Boston last month and her new number ends in four two.",
        "Also write down that Mark still owes me one hundred dollars for the concert tickets.",
        "And next week I need to buy a birthday present for my father.",
    ]
)
_MEMORY = """
import asyncio, json, resource, sys
from pathlib import Path
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
out = {'bare_mb': rss()}
import whatsapp_ai.app, whatsapp_ai.bootstrap
from whatsapp_ai.ai.speech import LocalSpeech
out['app_mb'] = rss()
speech = LocalSpeech(model_dir=None, cache_dir=Path(sys.argv[1]))
speech._load()
out['app_and_model_mb'] = rss()
print(json.dumps(out))
"""


def _spoken(text: str, folder: Path, name: str) -> Path:
    wav, ogg = folder / f"{name}.wav", folder / f"{name}.ogg"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), text], check=True)
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-i", str(wav), "-c:a", "libopus", str(ogg)],
        check=True,
    )
    return ogg


async def _speed(runs: int, folder: Path, models: Path) -> dict[str, dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "src"))
    from whatsapp_ai.ai.speech import LocalSpeech

    speech = LocalSpeech(model_dir=None, cache_dir=models)
    rows: dict[str, dict[str, Any]] = {}
    for name, text in (("short", SHORT), ("long", LONG)):
        audio = _spoken(text, folder, name).read_bytes()
        heard = speech.run(audio)  # warm-up (and the model's first load)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            speech.run(audio)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        rows[name] = {
            "audio_s": round(heard.seconds, 2),
            "median_s": round(median, 3),
            "real_time_factor": round(median / heard.seconds, 3),
            "runs_s": [round(t, 3) for t in times],
            "heard": heard.text,
        }
    await speech.close()
    return rows


def _memory(models: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY, str(models)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (apt install {tool})")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        models = folder / "models"
        speed = asyncio.run(_speed(args.runs, folder, models))
        memory = _memory(models)
    print(f"{'voice note':<12}{'audio s':>9}{'median s':>10}{'x real time':>13}")
    for name, row in speed.items():
        print(f"{name:<12}{row['audio_s']:>9}{row['median_s']:>10}{row['real_time_factor']:>13}")
    print(f"\n{'process':<28}{'resident MB':>12}")
    for name, value in memory.items():
        print(f"{name:<28}{value:>12.0f}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"transcription-{stamp}.json"
    out.write_text(
        json.dumps({"runs": args.runs, "at": stamp, "speed": speed, "memory_mb": memory}, indent=2)
        + "\n"
    )
    print(f"written {out}")


if __name__ == "__main__":
    main()
