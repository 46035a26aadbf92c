"""Call steps and the reports a real PBX sends for each, from ringing to the call record.

One builder serves the canned scenarios and the API's call control alike: a `Flow`
works on its own copy of a call, so a scenario can be written out in full before any
report leaves, and a request can be checked against the call before it changes.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
import itertools
import time
from typing import Literal

from .calls import LiveCall
from .reports import (
    CallAction,
    CallFailed,
    CallStatus,
    CallTransfer,
    ExtensionStatus,
    ExtMember,
    Incoming,
    Invite,
    Member,
    NewCdr,
    PlayPromptEnd,
    Report,
    TrunkMember,
)

# The state an extension reports for each state of its leg in a call.
_EXTENSION_STATES = {
    "RING": "Ringing",
    "ALERT": "Busy",
    "ANSWER": "Busy",
    "ANSWERED": "Busy",
    "HOLD": "Busy",
}


def _registered(number: str) -> str:
    """Return the idle state of a SIP extension."""
    return "Registered"


@dataclass(slots=True)
class Call:
    """The identifiers every report of one call shares, and where new ones come from.

    Channels are numbered like Asterisk's (``PJSIP/1020-0000003b``): from the PBX's
    counter, or, for a call made up on its own, from the call id. v1 ids of trunk legs
    are call-id-like: an inbound leg's is the call id (as in the documents' examples),
    an outbound leg's the next one.
    """

    callid: str
    timestart: str
    idle_status: Callable[[str], str] = _registered
    channel_numbers: Iterator[int] | None = None
    clock: Callable[[], float] = time.time
    _uniqueids: Iterator[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Start the call's channel and id counters."""
        stamp, _, sequence = self.callid.partition(".")
        if self.channel_numbers is None:
            self.channel_numbers = itertools.count(int(sequence or 0) * 16)
        self._uniqueids = (
            f"{stamp}.{int(sequence or 0) + n}" for n in itertools.count(1)
        )

    def ext_channel(self, number: str) -> str:
        """Return a new channel for an extension's leg."""
        assert self.channel_numbers is not None
        return f"PJSIP/{number}-{next(self.channel_numbers):08x}"

    def trunk_channel(self, trunk: str) -> str:
        """Return a new channel for a trunk leg."""
        assert self.channel_numbers is not None
        return f"PJSIP/trunk-{trunk}-endpoint-{next(self.channel_numbers):08x}"

    def outbound_id(self) -> str:
        """Return a v1 ``outboundid``."""
        return next(self._uniqueids)


