"""Fuzzing fixtures: one loaded entry against the simulated PBX, and a webhook probe.

The PBX, Home Assistant's HTTP server and the config entry are the shared
fixtures of tests/conftest.py. `WebhookProbe` posts bodies to the entry's
webhook from 127.0.0.1 (the simulated PBX's address) over real loopback HTTP,
either with aiohttp or byte by byte over a raw socket (for headers aiohttp would
not send), and checks after every request that nothing went wrong in the logs.
"""

import asyncio
from collections.abc import AsyncGenerator, Sequence
import contextlib
import logging
import re

import aiohttp
from homeassistant.core import Event, HomeAssistant
from hypothesis import HealthCheck, settings
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.yeastar_s_series.const import EVENT_YEASTAR, LOGGER
from tests.common import WEBHOOK_ID, setup_entry

# No example database: runs leave no .hypothesis directory behind, and every run
# explores afresh. Each test sets its own max_examples on top of this profile.
settings.register_profile(
    "fuzz",
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FUZZ = settings.get_profile("fuzz")

WEBHOOK_LOGGER = "homeassistant.components.webhook"
_STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def _problem(record: logging.LogRecord, *, allow_http_parser_errors: bool) -> bool:
    """Say whether a log record shows that something failed while handling a request.

    aiohttp's own HTTP parser logs an error for a malformed request line (what follows a
    body shorter than its Content-Length); that is Home Assistant's HTTP server talking,
    and a test that sends such requests on purpose allows it.
    """
    if record.name == LOGGER.name or record.name.startswith(f"{LOGGER.name}."):
        return record.exc_info is not None or record.levelno >= logging.ERROR
    if record.name == "aiohttp.server" and allow_http_parser_errors:
        return False
    return record.levelno >= logging.ERROR


async def _final_status_line(reader: asyncio.StreamReader) -> bytes:
    """Read the status line of the final answer, skipping "100 Continue"; b"" for none."""
    async with asyncio.timeout(10):
        try:
            line = await reader.readline()
            while line.startswith((b"HTTP/1.1 1", b"HTTP/1.0 1")):
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    del header
                line = await reader.readline()
        except ConnectionError:
            return b""
    return line


class WebhookProbe:
    """Post to the loaded entry's webhook and watch the bus and the logs."""

    def __init__(
        self,
        hass: HomeAssistant,
        port: int,
        session: aiohttp.ClientSession,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Capture `yeastar_s_series_event` from now on."""
        self.hass = hass
        self.port = port
        self.session = session
        self.caplog = caplog
        self.events: list[Event] = async_capture_events(hass, EVENT_YEASTAR)
        self.requests = 0
        self._checked = 0
        self._nonce = 0

    def __repr__(self) -> str:
        """Keep Hypothesis' reports short: no event data."""
        return f"WebhookProbe(requests={self.requests}, events={len(self.events)})"

    @property
    def path(self) -> str:
        """Return the webhook's path."""
        return f"/api/webhook/{WEBHOOK_ID}"

    def nonce(self) -> str:
        """Return a value never used before in this test, to make a body unique.

        Always ten digits: a body's length must not depend on how many examples
        ran before, or Hypothesis could not replay an example.
        """
        self._nonce += 1
        return f"{self._nonce:010d}"

    async def post(self, body: bytes, headers: dict[str, str] | None = None) -> int:
        """POST a body with aiohttp (exact Content-Length) and return the status."""
        self.requests += 1
        async with self.session.post(
            f"http://127.0.0.1:{self.port}{self.path}",
            data=body,
            headers={"Content-Type": "application/json", "User-Agent": "WebAPI"}
            if headers is None
            else headers,
        ) as response:
            await response.read()
            status = response.status
        await self.hass.async_block_till_done()
        return status

    async def raw(
        self,
        headers: Sequence[tuple[str, str]],
        parts: Sequence[bytes],
        *,
        pause: float = 0.0,
        half_close: bool = False,
    ) -> int | None:
        """Send a request byte for byte; return the first answer's status, None for none.

        Without `pause` the request goes out in one write. With it, the head and
        then each of `parts` are written and flushed with `pause` seconds between
        them, so the server reads them separately; `half_close` shuts the sending
        side afterwards, as a client that gives up would.
        """
        self.requests += 1
        head = f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers)
        head += "Connection: close\r\n\r\n"
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            with contextlib.suppress(ConnectionError):
                if pause:
                    writer.write(head.encode("latin-1"))
                    for part in parts:
                        await writer.drain()
                        await asyncio.sleep(pause)
                        writer.write(part)
                else:  # one segment, as a small request on loopback always is
                    writer.write(head.encode("latin-1") + b"".join(parts))
                await writer.drain()
                if half_close:
                    writer.write_eof()
            line = await _final_status_line(reader)
            # Wait until the server is done with the connection (it closes it), so
            # that whatever it logs about this request is logged by now.
            async with asyncio.timeout(10):
                with contextlib.suppress(ConnectionError):
                    while await reader.read(65536):
                        pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        await self.hass.async_block_till_done()
        if (match := _STATUS_LINE.match(line)) is None:
            return None
        return int(match.group(1))

    def assert_quiet(self, *, allow_http_parser_errors: bool = False) -> None:
        """Fail on any problem logged since the last check (then forget those records)."""
        records = self.caplog.records[self._checked :]
        self._checked = len(self.caplog.records)
        problems = [
            f"{record.name} {record.levelname}: {record.getMessage()}"
            for record in records
            if _problem(record, allow_http_parser_errors=allow_http_parser_errors)
        ]
        assert not problems, problems


@pytest.fixture
async def loaded(hass: HomeAssistant, config_entry: MockConfigEntry) -> MockConfigEntry:
    """Set up the entry against the simulator: one loaded entry per test function."""
    await setup_entry(hass, config_entry)
    return config_entry


@pytest.fixture
async def webhook(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    ha_port: int,
    caplog: pytest.LogCaptureFixture,
) -> AsyncGenerator[WebhookProbe]:
    """Return a probe for the loaded entry's webhook; the logs are checked at the end too."""
    caplog.set_level(logging.WARNING)
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    async with aiohttp.ClientSession() as session:
        probe = WebhookProbe(hass, ha_port, session, caplog)
        probe.assert_quiet()  # the setup itself
        yield probe
