"""The PBX's call handling: placing, answering, holding, transferring and ending calls.

The API's call control, the phones (picked up or put down by a test) and the
scenarios that need the PBX's settings all act here. Each operation checks the
call first and refuses with the documents' errno, then sends the step's reports;
the board follows them.
"""

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import replace
import itertools
import re
from typing import Literal, Protocol

from .calls import CONNECTED, CallBoard, LiveCall
from .clock import SimClock, pbx_time
from .flows import Call, Flow
from .inventory import SimExtension
from .reports import ExtMember, Member, Report, TrunkMember

ERRNO_BLANK = "10004"
ERRNO_NO_EXTENSION = "10006"
ERRNO_EXTENSION_BUSY = "10008"
ERRNO_NO_NUMBER = "10011"
ERRNO_NOT_CONNECTED = "10015"
ERRNO_TOO_LATE = "10016"
ERRNO_NO_PERMISSION = "10024"
ERRNO_NOT_ALLOWED = "10031"
# What goes out through the outbound route: at least five digits (the documents give no
# rule; shorter numbers that are no extension do not exist, errno 10011).
_OUTSIDE_NUMBER = re.compile(r"^\+?[0-9*#]{5,}$")

type Operate = Literal["abort", "complete", "threeway", "swap"]


class Refused(Exception):
    """The PBX refuses a call operation with an errno."""

    def __init__(self, errno: str) -> None:
        """Keep the errno the API answers."""
        super().__init__(errno)
        self.errno = errno


class Exchange(Protocol):
    """What the switchboard needs of its PBX: settings, extensions, time and reports."""

    clock: SimClock
    inbound_call_control: bool
    invite_window: float
    inbound_number: str
    inbound_destination: str
    outbound_trunk: str
    blocked_numbers: set[str]

    @property
    def extensions(self) -> dict[str, SimExtension]:
        """Return the extensions by number."""


