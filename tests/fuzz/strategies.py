"""Hypothesis strategies: valid PBX reports in every format, and everything else.

A generated report is kept as its top-level key/value pairs, so that the old v1.0.0
format can repeat party keys, and so that a test can append a unique field before
encoding (the webhook drops a body it has just seen as a re-send).
"""

from dataclasses import dataclass
import json
from typing import Any

from hypothesis import strategies as st

from custom_components.yeastar_s_series.api import ReportFormat, ReportParseError
from custom_components.yeastar_s_series.api.reports import parse_report
from simulator import (
    CallFailed,
    CallStatus,
    ExtensionStatus,
    ExtMember,
    NewCdr,
    TrunkMember,
    render,
)
from tests.common import SERIAL

type Pairs = list[tuple[str, Any]]

OTHER_SERIAL = "369364835299"
# Keys a generated extra field must not use: they name the report, its parties,
# its call or its PBX, and change what the report is.
RESERVED_KEYS = frozenset(
    {"event", "action", "members", "call", "sn", "callid", "ext", "inbound", "outbound"}
)
# Reports that make the integration talk to the PBX (log in again, re-read the
# extension list) are covered by the session tests; fuzzing them would only add
# logins at the simulator.
ACTIVE_NAMES = frozenset({"BootUp", "ConfigChange", "ExtensionStatus"})
V2_NAMES = (
    "CallStatus",
    "NewCdr",
    "Tranfer",
    "Forward",
    "CallFailed",
    "Invite",
    "DTMF",
    "ConferenceStatus",
    "uacstacall",
)
V1_NAMES = (
    "RING",
    "ALERT",
    "ANSWER",
    "ANSWERED",
    "BYE",
    "Tranfer",
    "CallFailed",
    "Invite",
    "Incoming",
    "DTMF",
    "NewCdr",
)
MEMBER_STATUSES = ("ALERT", "RING", "ANSWERED", "ANSWER", "HOLD", "BYE")
REAL_FIELDS = (
    "reason",
    "info",
    "infos",
    "flag",
    "timestart",
    "callfrom",
    "callto",
    "callduraction",
    "talkduraction",
    "status",
    "type",
    "recording",
    "didnumber",
    "cdrid",
    "extension",
    "registeredIP",
)


@dataclass(frozen=True, slots=True)
class GeneratedReport:
    """A report the PBX could send, and what the integration must make of it."""

    pairs: Pairs
    name: str
    format: ReportFormat
    callid: str | None
    parties: int
    serial: str | None

    def with_field(self, key: str, value: Any) -> GeneratedReport:
        """Return the report with one more top-level field."""
        return GeneratedReport(
            [*self.pairs, (key, value)],
            self.name,
            self.format,
            self.callid,
            self.parties,
            self.serial,
        )

    def encode(self, *, ensure_ascii: bool = True) -> str:
        """Return the JSON text (repeated keys kept)."""
        return encode_pairs(self.pairs, ensure_ascii=ensure_ascii)


def encode_pairs(pairs: Pairs, *, ensure_ascii: bool = True) -> str:
    """Write a JSON object from pairs by hand: a dict cannot repeat keys."""
    items = ",".join(
        f"{json.dumps(key, ensure_ascii=ensure_ascii)}:"
        f"{json.dumps(value, ensure_ascii=ensure_ascii, separators=(',', ':'))}"
        for key, value in pairs
    )
    return f"{{{items}}}"


def accepted(body: bytes) -> bool:
    """Say whether the fuzzed entry (API v2.0.0) must accept a body: a v2 report of its PBX."""
    try:
        report = parse_report(body)
    except ReportParseError:
        return False
    return report.format is ReportFormat.V2_0_0 and report.serial == SERIAL


# Building blocks

# What JSON carries and Home Assistant can write out again: 64-bit integers, finite
# floats, valid Unicode (hypothesis draws no lone surrogates by default).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
# What json.loads reads but Home Assistant cannot write: lone surrogate escapes, NaN and
# the infinities (json.dumps writes them as NaN/Infinity, or 1e400 reads as infinity),
# integers beyond 64 bits.
unserializable_scalars = (
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3).flatmap(
        lambda surrogates: st.builds(
            lambda before, after: before + surrogates + after,
            st.text(max_size=5),
            st.text(max_size=5),
        )
    )
    | st.sampled_from((float("nan"), float("inf"), float("-inf")))
    | st.integers(min_value=2**64)
    | st.integers(max_value=-(2**63) - 1)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
