"""Calls the way the PBX has them: queries and call control, v2 channels and v1 ids."""

import asyncio
from dataclasses import dataclass
import json
from typing import Any

import aiohttp
import pytest

from custom_components.yeastar_s_series.api import ApiVersion, call_control
from custom_components.yeastar_s_series.api.call_control import ApiRequest
from custom_components.yeastar_s_series.api.calls import Leg
from simulator import ExtMember, Scenario, SimClock, SimulatedPBX

from .conftest import Receiver, call, login

type Json = dict[str, Any]


@dataclass
class Api:
    """A logged-in application: requests in one API version, the reports it got since."""

    http: aiohttp.ClientSession
    pbx: SimulatedPBX
    receiver: Receiver
    token: str
    version: str
    seen: int = 0

    async def __call__(self, endpoint: str, body: Json | None = None) -> Json:
        """Send one request and return the answer."""
        return await call(
            self.http,
            self.pbx,
            endpoint,
            body,
            token=self.token,
            api_version=self.version,
        )

    async def reports(self) -> list[Json]:
        """Return the call reports that arrived since the last look (no ExtensionStatus)."""
        await self.pbx.wait_delivered()
        new = self.receiver.bodies[self.seen :]
        self.seen = len(self.receiver.bodies)
        decoded = [json.loads(body) for body in new]
        return [r for r in decoded if "ExtensionStatus" not in r.values()]


async def _api(
    http: aiohttp.ClientSession, pbx: SimulatedPBX, receiver: Receiver, version: str
) -> Api:
    """Log in to one API version, its reports in that version's format."""
    report_format = {"v2.0.0": "2.0.0", "v1.1.0": "1.0.2"}.get(version)
    extra = {"version": report_format} if report_format else {}
    token = await login(http, pbx, api_version=version, port=receiver.port, **extra)
    return Api(http, pbx, receiver, token, version)


@pytest.fixture
async def v2(pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver) -> Api:
    """Return an application using API v2.0.0."""
    return await _api(http, pbx, receiver, "v2.0.0")


def statuses(report: Json) -> list[tuple[str, str]]:
    """Return a v2 report's members as (number, memberstatus)."""
    result = []
    for member in report["members"]:
        [(kind, info)] = member.items()
        number = (
            info["number"]
            if kind == "ext"
            else info["from" if kind == "inbound" else "to"]
        )
        result.append((number, info.get("memberstatus", "")))
    return result


def channel(pbx: SimulatedPBX, number: str) -> str:
    """Return the channel of a number's leg in the newest call."""
    for live in reversed(pbx.calls):
        for member in live.legs:
            if member.number == number:
                return member.channelid
    raise AssertionError(f"{number} is in no call")


# v2.0.0: dialling


async def test_dial_rings_the_caller_first(v2: Api, pbx: SimulatedPBX) -> None:
    """call/dial: the caller's phone rings; picked up, the callee rings; queries follow."""
    answer = await v2(
        "call/dial", {"caller": "1000", "callee": "1001", "autoanswer": "no"}
    )
    callid = answer["callid"]
    assert answer == {"status": "Success", "callid": callid}
    assert [statuses(r) for r in await v2.reports()] == [[("1000", "RING")]]
    await pbx.pick_up("1000")
    await pbx.pick_up("1001")
    assert [statuses(r) for r in await v2.reports()] == [
        [("1000", "ALERT"), ("1001", "RING")],
        [("1000", "ANSWERED"), ("1001", "ANSWER")],
    ]
    [query] = (await v2("call/query", {"callid": callid}))["calls"]
    assert query["callid"] == callid
    assert query["members"][1]["ext"]["channelid"].startswith("PJSIP/1001-")
    listed = await v2("extension/query_call", {"number": "1001,1002"})
    assert listed["calllist"] == [
        {
            "number": "1001",
            "numbercalls": [{"callid": callid, "members": query["members"]}],
        },
        {"number": "1002", "numbercalls": []},
    ]
    hung_up = await v2("call/hangup", {"channelid": channel(pbx, "1001")})
    assert hung_up == {"status": "Success", "callid": callid}
    bye, cdr = await v2.reports()
    assert statuses(bye) == [("1001", "BYE"), ("1000", "BYE")]  # who hung up first
    assert (cdr["callfrom"], cdr["callto"], cdr["type"]) == ("1000", "1001", "Internal")
    assert pbx.calls == []
    assert (await v2("call/query", {"callid": callid}))["errno"] == "10005"


