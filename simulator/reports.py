"""Semantic event reports and their bodies in the PBX's three report formats.

A report is described once (who is in the call, in which state) and rendered per session:
``"2.0.0"`` (key ``event``), ``"1.0.2"`` (key ``action``, parties in a ``call`` array) or
the old v1.0.0 format (``None``: parties as repeated top-level keys, no ``sn``).
"""

from dataclasses import dataclass
import json
from typing import Literal

type ReportFormat = Literal["1.0.2", "2.0.0"]
type _Pairs = list[tuple[str, object]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtMember:
    """An extension taking part in a call."""

    number: str
    memberstatus: str
    channelid: str = ""
    callpath: str = ""

    def v1(self) -> tuple[str, dict[str, str]]:
        """Return the v1 party (key and object)."""
        return "ext", {"extid": self.number}

    def v2(self) -> dict[str, dict[str, str]]:
        """Return the v2 member."""
        return {
            "ext": {
                "number": self.number,
                "channelid": self.channelid,
                "memberstatus": self.memberstatus,
                "callpath": self.callpath,
            }
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TrunkMember:
    """The far end of a call on a trunk: ``inbound`` or ``outbound``."""

    direction: Literal["inbound", "outbound"]
    from_number: str
    to_number: str
    trunkname: str
    memberstatus: str
    channelid: str = ""

    def v1(self) -> tuple[str, dict[str, str]]:
        """Return the v1 party; its ``inboundid``/``outboundid`` is the channel."""
        return self.direction, {
            "from": self.from_number,
            "to": self.to_number,
            "trunk": self.trunkname,
            f"{self.direction}id": self.channelid,
        }

    def v2(self) -> dict[str, dict[str, str]]:
        """Return the v2 member."""
        return {
            self.direction: {
                "from": self.from_number,
                "to": self.to_number,
                "trunkname": self.trunkname,
                "channelid": self.channelid,
                "memberstatus": self.memberstatus,
            }
        }


type Member = ExtMember | TrunkMember


@dataclass(frozen=True, slots=True)
class BootUp:
    """The PBX finished booting."""


@dataclass(frozen=True, slots=True)
class ExtensionStatus:
    """An extension changed state (Registered, Ringing, Busy, Idle, Unregistered...)."""

    extension: str
    status: str
    registered_ip: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStatus:
    """A call changed state.

    ``action`` is the v1 report name (ALERT, RING, ANSWER, ANSWERED, BYE); v2 reports the
    state per member instead. A v1 ``BYE`` becomes one report per member.
    """

    callid: str
    action: str
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFailed:
    """A call could not be set up."""

    callid: str
    members: tuple[Member, ...]
    reason: str = "486 Busy Here"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCdr:
    """A call record, written when a call ends (field names follow the PBX)."""

    callid: str
    timestart: str
    callfrom: str
    callto: str
    callduraction: str
    talkduraction: str
    status: str
    type: str
    srctrunkname: str = ""
    dsttrunkname: str = ""
    recording: str = ""
    didnumber: str = ""
    cdrid: str = ""


type Report = BootUp | ExtensionStatus | CallStatus | CallFailed | NewCdr


def render(
    report: Report, report_format: ReportFormat | None, serial: str
) -> list[bytes]:
    """Return the bodies the PBX posts for one report in one session's format."""
    if report_format == "2.0.0":
        bodies = _v2_bodies(report)
    else:
        bodies = _v1_bodies(report, old=report_format is None)
    serial_pairs: _Pairs = [] if report_format is None else [("sn", serial)]
    return [_encode(pairs + serial_pairs) for pairs in bodies]


def _v2_bodies(report: Report) -> list[_Pairs]:
    """Build the v2.0.0 (``event``) bodies."""
    match report:
        case BootUp():
            return [[("event", "BootUp")]]
        case ExtensionStatus(extension, status, registered_ip):
            return [
                [
                    ("event", "ExtensionStatus"),
                    ("extension", extension),
                    ("status", status),
                    ("registeredIP", registered_ip),
                ]
            ]
        case CallStatus(callid=callid, members=members):
            return [
                [
                    ("event", "CallStatus"),
                    ("callid", callid),
                    ("members", [member.v2() for member in members]),
                ]
            ]
        case CallFailed(callid=callid, members=members, reason=reason):
            return [
                [
                    ("event", "CallFailed"),
                    ("callid", callid),
                    ("members", [member.v2() for member in members]),
                    ("reason", reason),
                ]
            ]
        case NewCdr():
            return [[("event", "NewCdr"), *_cdr_pairs(report, "dsttrcunkname")]]


def _v1_bodies(report: Report, *, old: bool) -> list[_Pairs]:
    """Build the v1 (``action``) bodies; ``old`` repeats party keys instead of a ``call`` array."""
    match report:
        case BootUp():
            return [[("action", "BootUp")]]
        case ExtensionStatus(extension, status):
            return [
                [
                    ("action", "ExtensionStatus"),
                    ("extension", extension),
                    ("status", status),
                ]
            ]
        case CallStatus(callid=callid, action=action, members=members):
            groups = [(member,) for member in members] if action == "BYE" else [members]
            return [
                [("action", action), ("callid", callid), *_v1_parties(group, old=old)]
                for group in groups
            ]
        case CallFailed(callid=callid, members=members, reason=reason):
            return [
                [
                    ("action", "CallFailed"),
                    ("callid", callid),
                    *(member.v1() for member in members),
                    ("reason", reason),
                ]
            ]
        case NewCdr():
            return [
                [
                    ("action", "NewCdr"),
                    *_cdr_pairs(report, "desttrunkname"),
                    ("cdrid", report.cdrid),
                ]
            ]


def _v1_parties(members: tuple[Member, ...], *, old: bool) -> _Pairs:
    """Place v1 parties: repeated top-level keys (old) or a ``call`` array (1.0.2)."""
    parties = [member.v1() for member in members]
    if old:
        return list(parties)
    return [("call", [{key: party} for key, party in parties])]


def _cdr_pairs(cdr: NewCdr, destination_key: str) -> _Pairs:
    """Return the call record fields shared by both formats, in the PBX's order."""
    return [
        ("callid", cdr.callid),
        ("timestart", cdr.timestart),
        ("callfrom", cdr.callfrom),
        ("callto", cdr.callto),
        ("callduraction", cdr.callduraction),
        ("talkduraction", cdr.talkduraction),
        ("srctrunkname", cdr.srctrunkname),
        (destination_key, cdr.dsttrunkname),
        ("status", cdr.status),
        ("type", cdr.type),
        ("recording", cdr.recording),
        ("didnumber", cdr.didnumber),
    ]


def _encode(pairs: _Pairs) -> bytes:
    """Write the JSON text by hand: the old format repeats keys, which a dict cannot hold."""
    items = ",".join(
        f"{json.dumps(key)}:{json.dumps(value, separators=(',', ':'), ensure_ascii=False)}"
        for key, value in pairs
    )
    return f"{{{items}}}".encode()
