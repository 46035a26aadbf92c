"""Text messages: ``sms/send`` accepts, the ``sms-send`` report tells the result later."""

import asyncio
import json
from urllib.parse import quote

import aiohttp
import pytest

from custom_components.yeastar_s_series.api import YeastarEventLink
from simulator import (
    ControlAPI,
    ControlClient,
    ReportFormat,
    SimSms,
    SimulatedPBX,
    SmsOutcome,
    SmsSent,
    render,
)

from .conftest import PASSWORD, Receiver, call, login

GSM = "GSM2-7"
NUMBER = "18396210850"
HELLO = "你好，世界"


@pytest.fixture
def simulated_pbx(simulated_pbx: SimulatedPBX) -> SimulatedPBX:
    """Give the PBX an idle GSM module, quick results and the control API."""
    simulated_pbx.set_trunk_status(GSM, "Idle")
    simulated_pbx.sms.result_delay = 0.01
    simulated_pbx.extend_app(ControlAPI(simulated_pbx).install)
    return simulated_pbx


async def send(
    http: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    token: str,
    text: str = HELLO,
    **fields: str,
) -> dict[str, str]:
    """Send a text as the integration does (URL-encoded); ``fields`` replace the body's."""
    body = {"trunk": GSM, "phonenumber": NUMBER, "message": quote(text, safe="")}
    return await call(http, pbx, "sms/send", {**body, **fields}, token=token)


async def results(pbx: SimulatedPBX) -> None:
    """Let the results come and their reports be delivered."""
    await asyncio.sleep(pbx.sms.result_delay + 0.05)
    await pbx.wait_delivered()


@pytest.mark.parametrize(
    ("report_format", "sent", "body"),
    [
        ("2.0.0", True, '{"event":"sms-send","status":"Success","smsid":"1-2","sn":"9"}'),
        ("2.0.0", False, '{"event":"sms-send","status":"Failed","smsid":"1-2","sn":"9"}'),
        ("1.0.2", True, '{"action":"sms-send","status":"Succeed","smsid":"1-2","sn":"9"}'),
        (None, False, '{"action":"sms-send","status":"Failed","smsid":"1-2"}'),
    ],
)  # fmt: skip
def test_result_report_in_each_format(
    report_format: ReportFormat | None, sent: bool, body: str
) -> None:
    """v2 says Success, v1 Succeed; the old format carries no serial number."""
    assert render(SmsSent(smsid="1-2", sent=sent), report_format, "9") == [
        body.encode()
    ]