class Flow:
    """Write a call's reports step by step, following the call as the PBX would."""

    def __init__(self, call: Call, live: LiveCall | None = None) -> None:
        """Start a new call, or go on with (a copy of) one in progress."""
        self.call = call
        self.live = live.copy() if live is not None else None
        self.reports: list[Report] = []
        self._elapsed = 0.0

    # Parties

    def phone(self, number: str, callpath: str | None = None) -> ExtMember:
        """Return a new leg for an extension (``callpath``: the group it rings through)."""
        return ExtMember(
            number=number, channelid=self.call.ext_channel(number), callpath=callpath
        )

    def outside(
        self,
        direction: Literal["inbound", "outbound"],
        from_number: str,
        to_number: str,
        trunk: str,
    ) -> TrunkMember:
        """Return a new leg for an outside party on a trunk."""
        return TrunkMember(
            direction=direction,
            from_number=from_number,
            to_number=to_number,
            trunkname=trunk,
            channelid=self.call.trunk_channel(trunk),
            leg_id=self.call.callid
            if direction == "inbound"
            else self.call.outbound_id(),
        )

    def current(self, member: Member) -> Member:
        """Return a leg as the call has it now."""
        assert self.live is not None
        return self.live.members[member.key]

    # Time

    def now(self) -> float:
        """Return the PBX's time as the call has it (canned calls let time pass)."""
        return self.call.clock() + self._elapsed

    def wait(self, seconds: float) -> None:
        """Let time pass in a canned call: its record shows the durations."""
        self._elapsed += seconds

    # Steps

    def ring(self, caller: Member | None, callees: Sequence[Member]) -> None:
        """Ring the callees while the caller hears ring-back (no caller: the PBX rings).

        The call's other legs (one on hold during a consultation) are listed as they are.
        """
        members: list[Member] = []
        if caller is not None:
            # An outside caller's leg rings too, as the v2 example shows it.
            status = "RING" if isinstance(caller, TrunkMember) else "ALERT"
            members.append(_status(caller, status))
        members += [_status(callee, "RING") for callee in callees]
        self._step("RING", members + self._others(members))

    def answer(self, answerer: Member) -> None:
        """Connect ``answerer`` to whoever hears ring-back; other phones that rang stop."""
        live = self._live()
        if live.caller.key == answerer.key:
            self._step("ANSWER", [_status(answerer, "ANSWER")])
            return
        caller = next((m for m in live.legs if m.memberstatus == "ALERT"), live.caller)
        withdrawn = [
            _status(m, "BYE")
            for m in live.legs
            if m.memberstatus == "RING" and m.key not in (caller.key, answerer.key)
        ]
        members = [_status(caller, "ANSWERED"), _status(answerer, "ANSWER"), *withdrawn]
        self._step("ANSWER", members + self._others(members))

    def hold(self, leg: Member) -> None:
        """Put a connected leg on hold."""
        self._step(
            "HOLD",
            [_status(m, "HOLD") if m.key == leg.key else m for m in self._live().legs],
        )

    def resume(self, leg: Member) -> None:
        """Take a leg off hold."""
        live = self._live()
        self._step(
            "RESUME",
            [
                _status(m, live.talking_status(m)) if m.key == leg.key else m
                for m in live.legs
            ],
        )

    def leave(self, leg: Member) -> None:
        """Let one leg leave a call that goes on."""
        self._step("BYE", [_status(leg, "BYE")])

    def hang_up(self, first: Member) -> None:
        """End the call: every leg leaves, ``first`` first; then the call record."""
        live = self._live()
        record = self.record()
        legs = sorted(live.legs, key=lambda m: m.key != first.key)
        self._step("BYE", [_status(m, "BYE") for m in legs])
        self.emit(record)

    def fail(self, members: Sequence[Member], reason: str, record: NewCdr) -> None:
        """Report a call that could not be set up, and its record."""
        self.emit(
            CallFailed(callid=self.call.callid, members=tuple(members), reason=reason)
        )
        self.emit(record)

    def invite(self, inbound: TrunkMember) -> None:
        """Ask the application whether to take an inbound call."""
        self.emit(Invite(callid=self.call.callid, members=(inbound,)))

    def incoming(self) -> None:
        """Tell the application the inbound call it was asked about goes on."""
        inbound = self._live().trunk_leg("inbound")
        assert inbound is not None
        self.emit(Incoming(callid=self.call.callid, members=(inbound,)))

    def transfer(self, by: ExtMember) -> None:
        """Report a transfer made on a phone (``*03``); API transfers are not reported."""
        live = self._live()
        self.emit(
            CallTransfer(
                callid=self.call.callid, members=tuple(live.legs), by=by.number
            )
        )

    def prompt_end(self, leg: Member, prompt: str) -> None:
        """Report that a prompt finished playing."""
        self.emit(
            PlayPromptEnd(
                callid=self.call.callid, members=(self.current(leg),), prompt=prompt
            )
        )

    def record(self) -> NewCdr:
        """Write the call's record as it stands: answered, or not."""
        live = self._live()
        now = self.now()
        caller = live.caller
        answerer = live.members.get(live.answered_by or "")
        inbound, outbound = (
            _trunk(live, direction) for direction in ("inbound", "outbound")
        )
        called = answerer or next((live.members[key] for key in live.rang), None)
        # Nobody rang (an inbound call refused at once): the number the caller dialled.
        callto = called.number if called else inbound.to_number if inbound else ""
        if live.callpath is not None:
            callto = (
                f"{live.callpath}({callto})" if answerer is not None else live.callpath
            )
        return NewCdr(
            callid=live.callid,
            timestart=live.timestart,
            callfrom=caller.number,
            callto=callto,
            callduraction=str(int(now - live.started)),
            talkduraction=str(int(now - live.answered))
            if live.answered is not None
            else "0",
            status="ANSWERED" if answerer is not None else "NO ANSWER",
            type=live.kind,
            srctrunkname=inbound.trunkname if inbound is not None else "",
            dsttrunkname=outbound.trunkname if outbound is not None else "",
            didnumber=inbound.to_number if inbound is not None else "",
        )

    def emit(self, report: Report) -> None:
        """Add a report and follow it."""
        self.reports.append(report)
        if self.live is None and isinstance(report, CallStatus | Invite):
            self.live = LiveCall(
                callid=report.callid, timestart=self.call.timestart, started=self.now()
            )
        if self.live is not None:
            self.live.apply(report, self.now())

    def _others(self, members: Sequence[Member]) -> list[Member]:
        """Return the call's legs a step leaves as they are."""
        if self.live is None:
            return []
        keys = {member.key for member in members}
        return [m for m in self.live.legs if m.key not in keys]

    def _live(self) -> LiveCall:
        """Return the call (a step needs one in progress)."""
        assert self.live is not None, "the call has not started"
        return self.live

    def _step(self, action: CallAction, members: Sequence[Member]) -> None:
        """Send a CallStatus, with the ExtensionStatus reports its legs' changes cause.

        A phone that starts ringing or dialling is reported before the step, one that
        is answered, put down or stops ringing after it (the order the PBX uses).
        """
        before: list[Report] = []
        after: list[Report] = []
        for member in members:
            if not isinstance(member, ExtMember):
                continue
            idle = self.call.idle_status(member.number)
            previous = (
                self.live.members.get(member.key) if self.live is not None else None
            )
            old = (
                _EXTENSION_STATES.get(previous.memberstatus, idle) if previous else idle
            )
            new = _EXTENSION_STATES.get(member.memberstatus, idle)
            if new != old:
                change = ExtensionStatus(member.number, new)
                (before if new == "Ringing" or old == idle else after).append(change)
        for report in (
            *before,
            CallStatus(callid=self.call.callid, action=action, members=tuple(members)),
            *after,
        ):
            self.emit(report)


def _status(member: Member, status: str) -> Member:
    """Return a leg in another state."""
    return replace(member, memberstatus=status)


def _trunk(live: LiveCall, direction: str) -> TrunkMember | None:
    """Return the call's trunk leg of one direction, present or gone."""
    return next(
        (
            m
            for m in live.members.values()
            if isinstance(m, TrunkMember) and m.direction == direction
        ),
        None,
    )
