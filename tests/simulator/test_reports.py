"""Report bodies: the documents' own example payloads come out byte for byte."""

import json

from simulator import (
    BootUp,
    CallFailed,
    CallStatus,
    ExtensionStatus,
    ExtMember,
    NewCdr,
    TrunkMember,
    render,
)

RING_1_0_2 = CallStatus(
    callid="1550710849.199",
    action="RING",
    members=(
        ExtMember(number="1002", memberstatus="ALERT"),
        ExtMember(number="1001", memberstatus="RING"),
    ),
)
CDR = NewCdr(
    callid="1571897930.5",
    timestart="2019-10-24 14:19:23",
    callfrom="0123",
    callto="1001",
    callduraction="35",
    talkduraction="30",
    status="ANSWERED",
    type="Inbound",
    srctrunkname="siptrunk",
    cdrid="7",
)


def test_v1_0_2_example() -> None:
    """The v1.1.0 guide's RING report."""
    assert render(RING_1_0_2, "1.0.2", "369351034049") == [
        (
            b'{"action":"RING","callid":"1550710849.199","call":[{"ext":{"extid":"1002"}},'
            b'{"ext":{"extid":"1001"}}],"sn":"369351034049"}'
        )
    ]


def test_v2_example() -> None:
    """The v2 guide's CallStatus report."""
    report = CallStatus(
        callid="1571897930.5",
        action="RING",
        members=(
            TrunkMember(
                direction="inbound",
                from_number="0123",
                to_number="1001",
                trunkname="siptrunk",
                memberstatus="RING",
                channelid="PJSIP/trunk-0001",
            ),
            ExtMember(number="1001", memberstatus="RING", channelid="PJSIP/1001-0002"),
        ),
    )
    assert render(report, "2.0.0", "369451090405") == [
        (
            b'{"event":"CallStatus","callid":"1571897930.5","members":[{"inbound":{"from":"0123",'
            b'"to":"1001","trunkname":"siptrunk","channelid":"PJSIP/trunk-0001","memberstatus":"RING"}},'
            b'{"ext":{"number":"1001","channelid":"PJSIP/1001-0002","memberstatus":"RING","callpath":""}}],'
            b'"sn":"369451090405"}'
        )
    ]


def test_old_format_repeats_keys() -> None:
    """The v1.0.0 format repeats party keys at the top level and has no serial."""
    report = CallStatus(
        callid="1495706238.328",
        action="RING",
        members=(
            ExtMember(number="1000", memberstatus="ALERT"),
            ExtMember(number="1002", memberstatus="RING"),
        ),
    )
    [body] = render(report, None, "369364835218")
    assert body == (
        b'{"action":"RING","callid":"1495706238.328","ext":{"extid":"1000"},"ext":{"extid":"1002"}}'
    )
    pairs = json.loads(body, object_pairs_hook=list)
    assert [key for key, _ in pairs] == ["action", "callid", "ext", "ext"]


def test_bye_is_one_report_per_party_in_v1() -> None:
    """v1 sends two BYE reports per call; v2 one CallStatus."""
    bye = CallStatus(
        callid="1.2",
        action="BYE",
        members=(
            ExtMember(number="1000", memberstatus="BYE"),
            TrunkMember(
                direction="outbound",
                from_number="1000",
                to_number="41000",
                trunkname="SIP-142",
                memberstatus="BYE",
                channelid="PJSIP/SIP-142-1",
            ),
        ),
    )
    assert [json.loads(b) for b in render(bye, "1.0.2", "9")] == [
        {
            "action": "BYE",
            "callid": "1.2",
            "call": [{"ext": {"extid": "1000"}}],
            "sn": "9",
        },
        {
            "action": "BYE",
            "callid": "1.2",
            "call": [
                {
                    "outbound": {
                        "from": "1000",
                        "to": "41000",
                        "trunk": "SIP-142",
                        "outboundid": "PJSIP/SIP-142-1",
                    }
                }
            ],
            "sn": "9",
        },
    ]
    assert len(render(bye, None, "9")) == 2
    assert len(render(bye, "2.0.0", "9")) == 1


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
    assert render(BootUp(), "1.0.2", "1") == [b'{"action":"BootUp","sn":"1"}']
    assert render(BootUp(), "2.0.0", "1") == [b'{"event":"BootUp","sn":"1"}']
    assert render(BootUp(), None, "1") == [b'{"action":"BootUp"}']


def test_call_failed() -> None:
    """v1 puts the parties at the top level; v2 lists members."""
    failed = CallFailed(
        callid="3.4",
        members=(
            ExtMember(number="1002", memberstatus="BYE"),
            TrunkMember(
                direction="outbound",
                from_number="1002",
                to_number="41000",
                trunkname="SIP-142",
                memberstatus="BYE",
            ),
        ),
    )
    [v1] = render(failed, "1.0.2", "9")
    assert json.loads(v1) == {
        "action": "CallFailed",
        "callid": "3.4",
        "ext": {"extid": "1002"},
        "outbound": {
            "from": "1002",
            "to": "41000",
            "trunk": "SIP-142",
            "outboundid": "",
        },
        "reason": "486 Busy Here",
        "sn": "9",
    }
    [v2] = render(failed, "2.0.0", "9")
    assert list(json.loads(v2)) == ["event", "callid", "members", "reason", "sn"]


def test_new_cdr() -> None:
    """The call record keeps the PBX's misspellings, per format."""
    [v2] = render(CDR, "2.0.0", "9")
    assert list(json.loads(v2)) == [
        "event", "callid", "timestart", "callfrom", "callto", "callduraction",
        "talkduraction", "srctrunkname", "dsttrcunkname", "status", "type",
        "recording", "didnumber", "sn",
    ]  # fmt: skip
    [v1] = render(CDR, None, "9")
    cdr = json.loads(v1)
    assert cdr["action"] == "NewCdr"
    assert cdr["desttrunkname"] == ""
    assert cdr["cdrid"] == "7"
    assert "sn" not in cdr