async def test_dial_with_autoanswer(v2: Api) -> None:
    """With autoanswer the caller's phone answers by itself and the callee rings."""
    await v2("call/dial", {"caller": "1000", "callee": "1002", "autoanswer": "yes"})
    assert [statuses(r) for r in await v2.reports()] == [
        [("1000", "RING")],
        [("1000", "ALERT"), ("1002", "RING")],
    ]


async def test_dial_out(v2: Api, pbx: SimulatedPBX) -> None:
    """An outside callee rings on the outbound route's trunk; the far end answers."""
    await v2(
        "call/dial", {"caller": "1001", "callee": "0123456789", "autoanswer": "yes"}
    )
    await pbx.pick_up("0123456789")
    [outbound] = (await v2("call/query", {"type": "outbound"}))["calls"]
    assert outbound["members"][1]["outbound"]["channelid"].startswith(
        "PJSIP/trunk-SIP-142-endpoint-"
    )
    assert (await v2("call/query", {"type": "inbound"}))["calls"] == []
    await pbx.hang_up("0123456789")
    cdr = (await v2.reports())[-1]
    assert (cdr["type"], cdr["dsttrcunkname"], cdr["status"]) == (
        "Outbound",
        "SIP-142",
        "ANSWERED",
    )


@pytest.mark.parametrize(
    ("body", "errno"),
    [
        ({"caller": "", "callee": "1001"}, "10004"),
        ({"caller": "1000"}, "10004"),
        ({"caller": "1009", "callee": "1001"}, "10006"),
        ({"caller": "1000", "callee": "1001", "dialpermission": "1009"}, "10006"),
        ({"caller": "1000", "callee": "1000"}, "10008"),  # the caller is in a call
        ({"caller": "1001", "callee": "123"}, "10011"),
        ({"caller": "1002", "callee": "0123456789"}, "10024"),
        ({"caller": "1001", "callee": "110"}, "10031"),
    ],
)
async def test_dial_refusals(
    v2: Api, pbx: SimulatedPBX, body: Json, errno: str
) -> None:
    """call/dial answers the documented errnos."""
    pbx.extensions["1002"].outbound = False
    pbx.blocked_numbers.add("110")
    await pbx.play(Scenario.INBOUND_ANSWERED, extension="1000", stay="talking")
    assert await v2("call/dial", body) == {"status": "Failed", "errno": errno}


# v2.0.0: talking


async def test_hold_and_mute(v2: Api, pbx: SimulatedPBX) -> None:
    """Hold reports HOLD for the leg, resume its talking status; mute reports nothing."""
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    await v2.reports()
    phone = {"channelid": channel(pbx, "1001")}
    await v2("call/hold", phone)
    await v2("call/hold", phone)  # held already: nothing to do
    await v2("call/unhold", phone)
    assert [statuses(r) for r in await v2.reports()] == [
        [("13800000000", "ANSWERED"), ("1001", "HOLD")],
        [("13800000000", "ANSWERED"), ("1001", "ANSWER")],
    ]
    await v2("call/mute", phone)
    [live] = pbx.calls
    assert live.muted == {phone["channelid"]}
    await v2("call/unmute", phone)
    assert live.muted == set()
    assert await v2.reports() == []


async def test_ringing_legs_cannot_be_held(v2: Api, pbx: SimulatedPBX) -> None:
    """Hold and mute need a connected leg (10015); an unknown channel is 10005."""
    await pbx.play(Scenario.MISSED_CALL, stay="ringing")
    assert (await v2("call/hold", {"channelid": channel(pbx, "1001")}))[
        "errno"
    ] == "10015"
    assert (await v2("call/mute", {"channelid": channel(pbx, "1001")}))[
        "errno"
    ] == "10015"
    for endpoint in ("call/hangup", "call/unmute", "call/accept_inbound"):
        assert (await v2(endpoint, {"channelid": "PJSIP/9-1"}))["errno"] == "10005"
    assert (await v2("call/hangup", {}))["errno"] == "10004"


