"""Semantic event reports and their bodies in the PBX's three report formats.

A report is described once (who is in the call, in which state) and rendered per session:
``"2.0.0"`` (key ``event``), ``"1.0.2"`` (key ``action``, parties in a ``call`` array) or
the old v1.0.0 format (``None``: parties as repeated top-level keys, no ``sn``).

Key orders, spellings and which fields appear follow the documents' examples: the
2017 guide for v1 (``desttrunkname``, ``NO ANSWER``, ``Tranfer``), the v2.0.0 pages
for v2 (``dsttrcunkname``, ``NO ANSWERED``, ``callid`` before ``event`` in CallFailed).
"""

from collections.abc import Iterable
from dataclasses import dataclass
import json
from typing import Any, Literal

type ReportFormat = Literal["1.0.2", "2.0.0"]
type Json = dict[str, Any]
type _Pairs = list[tuple[str, object]]
type _Party = tuple[str, dict[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtMember:
    """An extension taking part in a call.

    ``callpath`` (the IVR, queue, ring group, paging group or conference the call came
    through) is None for a direct call: the PBX then leaves the key out.
    """

    number: str
    memberstatus: str = ""
    channelid: str = ""
    callpath: str | None = None

    @property
    def key(self) -> str:
        """Return what tells this leg from the call's others: its channel."""
        return self.channelid or f"ext:{self.number}"

    def v1(self) -> _Party:
        """Return the v1 party (key and object)."""
        return "ext", {"extid": self.number}

    def v2(self, *, status: bool = True, callpath: bool = True) -> Json:
        """Return the v2 member; CallFailed and Tranfer members carry no status or path."""
        info = {"number": self.number, "channelid": self.channelid}
        if status:
            info["memberstatus"] = self.memberstatus
        if callpath and self.callpath is not None:
            info["callpath"] = self.callpath
        return {"ext": info}


@dataclass(frozen=True, slots=True, kw_only=True)
class TrunkMember:
    """The far end of a call on a trunk: ``inbound`` or ``outbound``.

    ``channelid`` is the v2 channel (``PJSIP/trunk-<name>-endpoint-<8 hex>``),
    ``leg_id`` the call-id-like v1 ``inboundid``/``outboundid`` (``1495707950.331``).
    """

    direction: Literal["inbound", "outbound"]
    from_number: str
    to_number: str
    trunkname: str
    memberstatus: str = ""
    channelid: str = ""
    leg_id: str = ""

    @property
    def key(self) -> str:
        """Return what tells this leg from the call's others: its channel."""
        return self.channelid or self.direction

    @property
    def number(self) -> str:
        """Return the outside party's number."""
        return self.from_number if self.direction == "inbound" else self.to_number

    def v1(self) -> _Party:
        """Return the v1 party (key and object)."""
        return self.direction, {
            "from": self.from_number,
            "to": self.to_number,
            "trunk": self.trunkname,
            f"{self.direction}id": self.leg_id,
        }

    def v2(self, *, status: bool = True, callpath: bool = True) -> Json:
        """Return the v2 member (trunk members never carry a call path)."""
        info = {
            "from": self.from_number,
            "to": self.to_number,
            "trunkname": self.trunkname,
            "channelid": self.channelid,
        }
        if status:
            info["memberstatus"] = self.memberstatus
        return {self.direction: info}


type Member = ExtMember | TrunkMember
# A call's step: v2 reports each member's status, v1 names the step's reports.
type CallAction = Literal["RING", "ANSWER", "HOLD", "RESUME", "BYE"]


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
    """A call took a step; ``members`` lists its parties in their new states.

    The caller comes first, except for BYE, which lists first whoever hung up. v2
    sends one CallStatus per step; v1 sends the step's reports: RING gives ALERT (the
    caller) and one RING per ringing callee (callee, then caller); ANSWER gives ANSWER
    (callee first) and ANSWERED (caller first); BYE gives two BYE reports naming every
    party (one when a single leg leaves). A one-member RING or ANSWER is the PBX
    ringing a phone itself (a dial's first leg): v1 names just that phone. HOLD and
    RESUME have no v1 report (the documents show none).
    """

    callid: str
    action: CallAction
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFailed:
    """A call could not be set up."""

    callid: str
    members: tuple[Member, ...]
    reason: str = "486 Busy Here"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCdr:
    """A call record, written when a call ends (field names follow the PBX).

    ``status`` is the v1 spelling (``NO ANSWER``); v2 writes ``NO ANSWERED``.
    """

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
    pincode: str = ""
    recording: str = ""
    didnumber: str = ""
    agentringtime: str = "0"


@dataclass(frozen=True, slots=True, kw_only=True)
class Invite:
    """An inbound call waits for the application to accept or refuse it (about 10 s)."""

    callid: str
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Incoming:
    """An inbound call that waited for the application was accepted and goes on."""

    callid: str
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTransfer:
    """An extension transferred its call on the phone (``Tranfer``, sic).

    ``members`` is in call order (as v2 lists it); ``by`` is the extension that
    transferred, which v1 names first.
    """

    callid: str
    members: tuple[Member, ...]
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayPromptEnd:
    """A prompt the API asked for finished playing."""

    callid: str
    members: tuple[Member, ...]
    prompt: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigChange:
    """The PBX applied a configuration change: an extension updated, a trunk added or deleted.

    ``type`` is ``extension`` (named in ``extid``, in both formats) or ``trunk`` (named in
    ``trunkname``); ``operation`` ``update``, ``add`` or ``del`` as the documents spell them.
    """

    type: Literal["extension", "trunk"]
    name: str
    operation: Literal["add", "update", "del"]

    def pairs(self) -> _Pairs:
        """Return the fields after the name, in the documents' order."""
        key = "extid" if self.type == "extension" else "trunkname"
        return [("type", self.type), (key, self.name), ("operation", self.operation)]


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsSent:
    """What became of a text message the API handed to a GSM trunk (``sms-send``)."""

    smsid: str
    sent: bool


type Report = (
    BootUp
    | ConfigChange
    | ExtensionStatus
    | CallStatus
    | CallFailed
    | NewCdr
    | Invite
    | Incoming
    | CallTransfer
    | PlayPromptEnd
    | SmsSent
)

# v2 spells some failure reasons its own way.
_V2_REASONS = {"486 Busy Here": "486 Busy here"}
_V2_CDR_STATUS = {"NO ANSWER": "NO ANSWERED"}


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


def _members(members: Iterable[Member], **detail: bool) -> list[Json]:
    """Return v2 members."""
    return [member.v2(**detail) for member in members]


def _v2_bodies(report: Report) -> list[_Pairs]:
    """Build the v2.0.0 (``event``) bodies."""
    match report:
        case BootUp():
            return [[("event", "BootUp")]]
        case ConfigChange():
            return [[("event", "ConfigChange"), *report.pairs()]]
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
                    ("members", _members(members)),
                ]
            ]
        case CallFailed(callid=callid, members=members, reason=reason):
            return [
                [
                    ("callid", callid),
                    ("event", "CallFailed"),
                    ("reason", _V2_REASONS.get(reason, reason)),
                    ("members", _members(members, status=False, callpath=False)),
                ]
            ]
        case NewCdr():
            return [[("event", "NewCdr"), *_v2_cdr_pairs(report)]]
        case (
            Invite(callid=callid, members=members)
            | Incoming(callid=callid, members=members)
        ):
            return [
                [
                    ("event", type(report).__name__),
                    ("callid", callid),
                    ("members", _members(members, status=False)),
                ]
            ]
        case CallTransfer(callid=callid, members=members):
            return [
                [
                    ("event", "Tranfer"),
                    ("callid", callid),
                    ("members", _members(members, status=False, callpath=False)),
                ]
            ]
        case PlayPromptEnd(callid=callid, members=members, prompt=prompt):
            return [
                [
                    ("event", "PlayPromptEnd"),
                    ("callid", callid),
                    ("members", _members(members, status=False)),
                    ("prompt", prompt),
                ]
            ]
        case SmsSent(smsid=smsid, sent=sent):
            return [
                [
                    ("event", "sms-send"),
                    ("status", "Success" if sent else "Failed"),
                    ("smsid", smsid),
                ]
            ]


