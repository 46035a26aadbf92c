"""Calls per extension, from report bodies as the documents show them."""

import json
from typing import Any

import pytest

from custom_components.yeastar_s_series.api import parse_report
from custom_components.yeastar_s_series.api.calls import (
    MAX_CALLS,
    CallEvent,
    CallState,
    CallTracker,
    Direction,
)
from custom_components.yeastar_s_series.api.names import Contact, NameBook

SN = "369364835218"
EXTENSIONS = {"1000": "Jayson", "1001": "Front Desk", "1002": "Kitchen"}


@pytest.fixture
def tracker() -> CallTracker:
    """Follow calls of a PBX with three named extensions and one contact."""
    names = NameBook()
    names.set_extensions(EXTENSIONS)
    names.set_contacts([Contact("Alice Example", ("+86 139 1234 5678",))])
    return CallTracker(names.name, lambda: EXTENSIONS)


def v2(
    callid: str, *members: dict[str, Any], event: str = "CallStatus", **fields: Any
) -> bytes:
    """Write a v2 report body."""
    return json.dumps(
        {"event": event, "callid": callid, "members": list(members), **fields, "sn": SN}
    ).encode()


def ext(number: str, status: str | None) -> dict[str, Any]:
    """Write a v2 extension member."""
    member = {"number": number, "channelid": f"PJSIP/{number}-0000001a"}
    return {"ext": member | ({"memberstatus": status} if status else {})}


def inbound(status: str, caller: str = "013912345678") -> dict[str, Any]:
    """Write a v2 inbound trunk member."""
    return {
        "inbound": {
            "from": caller,
            "to": "5503301",
            "trunkname": "SIP-142",
            "channelid": "PJSIP/trunk-SIP-142-endpoint-0000001f",
            "memberstatus": status,
        }
    }


def v1(
    action: str, callid: str, *parties: tuple[str, dict[str, str]], old: bool = False
) -> bytes:
    """Write a v1 report: parties in a `call` array (1.0.2) or repeated keys (old)."""
    if old:
        items = ",".join(f'"{kind}":{json.dumps(fields)}' for kind, fields in parties)
        return f'{{"action":"{action}","callid":"{callid}",{items}}}'.encode()
    call = [{kind: fields} for kind, fields in parties]
    return json.dumps(
        {"action": action, "callid": callid, "call": call, "sn": SN}
    ).encode()


def feed(tracker: CallTracker, *bodies: bytes) -> list[CallEvent]:
    """Give the tracker the reports; return every event, in order."""
    return [event for body in bodies for event in tracker.handle(parse_report(body))]


def seen(events: list[CallEvent]) -> list[tuple[str, str]]:
    """Each event as (extension, type)."""
    return [(event.extension, event.type.value) for event in events]


def test_inbound_call_answered(tracker: CallTracker) -> None:
    """Front Desk rings for an outside caller it knows by name, answers, hangs up."""
    events = feed(
        tracker,
        v2("1.1", inbound("RING"), ext("1001", "RING")),
        v2("1.1", inbound("ANSWERED"), ext("1001", "ANSWER")),
    )
    assert tracker.state_of("1001") is CallState.TALKING
    assert tracker.call("1.1") is not None
    events += feed(tracker, v2("1.1", inbound("BYE"), ext("1001", "BYE")))

    assert seen(events) == [
        ("1001", "ringing"),
        ("1001", "answered"),
        ("1001", "hung_up"),
    ]
    ringing = events[0]
    assert ringing.direction is Direction.INBOUND
    assert (ringing.peer_number, ringing.peer_name) == ("013912345678", "Alice Example")
    assert ringing.trunk == "SIP-142"
    assert tracker.state_of("1001") is CallState.IDLE
    assert tracker.live_calls == []


def test_ring_group_answered_by_one_is_missed_by_nobody(tracker: CallTracker) -> None:
    """Three phones ring; one answers: no missed call for the other two."""
    events = feed(
        tracker,
        v2(
            "2.1",
            inbound("RING"),
            ext("1000", "RING"),
            ext("1001", "RING"),
            ext("1002", "RING"),
        ),
        v2(
            "2.1",
            inbound("ANSWERED"),
            ext("1000", "BYE"),
            ext("1001", "ANSWER"),
            ext("1002", "BYE"),
        ),
        v2("2.1", inbound("BYE"), ext("1001", "BYE")),
        v2("2.1", event="NewCdr", status="ANSWERED", callto="6200(1001)"),
    )

    assert [e for e in seen(events) if e[1] == "ringing"] == [
        ("1000", "ringing"),
        ("1001", "ringing"),
        ("1002", "ringing"),
    ]
    assert [e for e in seen(events) if e[1] == "missed"] == []


def test_call_nobody_answered_is_missed_by_each_phone_it_rang(
    tracker: CallTracker,
) -> None:
    """Once, however many reports (call record included) say so."""
    events = feed(
        tracker,
        v2("3.1", inbound("RING"), ext("1000", "RING"), ext("1001", "RING")),
        v2("3.1", inbound("BYE"), ext("1000", "BYE"), ext("1001", "BYE")),
        v2("3.1", event="NewCdr", status="NO ANSWERED", callto="6200"),
    )

    missed = [event for event in events if event.type == "missed"]
    assert seen(missed) == [("1000", "missed"), ("1001", "missed")]
    assert missed[0].peer_name == "Alice Example"