async def test_blind_transfer(v2: Api, pbx: SimulatedPBX) -> None:
    """call/transfer sends the channel's party on; the one it talked to leaves; no Tranfer."""
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    await v2.reports()
    trunk = channel(pbx, "13800000000")
    pbx.extensions["1001"].outbound = False
    refused = await v2("call/transfer", {"channelid": trunk, "number": "0123456789"})
    assert refused["errno"] == "10024"  # 1001, who leaves, may not call out
    answer = await v2("call/transfer", {"channelid": trunk, "number": "1000"})
    assert answer["status"] == "Success"
    assert [statuses(r) for r in await v2.reports()] == [
        [("1001", "BYE")],
        [("13800000000", "RING"), ("1000", "RING")],
    ]


async def test_attended_transfer_completed(v2: Api, pbx: SimulatedPBX) -> None:
    """The transferor holds its party, consults the target, then leaves them talking."""
    await pbx.play(Scenario.INTERNAL_CALL, stay="talking")
    await v2.reports()
    transferor = {"channelid": channel(pbx, "1001")}
    assert (
        await v2(
            "call/attended_transfer_operate", {**transferor, "operate": "complete"}
        )
    )["errno"] == "10015"  # nothing to complete yet
    await v2("call/attended_transfer", {**transferor, "tonumber": "1002"})
    completing = {**transferor, "operate": "complete"}
    assert (await v2("call/attended_transfer_operate", completing))["errno"] == "10015"
    await pbx.pick_up("1002")
    await v2("call/attended_transfer_operate", completing)
    assert [statuses(r) for r in await v2.reports()] == [
        [("1000", "HOLD"), ("1001", "ANSWER")],
        [("1001", "ALERT"), ("1002", "RING"), ("1000", "HOLD")],
        [("1001", "ANSWERED"), ("1002", "ANSWER"), ("1000", "HOLD")],
        [("1001", "BYE")],
        [("1000", "ANSWERED"), ("1002", "ANSWER")],
    ]


@pytest.mark.parametrize(
    ("operate", "after"),
    [
        ("abort", [[("1002", "BYE")], [("1000", "ANSWERED"), ("1001", "ANSWERED")]]),
        (
            "threeway",
            [[("1000", "ANSWERED"), ("1001", "ANSWERED"), ("1002", "ANSWER")]],
        ),
        (
            "swap",
            [
                [("1000", "HOLD"), ("1001", "ANSWERED"), ("1002", "HOLD")],
                [("1000", "ANSWERED"), ("1001", "ANSWERED"), ("1002", "HOLD")],
            ],
        ),
    ],
)
async def test_attended_transfer_operations(
    v2: Api, pbx: SimulatedPBX, operate: str, after: list[list[tuple[str, str]]]
) -> None:
    """Abort (the target leaves), threeway (all talk), swap (talk to the held party)."""
    await pbx.play(Scenario.INTERNAL_CALL, stay="talking")
    transferor = {"channelid": channel(pbx, "1001")}
    await v2("call/attended_transfer", {**transferor, "tonumber": "1002"})
    await pbx.pick_up("1002")
    await v2.reports()
    await v2("call/attended_transfer_operate", {**transferor, "operate": operate})
    assert [statuses(r) for r in await v2.reports()] == after
    bad = await v2("call/attended_transfer_operate", {**transferor, "operate": "park"})
    assert bad["errno"] == "10004"


# v2.0.0: inbound calls the application decides on (Invite)


@pytest.fixture
def controlled(pbx: SimulatedPBX) -> SimulatedPBX:
    """Turn inbound call answering control on."""
    pbx.inbound_call_control = True
    return pbx