names = st.text(min_size=1, max_size=20).filter(lambda name: name not in ACTIVE_NAMES)
numbers = st.text(alphabet="0123456789", min_size=1, max_size=6)
callids = st.from_regex(r"\A[0-9]{10}\.[0-9]{1,5}\Z") | st.text(max_size=20)
field_keys = (st.sampled_from(REAL_FIELDS) | st.text(min_size=1, max_size=12)).filter(
    lambda key: key not in RESERVED_KEYS
)
extra_fields = st.lists(st.tuples(field_keys, json_values), max_size=6)
party_extras = st.dictionaries(
    st.text(max_size=10).filter(lambda key: key not in {"number", "extid"}),
    scalars,
    max_size=3,
)


@st.composite
def v2_member(draw: st.DrawFn) -> dict[str, Any]:
    """Draw one v2 `members` item: an extension or a trunk leg with its memberstatus."""
    kind = draw(st.sampled_from(("ext", "inbound", "outbound")))
    status = draw(st.sampled_from(MEMBER_STATUSES) | st.text(max_size=8))
    fields: dict[str, Any] = draw(party_extras)
    if kind == "ext":
        fields |= {"number": draw(numbers), "channelid": "PJSIP/x", "callpath": ""}
    else:
        fields |= {"from": draw(numbers), "to": draw(numbers), "trunkname": "SIP"}
    fields["memberstatus"] = status
    return {kind: fields}


@st.composite
def v1_party(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """Draw one v1 party: its kind and its object."""
    kind = draw(st.sampled_from(("ext", "inbound", "outbound")))
    fields: dict[str, Any] = draw(party_extras)
    if kind == "ext":
        fields["extid"] = draw(numbers)
    else:
        fields |= {"from": draw(numbers), "to": draw(numbers), "trunk": "SIP"}
    return kind, fields


@st.composite
def v2_reports(draw: st.DrawFn, serial: str = SERIAL) -> GeneratedReport:
    """Draw a v2.0.0 `event` report with `members` and this PBX's serial."""
    name = draw(st.sampled_from(V2_NAMES) | names)
    callid = draw(st.none() | callids)
    members = draw(st.lists(v2_member(), max_size=5))
    pairs: Pairs = [("event", name)]
    if callid is not None:
        pairs.append(("callid", callid))
    pairs += [("members", members), *draw(extra_fields), ("sn", serial)]
    return GeneratedReport(
        pairs, name, ReportFormat.V2_0_0, callid, len(members), serial
    )


@st.composite
def v102_reports(draw: st.DrawFn, serial: str = SERIAL) -> GeneratedReport:
    """Draw a v1.0.2 `action` report with a `call` array and this PBX's serial."""
    name = draw(st.sampled_from(V1_NAMES) | names)
    callid = draw(st.none() | callids)
    parties = draw(st.lists(v1_party(), max_size=5))
    pairs: Pairs = [("action", name)]
    if callid is not None:
        pairs.append(("callid", callid))
    pairs += [
        ("call", [{kind: fields} for kind, fields in parties]),
        *draw(extra_fields),
        ("sn", serial),
    ]
    return GeneratedReport(
        pairs, name, ReportFormat.V1_0_2, callid, len(parties), serial
    )


@st.composite
def v100_reports(draw: st.DrawFn) -> GeneratedReport:
    """Draw an old v1.0.0 `action` report: parties as repeated keys, no serial."""
    name = draw(st.sampled_from(V1_NAMES) | names)
    callid = draw(st.none() | callids)
    parties = draw(st.lists(v1_party(), max_size=5))
    pairs: Pairs = [("action", name)]
    if callid is not None:
        pairs.append(("callid", callid))
    pairs += [*parties, *draw(extra_fields)]
    return GeneratedReport(pairs, name, ReportFormat.V1_0_0, callid, len(parties), None)


valid_reports = v2_reports() | v102_reports() | v100_reports()
# What the fuzzed entry (API v2.0.0) accepts; reports of the other formats it refuses.
entry_reports = v2_reports()


# Real reports, as the simulator renders them, for the truncation test.

_EXT = ExtMember(number="1001", memberstatus="RING", channelid="PJSIP/1001-0002")
_TRUNK = TrunkMember(
    direction="inbound",
    from_number="0123456789",
    to_number="1001",
    trunkname="siptrunk",
    memberstatus="RING",
    channelid="PJSIP/trunk-0001",
)
_REAL = (
    CallStatus(callid="1571897930.5", action="RING", members=(_TRUNK, _EXT)),
    CallFailed(callid="1571897930.6", members=(_EXT,)),
    ExtensionStatus("1001", "Registered", "192.168.5.150"),
    NewCdr(
        callid="1571897930.5",
        timestart="2026-01-02 03:04:05",
        callfrom="0123456789",
        callto="1001",
        callduraction="12",
        talkduraction="8",
        status="ANSWERED",
        type="Inbound",
        srctrunkname="siptrunk",
    ),
)
REAL_BODIES: tuple[bytes, ...] = tuple(
    body
    for report in _REAL
    for report_format in ("2.0.0", "1.0.2", None)
    for body in render(report, report_format, SERIAL)
)