def _v1_bodies(report: Report, *, old: bool) -> list[_Pairs]:
    """Build the v1 (``action``) bodies; ``old`` repeats party keys instead of a ``call`` array."""
    match report:
        case BootUp():
            return [[("action", "BootUp")]]
        case ConfigChange():
            return [[("action", "ConfigChange"), *report.pairs()]]
        case ExtensionStatus(extension, status):
            return [
                [
                    ("action", "ExtensionStatus"),
                    ("extension", extension),
                    ("status", status),
                ]
            ]
        case CallStatus(callid=callid):
            return [
                [
                    ("action", action),
                    ("callid", callid),
                    *_v1_parties((party.v1() for party in parties), old=old),
                ]
                for action, parties in _v1_call_steps(report)
            ]
        case CallFailed(callid=callid, members=members, reason=reason):
            # The examples put the parties at the top level in both v1 formats.
            return [
                [
                    ("action", "CallFailed"),
                    ("reason", reason),
                    ("callid", callid),
                    *(member.v1() for member in members),
                ]
            ]
        case NewCdr():
            return [[("action", "NewCdr"), *_v1_cdr_pairs(report)]]
        case (
            Invite(callid=callid, members=members)
            | Incoming(callid=callid, members=members)
        ):
            return [
                [
                    ("action", type(report).__name__),
                    ("callid", callid),
                    *_v1_parties((member.v1() for member in members), old=old),
                ]
            ]
        case CallTransfer(callid=callid, members=members, by=by):
            first = [m for m in members if isinstance(m, ExtMember) and m.number == by]
            rest = [member for member in members if member not in first]
            return [
                [
                    ("action", "Tranfer"),
                    ("callid", callid),
                    *_v1_parties((m.v1() for m in (*first, *rest)), old=old),
                ]
            ]
        case PlayPromptEnd(callid=callid, members=members, prompt=prompt):
            return [
                [
                    ("action", "PlayPromptEnd"),
                    ("callid", callid),
                    *_v1_parties((_prompt_party(m) for m in members), old=old),
                    ("prompt", prompt),
                ]
            ]
        case SmsSent(smsid=smsid, sent=sent):
            # v1 spells success "Succeed".
            return [
                [
                    ("action", "sms-send"),
                    ("status", "Succeed" if sent else "Failed"),
                    ("smsid", smsid),
                ]
            ]