async def test_door_station_invite_accepted(v2: Api, controlled: SimulatedPBX) -> None:
    """The door's call goes out and comes back in: Invite; accepted, Incoming and a ring."""
    pbx = controlled
    await pbx.play(Scenario.DOOR_STATION, door="1000")
    ring_out, invite = await v2.reports()
    assert statuses(ring_out) == [("1000", "ALERT"), ("5503301", "RING")]
    assert invite["event"] == "Invite"
    [member] = invite["members"]
    assert member["inbound"]["from"] == "1000"
    assert "memberstatus" not in member["inbound"]
    trunk = {"channelid": member["inbound"]["channelid"]}
    assert await v2("call/accept_inbound", trunk) == {
        "status": "Success",
        "callid": invite["callid"],
    }
    incoming, ring_in = await v2.reports()
    assert incoming["event"] == "Incoming"
    assert statuses(ring_in) == [("1000", "RING"), ("1001", "RING")]
    assert (await v2("call/refuse_inbound", trunk))["errno"] == "10016"  # decided
    await pbx.pick_up("1001")
    assert [statuses(r) for r in await v2.reports()] == [
        [("1000", "ANSWERED"), ("1001", "ANSWER")],
        [("1000", "ANSWERED"), ("5503301", "ANSWER")],
    ]
    await pbx.hang_up("1001")
    records = [r for r in await v2.reports() if r["event"] == "NewCdr"]
    assert [r["type"] for r in records] == ["Inbound", "Outbound"]
    assert pbx.calls == []


async def test_invite_refused(v2: Api, controlled: SimulatedPBX) -> None:
    """Refused, the inbound call is hung up, and the door's call with it."""
    await controlled.play(Scenario.DOOR_STATION)
    _, invite = await v2.reports()
    trunk = invite["members"][0]["inbound"]["channelid"]
    await v2("call/refuse_inbound", {"channelid": trunk})
    assert [r["event"] for r in await v2.reports()] == [
        "CallStatus",
        "NewCdr",
        "CallStatus",
        "NewCdr",
    ]
    assert controlled.calls == []


async def test_invite_answered_late(
    v2: Api, controlled: SimulatedPBX, clock: SimClock
) -> None:
    """After the 10-second window a decision is too late (10016): the call went on."""
    await controlled.play(Scenario.DOOR_STATION)
    _, invite = await v2.reports()
    clock.advance(11)
    trunk = {"channelid": invite["members"][0]["inbound"]["channelid"]}
    assert (await v2("call/refuse_inbound", trunk))["errno"] == "10016"
    assert [r["event"] for r in await v2.reports()] == ["Incoming", "CallStatus"]


async def test_invite_not_answered(v2: Api, controlled: SimulatedPBX) -> None:
    """With no decision, the PBX routes the call itself when the window closes."""
    controlled.invite_window = 0.05
    await controlled.play(Scenario.DOOR_STATION)
    reports = await v2.reports()
    async with asyncio.timeout(5):
        while len(controlled.calls[1].legs) < 2:
            await asyncio.sleep(0.01)
    reports += await v2.reports()  # on a busy machine the first look may see them all
    assert [r["event"] for r in reports][-2:] == ["Incoming", "CallStatus"]


async def test_door_station_without_control(v2: Api, pbx: SimulatedPBX) -> None:
    """Without inbound call control, the call rings the inbound route at once."""
    await pbx.play(Scenario.DOOR_STATION)
    assert [r["event"] for r in await v2.reports()] == ["CallStatus", "CallStatus"]
    door = pbx.calls[0].ext_leg("1000")
    assert door is not None
    answer = await v2("call/accept_inbound", {"channelid": door.channelid})
    assert answer["errno"] == "10005"  # an extension's channel is no inbound call


async def test_prompt_to_an_extension(v2: Api, pbx: SimulatedPBX) -> None:
    """call/playprompt rings the phone; answered, the prompt plays, ends, and the PBX hangs up."""
    body = {"number": "1001", "prompt": "music1+music2", "count": "2", "volume": "10"}
    answer = await v2("call/playprompt", body)
    assert [statuses(r) for r in await v2.reports()] == [[("1001", "RING")]]
    await pbx.pick_up("1001")
    answered, end, bye, cdr = await v2.reports()
    assert statuses(answered) == [("1001", "ANSWER")]
    assert (end["event"], end["callid"], end["prompt"]) == (
        "PlayPromptEnd",
        answer["callid"],
        "music1+music2",
    )
    assert (statuses(bye), cdr["event"]) == ([("1001", "BYE")], "NewCdr")