def test_v1_internal_call_as_the_documents_show_it(tracker: CallTracker) -> None:
    """ALERT, RING (callee first), ANSWER, ANSWERED, and two BYE each naming both."""
    caller, callee = ("ext", {"extid": "1000"}), ("ext", {"extid": "1001"})
    events = feed(
        tracker,
        v1("ALERT", "4.1", caller),
        v1("RING", "4.1", callee, caller),
        v1("ANSWER", "4.1", callee, caller),
        v1("ANSWERED", "4.1", caller, callee),
        v1("BYE", "4.1", callee, caller),
        v1("BYE", "4.1", callee, caller),
    )

    assert seen(events) == [
        ("1000", "dialing"),
        ("1001", "ringing"),
        ("1001", "answered"),
        ("1000", "answered"),
        ("1001", "hung_up"),
        ("1000", "hung_up"),
    ]
    # ALERT names the caller alone; RING tells the callee who calls.
    assert [(e.peer_number, e.peer_name) for e in events[:2]] == [
        (None, None),
        ("1000", "Jayson"),
    ]
    assert (events[3].peer_number, events[3].peer_name) == ("1001", "Front Desk")
    assert all(event.direction is Direction.INTERNAL for event in events)


def test_old_format_inbound_call_missed(tracker: CallTracker) -> None:
    """Repeated party keys (v1.0.0) work the same way."""
    trunk = (
        "inbound",
        {
            "from": "13912345678",
            "to": "1001",
            "trunk": "SIP-142",
            "inboundid": "1495707950.331",
        },
    )
    callee = ("ext", {"extid": "1001"})
    events = feed(
        tracker,
        v1("RING", "5.1", callee, trunk, old=True),
        v1("BYE", "5.1", callee, trunk, old=True),
    )

    assert seen(events) == [
        ("1001", "ringing"),
        ("1001", "hung_up"),
        ("1001", "missed"),
    ]
    assert events[-1].peer_name == "Alice Example"
    assert events[-1].trunk == "SIP-142"


def test_call_record_alone_decides_missed(tracker: CallTracker) -> None:
    """No ring report came (v1.0.x reports only API calls): the record tells who missed."""
    record = {
        "event": "NewCdr",
        "callid": "6.1",
        "callfrom": "13912345678",
        "callto": "1002",
        "status": "NO ANSWER",
        "type": "Inbound",
        "sn": SN,
    }
    events = feed(tracker, json.dumps(record).encode())

    assert seen(events) == [("1002", "missed")]
    assert events[0].peer_name == "Alice Example"


def test_busy_callee_record_and_answered_by_another(tracker: CallTracker) -> None:
    """BUSY to an extension is missed by it; "6200(4002)" was answered by 4002."""
    busy = {
        "event": "NewCdr",
        "callid": "7.1",
        "callfrom": "1000",
        "callto": "1002",
        "status": "BUSY",
        "type": "Internal",
        "sn": SN,
    }
    answered = {**busy, "callid": "7.2", "callto": "6200(1001)", "status": "ANSWERED"}

    events = feed(tracker, json.dumps(busy).encode(), json.dumps(answered).encode())

    assert seen(events) == [("1002", "missed")]


def test_hold_transfer_dtmf_failure(tracker: CallTracker) -> None:
    """Held, taken off hold (no new answer), digits, a transfer, a failed call."""
    events = feed(
        tracker,
        v2("8.1", inbound("ANSWERED"), ext("1001", "ANSWER")),
        v2("8.1", inbound("ANSWERED"), ext("1001", "HOLD")),
        v2("8.1", inbound("ANSWERED"), ext("1001", "ANSWER")),
        v2("8.1", inbound("ANSWERED"), ext("1001", "ANSWER"), event="DTMF", info="42"),
        v2("8.1", ext("1001", None), event="Tranfer"),
        v2("9.1", ext("1002", None), event="CallFailed", reason="486 Busy here"),
    )

    assert seen(events) == [
        ("1001", "answered"),
        ("1001", "held"),
        ("1001", "resumed"),
        ("1001", "dtmf"),
        ("1001", "transferred"),
        ("1002", "failed"),
    ]
    assert events[3].digits == "42"
    assert tracker.live_calls[0].callid == "8.1"
    assert tracker.state_of("1002") is CallState.IDLE


def test_reconcile_ends_lost_calls_and_learns_new_ones(tracker: CallTracker) -> None:
    """A BYE that never came: the PBX's own list ends the call; calls seen first there join."""
    feed(tracker, v2("10.1", inbound("ANSWERED"), ext("1001", "ANSWER")))
    in_progress = parse_report(
        v2("10.2", ext("1000", "ANSWERED"), ext("1002", "ANSWER"))
    )

    events = tracker.reconcile({"10.2": in_progress.parties})

    assert seen(events) == [("1001", "hung_up")]
    assert tracker.state_of("1001") is CallState.IDLE
    assert tracker.state_of("1002") is CallState.TALKING
    assert [call.callid for call in tracker.live_calls] == ["10.2"]
    channel = tracker.live_calls[0].legs["ext:1002"].channel_id
    assert channel == "PJSIP/1002-0000001a"


def test_calls_are_bounded(tracker: CallTracker) -> None:
    """Calls whose end never came do not pile up without end."""
    for number in range(MAX_CALLS + 50):
        feed(tracker, v2(f"11.{number}", inbound("RING"), ext("1000", "RING")))

    assert len(tracker.live_calls) == MAX_CALLS
