"""Event report parsing: the documents' examples, the three formats, and hostile input."""

import json
from typing import Any

import pytest

from custom_components.yeastar_s_series.api import (
    Party,
    Report,
    ReportFormat,
    ReportParseError,
    parse_report,
)
from custom_components.yeastar_s_series.api.reports import MAX_DEPTH

# Example of the v2.0.0 guide (and of docs/yeastar-s-series-api.md).
V2_CALL_STATUS = (
    b'{"event":"CallStatus","callid":"1571897930.5","members":['
    b'{"inbound":{"from":"0123","to":"1001","trunkname":"siptrunk",'
    b'"channelid":"PJSIP/trunk-0001","memberstatus":"RING"}},'
    b'{"ext":{"number":"1001","channelid":"PJSIP/1001-0002","memberstatus":"RING","callpath":""}}],'
    b'"sn":"369451090405"}'
)
# Example of the v1.1.0 guide: format 1.0.2 with a `call` array.
V102_RING = (
    b'{"action":"RING","callid":"1550710849.199",'
    b'"call":[{"ext":{"extid":"1002"}},{"ext":{"extid":"1001"}}],"sn":"369351034049"}'
)
# Example of the v1.0.x guide: the old format, parties as repeated keys.
V100_RING = b'{"action":"RING","callid":"1495706238.328","ext":{"extid":"1000"},"ext":{"extid":"1002"}}'
V100_RING_OUTBOUND = (
    b'{"action":"RING","callid":"1495771030.365","outbound":{"from":"1002","to":"42003",'
    b'"trunk":"sip-142","outboundid":"1495771030.366"},"ext":{"extid":"1002"}}'
)


def test_v2_call_status_example() -> None:
    """The v2 example: name from `event`, both members in order with number and status."""
    report = parse_report(V2_CALL_STATUS)

    assert report.name == "CallStatus"
    assert report.format is ReportFormat.V2_0_0
    assert report.call_id == "1571897930.5"
    assert report.serial == "369451090405"
    assert [(p.kind, p.number, p.status) for p in report.parties] == [
        ("inbound", "0123", "RING"),
        ("ext", "1001", "RING"),
    ]
    assert report.parties[0].fields["trunkname"] == "siptrunk"
    assert report.parties[1].fields["channelid"] == "PJSIP/1001-0002"


def test_v102_ring_example() -> None:
    """The 1.0.2 example: name from `action`, parties from the `call` array, in order."""
    report = parse_report(V102_RING)

    assert report.name == "RING"
    assert report.format is ReportFormat.V1_0_2
    assert report.call_id == "1550710849.199"
    assert report.serial == "369351034049"
    assert [(p.kind, p.number, p.status) for p in report.parties] == [
        ("ext", "1002", None),
        ("ext", "1001", None),
    ]


def test_old_format_keeps_both_repeated_parties_in_order() -> None:
    """Plain JSON parsing would keep only the last `ext`; the parser keeps both, caller first."""
    report = parse_report(V100_RING)

    assert report.name == "RING"
    assert report.format is ReportFormat.V1_0_0
    assert report.call_id == "1495706238.328"
    assert report.serial is None
    assert [(p.kind, p.number) for p in report.parties] == [
        ("ext", "1000"),
        ("ext", "1002"),
    ]
    assert "ext" not in report.fields


def test_old_format_outbound_then_extension() -> None:
    """Mixed kinds keep their order too; a trunk leg's number is its `from`."""
    report = parse_report(V100_RING_OUTBOUND)

    assert [(p.kind, p.number) for p in report.parties] == [
        ("outbound", "1002"),
        ("ext", "1002"),
    ]
    assert report.parties[0].fields == {
        "from": "1002",
        "to": "42003",
        "trunk": "sip-142",
        "outboundid": "1495771030.366",
    }


@pytest.mark.parametrize(
    ("payload", "name", "expected_fields"),
    [
        (
            {
                "action": "ExtensionStatus",
                "extension": "1006",
                "status": "Registered",
                "sn": "369351034049",
            },
            "ExtensionStatus",
            {"extension": "1006", "status": "Registered"},
        ),
        (
            {"action": "BootUp", "sn": "369351034049"},
            "BootUp",
            {"sn": "369351034049"},
        ),
        (
            {
                "action": "NewCdr",
                "callid": "1505352445.265",
                "timestart": "2017-09-14 09:27:25",
                "callfrom": "102",
                "callto": "1000",
                "srctrunkname": "Apple_test",
                "callduraction": "38",
                "talkduraction": "29",
                "status": "ANSWERED",
                "type": "Inbound",
                "recording": "20170914092747-1505352445.265-102-1000-Inbound.wav",
                "didnumber": "",
                "cdrid": "7",
                "sn": "369351034049",
            },
            "NewCdr",
            {"callfrom": "102", "callduraction": "38", "status": "ANSWERED"},
        ),
    ],
    ids=["ExtensionStatus", "BootUp", "NewCdr"],
)
def test_v102_reports_without_parties(
    payload: dict[str, Any], name: str, expected_fields: dict[str, str]
) -> None:
    """Status, boot and CDR reports keep every field and have no parties."""
    report = parse_report(json.dumps(payload).encode())

    assert report.name == name
    assert report.format is ReportFormat.V1_0_2
    assert report.serial == "369351034049"
    assert report.parties == ()
    assert expected_fields.items() <= report.fields.items()
    assert report.fields == payload