async def test_prompt_to_an_outside_number(v2: Api, pbx: SimulatedPBX) -> None:
    """An outside number needs an extension's outbound permission (10024 without)."""
    body = {"number": "0123456789", "prompt": "welcome", "autoanswer": "yes"}
    assert (await v2("call/playprompt", body))["errno"] == "10024"
    await v2("call/playprompt", {**body, "dialpermission": "1000"})
    await pbx.pick_up("0123456789")
    assert [r["event"] for r in await v2.reports()] == [
        "CallStatus", "CallStatus", "PlayPromptEnd", "CallStatus", "NewCdr",
    ]  # fmt: skip


async def test_query_refusals(v2: Api) -> None:
    """Queries need their field (10004); extension/query_call knows the extensions."""
    assert (await v2("call/query", {}))["errno"] == "10004"
    assert (await v2("call/query", {"type": "internal"}))["errno"] == "10004"
    assert (await v2("extension/query_call", {"number": "1000,1009"}))[
        "errno"
    ] == "10006"
    listed = await v2("extension/query_call", {"number": "all"})
    assert [item["number"] for item in listed["calllist"]] == [
        "1000",
        "1001",
        "1002",
        "1003",
    ]


# v1.x: extensions by number, trunk legs by call-id-like ids


@pytest.fixture
async def v1(pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver) -> Api:
    """Return an application using API v1.1.0 (reports in format 1.0.2)."""
    return await _api(http, pbx, receiver, "v1.1.0")


def actions(reports: list[Json]) -> list[str]:
    """Return v1 reports' actions."""
    return [report["action"] for report in reports]


async def test_v1_dial_extension(v1: Api, pbx: SimulatedPBX) -> None:
    """dial_extension: the caller's RING, then ALERT and the callee's RING; hang up by extid."""
    answer = await v1(
        "extension/dial_extension",
        {"caller": "1000", "callee": "1001", "autoanswer": "yes"},
    )
    assert list(answer) == ["status", "callid"]
    assert actions(await v1.reports()) == ["RING", "ALERT", "RING"]
    assert await v1("extension/hangup", {"extid": "1000"}) == {"status": "Success"}
    assert actions(await v1.reports()) == ["BYE", "BYE", "NewCdr"]
    assert (await v1("extension/hangup", {"extid": "1000"}))["errno"] == "10007"
    assert (await v1("extension/hangup", {"extid": "1009"}))["errno"] == "10006"
    refused = await v1(
        "extension/dial_extension", {"caller": "1000", "callee": "0123456789"}
    )
    assert refused["errno"] == "10006"  # dial_extension calls extensions only


async def test_v1_dial_outbound(v1: Api, pbx: SimulatedPBX) -> None:
    """dial_outbound: the outbound leg carries a call-id-like ``outboundid``."""
    pbx.extensions["1002"].outbound = False
    body = {"extid": "1002", "outto": "0123456789", "autoanswer": "yes"}
    assert (await v1("extension/dial_outbound", body))["errno"] == "10024"
    answer = await v1("extension/dial_outbound", {**body, "extid": "1001"})
    [item] = (await v1("outbound/query"))["outbound"]
    stamp, _, sequence = answer["callid"].partition(".")
    assert item == {
        "outboundid": f"{stamp}.{int(sequence) + 1}",
        "from": "1001",
        "to": "0123456789",
        "trunk": "SIP-142",
        "status": "Progress",
    }
    await pbx.pick_up("0123456789")
    assert (await v1("outbound/query"))["outbound"][0]["status"] == "Talking"
    assert await v1("outbound/hangup", {"outboundid": item["outboundid"]}) == {
        "status": "Success"
    }
    assert (await v1("outbound/query"))["outbound"] == []


