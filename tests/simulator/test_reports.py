"""Report bodies: the documents' own examples come out byte for byte."""

from collections.abc import Iterable
from dataclasses import replace
import json

from simulator import (
    BootUp,
    CallFailed,
    CallStatus,
    CallTransfer,
    ExtensionStatus,
    ExtMember,
    Invite,
    NewCdr,
    PlayPromptEnd,
    Report,
    ReportFormat,
    TrunkMember,
    render,
)
from simulator.flows import Call, Flow


def _bodies(
    reports: Iterable[Report], report_format: ReportFormat | None, serial: str = ""
) -> list[bytes]:
    """Render the reports of a call, without its extensions' status changes."""
    return [
        body
        for report in reports
        if not isinstance(report, ExtensionStatus)
        for body in render(report, report_format, serial)
    ]


def test_v1_internal_call_flow() -> None:
    """The 2017 guide's internal call 1002 -> 1000: ALERT, RING, ANSWER, ANSWERED, BYE."""
    flow = Flow(Call("1495706238.328", "2017-05-25 22:15:10"))
    caller, callee = flow.phone("1002"), flow.phone("1000")
    flow.ring(caller, [callee])
    flow.answer(callee)
    flow.hang_up(callee)
    ext = {"1000": '"ext":{"extid":"1000"}', "1002": '"ext":{"extid":"1002"}'}
    head = '{"action":"%s","callid":"1495706238.328",'
    assert [body.decode() for body in _bodies(flow.reports, None)][:-1] == [
        head % "ALERT" + ext["1002"] + "}",
        head % "RING" + ext["1000"] + "," + ext["1002"] + "}",
        head % "ANSWER" + ext["1000"] + "," + ext["1002"] + "}",
        head % "ANSWERED" + ext["1002"] + "," + ext["1000"] + "}",
        head % "BYE" + ext["1000"] + "," + ext["1002"] + "}",
        head % "BYE" + ext["1000"] + "," + ext["1002"] + "}",
    ]


def test_v1_outbound_ring_example() -> None:
    """The guide's outbound RING: the trunk leg first, its id the one after the call's."""
    flow = Flow(Call("1495771030.365", "2017-05-26 00:00:00"))
    caller = flow.phone("1002")
    flow.ring(caller, [flow.outside("outbound", "1002", "42003", "sip-142")])
    assert _bodies(flow.reports, None)[1] == (
        b'{"action":"RING","callid":"1495771030.365","outbound":{"from":"1002","to":"42003",'
        b'"trunk":"sip-142","outboundid":"1495771030.366"},"ext":{"extid":"1002"}}'
    )


def test_v1_0_2_ring_example() -> None:
    """The v1.1.0 guide's RING report: the callee (1002) first, in a ``call`` array."""
    flow = Flow(Call("1550710849.199", "2019-02-21 00:00:00"))
    flow.ring(flow.phone("1001"), [flow.phone("1002")])
    assert _bodies(flow.reports, "1.0.2", "369351034049")[1] == (
        b'{"action":"RING","callid":"1550710849.199","call":[{"ext":{"extid":"1002"}},'
        b'{"ext":{"extid":"1001"}}],"sn":"369351034049"}'
    )


def test_v2_channels_and_callpath() -> None:
    """v2 channels look like the PBX's; ``callpath`` only through a group."""
    flow = Flow(Call("1571897930.5", "2019-10-24 14:19:23"))
    outside = flow.outside("inbound", "0123", "1001", "siptrunk")
    flow.ring(outside, [flow.phone("1001"), flow.phone("1002", callpath="6200")])
    [status] = [json.loads(b) for b in _bodies(flow.reports, "2.0.0", "9")]
    assert status["members"] == [
        {
            "inbound": {
                "from": "0123",
                "to": "1001",
                "trunkname": "siptrunk",
                "channelid": "PJSIP/trunk-siptrunk-endpoint-00000050",
                "memberstatus": "RING",
            }
        },
        {
            "ext": {
                "number": "1001",
                "channelid": "PJSIP/1001-00000051",
                "memberstatus": "RING",
            }
        },
        {
            "ext": {
                "number": "1002",
                "channelid": "PJSIP/1002-00000052",
                "memberstatus": "RING",
                "callpath": "6200",
            }
        },
    ]


def test_old_format_repeats_keys() -> None:
    """The v1.0.0 format repeats party keys at the top level and has no serial."""
    report = CallStatus(
        callid="1.2",
        action="BYE",
        members=(ExtMember(number="1000"), ExtMember(number="1002")),
    )
    pairs = json.loads(render(report, None, "9")[0], object_pairs_hook=list)
    assert [key for key, _ in pairs] == ["action", "callid", "ext", "ext"]
    assert render(CallStatus(callid="1.2", action="HOLD", members=()), None, "9") == []


