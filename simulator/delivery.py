"""Background delivery of event reports, with the PBX's re-sends."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging

import aiohttp

_LOGGER = logging.getLogger(__name__)

# As the documents' report examples show them; one connection per report.
_HEADERS = {
    "Accept": "application/json",
    "User-Agent": "WebAPI",
    "Content-Type": "application/json",
    "Connection": "close",
}
_TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True, slots=True)
class ReportDelivery:
    """One attempt to post a report; ``status`` is None when the receiver was unreachable."""

    url: str
    body: bytes
    status: int | None
    attempt: int


class ReportSender:
    """Posts report bodies without blocking API requests, in order per receiver URL."""

    def __init__(self, retries: int, retry_delay: float) -> None:
        """Re-send up to ``retries`` more times, ``retry_delay`` seconds apart."""
        self.deliveries: list[ReportDelivery] = []
        self._retries = retries
        self._retry_delay = retry_delay
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._last_per_url: dict[str, asyncio.Task[None]] = {}

    def send(self, url: str, body: bytes, wanted: Callable[[], bool]) -> None:
        """Queue one body; ``wanted`` is asked before each attempt (the token may expire)."""
        previous = self._last_per_url.get(url)
        task = asyncio.get_running_loop().create_task(
            self._deliver(url, body, wanted, previous)
        )
        self._tasks.add(task)
        self._last_per_url[url] = task
        task.add_done_callback(lambda done: self._forget(url, done))

    def _forget(self, url: str, task: asyncio.Task[None]) -> None:
        """Drop a finished task from the bookkeeping."""
        self._tasks.discard(task)
        if self._last_per_url.get(url) is task:
            del self._last_per_url[url]

    async def _deliver(
        self,
        url: str,
        body: bytes,
        wanted: Callable[[], bool],
        previous: asyncio.Task[None] | None,
    ) -> None:
        """Post after the previous report to the same URL, re-sending until it answers 200."""
        if previous is not None:
            await asyncio.wait([previous])
        for attempt in range(1, self._retries + 2):
            if attempt > 1:
                await asyncio.sleep(self._retry_delay)
            if not wanted():
                return
            status = await self._post(url, body)
            self.deliveries.append(ReportDelivery(url, body, status, attempt))
            _LOGGER.debug("Report to %s, attempt %s: %s", url, attempt, status)
            if status == 200:
                return

    async def _post(self, url: str, body: bytes) -> int | None:
        """Post once; None when the receiver cannot be reached."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=_TIMEOUT, connector=aiohttp.TCPConnector(force_close=True)
            )
        try:
            async with self._session.post(url, data=body, headers=_HEADERS) as response:
                return response.status
        except aiohttp.ClientError, TimeoutError:
            return None

    async def wait(self) -> None:
        """Return once every queued report (re-sends included) is finished."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        """Cancel what is still queued and close the HTTP client."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
