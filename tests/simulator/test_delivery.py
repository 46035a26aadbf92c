"""Event reports posted to a small receiver on loopback, in the three formats."""

import asyncio
import json
import socket
from typing import Any

import aiohttp
import pytest

from simulator import (
    BootUp,
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
    """Each session gets the call in its own format, in order: v1 as the documents show it."""
    await _login_three_formats(http, pbx, receiver)
    reports = await pbx.play(Scenario.INBOUND_ANSWERED, extension="1002", caller="555")
    assert [type(r) for r in reports] == [
        ExtensionStatus, CallStatus, CallStatus, ExtensionStatus, CallStatus,
        ExtensionStatus, NewCdr,
    ]  # fmt: skip
    await pbx.wait_delivered()
    paths = _by_path(receiver)
    v2 = [json.loads(body) for body in paths["/v2"]]
    assert [r.get("status") for r in v2 if r["event"] == "ExtensionStatus"] == [
        "Ringing",
        "Busy",
        "Idle",  # 1002 is an FXS extension
    ]
    assert [
        [next(iter(m.values()))["memberstatus"] for m in r["members"]]
        for r in v2
        if r["event"] == "CallStatus"
    ] == [["RING", "RING"], ["ANSWERED", "ANSWER"], ["BYE", "BYE"]]
    assert all(r["sn"] == "369364835218" for r in v2)
    assert v2[-1]["callid"] == reports[1].callid  # type: ignore[union-attr]
    v102 = [json.loads(body) for body in paths["/v102"]]
    assert [r["action"] for r in v102] == [
        "ExtensionStatus", "ALERT", "RING", "ANSWER", "ANSWERED", "ExtensionStatus",
        "BYE", "BYE", "ExtensionStatus", "NewCdr",
    ]  # fmt: skip
    inbound = {
        "from": "555",
        "to": "1002",
        "trunk": "SIP-142",
        "inboundid": reports[1].callid,  # type: ignore[union-attr]
    }
    assert v102[1]["call"] == [{"inbound": inbound}]
    assert v102[2]["call"] == [{"ext": {"extid": "1002"}}, {"inbound": inbound}]
    old = [_json(body) for body in paths["/old"]]
    assert [key for key, _ in old[2]] == ["action", "callid", "ext", "inbound"]
    assert all("sn" not in dict(r) for r in old)
    assert pbx.extensions["1002"].status == "Idle"
    assert len(pbx.deliveries) == 7 + 10 + 10
    assert all(d.status == 200 and d.attempt == 1 for d in pbx.deliveries)


async def test_one_connection_per_report(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """Reports come as the PBX sends them: each on its own connection, its headers."""
    await login(http, pbx, port=receiver.port)
    await pbx.play(Scenario.MISSED_CALL)
    await pbx.wait_delivered()
    assert len(set(receiver.peers)) == len(receiver.peers) == 7
    for _, headers, _ in receiver.received:
        assert headers["User-Agent"] == "WebAPI"
        assert headers["Content-Type"] == "application/json"
        assert headers["Accept"] == "application/json"
        assert headers["Connection"] == "close"


@pytest.mark.parametrize(
    ("scenario", "params", "events", "record"),
    [
        (
            Scenario.MISSED_CALL,
            {},
            ["CallStatus", "CallStatus", "NewCdr"],
            ("NO ANSWERED", "Inbound", "13800000000", "1001"),
        ),
        (
            Scenario.INTERNAL_CALL,
            {"caller_ext": "1002"},
            ["CallStatus", "CallStatus", "CallStatus", "NewCdr"],
            ("ANSWERED", "Internal", "1002", "1001"),
        ),
        (
            Scenario.FAILED_CALL,
            {"number": "42"},
            ["CallFailed", "NewCdr"],
            ("BUSY", "Outbound", "1002", "42"),
        ),
        (
            Scenario.RING_GROUP,
            {},
            ["CallStatus", "CallStatus", "CallStatus", "NewCdr"],
            ("ANSWERED", "Inbound", "13800000000", "6200(1001)"),
        ),
        (
            Scenario.RING_GROUP,
            {"answered_by": ""},
            ["CallStatus", "CallStatus", "NewCdr"],
            ("NO ANSWERED", "Inbound", "13800000000", "6200"),
        ),
        (
            Scenario.TRANSFER,
            {"to": "1002"},
            [
                "CallStatus",
                "CallStatus",
                "Tranfer",
                "CallStatus",
                "CallStatus",
                "CallStatus",
                "CallStatus",
                "NewCdr",
            ],
            ("ANSWERED", "Inbound", "13800000000", "1001"),
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
    record: tuple[str, str, str, str],
) -> None:
    """Each call flow ends with its record; the call is gone from the board."""
    await login(http, pbx, port=receiver.port, version="2.0.0")
    await pbx.play(scenario, **params)
    await pbx.wait_delivered()
    reports = receiver.calls()
    assert [r["event"] for r in reports] == events
    cdr = reports[-1]
    assert (cdr["status"], cdr["type"], cdr["callfrom"], cdr["callto"]) == record
    assert pbx.calls == []


async def test_ring_group_in_v1(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """v1: a RING per member; the ones that did not answer each get a BYE of their own."""
    await login(http, pbx, api_version="v1.1.0", port=receiver.port, version="1.0.2")
    await pbx.play(Scenario.RING_GROUP, extensions="1000,1001", answered_by="1001")
    await pbx.wait_delivered()
    reports = receiver.calls()
    assert [r["action"] for r in reports] == [
        "ALERT", "RING", "RING", "ANSWER", "ANSWERED", "BYE", "BYE", "BYE", "NewCdr",
    ]  # fmt: skip
    assert reports[5]["call"] == [{"ext": {"extid": "1000"}}]


async def test_failed_call_in_v1(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """v1 CallFailed: ``reason`` before ``callid``, top-level parties, the v1 spelling."""
    await login(http, pbx, api_version="v1.1.0", port=receiver.port, version="1.0.2")
    await pbx.play("failed_call")
    await pbx.wait_delivered()
    pairs = json.loads(receiver.bodies[0], object_pairs_hook=list)
    assert [key for key, _ in pairs] == [
        "action", "reason", "callid", "outbound", "ext", "sn",
    ]  # fmt: skip
    report = dict(pairs)
    assert report["reason"] == "486 Busy Here"
    assert dict(report["outbound"])["outboundid"] != report["callid"]


@pytest.mark.parametrize(
    ("scenario", "stay", "legs"),
    [
        (Scenario.INBOUND_ANSWERED, "ringing", ["RING", "RING"]),
        (Scenario.INBOUND_ANSWERED, "talking", ["ANSWERED", "ANSWER"]),
        (Scenario.MISSED_CALL, "ringing", ["RING", "RING"]),
        (Scenario.INTERNAL_CALL, "ringing", ["ALERT", "RING"]),
        (Scenario.INTERNAL_CALL, "talking", ["ANSWERED", "ANSWER"]),
        (Scenario.RING_GROUP, "ringing", ["RING", "RING", "RING", "RING"]),
        (Scenario.RING_GROUP, "talking", ["ANSWERED", "ANSWER"]),
        (Scenario.TRANSFER, "ringing", ["RING", "RING"]),
        (Scenario.TRANSFER, "talking", ["ANSWERED", "ANSWER"]),
    ],
)
async def test_stay_keeps_the_call_on(
    pbx: SimulatedPBX, scenario: Scenario, stay: str, legs: list[str]
) -> None:
    """A flow stopped at ``ringing`` or ``talking`` leaves its call on, no record yet."""
    reports = await pbx.play(scenario, stay=stay)
    [live] = pbx.calls
    assert [m.memberstatus for m in live.legs] == legs
    assert not any(isinstance(r, NewCdr) for r in reports)


async def test_stay_is_checked(pbx: SimulatedPBX) -> None:
    """A stop the flow does not have, or a ring group member that is none, is refused."""
    with pytest.raises(ValueError, match="stay"):
        await pbx.play(Scenario.MISSED_CALL, stay="talking")
    with pytest.raises(ValueError, match="ring group"):
        await pbx.play(Scenario.RING_GROUP, answered_by="1003")


async def test_reboot_mid_call(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """A reboot while an extension talks: the call vanishes without BYE, then BootUp."""
    await login(http, pbx, port=receiver.port, version="2.0.0")
    reports = await pbx.play(Scenario.REBOOT_MID_CALL, extension="1000")
    assert reports[-1] == BootUp()
    assert pbx.calls == []
    assert pbx.sessions == []
    assert pbx.extensions["1000"].status == "Registered"
    await pbx.wait_delivered()
    assert receiver.names()[-3:] == ["CallStatus", "ExtensionStatus", "BootUp"]


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
    """After a reboot no phone is still in a call, none is listed busy; offline ones stay so."""
    await pbx.play(Scenario.INBOUND_ANSWERED, extension="1002", stay="talking")
    await pbx.set_extension_status("1000", "Ringing")
    await pbx.reboot()
    assert pbx.calls == []
    assert {number: ext.status for number, ext in pbx.extensions.items()} == {
        "1000": "Registered",
        "1001": "Registered",
        "1002": "Idle",  # an FXS port
        "1003": "unavailable",
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
