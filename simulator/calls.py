"""Live calls as the PBX holds them: legs with channels and states, hold and mute.

The board follows the reports the PBX sends (a call starts with its first CallStatus
or Invite, a leg leaves with its BYE, the call ends with its last leg, its record or
its failure), so queries show a call exactly while its reports say it lasts. What
no report carries (mute, a dial's pending callee, the Invite window) is kept beside.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

from .reports import (
    CallFailed,
    CallStatus,
    ExtMember,
    Incoming,
    Invite,
    Member,
    NewCdr,
    Report,
    TrunkMember,
)

type CallType = Literal["Inbound", "Outbound", "Internal"]
# Member states in which a leg is connected: hold, mute and transfers need one.
CONNECTED = frozenset({"ANSWER", "ANSWERED", "HOLD"})


@dataclass(slots=True, kw_only=True)
class LiveCall:
    """One call in progress, its legs keyed by channel, in the order they joined."""

    callid: str
    timestart: str
    started: float
    members: dict[str, Member] = field(default_factory=dict)
    answered: float | None = None
    answered_by: str | None = None
    rang: list[str] = field(default_factory=list)
    callpath: str | None = None
    muted: set[str] = field(default_factory=set)
    # Beside the reports:
    decision_due: float | None = None  # an Invite waits for the application until then
    next_callee: Member | None = (
        None  # a dial rings its callee once the caller picks up
    )
    prompt: str | None = None  # a prompt plays once the phone is answered
    consult: tuple[str, str] | None = (
        None  # attended transfer: (transferor, target) keys
    )
    linked: str | None = None  # the other half of a call the PBX made to itself

    def copy(self) -> LiveCall:
        """Return an independent copy, for working out a step before sending it."""
        return replace(
            self,
            members=dict(self.members),
            rang=list(self.rang),
            muted=set(self.muted),
        )

    @property
    def legs(self) -> list[Member]:
        """Return the legs still in the call."""
        return [m for m in self.members.values() if m.memberstatus != "BYE"]

    @property
    def ended(self) -> bool:
        """Whether every leg has left."""
        return bool(self.members) and not self.legs

    @property
    def caller(self) -> Member:
        """Return the leg that started the call (for a dial, the phone the PBX rang first)."""
        return next(iter(self.members.values()))

    @property
    def kind(self) -> CallType:
        """Return the call's type as its record names it."""
        directions = {
            m.direction for m in self.members.values() if isinstance(m, TrunkMember)
        }
        if "inbound" in directions:
            return "Inbound"
        if "outbound" in directions:
            return "Outbound"
        return "Internal"

    def talking_status(self, member: Member) -> str:
        """Return a connected leg's status: the caller's call was ANSWERED, the others ANSWER."""
        return "ANSWERED" if member.key == self.caller.key else "ANSWER"

    def ext_leg(self, number: str) -> ExtMember | None:
        """Return an extension's leg, if it is in the call."""
        return next(
            (m for m in self.legs if isinstance(m, ExtMember) and m.number == number),
            None,
        )

    def trunk_leg(self, direction: str | None = None) -> TrunkMember | None:
        """Return the call's outside leg (of one direction, if given)."""
        return next(
            (
                m
                for m in self.legs
                if isinstance(m, TrunkMember) and direction in (None, m.direction)
            ),
            None,
        )

    def apply(self, report: Report, now: float) -> None:
        """Follow one report of this call."""
        match report:
            case CallStatus(members=members):
                for member in members:
                    self._join(member, now)
            case Invite(members=members):
                for member in members:
                    self.members.setdefault(member.key, member)
            case Incoming():
                self.decision_due = None
            case _:
                pass

    def _join(self, member: Member, now: float) -> None:
        """Take a leg's new state."""
        key = member.key
        if key not in self.members and self.members and member.memberstatus == "RING":
            self.rang.append(key)
        self.members[key] = member
        if member.memberstatus == "BYE":
            self.muted.discard(key)
        if member.memberstatus == "ANSWER" and self.answered is None:
            self.answered = now
            self.answered_by = key
        if isinstance(member, ExtMember) and member.callpath is not None:
            self.callpath = member.callpath


class CallBoard:
    """The PBX's calls in progress, kept from the reports it sends."""

    def __init__(self) -> None:
        """Start with no call."""
        self._calls: dict[str, LiveCall] = {}

    def __iter__(self) -> Iterator[LiveCall]:
        """Iterate over the calls, oldest first."""
        return iter(list(self._calls.values()))

    def get(self, callid: str) -> LiveCall | None:
        """Return a call by id."""
        return self._calls.get(callid)

    def observe(self, report: Report, now: float, timestart: str) -> None:
        """Follow a report: start, change or end the call it is about."""
        if isinstance(report, CallFailed | NewCdr):
            self._calls.pop(report.callid, None)
            return
        if not isinstance(report, CallStatus | Invite | Incoming):
            return
        call = self._calls.get(report.callid)
        if call is None:
            if isinstance(report, Incoming):
                return
            call = self._calls[report.callid] = LiveCall(
                callid=report.callid, timestart=timestart, started=now
            )
        call.apply(report, now)
        if call.ended:
            del self._calls[report.callid]

    def clear(self) -> None:
        """Forget every call (a reboot)."""
        self._calls.clear()

    def by_channel(self, channelid: str) -> tuple[LiveCall, Member] | None:
        """Return the call and leg of a v2 channel."""
        for call in self:
            for member in call.legs:
                if member.channelid == channelid:
                    return call, member
        return None

    def by_leg_id(
        self, direction: str, leg_id: str
    ) -> tuple[LiveCall, TrunkMember] | None:
        """Return the call and trunk leg of a v1 ``inboundid``/``outboundid``."""
        for call in self:
            leg = call.trunk_leg(direction)
            if leg is not None and leg.leg_id == leg_id:
                return call, leg
        return None

    def of_extension(self, number: str) -> list[tuple[LiveCall, ExtMember]]:
        """Return the calls an extension is in, with its leg, oldest first."""
        return [
            (call, leg) for call in self if (leg := call.ext_leg(number)) is not None
        ]

    def of_number(
        self, number: str, *, ringing: bool = False
    ) -> tuple[LiveCall, Member] | None:
        """Return the newest call with a leg of this number (an extension or outside)."""
        for call in reversed(list(self)):
            for member in call.legs:
                if member.number == number and (
                    not ringing or member.memberstatus == "RING"
                ):
                    return call, member
        return None