def _v1_call_steps(report: CallStatus) -> list[tuple[str, tuple[Member, ...]]]:
    """Return the v1 reports of a call step: (action, parties in order)."""
    members = report.members
    if report.action in ("HOLD", "RESUME"):
        return []
    if report.action == "BYE":
        return [("BYE", members)] * min(len(members), 2)
    caller, *others = members
    if not others:  # the PBX rings (or hears) a phone of its own accord
        return [(report.action, (caller,))]
    if report.action == "RING":
        return [("ALERT", (caller,))] + [
            ("RING", (callee, caller))
            for callee in others
            if callee.memberstatus == "RING"
        ]
    answerer = next(m for m in others if m.memberstatus == "ANSWER")
    withdrawn = [m for m in others if m.memberstatus == "BYE"]
    return [
        ("ANSWER", (answerer, caller)),
        ("ANSWERED", (caller, answerer)),
        *(("BYE", (member,)) for member in withdrawn),
    ]


def _prompt_party(member: Member) -> _Party:
    """Return a PlayPromptEnd party: an outside one is named by its trunk alone."""
    if isinstance(member, TrunkMember):
        return member.direction, {"trunkname": member.trunkname}
    return member.v1()


def _v1_parties(parties: Iterable[_Party], *, old: bool) -> _Pairs:
    """Place v1 parties: repeated top-level keys (old) or a ``call`` array (1.0.2)."""
    if old:
        return list(parties)
    return [("call", [{key: party} for key, party in parties])]


def _v2_cdr_pairs(cdr: NewCdr) -> _Pairs:
    """Return the v2 call record fields in the documents' order (``dsttrcunkname`` sic)."""
    return [
        ("callid", cdr.callid),
        ("timestart", cdr.timestart),
        ("callfrom", cdr.callfrom),
        ("callto", cdr.callto),
        ("callduraction", cdr.callduraction),
        ("talkduraction", cdr.talkduraction),
        ("srctrunkname", cdr.srctrunkname),
        ("dsttrcunkname", cdr.dsttrunkname),
        ("pincode", cdr.pincode),
        ("status", _V2_CDR_STATUS.get(cdr.status, cdr.status)),
        ("type", cdr.type),
        ("recording", cdr.recording),
        ("didnumber", cdr.didnumber),
        ("agentringtime", cdr.agentringtime),
    ]


def _v1_cdr_pairs(cdr: NewCdr) -> _Pairs:
    """Return the v1 call record fields as the 2017 guide's examples have them.

    Only the trunk name that applies (``srctrunkname`` for inbound calls, else
    ``desttrunkname``, empty for internal ones); ``pincode`` and ``recording`` only
    when set; no ``didnumber``.
    """
    trunk = (
        ("srctrunkname", cdr.srctrunkname)
        if cdr.type == "Inbound"
        else ("desttrunkname", cdr.dsttrunkname)
    )
    optional = [
        (k, v) for k, v in (("pincode", cdr.pincode), ("recording", cdr.recording)) if v
    ]
    return [
        ("callid", cdr.callid),
        ("timestart", cdr.timestart),
        ("callfrom", cdr.callfrom),
        ("callto", cdr.callto),
        trunk,
        ("callduraction", cdr.callduraction),
        ("talkduraction", cdr.talkduraction),
        ("status", cdr.status),
        ("type", cdr.type),
        *optional,
    ]


def _encode(pairs: _Pairs) -> bytes:
    """Write the JSON text by hand: the old format repeats keys, which a dict cannot hold."""
    items = ",".join(
        f"{json.dumps(key)}:{json.dumps(value, separators=(',', ':'), ensure_ascii=False)}"
        for key, value in pairs
    )
    return f"{{{items}}}".encode()
