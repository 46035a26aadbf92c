"""Event reports posted to a small receiver on loopback, in the three formats."""

import asyncio
import json
import socket
from typing import Any

import aiohttp
import pytest

from simulator import (
    BootUp,
    CallFailed,
    CallStatus,
    ExtensionStatus,
    NewCdr,
    Scenario,
    SimClock,
    SimulatedPBX,
)

from .conftest import Receiver, call, login


def _json(body: bytes) -> Any:
    return json.loads(body, object_pairs_hook=list)


def _by_path(receiver: Receiver) -> dict[str, list[bytes]]:
    paths: dict[str, list[bytes]] = {}
    for path, _, body in receiver.received:
        paths.setdefault(path, []).append(body)
    return paths


async def _login_three_formats(
    http: aiohttp.ClientSession, pbx: SimulatedPBX, receiver: Receiver
) -> None:
    await login(http, pbx, port=receiver.port, url="v2", version="2.0.0")
    await login(http, pbx, api_version="v1.1.0", port=receiver.port, url="/v102", version="1.0.2")  # fmt: skip
    await login(http, pbx, api_version="v1.0.0", port=str(receiver.port), url="old")


async def test_inbound_answered_in_three_formats(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """Each session gets the call in its own format, in order, with the PBX's headers."""
    await _login_three_formats(http, pbx, receiver)
    reports = await pbx.play(Scenario.INBOUND_ANSWERED, extension="1002", caller="555")
    assert [type(r) for r in reports] == [
        ExtensionStatus, CallStatus, CallStatus, ExtensionStatus, CallStatus,
        ExtensionStatus, NewCdr,
    ]  # fmt: skip
    await pbx.wait_delivered()
    paths = _by_path(receiver)
    v2 = [json.loads(body) for body in paths["/v2"]]
    assert [r["event"] for r in v2] == [
        "ExtensionStatus", "CallStatus", "CallStatus", "ExtensionStatus", "CallStatus",
        "ExtensionStatus", "NewCdr",
    ]  # fmt: skip
    assert all(r["sn"] == "369364835218" for r in v2)
    assert [
        m["inbound"]["memberstatus"] for m in (r["members"][0] for r in v2[1:5:3])
    ] == [
        "RING",
        "BYE",
    ]
    assert v2[2]["members"][1]["ext"]["memberstatus"] == "ANSWER"
    assert v2[6]["status"] == "ANSWERED"
    assert v2[6]["type"] == "Inbound"
    assert v2[6]["callfrom"] == "555"
    assert v2[6]["callid"] == reports[1].callid  # type: ignore[union-attr]
    v102 = [json.loads(body) for body in paths["/v102"]]
    assert [r["action"] for r in v102] == [
        "ExtensionStatus", "RING", "ANSWERED", "ExtensionStatus", "BYE", "BYE",
        "ExtensionStatus", "NewCdr",
    ]  # fmt: skip
    assert v102[1]["call"][0]["inbound"]["from"] == "555"
    old = [_json(body) for body in paths["/old"]]
    assert [key for key, _ in old[1]] == ["action", "callid", "inbound", "ext"]
    assert dict(old[1][2][1])["from"] == "555"
    assert old[1][3][1] == [("extid", "1002")]
    assert all("sn" not in dict(r) for r in old)
    for _, headers, _ in receiver.received:
        assert headers["User-Agent"] == "WebAPI"
        assert headers["Content-Type"] == "application/json"
    assert pbx.extensions["1002"].status == "Registered"
    assert len(pbx.deliveries) == 7 + 8 + 8
    assert all(d.status == 200 and d.attempt == 1 for d in pbx.deliveries)


@pytest.mark.parametrize(
    ("scenario", "params", "events", "cdr_status", "cdr_type"),
    [
        (
            Scenario.MISSED_CALL,
            {},
            [
                "ExtensionStatus",
                "CallStatus",
                "CallStatus",
                "ExtensionStatus",
                "NewCdr",
            ],
            "NO ANSWER",
            "Inbound",
        ),  # fmt: skip
        (
            Scenario.INTERNAL_CALL,
            {"caller_ext": "1002"},
            ["CallStatus", "CallStatus", "CallStatus", "NewCdr"],
            "ANSWERED",
            "Internal",
        ),  # fmt: skip
        (
            Scenario.FAILED_CALL,
            {"number": "42"},
            ["CallFailed", "NewCdr"],
            "BUSY",
            "Outbound",
        ),  # fmt: skip
    ],
)
async def test_call_scenarios(
    pbx: SimulatedPBX,
    http: aiohttp.ClientSession,
    receiver: Receiver,
    scenario: Scenario,
    params: dict[str, str],
    events: list[str],
    cdr_status: str,
    cdr_type: str,
) -> None:
    """Missed, internal and failed calls end with the matching call record."""
    await login(http, pbx, port=receiver.port, version="2.0.0")
    await pbx.play(scenario, **params)
    await pbx.wait_delivered()
    reports = [json.loads(body) for body in receiver.bodies]
    assert [r["event"] for r in reports] == events
    assert (reports[-1]["status"], reports[-1]["type"]) == (cdr_status, cdr_type)


async def test_failed_call_in_v1(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """v1 CallFailed carries top-level ext and outbound objects and the SIP reason."""
    await login(http, pbx, api_version="v1.1.0", port=receiver.port, version="1.0.2")
    [failed, _] = await pbx.play("failed_call")
    assert isinstance(failed, CallFailed)
    await pbx.wait_delivered()
    report = json.loads(receiver.bodies[0])
    assert report["ext"] == {"extid": "1002"}
    assert report["outbound"]["to"] == "41000"
    assert report["reason"] == "486 Busy Here"


async def test_extension_status(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """Status changes update the extension table and are reported."""
    await login(http, pbx, port=receiver.port, version="2.0.0")
    await pbx.set_extension_status("1001", "Busy")
    assert await pbx.play(
        Scenario.EXTENSION_STATUS, extension="1003", status="Registered"
    ) == [ExtensionStatus("1003", "Registered")]
    await pbx.wait_delivered()
    assert [json.loads(b)["status"] for b in receiver.bodies] == ["Busy", "Registered"]
    assert pbx.extensions["1001"].status == "Busy"
    assert pbx.extensions["1003"].status == "Registered"
    with pytest.raises(KeyError):
        await pbx.set_extension_status("9999", "Busy")
    with pytest.raises(ValueError):
        await pbx.play("no_such_scenario")


async def test_retries_until_200(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """A receiver answering 500 gets the report again, report_retry_delay apart."""
    await login(http, pbx, port=receiver.port)
    receiver.statuses = [500, 500]
    await pbx.send_report(BootUp())
    await pbx.wait_delivered()
    assert [(d.attempt, d.status) for d in pbx.deliveries] == [
        (1, 500),
        (2, 500),
        (3, 200),
    ]
    assert len(set(receiver.bodies)) == 1


async def test_gives_up_after_the_retries(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """report_retries bounds the re-sends; later reports to that receiver still follow."""
    await login(http, pbx, port=receiver.port)
    receiver.statuses = [503, 503, 503]
    await pbx.send_report(BootUp())
    await pbx.send_report(ExtensionStatus("1000", "Busy"))
    await pbx.wait_delivered()
    assert [(d.attempt, d.status) for d in pbx.deliveries] == [
        (1, 503),
        (2, 503),
        (3, 503),
        (1, 200),
    ]


async def test_unreachable_receiver(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """A receiver that cannot be reached is recorded with status None."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        free_port = sock.getsockname()[1]
    await login(http, pbx, port=free_port)
    await pbx.send_report(BootUp())
    await pbx.wait_delivered()
    assert [(d.attempt, d.status) for d in pbx.deliveries] == [
        (1, None),
        (2, None),
        (3, None),
    ]


async def test_no_reports_once_the_token_expires(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver, clock: SimClock
) -> None:
    """An expired token stops reports, re-sends included; logout stops them too."""
    await login(http, pbx, port=receiver.port)
    receiver.statuses = [500]
    receiver.on_report = lambda: clock.advance(1800)
    await pbx.send_report(BootUp())
    await pbx.wait_delivered()
    assert len(pbx.deliveries) == 1
    await pbx.send_report(BootUp())
    await pbx.wait_delivered()
    assert len(pbx.deliveries) == 1
    token = await login(http, pbx, port=receiver.port)
    await call(http, pbx, "logout", token=token)
    await pbx.play(Scenario.MISSED_CALL)
    await pbx.wait_delivered()
    assert len(pbx.deliveries) == 1


async def test_absolute_url(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """With urltag 1 the url names host, port and path."""
    await login(
        http,
        pbx,
        api_version="v1.1.0",
        port=1,
        url=f"127.0.0.1:{receiver.port}/abs",
        urltag="1",
    )
    await pbx.send_report(BootUp())
    await pbx.wait_delivered()
    assert [path for path, _, _ in receiver.received] == ["/abs"]


async def test_reboot_announces_bootup(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """A reboot forgets sessions, then sends BootUp where they listened, in their formats."""
    await _login_three_formats(http, pbx, receiver)
    token = await login(http, pbx, port=receiver.port, url="v2", version="2.0.0")
    assert await pbx.play(Scenario.REBOOT) == [BootUp()]
    assert pbx.sessions == []
    await pbx.wait_delivered()
    assert _by_path(receiver) == {
        "/v2": [b'{"event":"BootUp","sn":"369364835218"}'],
        "/v102": [b'{"action":"BootUp","sn":"369364835218"}'],
        "/old": [b'{"action":"BootUp"}'],
    }
    assert (await call(http, pbx, "heartbeat", token=token))["errno"] == "20004"


async def test_reboot_ends_calls(pbx: SimulatedPBX) -> None:
    """After a reboot no phone is still ringing or talking; idle and offline ones stay so."""
    await pbx.set_extension_status("1000", "Ringing")
    await pbx.set_extension_status("1001", "Busy")
    await pbx.reboot()
    assert {number: ext.status for number, ext in pbx.extensions.items()} == {
        "1000": "Registered",
        "1001": "Registered",
        "1002": "Registered",
        "1003": "Unavailable",
    }


async def test_stop_cancels_pending_deliveries(
    http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """stop() does not wait for re-sends."""
    pbx = SimulatedPBX(password="secret", report_retries=5, report_retry_delay=30)
    await pbx.start()
    await login(http, pbx, port=receiver.port)
    receiver.statuses = [500]
    await pbx.send_report(BootUp())
    while not pbx.deliveries:
        await asyncio.sleep(0.01)
    async with asyncio.timeout(2):
        await pbx.stop()
    assert len(pbx.deliveries) == 1