async def test_chinese_message_accepted_then_reported_sent(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """The PBX answers the smsid at once; the result report follows, not before."""
    token = await login(http, pbx, port=receiver.port, version="2.0.0")
    now = int(pbx.clock.now())

    answer = await send(http, pbx, token)

    assert answer == {"status": "Success", "smsid": f"{NUMBER}-{now}"}
    assert pbx.sms.messages == [
        SimSms(answer["smsid"], GSM, NUMBER, HELLO, SmsOutcome.SENT)
    ]
    await pbx.wait_delivered()
    assert receiver.bodies == []
    await results(pbx)
    assert [json.loads(body) for body in receiver.bodies] == [
        {
            "event": "sms-send",
            "status": "Success",
            "smsid": answer["smsid"],
            "sn": pbx.serial,
        }
    ]


async def test_ids_differ_within_one_second(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Two messages to one number in the same second get their own ids."""
    token = await login(http, pbx)
    first, second = await send(http, pbx, token), await send(http, pbx, token)
    assert first["smsid"] != second["smsid"]


@pytest.mark.parametrize(
    ("fields", "trunk_status", "errno"),
    [
        ({"trunk": "GSM9-9"}, "Idle", "10026"),
        ({"trunk": "SIP-142"}, "Idle", "10026"),
        ({"trunk": ""}, "Idle", "10026"),
        ({}, "No SIM", "10027"),
        ({}, "Busy", "10027"),
        ({"phonenumber": " "}, "Idle", "10028"),
        ({"message": ""}, "Idle", "10030"),
        ({"message": "%20%20"}, "Idle", "10030"),
    ],
)
async def test_refusals(
    pbx: SimulatedPBX,
    http: aiohttp.ClientSession,
    fields: dict[str, str],
    trunk_status: str,
    errno: str,
) -> None:
    """No such GSM module, none idle, a blank number or message: the documents' errnos."""
    pbx.set_trunk_status(GSM, trunk_status)
    token = await login(http, pbx)

    answer = await send(http, pbx, token, **fields)

    assert answer == {"status": "Failed", "errno": errno}
    assert pbx.sms.messages == []


@pytest.mark.parametrize(
    "message", ["🙂", "a" * 2001, "中" * 1001], ids=["emoji", "long", "long_chinese"]
)
async def test_beyond_the_limits_fails_later(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver, message: str
) -> None:
    """A message the module cannot carry is accepted, then reported Failed."""
    token = await login(http, pbx, port=receiver.port, version="2.0.0")
    assert (await send(http, pbx, token, message))["status"] == "Success"
    await results(pbx)
    assert json.loads(receiver.bodies[0])["status"] == "Failed"


async def test_at_the_limits_goes_out(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """2,000 plain characters, 1,000 Chinese ones: both are sent."""
    token = await login(http, pbx)
    await send(http, pbx, token, "a" * 2000)
    await send(http, pbx, token, "中" * 1000)
    assert [sms.outcome for sms in pbx.sms.messages] == [SmsOutcome.SENT] * 2


async def test_control_sets_the_next_outcomes_and_lists_messages(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """The next message fails, the one after gets no result at all, then all is as usual."""
    token = await login(http, pbx, port=receiver.port, version="1.0.2")
    client = ControlClient(pbx.base_url)
    for outcome in ("failed", "silent"):
        answer = await asyncio.to_thread(client.sms, outcome)
        assert answer["next"][-1] == outcome

    ids = [(await send(http, pbx, token))["smsid"] for _ in range(3)]
    await results(pbx)

    assert [json.loads(body) for body in receiver.bodies] == [
        {"action": "sms-send", "status": status, "smsid": smsid, "sn": pbx.serial}
        for status, smsid in (("Failed", ids[0]), ("Succeed", ids[2]))
    ]
    listed = await asyncio.to_thread(client.sms)
    assert listed["next"] == []
    assert [(m["message"], m["outcome"]) for m in listed["messages"]] == [
        (HELLO, "failed"),
        (HELLO, "silent"),
        (HELLO, "sent"),
    ]
    assert (await asyncio.to_thread(client.state))["sms"] == listed


async def test_control_refuses_an_unknown_outcome(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Only sent, failed and silent can be set."""
    async with http.post(
        f"{pbx.base_url}/__simulator__/sms", json={"next": "lost"}
    ) as response:
        assert response.status == 400
    assert pbx.sms.next_outcomes == []


async def test_result_goes_to_the_event_port(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """With the TCP report method, the result comes on the event port (v2.0.0)."""
    pbx.report_method = "tcp"
    token = await login(http, pbx)
    link = YeastarEventLink(
        pbx.host, pbx.tcp_port, username="api", password=PASSWORD, answer_wait=0.2
    )
    async with link as events, asyncio.timeout(5):
        while not pbx.event_clients:
            await asyncio.sleep(0.01)
        smsid = (await send(http, pbx, token))["smsid"]
        body = await anext(aiter(events.events()))
    assert json.loads(body) == {
        "event": "sms-send",
        "status": "Success",
        "smsid": smsid,
        "sn": pbx.serial,
    }


async def test_no_result_after_stop(
    simulated_pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """A PBX that stops sends no result it still owed."""
    simulated_pbx.sms.result_delay = 0.2
    async with simulated_pbx as pbx:
        token = await login(http, pbx, port=receiver.port, version="2.0.0")
        await send(http, pbx, token)
    await asyncio.sleep(0.3)
    assert receiver.bodies == []
