"""The TCP report method, read with the integration's own event link."""

import asyncio
from collections.abc import AsyncIterator
import json

import aiohttp
import pytest

from custom_components.yeastar_s_series.api import (
    YeastarConnectionError,
    YeastarEventLink,
    YeastarInvalidAuthError,
    YeastarLockedOutError,
    YeastarLoginUnansweredError,
)
from simulator import LoginAnswer, Scenario, SimulatedPBX

from .conftest import PASSWORD, PASSWORD_MD5, Receiver, call, login


@pytest.fixture
def simulated_pbx(simulated_pbx: SimulatedPBX) -> SimulatedPBX:
    """Set the PBX's report method to TCP."""
    simulated_pbx.report_method = "tcp"
    return simulated_pbx


def link(pbx: SimulatedPBX, password: str = PASSWORD) -> YeastarEventLink:
    """Return an event link to the PBX's event port."""
    return YeastarEventLink(
        pbx.host, pbx.tcp_port, username="api", password=password, answer_wait=0.2
    )


async def _connected(pbx: SimulatedPBX) -> AsyncIterator[YeastarEventLink]:
    """Log in at the event port and wait until the PBX counts the client."""
    async with link(pbx) as events:
        async with asyncio.timeout(5):
            while not pbx.event_clients:
                await asyncio.sleep(0.01)
        yield events


async def _read(events: YeastarEventLink, count: int) -> list[dict[str, object]]:
    """Read ``count`` events."""
    bodies: list[dict[str, object]] = []
    async with asyncio.timeout(5):
        async for body in events.events():
            bodies.append(json.loads(body))
            if len(bodies) == count:
                return bodies
    raise AssertionError("unreachable")


async def test_reports_go_to_tcp_clients_only(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """HTTP sessions get tokens but no reports; TCP clients get every one, in v2.0.0."""
    await login(http, pbx, api_version="v1.1.0", port=receiver.port, version="1.0.2")
    async for events in _connected(pbx):
        reports = await pbx.play(Scenario.MISSED_CALL)
        received = await _read(events, len(reports))
        await pbx.wait_delivered()
    assert [report["event"] for report in received] == [
        "ExtensionStatus",
        "CallStatus",
        "CallStatus",
        "ExtensionStatus",
        "NewCdr",
    ]
    assert receiver.bodies == []


async def test_method_changes_at_run_time(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """Back to HTTP, reports go to the sessions again and no longer to the event port."""
    await login(http, pbx, port=receiver.port, version="2.0.0")
    pbx.report_method = "http"
    await pbx.set_extension_status("1000", "Busy")
    await pbx.wait_delivered()
    assert len(receiver.bodies) == 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (LoginAnswer.AMI, YeastarInvalidAuthError),
        (LoginAnswer.JSON, YeastarInvalidAuthError),
        (LoginAnswer.SILENT, YeastarLoginUnansweredError),
    ],
)
async def test_wrong_password_in_each_answer_style(
    pbx: SimulatedPBX, answer: LoginAnswer, error: type[Exception]
) -> None:
    """The event port checks the plaintext password and refuses in the chosen style."""
    pbx.tcp_answer = answer
    assert pbx.tcp_answer is answer
    with pytest.raises(error):
        async with link(
            pbx, password=PASSWORD_MD5
        ):  # the HTTP login's hash is wrong here
            pass
    assert pbx.stats.failed_logins == 1
    assert pbx.event_clients == 0


async def test_event_port_failures_count_towards_the_lockout(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Four wrong HTTP logins and one wrong event-port login lock the address out."""
    pbx.tcp_answer = LoginAnswer.JSON
    wrong = {"username": "api", "password": "0" * 32, "port": "8260"}
    for _ in range(4):
        await call(http, pbx, "login", wrong)
    with pytest.raises(YeastarInvalidAuthError):
        async with link(pbx, password="wrong"):
            pass
    assert pbx.is_locked()
    with pytest.raises(YeastarLockedOutError):
        async with link(pbx):
            pass
    assert (await call(http, pbx, "login", {**wrong, "password": PASSWORD_MD5}))[
        "errno"
    ] == "20002"


async def test_reboot_drops_the_event_port_clients(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """A reboot closes the event port's connections; BootUp goes to HTTP sessions only."""
    await login(http, pbx, port=receiver.port, version="2.0.0")
    async for events in _connected(pbx):
        await pbx.reboot()
        with pytest.raises(YeastarConnectionError):
            await _read(events, 1)
    await pbx.wait_delivered()
    assert receiver.bodies == [b'{"event":"BootUp","sn":"369364835218"}']
