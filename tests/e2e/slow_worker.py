"""A worker process whose reply step or channel stalls at a chosen point (crash and stop tests).

Usage: python slow_worker.py MARKER_FILE {reply|deliver} SECONDS
It writes MARKER_FILE when the stall begins, then sleeps SECONDS before carrying on.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from whatsapp_ai.ai.offline import OfflineReplyStep
from whatsapp_ai.ai.service import Reply, TurnInput
from whatsapp_ai.bootstrap import bootstrap
from whatsapp_ai.channels.sandbox.service import SandboxChannel
from whatsapp_ai.channels.service import Outbound
from whatsapp_ai.core.config import load_settings


class StallingReplyStep(OfflineReplyStep):
    def __init__(self, marker: Path, seconds: float) -> None:
        self.marker, self.seconds = marker, seconds

    async def reply(self, turn: TurnInput) -> Reply:
        self.marker.write_text("reply")
        await asyncio.sleep(self.seconds)
        return await super().reply(turn)


class StallingChannel(SandboxChannel):
    def __init__(self, inner: SandboxChannel, marker: Path, seconds: float) -> None:
        self.inner, self.marker, self.seconds = inner, marker, seconds

    async def send(self, message: Outbound) -> str:
        sent = await self.inner.send(message)
        self.marker.write_text("deliver")
        await asyncio.sleep(self.seconds)
        return sent


async def main(marker: Path, stage: str, seconds: float) -> None:
    container = bootstrap(load_settings())
    if stage == "reply":
        container.reply_step = StallingReplyStep(marker, seconds)
    else:
        sandbox = container.channels["sandbox"]
        assert isinstance(sandbox, SandboxChannel)
        container.channels["sandbox"] = StallingChannel(sandbox, marker, seconds)
    worker = container.worker()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, worker.stop)
    await worker.run()
    await container.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])))