async def test_v1_inbound_calls(v1: Api, pbx: SimulatedPBX) -> None:
    """inbound/query lists calls with their callee; hold and hang-up by id or extension."""
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    [item] = (await v1("inbound/query", {}))["inbound"]
    assert item == {
        "inboundid": pbx.calls[0].callid,
        "from": "13800000000",
        "to": "1001",
        "trunk": "SIP-142",
        "status": "Talking",
        "callee": [{"extid": "1001"}],
    }
    assert (await v1("inbound/query", {"inboundid": "1.1,2.2"}))["inbound"] == []
    await v1.reports()
    for endpoint in (
        "extension/hold",
        "extension/unhold",
        "extension/mute",
        "extension/unmute",
    ):
        assert await v1(endpoint, {"extid": "1001"}) == {"status": "Success"}
    assert await v1.reports() == []  # the documents show no v1 report for them
    assert (await v1("extension/hold", {"extid": "1000"}))["errno"] == "10007"
    assert (await v1("inbound/hangup", {"inboundid": "1.1"}))["errno"] == "10007"
    await v1("inbound/hangup", {"inboundid": item["inboundid"]})
    assert actions(await v1.reports()) == ["BYE", "BYE", "NewCdr"]


async def test_v1_transfer_number(v1: Api, pbx: SimulatedPBX) -> None:
    """v1.1.0 transfer_number sends the trunk leg on to any number; fromext lends permission."""
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    inboundid = pbx.calls[0].callid
    body = {"inboundid": inboundid, "number": "0123456789", "fromext": "1000"}
    assert (await v1("inbound/transfer_number", body))["callid"] == inboundid
    [live] = pbx.calls
    assert [m.number for m in live.legs] == ["13800000000", "0123456789"]
    assert (await v1("inbound/transfer_extension", body))["errno"] == "10003"


