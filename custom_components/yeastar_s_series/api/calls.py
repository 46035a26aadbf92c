"""Calls as each extension lives them, made from the PBX's reports.

A report names several parties; each extension among them sees it its own way:
the callee rings, the caller dials, both talk, one hangs up. The tracker keeps
the live calls (call id -> legs, with the channel ids call control needs) and
turns every report into per-extension events, in all three report formats:

- v2.0.0 gives each member's status (`memberstatus`);
- v1 names the call's step (`action`): ALERT (the caller hears ring-back), RING
  (the first party, the callee, rings), ANSWER / ANSWERED, BYE (each of the two
  BYE reports names both parties).

A call nobody answered is missed for every extension it rang (one answered by
another member of a ring group is missed by nobody); the call record decides
where the flow did not show it (`NO ANSWER`, `NO ANSWERED`, `BUSY`).
"""

from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import time
from typing import Any

from .cdr import CallRecord, CallStatus
from .models import ReportFormat
from .names import NameLookup
from .reports import Party, Report

# Live calls kept at most; the oldest go first (a PBX never has this many).
MAX_CALLS = 256
# Ended calls kept this long, for their call record (it follows the last BYE).
ENDED_KEPT = 600.0
SWEEP_INTERVAL = 60.0
# Call records of a call nobody answered.
UNANSWERED = frozenset({CallStatus.MISSED, CallStatus.BUSY})


class CallState(StrEnum):
    """Where an extension stands in its calls."""

    IDLE = "idle"
    RINGING = "ringing"
    DIALING = "dialing"
    TALKING = "talking"
    ON_HOLD = "on_hold"


# When an extension is in several calls, the state that shows (first wins).
_STATE_PRIORITY = (
    CallState.TALKING,
    CallState.ON_HOLD,
    CallState.DIALING,
    CallState.RINGING,
)


class Direction(StrEnum):
    """Which way a call goes, seen from the PBX."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallEventType(StrEnum):
    """What happened to one extension in a call."""

    RINGING = "ringing"
    DIALING = "dialing"
    ANSWERED = "answered"
    HELD = "held"
    RESUMED = "resumed"
    HUNG_UP = "hung_up"
    MISSED = "missed"
    TRANSFERRED = "transferred"
    FORWARDED = "forwarded"
    DTMF = "dtmf"
    FAILED = "failed"


_MEMBER_STATES = {
    "ALERT": CallState.DIALING,
    "RING": CallState.RINGING,
    "ANSWER": CallState.TALKING,
    "ANSWERED": CallState.TALKING,
    "HOLD": CallState.ON_HOLD,
    "BYE": CallState.IDLE,
}
# The event a leg's state stands for, to describe a call in progress.
_STATE_EVENTS = {
    CallState.RINGING: CallEventType.RINGING,
    CallState.DIALING: CallEventType.DIALING,
    CallState.TALKING: CallEventType.ANSWERED,
    CallState.ON_HOLD: CallEventType.HELD,
}
# Reports that are an event of their own for each extension they name.
_REPORT_EVENTS = {
    "Tranfer": CallEventType.TRANSFERRED,  # sic: the PBX's spelling
    "Transfer": CallEventType.TRANSFERRED,
    "Forward": CallEventType.FORWARDED,
    "CallFailed": CallEventType.FAILED,
    "DTMF": CallEventType.DTMF,
}


@dataclass(slots=True)
class Leg:
    """One party of a live call."""

    kind: str  # ext, inbound, outbound
    number: str | None  # the extension, or the outside number of a trunk leg
    state: CallState = CallState.IDLE
    channel_id: str | None = None
    trunk: str | None = None


@dataclass(slots=True)
class Call:
    """A call the PBX reported, with its legs."""

    callid: str
    legs: dict[str, Leg] = field(default_factory=dict)
    answered: bool = False
    rang: list[str] = field(default_factory=list)  # extensions it rang, in order
    missed: set[str] = field(default_factory=set)  # extensions told so
    ended: float | None = None  # monotonic time, once over

    @property
    def direction(self) -> Direction:
        """Inbound with an inbound trunk leg, outbound with an outbound one."""
        kinds = {leg.kind for leg in self.legs.values()}
        if "inbound" in kinds:
            return Direction.INBOUND
        if "outbound" in kinds:
            return Direction.OUTBOUND
        return Direction.INTERNAL

    def extension_legs(self) -> Iterable[Leg]:
        """Return the call's extension legs."""
        return (leg for leg in self.legs.values() if leg.kind == "ext")

    def trunk_leg(self) -> Leg | None:
        """Return the call's outside party, if any."""
        return next((leg for leg in self.legs.values() if leg.kind != "ext"), None)

    def other_party(self, leg: Leg) -> Leg | None:
        """Return who talks with `leg`: the outside party, else another extension on."""
        if (trunk := self.trunk_leg()) is not None and trunk is not leg:
            return trunk
        return next(
            (
                other
                for other in self.extension_legs()
                if other is not leg and other.state is not CallState.IDLE
            ),
            None,
        )


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One thing that happened to one extension, with who is on the other end."""

    extension: str
    type: CallEventType
    callid: str
    direction: Direction
    peer_number: str | None
    peer_name: str | None
    trunk: str | None
    digits: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the event's attributes (the type is the event itself)."""
        return {
            "callid": self.callid,
            "direction": self.direction.value,
            "peer_number": self.peer_number,
            "peer_name": self.peer_name,
            "trunk": self.trunk,
            **({"digits": self.digits} if self.digits is not None else {}),
        }


