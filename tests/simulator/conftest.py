"""Fixtures for the simulator tests: a PBX, an HTTP client and a report receiver, all on loopback."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
import hashlib
import json
import socket
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from simulator import SimClock, SimulatedPBX

PASSWORD = "secret"
PASSWORD_MD5 = hashlib.md5(PASSWORD.encode()).hexdigest()


@pytest.fixture(autouse=True)
def _sockets(socket_enabled: None) -> None:
    """Allow real loopback sockets (the Home Assistant test plugin blocks them)."""


@pytest.fixture
def clock() -> SimClock:
    """Return the PBX's clock, moved by the tests."""
    return SimClock()


@pytest.fixture
def simulated_pbx(clock: SimClock) -> SimulatedPBX:
    """Return a plain-HTTP PBX with fast report re-sends, not started yet."""
    return SimulatedPBX(
        password=PASSWORD, clock=clock, report_retries=2, report_retry_delay=0.01
    )


@pytest.fixture
async def pbx(simulated_pbx: SimulatedPBX) -> AsyncIterator[SimulatedPBX]:
    """Run the PBX."""
    async with simulated_pbx:
        yield simulated_pbx


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a plain aiohttp client."""
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass
class Receiver:
    """A small application server that records the reports the PBX posts."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)
    on_report: Callable[[], None] = lambda: None

    async def handle(self, request: web.Request) -> web.Response:
        """Record a report; answer the next queued status, else 200."""
        self.received.append(
            (request.path, dict(request.headers), await request.read())
        )
        assert request.transport is not None
        self.peers.append(request.transport.get_extra_info("peername"))
        self.on_report()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    @property
    def bodies(self) -> list[bytes]:
        """Return the report bodies received so far."""
        return [body for _, _, body in self.received]

    def names(self) -> list[str]:
        """Return the received reports' names (``event`` in v2, ``action`` in v1)."""
        return [_name(json.loads(body)) for body in self.bodies]

    def calls(self) -> list[dict[str, Any]]:
        """Return the received reports about calls (no ExtensionStatus), decoded."""
        reports = [json.loads(body) for body in self.bodies]
        return [r for r in reports if _name(r) != "ExtensionStatus"]


def _name(report: dict[str, Any]) -> str:
    """Return a report's name in either format."""
    name: str = report.get("event") or report["action"]
    return name


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """Run a report receiver on a free loopback port."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.create_server(("127.0.0.1", 0))
    receiver.port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    yield receiver
    await runner.cleanup()


async def call(
    http: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    endpoint: str,
    body: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    api_version: str = "v2.0.0",
) -> dict[str, Any]:
    """POST one API request and return its JSON answer (asserting HTTP 200)."""
    params = {"token": token} if token is not None else None
    async with http.post(
        f"{pbx.base_url}/api/{api_version}/{endpoint}", json=body or {}, params=params
    ) as response:
        assert response.status == 200
        result: dict[str, Any] = await response.json()
        return result


async def login(
    http: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    *,
    api_version: str = "v2.0.0",
    port: int | str = 8260,
    **extra: Any,
) -> str:
    """Log in with the right password and return the token."""
    answer = await call(
        http,
        pbx,
        "login",
        {"username": "api", "password": PASSWORD_MD5, "port": port, **extra},
        api_version=api_version,
    )
    assert answer["status"] == "Success"
    token: str = answer["token"]
    return token