async def test_v1_0_0_transfer_extension(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """v1.0.x transfers to an extension only (10006 for anything else)."""
    v100 = await _api(http, pbx, receiver, "v1.0.0")
    await pbx.play(Scenario.INBOUND_ANSWERED, stay="talking")
    body = {"inboundid": pbx.calls[0].callid, "extid": "0123456789"}
    assert (await v100("inbound/transfer_extension", body))["errno"] == "10006"
    assert (await v100("inbound/transfer_extension", {**body, "extid": "1002"}))[
        "status"
    ] == "Success"
    assert (await v100("inbound/transfer_number", body))["errno"] == "10003"


async def test_v1_invite(v1: Api, controlled: SimulatedPBX) -> None:
    """inbound/accept and inbound/refuse act on the Invite's ``inboundid`` (the call id)."""
    await controlled.play(Scenario.DOOR_STATION)
    _, _, invite = await v1.reports()
    assert invite["action"] == "Invite"
    inboundid = invite["call"][0]["inbound"]["inboundid"]
    assert inboundid == invite["callid"]
    assert (await v1("inbound/query"))["inbound"][0]["status"] == "Wait"
    assert await v1("inbound/accept", {"inboundid": inboundid}) == {"status": "Success"}
    assert (await v1("inbound/refuse", {"inboundid": inboundid}))["errno"] == "10016"
    assert (await v1("inbound/accept", {"inboundid": "1.1"}))["errno"] == "10007"


async def test_v1_prompt(v1: Api, pbx: SimulatedPBX) -> None:
    """extension/playprompt: extid, prompt, autoanswer; 10006 for an unknown extension."""
    body = {"extid": "1000", "prompt": "wakeup", "autoanswer": "yes"}
    assert (await v1("extension/playprompt", {**body, "extid": "1009"}))[
        "errno"
    ] == "10006"
    await v1("extension/playprompt", body)
    assert actions(await v1.reports()) == [
        "RING",
        "ANSWER",
        "PlayPromptEnd",
        "BYE",
        "NewCdr",
    ]
    await pbx.play(Scenario.MISSED_CALL, extension="1000", stay="ringing")
    assert (await v1("extension/playprompt", body))["errno"] == "10008"


async def test_phones(pbx: SimulatedPBX) -> None:
    """A phone that does not ring cannot be picked up; one in no call cannot hang up."""
    with pytest.raises(LookupError):
        await pbx.pick_up("1001")
    with pytest.raises(LookupError):
        await pbx.hang_up("1001")


# What the integration sends (its own request builders): the PBX understands all of it


def leg(pbx: SimulatedPBX, number: str, *, v1: bool = False) -> Leg:
    """Describe a live leg as the integration learns it from the reports."""
    for live in reversed(pbx.calls):
        for member in live.legs:
            if member.number != number:
                continue
            if isinstance(member, ExtMember):
                return Leg(kind="ext", number=number, channel_id=member.channelid)
            return Leg(
                kind=member.direction,
                number=number,
                channel_id=member.leg_id if v1 else member.channelid,
            )
    raise AssertionError(f"{number} is in no call")


async def send(api: Api, request: ApiRequest) -> None:
    """Send one request the integration built; the PBX must take it."""
    answer = await api(request.endpoint, request.body)
    assert answer["status"] == "Success", (request, answer)


async def test_the_integrations_v2_requests(v2: Api, controlled: SimulatedPBX) -> None:
    """Dial, hold, mute, transfers, hang-up, prompts and Invite answers, as built for v2."""
    pbx, version = controlled, ApiVersion.V2_0_0
    await send(
        v2,
        call_control.dial(
            version, "1000", "1001", auto_answer=True, callee_is_extension=True
        ),
    )
    await pbx.pick_up("1001")
    for on in (True, False):
        await send(v2, call_control.hold(version, leg(pbx, "1001"), on=on))
        await send(v2, call_control.mute(version, leg(pbx, "1001"), on=on))
    await send(v2, call_control.attended_transfer(version, leg(pbx, "1001"), "1002"))
    await pbx.pick_up("1002")
    await send(
        v2,
        call_control.finish_attended_transfer(version, leg(pbx, "1001"), complete=True),
    )
    transfer = call_control.transfer(
        version, leg(pbx, "1000"), "1001", transferor="1002", to_extension=True
    )
    await send(v2, transfer)
    await send(v2, call_control.hang_up(version, leg(pbx, "1000")))
    await send(
        v2,
        call_control.play_prompt(
            version,
            "1003",
            ["a", "b"],
            count=2,
            volume=5,
            auto_answer=True,
            to_extension=True,
        ),
    )
    await pbx.play(Scenario.DOOR_STATION)
    inbound = leg(pbx, "1000")  # the inbound half's trunk leg, from the door
    await send(v2, call_control.answer_invite(version, inbound, accept=True))


@pytest.mark.parametrize("version", [ApiVersion.V1_1_0, ApiVersion.V1_0_0])
async def test_the_integrations_v1_requests(
    pbx: SimulatedPBX,
    http: aiohttp.ClientSession,
    receiver: Receiver,
    version: ApiVersion,
) -> None:
    """Dial out, hold and mute by extension, transfer and hang up trunk legs, as built for v1."""
    api = await _api(http, pbx, receiver, version.value)
    dial = call_control.dial(
        version, "1001", "0123456789", auto_answer=True, callee_is_extension=False
    )
    await send(api, dial)
    await pbx.pick_up("0123456789")
    for on in (True, False):
        await send(
            api, call_control.hold(version, Leg(kind="ext", number="1001"), on=on)
        )
        await send(
            api, call_control.mute(version, Leg(kind="ext", number="1001"), on=on)
        )
    transfer = call_control.transfer(
        version,
        leg(pbx, "0123456789", v1=True),
        "1002",
        transferor="1001",
        to_extension=True,
    )
    await send(api, transfer)
    await send(api, call_control.hang_up(version, leg(pbx, "0123456789", v1=True)))
    await send(
        api,
        call_control.play_prompt(
            version,
            "1001",
            ["wake"],
            count=None,
            volume=None,
            auto_answer=False,
            to_extension=True,
        ),
    )
    await send(api, call_control.hang_up(version, Leg(kind="ext", number="1001")))
    pbx.inbound_call_control = True
    await pbx.play(Scenario.DOOR_STATION)
    inbound = leg(pbx, "1000", v1=True)
    await send(api, call_control.answer_invite(version, inbound, accept=False))
