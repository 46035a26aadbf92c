"""The load generator: a separate process that POSTs reports like a PBX.

It runs in its own process so that building, sending and timing requests does not
take CPU from Home Assistant's event loop (on a 2-core machine each gets a core).
Timestamps are ``time.monotonic()``, which on Linux is CLOCK_MONOTONIC and so
comparable with the readings Home Assistant's process takes.

Protocol: one JSON command per line on stdin, one JSON answer per line on stdout.
"""

import asyncio
from dataclasses import asdict, dataclass, field
import json
import sys
import time
from typing import Any

import aiohttp

from simulator import CallStatus, ExtMember, TrunkMember, render

_HEADERS = {"User-Agent": "WebAPI", "Content-Type": "application/json"}


@dataclass(slots=True, kw_only=True)
class Job:
    """One batch of reports to one webhook URL."""

    url: str
    serial: str
    tag: str  # callid prefix, unique per batch: callids are f"{tag}.{seq}"
    count: int
    concurrency: int = 4
    rate: float | None = None  # reports per second; None: as fast as answered
    resend_every: int = 0  # reports 0, n, 2n... are posted again after their 200
    timings: bool = True
    first: int = 0  # seq of the first report


@dataclass(slots=True)
class JobResult:
    """What the generator saw: per report (seq, sent, answered) when timings are on."""

    elapsed: float
    requests: int
    resends: int
    statuses: dict[str, int] = field(default_factory=dict)
    timings: list[tuple[int, float, float]] = field(default_factory=list)


def call_report(callid: str) -> CallStatus:
    """Make a real-looking CallStatus report: an inbound call ringing at 1001."""
    return CallStatus(
        callid=callid,
        action="RING",
        members=(
            TrunkMember(
                direction="inbound",
                from_number="0123456789",
                to_number="1001",
                trunkname="SIP-142",
                memberstatus="RING",
                channelid="PJSIP/SIP-142-00000a1b",
            ),
            ExtMember(
                number="1001", memberstatus="RING", channelid="PJSIP/1001-00000a1c"
            ),
        ),
    )


def report_body(serial: str, callid: str) -> bytes:
    """Render the report in the v2.0.0 format, as the PBX posts (or writes) it."""
    return render(call_report(callid), "2.0.0", serial)[0]


def callid(tag: str, seq: int) -> str:
    """Return the callid of report ``seq`` of a batch."""
    return f"{tag}.{seq}"


async def run_job(job: Job) -> JobResult:
    """Post the batch over ``concurrency`` keep-alive connections; time each report."""
    bodies = [
        report_body(job.serial, callid(job.tag, job.first + index))
        for index in range(job.count)
    ]
    timings: list[tuple[int, float, float]] = []
    statuses: dict[str, int] = {}
    resends = 0
    next_seq = 0
    connector = aiohttp.TCPConnector(limit=job.concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(body: bytes) -> int:
            async with session.post(job.url, data=body, headers=_HEADERS) as response:
                await response.read()
                return response.status

        async def worker() -> None:
            nonlocal next_seq, resends
            while next_seq < job.count:
                index = next_seq
                next_seq += 1
                if job.rate is not None:
                    delay = start + index / job.rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                sent = time.monotonic()
                status = await post(bodies[index])
                answered = time.monotonic()
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if job.timings:
                    timings.append((job.first + index, sent, answered))
                if job.resend_every and index % job.resend_every == 0:
                    # The PBX re-sends when it misses the 200: the same body again.
                    resends += 1
                    status = await post(bodies[index])
                    statuses[str(status)] = statuses.get(str(status), 0) + 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(job.concurrency)))
        elapsed = time.monotonic() - start
    return JobResult(
        elapsed=elapsed,
        requests=job.count + resends,
        resends=resends,
        statuses=statuses,
        timings=timings,
    )


async def _serve() -> None:
    """Answer commands from stdin until it closes."""
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        command: dict[str, Any] = json.loads(line)
        result = await run_job(Job(**command))
        sys.stdout.write(json.dumps(asdict(result)) + "\n")
        sys.stdout.flush()


class LoadGenerator:
    """Drive a load generator process from Home Assistant's process."""

    def __init__(self) -> None:
        """Nothing runs until ``start``."""
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process (the same Python, from the repository root)."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.loadgen",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**28,
        )

    async def run(self, job: Job) -> JobResult:
        """Run one batch and return what the generator measured."""
        process = self._process
        assert process is not None
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write((json.dumps(asdict(job)) + "\n").encode())
        await process.stdin.drain()
        line = await process.stdout.readline()
        if not line:
            raise RuntimeError("the load generator exited")
        answer: dict[str, Any] = json.loads(line)
        answer["timings"] = [tuple(row) for row in answer["timings"]]
        return JobResult(**answer)

    async def stop(self) -> None:
        """Close stdin and wait for the process to exit."""
        if (process := self._process) is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        await process.wait()
        self._process = None


if __name__ == "__main__":
    asyncio.run(_serve())