def test_simple_reports() -> None:
    """BootUp and ExtensionStatus in every format; v2 adds registeredIP."""
    status = ExtensionStatus("1006", "Registered", "192.168.5.201")
    assert render(status, "1.0.2", "1") == [
        b'{"action":"ExtensionStatus","extension":"1006","status":"Registered","sn":"1"}'
    ]
    assert render(status, "2.0.0", "1") == [
        (
            b'{"event":"ExtensionStatus","extension":"1006","status":"Registered",'
            b'"registeredIP":"192.168.5.201","sn":"1"}'
        )
    ]
    assert render(BootUp(), "2.0.0", "1") == [b'{"event":"BootUp","sn":"1"}']
    assert render(BootUp(), None, "1") == [b'{"action":"BootUp"}']


def test_call_failed_examples() -> None:
    """v2 lists ``callid`` first and members without status; v1 puts parties on top."""
    ext = ExtMember(
        number="1023", memberstatus="ALERT", channelid="PJSIP/1023-0000000a"
    )
    failed = CallFailed(
        callid="1573097568.15", members=(ext,), reason="NO Outbound Restriction"
    )
    assert render(failed, "2.0.0", "369451090405") == [
        (
            b'{"callid":"1573097568.15","event":"CallFailed","reason":"NO Outbound Restriction",'
            b'"members":[{"ext":{"number":"1023","channelid":"PJSIP/1023-0000000a"}}],'
            b'"sn":"369451090405"}'
        )
    ]
    assert render(failed, None, "9") == [
        (
            b'{"action":"CallFailed","reason":"NO Outbound Restriction",'
            b'"callid":"1573097568.15","ext":{"extid":"1023"}}'
        )
    ]
    [busy] = render(CallFailed(callid="1.1", members=()), "2.0.0", "9")
    assert json.loads(busy)["reason"] == "486 Busy here"  # v2's spelling


def test_new_cdr_v1_examples() -> None:
    """The 2017 guide's records: only the trunk that applies, pincode and recording if set."""
    internal = NewCdr(
        callid="1495779310.371",
        timestart="2017-05-25 22:15:10",
        callfrom="1002",
        callto="1000",
        callduraction="3",
        talkduraction="2",
        status="ANSWERED",
        type="Internal",
        didnumber="ignored in v1",
    )
    outbound = NewCdr(
        callid="1505352615.274",
        timestart="2017-09-14 09:30:15",
        callfrom="1000",
        callto="91000",
        callduraction="29",
        talkduraction="29",
        status="ANSWERED",
        type="Outbound",
        dsttrunkname="Apple_test",
        pincode="1000",
        recording="20170914093038-1505352615.274-1000-91000-Outbound.wav",
    )
    inbound = NewCdr(
        callid="1505352445.265",
        timestart="2017-09-14 09:27:25",
        callfrom="102",
        callto="1000",
        callduraction="38",
        talkduraction="29",
        status="ANSWERED",
        type="Inbound",
        srctrunkname="Apple_test",
        recording="20170914092747-1505352445.265-102-1000-Inbound.wav",
    )
    assert [render(cdr, None, "9")[0] for cdr in (internal, outbound, inbound)] == [
        (
            b'{"action":"NewCdr","callid":"1495779310.371","timestart":"2017-05-25 22:15:10",'
            b'"callfrom":"1002","callto":"1000","desttrunkname":"","callduraction":"3",'
            b'"talkduraction":"2","status":"ANSWERED","type":"Internal"}'
        ),
        (
            b'{"action":"NewCdr","callid":"1505352615.274","timestart":"2017-09-14 09:30:15",'
            b'"callfrom":"1000","callto":"91000","desttrunkname":"Apple_test","callduraction":"29",'
            b'"talkduraction":"29","status":"ANSWERED","type":"Outbound","pincode":"1000",'
            b'"recording":"20170914093038-1505352615.274-1000-91000-Outbound.wav"}'
        ),
        (
            b'{"action":"NewCdr","callid":"1505352445.265","timestart":"2017-09-14 09:27:25",'
            b'"callfrom":"102","callto":"1000","srctrunkname":"Apple_test","callduraction":"38",'
            b'"talkduraction":"29","status":"ANSWERED","type":"Inbound",'
            b'"recording":"20170914092747-1505352445.265-102-1000-Inbound.wav"}'
        ),
    ]