def _leg_key(party: Party) -> str:
    """Identify a leg within its call: the extension's number, or the trunk side."""
    return f"ext:{party.number}" if party.kind == "ext" else party.kind


def _channel(party: Party) -> str | None:
    """Return the leg's channel (v2) or its v1 id (`inboundid`, `outboundid`)."""
    for key in ("channelid", f"{party.kind}id"):
        if isinstance(value := party.fields.get(key), str) and value:
            return value
    return None


def _as_number(callid: str) -> float | None:
    """Read a call id as the number it looks like."""
    try:
        return float(callid)
    except ValueError:
        return None


class CallTracker:
    """Follow the PBX's calls and tell each extension what happens to it."""

    def __init__(
        self, names: NameLookup, extensions: Callable[[], Iterable[str]]
    ) -> None:
        """Name peers with `names`; `extensions` lists the PBX's extension numbers."""
        self._names = names
        self._extensions = extensions
        self._calls: OrderedDict[str, Call] = OrderedDict()
        # What entities ask with every report, kept up to date call by call:
        # the calls someone is in, and each extension's, oldest first.
        self._active: dict[str, Call] = {}
        self._of: dict[str, dict[str, Call]] = {}
        # How many of each extension's calls are in each state, and each leg's.
        self._states: dict[str, Counter[CallState]] = {}
        self._leg_states: dict[tuple[str, str], CallState] = {}
        self._swept = -SWEEP_INTERVAL  # when ended calls were last dropped

    @property
    def live_calls(self) -> list[Call]:
        """The calls in progress, oldest first."""
        return [call for call in self._calls.values() if call.ended is None]

    @property
    def active_calls(self) -> list[Call]:
        """The calls in progress someone is still in, oldest first."""
        return list(self._active.values())

    def call(self, callid: str) -> Call | None:
        """Return a live call by id."""
        call = self._calls.get(callid)
        return call if call is not None and call.ended is None else None

    def call_like(self, callid: str) -> Call | None:
        """Return the one live call whose id is the same number as `callid`.

        A call id reads like a number (`1571897930.110`); a template that hands it
        on may turn it into one (`1571897930.11`), losing its trailing zeros.
        """
        try:
            wanted = float(callid)
        except ValueError:
            return None
        found = [call for call in self.live_calls if _as_number(call.callid) == wanted]
        return found[0] if len(found) == 1 else None

    def calls_of(self, extension: str) -> list[Call]:
        """Return the live calls an extension is in (not hung up), oldest first."""
        return list(self._of.get(extension, {}).values())

    def state_of(self, extension: str) -> CallState:
        """Return the extension's state across its calls (talking wins over ringing)."""
        counts = self._states.get(extension)
        if not counts:
            return CallState.IDLE
        return next(state for state in _STATE_PRIORITY if counts[state])

    def view(self, call: Call, extension: str) -> CallEvent:
        """Describe a live call as one extension sees it (its state, not an event)."""
        leg = call.legs.get(f"ext:{extension}") or Leg(kind="ext", number=extension)
        return self._event(
            call, leg, _STATE_EVENTS.get(leg.state, CallEventType.HUNG_UP)
        )

    def handle(self, report: Report) -> list[CallEvent]:
        """Follow one report; return what it means for each extension it names."""
        callid = report.call_id
        if callid is None:
            return []
        self._forget_old()
        if report.name == "NewCdr":
            return self._call_record(callid, report.fields)
        call = self._calls.get(callid)
        if call is None or call.ended is not None:
            if not report.parties or (
                call is not None and report.name in ("BYE", "CallFailed")
            ):
                return []  # nothing to follow, or the second BYE of a call over
            call = self._calls[callid] = Call(callid)
            while len(self._calls) > MAX_CALLS:
                self._unindex(self._calls.popitem(last=False)[1])
        self._calls.move_to_end(callid)
        events = self._apply(call, report)
        if report.name == "CallFailed" or (
            call.legs and all(leg.state is CallState.IDLE for leg in call.legs.values())
        ):
            events += self._end(call)
        self._index(call)
        return events

    def reconcile(self, observed: Mapping[str, Iterable[Party]]) -> list[CallEvent]:
        """Take the PBX's own list of calls (after a restart, or to end lost calls).

        Calls the PBX no longer has are over (their BYE was lost); calls it has
        that were missed are followed from now on, without events for their past.
        """
        events = self.lose(
            call.callid for call in self.live_calls if call.callid not in observed
        )
        for callid, parties in observed.items():
            call = self.call(callid) or self._calls.setdefault(callid, Call(callid))
            for party in parties:
                leg = self._leg(call, party)
                leg.state = _MEMBER_STATES.get(party.status or "", leg.state)
                if leg.kind == "ext" and leg.state is CallState.TALKING:
                    call.answered = True
            self._index(call)
        return events

    def lose(self, callids: Iterable[str]) -> list[CallEvent]:
        """End calls the PBX no longer has: their extensions hung up."""
        events: list[CallEvent] = []
        for callid in callids:
            if (call := self.call(callid)) is None:
                continue
            for leg in call.extension_legs():
                if leg.state is not CallState.IDLE:
                    leg.state = CallState.IDLE
                    events.append(self._event(call, leg, CallEventType.HUNG_UP))
            events += self._end(call)
            self._index(call)
        return events

    def _apply(self, call: Call, report: Report) -> list[CallEvent]:
        """Update the legs a report names and say what changed for each extension."""
        events: list[CallEvent] = []
        ext_parties = [party for party in report.parties if party.kind == "ext"]
        # Every leg first: each event then names the other party of the report.
        legs = [(party, self._leg(call, party)) for party in report.parties]
        for party, leg in legs:
            if report.format is ReportFormat.V2_0_0 and party.status is not None:
                state = _MEMBER_STATES.get(party.status)
            else:
                state = self._named_state(report.name, party, ext_parties, leg)
            if state is not None and party.kind == "ext":
                events += self._move(call, leg, state)
            elif state is not None:
                leg.state = state
        if (event_type := _REPORT_EVENTS.get(report.name)) is not None:
            digits = (
                report.fields.get("info") if event_type is CallEventType.DTMF else None
            )
            for party in ext_parties:
                leg = call.legs[_leg_key(party)]
                events.append(
                    self._event(
                        call,
                        leg,
                        event_type,
                        digits if isinstance(digits, str) else None,
                    )
                )
                if event_type is CallEventType.FAILED:
                    leg.state = CallState.IDLE
        return events

    @staticmethod
    def _named_state(
        name: str, party: Party, ext_parties: list[Party], leg: Leg
    ) -> CallState | None:
        """Return the state a report's name puts a party in.

        v1 names the step (`action`); v2 reports without member states too: an
        `Invite` or `Incoming` names the outside caller, whose call waits.
        """
        if name in ("Invite", "Incoming"):
            return CallState.RINGING if party.kind != "ext" else None
        if name == "ALERT":
            return CallState.DIALING
        if name == "RING":
            if party.kind != "ext":
                return CallState.DIALING if leg.state is CallState.IDLE else None
            if leg.state is CallState.DIALING:
                return None  # the caller, known from ALERT
            # The first extension named rings; another one is its caller.
            return CallState.RINGING if party is ext_parties[0] else CallState.DIALING
        if name in ("ANSWER", "ANSWERED"):
            return CallState.TALKING
        if name == "BYE":
            return CallState.IDLE
        return None

    def _leg(self, call: Call, party: Party) -> Leg:
        """Return the call's leg for a party, made when first named."""
        key = _leg_key(party)
        leg = call.legs.get(key)
        if leg is None:
            number = party.number if party.kind == "ext" else party.outside_number
            leg = call.legs[key] = Leg(kind=party.kind, number=number)
        leg.channel_id = _channel(party) or leg.channel_id
        leg.trunk = party.trunk or leg.trunk
        return leg

    def _move(self, call: Call, leg: Leg, state: CallState) -> list[CallEvent]:
        """Put an extension leg in a state; the event the change is, if any."""
        previous, leg.state = leg.state, state
        if state is previous:
            return []
        match state:
            case CallState.RINGING:
                if leg.number is not None and leg.number not in call.rang:
                    call.rang.append(leg.number)
                return [self._event(call, leg, CallEventType.RINGING)]
            case CallState.DIALING:
                return [self._event(call, leg, CallEventType.DIALING)]
            case CallState.TALKING:
                call.answered = True
                if previous is CallState.ON_HOLD:
                    return [self._event(call, leg, CallEventType.RESUMED)]
                return [self._event(call, leg, CallEventType.ANSWERED)]
            case CallState.ON_HOLD:
                return [self._event(call, leg, CallEventType.HELD)]
            case CallState.IDLE:
                return [self._event(call, leg, CallEventType.HUNG_UP)]

    def _end(self, call: Call) -> list[CallEvent]:
        """Close a call: missed for the extensions it rang if nobody answered."""
        if call.ended is None:
            call.ended = time.monotonic()
        if call.answered:
            return []
        return self._missed(call, call.rang)

    def _missed(self, call: Call, extensions: Iterable[str]) -> list[CallEvent]:
        """Tell each extension (once per call) that it missed the call."""
        events = []
        for number in extensions:
            if number in call.missed:
                continue
            call.missed.add(number)
            leg = call.legs.get(f"ext:{number}") or Leg(kind="ext", number=number)
            events.append(self._event(call, leg, CallEventType.MISSED))
        return events

    def _call_record(self, callid: str, fields: Mapping[str, Any]) -> list[CallEvent]:
        """End the call on its record, which says who missed it where the flow did not."""
        call = self._calls.get(callid) or Call(callid)
        self._calls[callid] = call
        events: list[CallEvent] = []
        for leg in call.extension_legs():
            if leg.state is not CallState.IDLE:  # its BYE never came
                leg.state = CallState.IDLE
                events.append(self._event(call, leg, CallEventType.HUNG_UP))
        record = CallRecord.from_fields(fields)
        if not call.legs:  # nothing of the call was reported: the record tells it
            self._legs_from_record(call, record)
        if record.status in UNANSWERED:
            call.answered = False
            known = set(self._extensions())
            rang = call.rang or (
                [record.called] if record.called in known and record.called else []
            )
            events += self._missed(call, rang)
        if call.ended is None:
            call.ended = time.monotonic()
        self._index(call)
        return events

    def _index(self, call: Call) -> None:
        """Bring the lists of calls someone is in up to date with one call."""
        live = call.ended is None
        if live and any(leg.state is not CallState.IDLE for leg in call.legs.values()):
            self._active.setdefault(call.callid, call)
        else:
            self._active.pop(call.callid, None)
        for key, leg in call.legs.items():
            if leg.kind != "ext":
                continue
            number = key.removeprefix("ext:")
            state = leg.state if live and leg.state is not CallState.IDLE else None
            if (old := self._leg_states.get((call.callid, number))) is state:
                continue
            counts = self._states.setdefault(number, Counter())
            if old is not None:
                counts[old] -= 1
            if state is None:
                del self._leg_states[call.callid, number]
                del self._of[number][call.callid]
                if not self._of[number]:
                    del self._of[number], self._states[number]
            else:
                counts[state] += 1
                self._leg_states[call.callid, number] = state
                self._of.setdefault(number, {})[call.callid] = call

    def _unindex(self, call: Call) -> None:
        """Take a call the tracker drops out of the lists."""
        call.ended = call.ended or time.monotonic()
        self._index(call)

    def _legs_from_record(self, call: Call, record: CallRecord) -> None:
        """Rebuild the parties of a call seen only in its record."""
        known = set(self._extensions())
        called = record.answered_by or record.called
        for number, side in ((record.caller, "inbound"), (called, "outbound")):
            if not number:
                continue
            if number in known:
                call.legs[f"ext:{number}"] = Leg(kind="ext", number=number)
            elif record.direction == side:
                call.legs[side] = Leg(kind=side, number=number)

    def _event(
        self,
        call: Call,
        leg: Leg,
        event_type: CallEventType,
        digits: str | None = None,
    ) -> CallEvent:
        """Build an extension's event with the peer it sees."""
        peer = self._peer(call, leg)
        trunk = call.trunk_leg()
        return CallEvent(
            extension=leg.number or "",
            type=event_type,
            callid=call.callid,
            direction=call.direction,
            peer_number=peer,
            peer_name=self._names(peer),
            trunk=trunk.trunk if trunk is not None else None,
            digits=digits,
        )

    @staticmethod
    def _peer(call: Call, leg: Leg) -> str | None:
        """Name who is on the other end for one extension.

        The outside party, else the other extension: the caller for the callee,
        the answering one for the caller.
        """
        if (trunk := call.trunk_leg()) is not None:
            return trunk.number
        others = [other for other in call.extension_legs() if other is not leg]
        preferred = (
            (CallState.DIALING,)
            if leg.state is CallState.RINGING
            else (CallState.TALKING, CallState.ON_HOLD, CallState.RINGING)
        )
        for state in preferred:
            for other in others:
                if other.state is state:
                    return other.number
        return others[0].number if others else None

    def _forget_old(self) -> None:
        """Drop calls over for long enough that no record of them will come.

        A look at every call, so not more than once a minute.
        """
        now = time.monotonic()
        if now - self._swept < SWEEP_INTERVAL:
            return
        self._swept = now
        for callid in [
            callid
            for callid, call in self._calls.items()
            if call.ended is not None and now - call.ended > ENDED_KEPT
        ]:
            del self._calls[callid]