def test_config_change_example() -> None:
    """The document's ConfigChange example has neither `sn` nor `call`: still a v1 report."""
    report = parse_report(
        '{"action":"ConfigChange","type":"trunk","trunkname":"SIP-142","operation":"del"}'
    )

    assert report.name == "ConfigChange"
    assert report.format is not ReportFormat.V2_0_0
    assert report.fields["trunkname"] == "SIP-142"
    assert report.fields["operation"] == "del"
    assert report.call_id is None
    assert report.serial is None


def test_v102_call_failed_with_top_level_parties() -> None:
    """CallFailed has `outbound`/`ext` objects at the top level and no `call` array."""
    report = parse_report(
        b'{"action":"CallFailed","reason":"486 Busy Here","callid":"1505294245.162",'
        b'"outbound":{"from":"1002","to":"41000","trunk":"SIP-142","outboundid":"1505294245.163"},'
        b'"ext":{"extid":"1002"},"sn":"369351034049"}'
    )

    assert report.name == "CallFailed"
    assert report.format is ReportFormat.V1_0_2
    assert report.fields["reason"] == "486 Busy Here"
    assert [(p.kind, p.number) for p in report.parties] == [
        ("outbound", "1002"),
        ("ext", "1002"),
    ]


def test_v102_invite_and_dtmf_carry_the_inbound_leg() -> None:
    """Invite and DTMF reports name the trunk leg the application must act on."""
    invite = parse_report(
        b'{"action":"Invite","callid":"1505193218.96","inbound":{"from":"13800000000",'
        b'"to":"5503301","trunk":"SIP-142","inboundid":"1505193218.97"},"sn":"369351034049"}'
    )
    dtmf = parse_report(
        b'{"action":"DTMF","callid":"1495705009.315","outbound":{"from":"1002","to":"41000",'
        b'"trunk":"SIP-142","outboundid":"1495705009.316"},"info":"2","flag":"0","infos":"2",'
        b'"sn":"369351034049"}'
    )

    assert invite.name == "Invite"
    assert invite.format is ReportFormat.V1_0_2
    (leg,) = invite.parties
    assert (leg.kind, leg.number, leg.fields["inboundid"]) == (
        "inbound",
        "13800000000",
        "1505193218.97",
    )
    assert dtmf.name == "DTMF"
    assert dtmf.fields["info"] == "2"
    assert [p.kind for p in dtmf.parties] == ["outbound"]


def test_v1_call_failed_with_extension_list() -> None:
    """A v1.1.0 guide example: `reason` is a number and `extid` a list of extensions."""
    report = parse_report(
        b'{"action":"CallFailed","reason":480,"callid":"1589958470.2092",'
        b'"ext":{"extid":["102","106"]},"sn":"a09805021987"}'
    )

    assert report.fields["reason"] == 480
    (party,) = report.parties
    assert party.fields["extid"] == ["102", "106"]
    assert party.number is None


def test_v2_extension_status_and_cdr() -> None:
    """v2 reports without members keep their own spellings (`registeredIP`, `dsttrcunkname`)."""
    status = parse_report(
        b'{"event":"ExtensionStatus","extension":"1001","status":"Registered",'
        b'"registeredIP":"192.168.5.20","sn":"369451090405"}'
    )
    cdr = parse_report(
        b'{"event":"NewCdr","callid":"1571897930.5","callfrom":"0123","callto":"1001",'
        b'"dsttrcunkname":"","status":"NO ANSWER","type":"Inbound","sn":"369451090405"}'
    )

    assert (status.name, status.format, status.parties) == (
        "ExtensionStatus",
        ReportFormat.V2_0_0,
        (),
    )
    assert status.fields["registeredIP"] == "192.168.5.20"
    assert cdr.fields["dsttrcunkname"] == ""
    assert cdr.fields["status"] == "NO ANSWER"
    assert cdr.call_id == "1571897930.5"


def test_text_body_is_accepted() -> None:
    """A body already decoded to `str` parses like its bytes."""
    assert parse_report(V2_CALL_STATUS.decode()) == parse_report(V2_CALL_STATUS)