def test_new_cdr_v2_example() -> None:
    """The v2 page's record, key for key; an unanswered call is ``NO ANSWERED`` (sic)."""
    cdr = NewCdr(
        callid="1571897930.5",
        timestart="2019-10-23 22:18:50",
        callfrom="1023",
        callto="2023",
        callduraction="19",
        talkduraction="14",
        status="ANSWERED",
        type="Internal",
        recording="20191024201242-1571897930.5-203-201-Internal.wav",
    )
    assert render(cdr, "2.0.0", "369451090405") == [
        (
            b'{"event":"NewCdr","callid":"1571897930.5","timestart":"2019-10-23 22:18:50",'
            b'"callfrom":"1023","callto":"2023","callduraction":"19","talkduraction":"14",'
            b'"srctrunkname":"","dsttrcunkname":"","pincode":"","status":"ANSWERED",'
            b'"type":"Internal","recording":"20191024201242-1571897930.5-203-201-Internal.wav",'
            b'"didnumber":"","agentringtime":"0","sn":"369451090405"}'
        )
    ]
    [missed] = render(replace(cdr, status="NO ANSWER"), "2.0.0", "9")
    assert json.loads(missed)["status"] == "NO ANSWERED"


def test_invite_examples() -> None:
    """Invite in v2 (channel, no status) and in the 2017 guide (inboundid = callid)."""
    inbound = TrunkMember(
        direction="inbound",
        from_number="2000",
        to_number="1023",
        trunkname="siptrunk",
        memberstatus="RING",
        channelid="PJSIP/trunk-siptrunk-endpoint-00000001",
        leg_id="1571896991.2",
    )
    invite = Invite(callid="1571896991.2", members=(inbound,))
    assert render(invite, "2.0.0", "369451090405") == [
        (
            b'{"event":"Invite","callid":"1571896991.2","members":[{"inbound":{"from":"2000",'
            b'"to":"1023","trunkname":"siptrunk","channelid":"PJSIP/trunk-siptrunk-endpoint-00000001"}}],'
            b'"sn":"369451090405"}'
        )
    ]
    assert render(invite, None, "9") == [
        (
            b'{"action":"Invite","callid":"1571896991.2","inbound":{"from":"2000","to":"1023",'
            b'"trunk":"siptrunk","inboundid":"1571896991.2"}}'
        )
    ]


def test_transfer_examples() -> None:
    """``Tranfer`` (sic): v2 in call order, v1 the transferring extension first."""
    members = (
        ExtMember(number="2000", channelid="PJSIP/2000-00000025"),
        ExtMember(number="1020", channelid="PJSIP/1020-00000026"),
    )
    transfer = CallTransfer(callid="1571981311.105", members=members, by="1020")
    assert render(transfer, "2.0.0", "369451090405") == [
        (
            b'{"event":"Tranfer","callid":"1571981311.105","members":[{"ext":{"number":"2000",'
            b'"channelid":"PJSIP/2000-00000025"}},{"ext":{"number":"1020",'
            b'"channelid":"PJSIP/1020-00000026"}}],"sn":"369451090405"}'
        )
    ]
    assert render(transfer, "1.0.2", "9") == [
        (
            b'{"action":"Tranfer","callid":"1571981311.105","call":[{"ext":{"extid":"1020"}},'
            b'{"ext":{"extid":"2000"}}],"sn":"9"}'
        )
    ]


def test_prompt_end_examples() -> None:
    """PlayPromptEnd: the 2017 guide names an outside party by its trunk alone."""
    ext = ExtMember(number="1002", channelid="PJSIP/1002-00000003")
    outside = TrunkMember(
        direction="outbound",
        from_number="1000",
        to_number="41000",
        trunkname="Apple_test",
        channelid="PJSIP/trunk-Apple_test-endpoint-00000004",
    )
    assert render(
        PlayPromptEnd(callid="1495780325.384", members=(ext,), prompt="appletest"),
        None,
        "",
    ) == [
        b'{"action":"PlayPromptEnd","callid":"1495780325.384","ext":{"extid":"1002"},"prompt":"appletest"}'
    ]
    assert render(
        PlayPromptEnd(callid="1505352996.281", members=(outside,), prompt="appletest"),
        None,
        "",
    ) == [
        (
            b'{"action":"PlayPromptEnd","callid":"1505352996.281",'
            b'"outbound":{"trunkname":"Apple_test"},"prompt":"appletest"}'
        )
    ]
    [v2] = render(PlayPromptEnd(callid="1.1", members=(ext,), prompt="a"), "2.0.0", "9")
    assert json.loads(v2)["members"] == [
        {"ext": {"number": "1002", "channelid": "PJSIP/1002-00000003"}}
    ]