class Switchboard:
    """Act on the PBX's calls and report what happens, as the PBX does."""

    def __init__(self, exchange: Exchange, emit: Callable[[Report], None]) -> None:
        """Serve ``exchange``, sending reports with ``emit``; no call is on."""
        self.board = CallBoard()
        self._pbx = exchange
        self._emit = emit
        self._sequence = itertools.count(100, 10)  # room for each call's channel ids
        self._channels: Iterator[int] = itertools.count(0x20)
        self._timers: dict[str, asyncio.TimerHandle] = {}  # Invite windows by call

    # Calls and their identifiers

    def new_call(self) -> Call:
        """Return the identifiers of a new call."""
        now = self._pbx.clock.now()
        return self._context(f"{int(now)}.{next(self._sequence)}", pbx_time(now))

    def observe(self, report: Report) -> None:
        """Follow a report the PBX sends."""
        now = self._pbx.clock.now()
        self.board.observe(report, now, pbx_time(now))

    def reset(self) -> None:
        """Drop every call and pending decision without a report (a reboot)."""
        self.board.clear()
        self.cancel_timers()

    def cancel_timers(self) -> None:
        """Stop waiting for the application's decisions."""
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def _context(self, callid: str, timestart: str) -> Call:
        """Return a call's identifiers, numbered from the PBX's counters."""
        return Call(
            callid,
            timestart,
            idle_status=self._idle_status,
            channel_numbers=self._channels,
            clock=self._pbx.clock.now,
        )

    def _flow(self, call: LiveCall) -> Flow:
        """Start working on a call in progress."""
        return Flow(self._context(call.callid, call.timestart), call)

    def _idle_status(self, number: str) -> str:
        """Return the state an extension reports once a call leaves it."""
        extension = self._pbx.extensions.get(number)
        return extension.idle_status if extension is not None else "Registered"

    def _send(self, flow: Flow) -> list[Report]:
        """Send a flow's reports, in order."""
        for report in flow.reports:
            self._emit(report)
        return flow.reports

    # Checks

    def extension(self, number: str) -> SimExtension:
        """Return an extension, or refuse with 10006."""
        if (extension := self._pbx.extensions.get(number)) is None:
            raise Refused(ERRNO_NO_EXTENSION)
        return extension

    def extension_numbers(self) -> list[str]:
        """Return the PBX's extension numbers."""
        return list(self._pbx.extensions)

    def _idle(self, number: str) -> None:
        """Refuse with 10008 an extension that is in a call."""
        if self.board.of_extension(number):
            raise Refused(ERRNO_EXTENSION_BUSY)

    def _callee(
        self,
        flow: Flow,
        caller: str,
        number: str,
        permission: str | None,
        *,
        extensions_only: bool = False,
    ) -> Member:
        """Return the leg a call to ``number`` rings: an extension, or out on a trunk.

        An outside number needs the outbound permission of ``permission`` (the
        ``dialpermission``/``fromext`` extension), else of the caller.
        """
        if self._pbx.extensions.get(number) is not None:
            return flow.phone(number)
        if extensions_only:
            raise Refused(ERRNO_NO_EXTENSION)
        if number in self._pbx.blocked_numbers:
            raise Refused(ERRNO_NOT_ALLOWED)
        if not _OUTSIDE_NUMBER.fullmatch(number):
            raise Refused(ERRNO_NO_NUMBER)
        allowed = self._pbx.extensions.get(permission or caller)
        if allowed is None or not allowed.outbound:
            raise Refused(ERRNO_NO_PERMISSION)
        return flow.outside("outbound", caller, number, self._pbx.outbound_trunk)

    @staticmethod
    def _connected(leg: Member) -> None:
        """Refuse with 10015 a leg that is not talking (still ringing)."""
        if leg.memberstatus not in CONNECTED:
            raise Refused(ERRNO_NOT_CONNECTED)

    # Placing calls

    def dial(
        self,
        caller: str,
        callee: str,
        *,
        autoanswer: bool,
        permission: str | None = None,
        extensions_only: bool = False,
    ) -> str:
        """Ring the caller's phone; once it is picked up, ring the callee.

        As the documents put it: the extension rings first, its user picks up, and
        the number is dialled; with ``autoanswer`` the phone answers by itself.
        """
        self.extension(caller)
        if permission:
            self.extension(permission)
        self._idle(caller)
        flow = Flow(self.new_call())
        target = self._callee(
            flow, caller, callee, permission, extensions_only=extensions_only
        )
        flow.ring(None, [flow.phone(caller)])
        self._send(flow)
        call = self._call(flow)
        call.next_callee = target
        if autoanswer:
            self.pick_up(call, call.caller)
        return call.callid

    def play_prompt(
        self, number: str, prompt: str, *, autoanswer: bool, permission: str | None
    ) -> str:
        """Call a number and play a prompt once it answers; the PBX then hangs up."""
        flow = Flow(self.new_call())
        if self._pbx.extensions.get(number) is not None:
            self._idle(number)
            leg: Member = flow.phone(number)
        else:
            if not permission:
                raise Refused(ERRNO_NO_PERMISSION)
            leg = self._callee(flow, permission, number, permission)
        flow.ring(None, [leg])
        self._send(flow)
        call = self._call(flow)
        call.prompt = prompt
        if autoanswer and isinstance(leg, ExtMember):
            self.pick_up(call, call.caller)
        return call.callid

    def door_station(self, door: str, number: str) -> list[Report]:
        """Let an extension call the PBX's own inbound number: out on a trunk, back in.

        The inbound half asks the application first (Invite) when inbound call
        answering control is on; otherwise it rings the inbound route's extension.
        """
        self.extension(door)
        trunk = self._pbx.outbound_trunk
        out = Flow(self.new_call())
        out.ring(out.phone(door), [out.outside("outbound", door, number, trunk)])
        back = Flow(self.new_call())
        inbound = back.outside("inbound", door, number, trunk)
        control = self._pbx.inbound_call_control
        if control:
            back.invite(replace(inbound, memberstatus="RING"))
        else:
            back.ring(inbound, [back.phone(self._destination(inbound))])
        reports = self._send(out) + self._send(back)
        outgoing, incoming = self._call(out), self._call(back)
        outgoing.linked, incoming.linked = incoming.callid, outgoing.callid
        if control:
            self._await_decision(incoming)
        return reports

    # The application's decision on an inbound call (Invite)

    def _await_decision(self, call: LiveCall) -> None:
        """Give the application its window; then the PBX routes the call itself."""
        window = self._pbx.invite_window
        call.decision_due = self._pbx.clock.now() + window
        self._timers[call.callid] = asyncio.get_running_loop().call_later(
            window, self._decide, call.callid
        )

    def _decide(self, callid: str) -> None:
        """Route an inbound call nobody decided on in time."""
        del self._timers[callid]
        call = self.board.get(callid)
        if call is not None and call.decision_due is not None:
            self._route(call)

    def accept(self, call: LiveCall) -> None:
        """Let an inbound call go on to its route (it does not answer a phone)."""
        self._decision_open(call)
        self._route(call)

    def refuse(self, call: LiveCall) -> None:
        """Hang up an inbound call the application does not want."""
        self._decision_open(call)
        call.decision_due = None
        self._timers.pop(call.callid).cancel()
        inbound = call.trunk_leg("inbound")
        assert inbound is not None
        self.hang_up(call, inbound)

    def _decision_open(self, call: LiveCall) -> None:
        """Refuse with 10016 a decision that comes too late (the call went on)."""
        due = call.decision_due
        if due is None:
            raise Refused(ERRNO_TOO_LATE)
        if self._pbx.clock.now() > due:
            self._route(call)
            raise Refused(ERRNO_TOO_LATE)

    def _route(self, call: LiveCall) -> None:
        """Send an accepted inbound call on to its destination."""
        call.decision_due = None
        if (timer := self._timers.pop(call.callid, None)) is not None:
            timer.cancel()
        flow = self._flow(call)
        flow.incoming()
        inbound = flow.current(call.caller)
        assert isinstance(inbound, TrunkMember)
        flow.ring(inbound, [flow.phone(self._destination(inbound))])
        self._send(flow)

    def _destination(self, inbound: TrunkMember) -> str:
        """Return the extension an inbound call rings: the one dialled, else the route's."""
        if self._pbx.extensions.get(inbound.to_number) is not None:
            return inbound.to_number
        return self._pbx.inbound_destination

    # Phones

    def pick_up(self, call: LiveCall, leg: Member) -> None:
        """Answer a ringing leg: a dial then rings its callee, a prompt plays and ends."""
        flow = self._flow(call)
        if call.next_callee is not None and leg.key == call.caller.key:
            callee, call.next_callee = call.next_callee, None
            flow.ring(flow.current(leg), [callee])
            self._send(flow)
            return
        flow.answer(leg)
        if call.prompt is not None:
            flow.prompt_end(leg, call.prompt)
            flow.hang_up(leg)
        self._send(flow)
        linked = self.board.get(call.linked or "")
        if linked is not None and (far := linked.trunk_leg("outbound")) is not None:
            if far.memberstatus == "RING":
                self.pick_up(linked, far)

    def hang_up(self, call: LiveCall, leg: Member) -> str:
        """Put a leg down: the call ends, unless it was one of several still ringing."""
        flow = self._flow(call)
        principal = (call.caller.key, call.answered_by)
        if len(call.legs) > 2 and leg.key not in principal:
            flow.leave(leg)
        else:
            flow.hang_up(leg)
        self._send(flow)
        linked = self.board.get(call.linked or "")
        if linked is not None and self.board.get(call.callid) is None:
            self.hang_up(linked, linked.caller)
        return call.callid

    # Talking

    def hold(self, call: LiveCall, leg: Member, *, on: bool) -> str:
        """Put a talking leg on hold, or take it off (nothing to do: success all the same)."""
        self._connected(leg)
        flow = self._flow(call)
        if on and leg.memberstatus != "HOLD":
            flow.hold(leg)
        elif not on and leg.memberstatus == "HOLD":
            flow.resume(leg)
        self._send(flow)
        return call.callid

    def mute(self, call: LiveCall, leg: Member, *, on: bool) -> str:
        """Mute a talking leg, or unmute it (the PBX reports neither)."""
        self._connected(leg)
        (call.muted.add if on else call.muted.discard)(leg.key)
        return call.callid

    def transfer(
        self, call: LiveCall, leg: Member, number: str, permission: str | None
    ) -> str:
        """Blind transfer: ``leg`` is sent on to ``number``; the party it talked to leaves.

        Not reported as a transfer (the documents: API transfers are not reported).
        """
        flow = self._flow(call)
        others = [m for m in call.legs if m.key != leg.key]
        transferor = next((m.number for m in others if isinstance(m, ExtMember)), "")
        target = self._callee(flow, transferor, number, permission)
        for other in others:
            flow.leave(other)
        flow.ring(flow.current(leg), [target])
        self._send(flow)
        return call.callid

    def attended_transfer(
        self, call: LiveCall, leg: Member, number: str, permission: str | None
    ) -> str:
        """Attended transfer: ``leg`` (the transferor) holds its party and calls ``number``."""
        self._connected(leg)
        flow = self._flow(call)
        target = self._callee(flow, leg.number, number, permission)
        for other in call.legs:
            if other.key != leg.key and other.memberstatus != "HOLD":
                flow.hold(other)
        flow.ring(flow.current(leg), [target])
        self._send(flow)
        call.consult = (leg.key, target.key)
        return call.callid

    def attended_operate(self, call: LiveCall, leg: Member, operate: Operate) -> str:
        """Finish an attended transfer: complete, abort, all three talk, or swap parties."""
        if call.consult is None or call.consult[0] != leg.key:
            raise Refused(ERRNO_NOT_CONNECTED)
        target = call.members[call.consult[1]]
        held = [m for m in call.legs if m.key not in call.consult]
        flow = self._flow(call)
        if operate == "swap":
            # Talk to the held party again while the target waits, or back.
            to_hold, to_resume = (
                ([target], held) if target.memberstatus != "HOLD" else (held, [target])
            )
            for party in to_hold:
                flow.hold(party)
        else:
            if operate == "complete":
                self._connected(target)
                flow.leave(leg)
            elif operate == "abort":
                flow.leave(target)
            to_resume = held
            call.consult = None
        for party in to_resume:
            if flow.current(party).memberstatus == "HOLD":
                flow.resume(party)
        self._send(flow)
        return call.callid

    def _call(self, flow: Flow) -> LiveCall:
        """Return the board's call a flow just started."""
        assert flow.live is not None
        call = self.board.get(flow.live.callid)
        assert call is not None
        return call