def test_party_as_dict() -> None:
    """Event data for Home Assistant: raw fields plus type, number, trunk and status."""
    report = parse_report(V2_CALL_STATUS)

    assert report.parties[1].as_dict() == {
        "number": "1001",
        "channelid": "PJSIP/1001-0002",
        "memberstatus": "RING",
        "callpath": "",
        "type": "ext",
        "trunk": None,
        "status": "RING",
    }
    assert Party("inbound", {"from": "0123", "memberstatus": 3}).as_dict() == {
        "from": "0123",
        "memberstatus": 3,
        "type": "inbound",
        "number": "0123",
        "trunk": None,
        "status": None,
    }
    # A leg that names only its trunk.
    assert Party("outbound", {"trunkname": "SIP-142"}).as_dict()["trunk"] == "SIP-142"


@pytest.mark.parametrize(
    ("fields", "number"),
    [
        ({"extid": "1000"}, "1000"),
        ({"number": "1001"}, "1001"),
        ({"from": "0123", "to": "1001"}, "0123"),
        ({"extid": "", "from": "0123"}, "0123"),
        ({"extid": 1000}, None),
        ({}, None),
    ],
)
def test_party_number(fields: dict[str, Any], number: str | None) -> None:
    """The number is the first non-empty string among extid, number and from."""
    assert Party("ext", fields).number == number


def test_report_properties_ignore_non_string_values() -> None:
    """call_id and serial are None when absent, never a non-string."""
    report = Report(name="X", format=ReportFormat.V2_0_0, fields={"callid": 5})

    assert report.call_id is None
    assert report.serial is None
    assert report.parties == ()


BAD_REPORTS: dict[str, bytes | str] = {
    "not UTF-8": b'{"event":"\xff\xfe"}',
    "not JSON": b"{event: CallStatus}",
    "empty": b"",
    "truncated": V2_CALL_STATUS[:-1],
    "UTF-8 BOM": b"\xef\xbb\xbf" + V102_RING,
    "huge integer": b'{"event":"X","n":' + b"9" * 5000 + b"}",
    "array": b'[{"event":"CallStatus"}]',
    "number": b"42",
    "string": b'"CallStatus"',
    "null": b"null",
    "no name": b'{"callid":"1.2","sn":"1"}',
    "event is a number": b'{"event":5}',
    "action is null": b'{"action":null}',
    "event is a list": b'{"event":["CallStatus"]}',
    "action is an object": b'{"action":{"name":"RING"}}',
    "empty event": b'{"event":""}',
    "empty action": b'{"action":""}',
    "numeric callid": b'{"event":"CallStatus","callid":1571897930.5}',
    "numeric sn": b'{"action":"BootUp","sn":369351034049}',
    "members not a list": b'{"event":"CallStatus","members":{"ext":{"number":"1001"}}}',
    "call is a string": b'{"action":"RING","call":"1001"}',
    "member is a string": b'{"event":"CallStatus","members":["1001"]}',
    "member has no kind": b'{"event":"CallStatus","members":[{}]}',
    "member has two kinds": b'{"event":"CallStatus","members":[{"ext":{},"inbound":{}}]}',
    "member party is a string": b'{"event":"CallStatus","members":[{"ext":"1001"}]}',
    "top-level party is a list": b'{"action":"RING","ext":["1000"]}',
    "top-level party is null": b'{"action":"RING","ext":null}',
    "deep array": b"[" * 100_000,
    "deep closed array": b"[" * 100_000 + b"]" * 100_000,
    "deep field": b'{"event":"X","data":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "deep object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "deep text": '{"action":"RING","ext":' + '{"a":' * 100_000 + "1" + "}" * 100_001,
}


@pytest.mark.parametrize("body", BAD_REPORTS.values(), ids=BAD_REPORTS.keys())
def test_bad_reports_raise_report_parse_error(body: bytes | str) -> None:
    """Whatever arrives at the webhook, a bad body raises ReportParseError and nothing else."""
    with pytest.raises(ReportParseError):
        parse_report(body)


@pytest.mark.parametrize(("depth", "accepted"), [(10, True), (MAX_DEPTH + 1, False)])
def test_nesting_limit(depth: int, accepted: bool) -> None:
    """Reports nest a few levels; far deeper ones are refused before they reach the bus.

    (The fuzz suite tries every depth up to thousands, and arbitrary input.)
    """
    nested = "[" * depth + "]" * depth
    body = f'{{"event": "CallStatus", "callid": "1.1", "extra": {nested}}}'
    if accepted:
        assert parse_report(body).name == "CallStatus"
    else:
        with pytest.raises(ReportParseError, match="nested too deeply"):
            parse_report(body)
