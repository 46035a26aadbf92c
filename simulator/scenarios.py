"""Canned call flows: the report sequences a real PBX sends for common calls."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from .reports import (
    CallFailed,
    CallStatus,
    ExtensionStatus,
    ExtMember,
    NewCdr,
    Report,
    TrunkMember,
)

DEFAULT_CALLER = "13800000000"
DEFAULT_TRUNK = "SIP-142"


class Scenario(StrEnum):
    """What ``SimulatedPBX.play`` can act out."""

    INBOUND_ANSWERED = "inbound_answered"
    MISSED_CALL = "missed_call"
    INTERNAL_CALL = "internal_call"
    FAILED_CALL = "failed_call"
    EXTENSION_STATUS = "extension_status"
    REBOOT = "reboot"


@dataclass(frozen=True, slots=True)
class Call:
    """The identifiers every report of one call shares."""

    callid: str
    timestart: str

    def channel(self, name: str) -> str:
        """Return a channel id for one leg, unique per call like Asterisk's."""
        return f"PJSIP/{name}-{self.callid.partition('.')[2]:0>8}"


def inbound_answered(
    call: Call,
    *,
    caller: str = DEFAULT_CALLER,
    extension: str = "1001",
    trunk: str = DEFAULT_TRUNK,
) -> list[Report]:
    """Play an outside caller who reaches an extension, talks and hangs up."""
    return _inbound(call, caller, extension, trunk, answered=True)


def missed_call(
    call: Call,
    *,
    caller: str = DEFAULT_CALLER,
    extension: str = "1001",
    trunk: str = DEFAULT_TRUNK,
) -> list[Report]:
    """Play an outside caller ringing an extension that never answers."""
    return _inbound(call, caller, extension, trunk, answered=False)


def _inbound(
    call: Call, caller: str, extension: str, trunk: str, *, answered: bool
) -> list[Report]:
    """Build an inbound call, answered or not."""

    def members(trunk_status: str, ext_status: str) -> tuple[TrunkMember, ExtMember]:
        return (
            TrunkMember(
                direction="inbound",
                from_number=caller,
                to_number=extension,
                trunkname=trunk,
                memberstatus=trunk_status,
                channelid=call.channel(trunk),
            ),
            ExtMember(
                number=extension,
                memberstatus=ext_status,
                channelid=call.channel(extension),
            ),
        )

    reports: list[Report] = [
        ExtensionStatus(extension, "Ringing"),
        CallStatus(callid=call.callid, action="RING", members=members("RING", "RING")),
    ]
    if answered:
        reports += [
            CallStatus(
                callid=call.callid,
                action="ANSWERED",
                members=members("ANSWERED", "ANSWER"),
            ),
            ExtensionStatus(extension, "Busy"),
        ]
    reports += [
        CallStatus(callid=call.callid, action="BYE", members=members("BYE", "BYE")),
        ExtensionStatus(extension, "Registered"),
        NewCdr(
            callid=call.callid,
            timestart=call.timestart,
            callfrom=caller,
            callto=extension,
            callduraction="35" if answered else "20",
            talkduraction="30" if answered else "0",
            status="ANSWERED" if answered else "NO ANSWER",
            type="Inbound",
            srctrunkname=trunk,
        ),
    ]
    return reports


def internal_call(
    call: Call, *, caller_ext: str = "1000", extension: str = "1001"
) -> list[Report]:
    """Play one extension calling another, which answers."""

    def members(caller_status: str, callee_status: str) -> tuple[ExtMember, ExtMember]:
        return (
            ExtMember(
                number=caller_ext,
                memberstatus=caller_status,
                channelid=call.channel(caller_ext),
            ),
            ExtMember(
                number=extension,
                memberstatus=callee_status,
                channelid=call.channel(extension),
            ),
        )

    return [
        CallStatus(callid=call.callid, action="RING", members=members("ALERT", "RING")),
        CallStatus(
            callid=call.callid, action="ANSWER", members=members("ANSWERED", "ANSWER")
        ),
        CallStatus(callid=call.callid, action="BYE", members=members("BYE", "BYE")),
        NewCdr(
            callid=call.callid,
            timestart=call.timestart,
            callfrom=caller_ext,
            callto=extension,
            callduraction="15",
            talkduraction="10",
            status="ANSWERED",
            type="Internal",
        ),
    ]


def failed_call(
    call: Call,
    *,
    extension: str = "1002",
    number: str = "41000",
    trunk: str = DEFAULT_TRUNK,
) -> list[Report]:
    """Play an extension dialling out to a busy far end."""
    return [
        CallFailed(
            callid=call.callid,
            members=(
                ExtMember(
                    number=extension,
                    memberstatus="BYE",
                    channelid=call.channel(extension),
                ),
                TrunkMember(
                    direction="outbound",
                    from_number=extension,
                    to_number=number,
                    trunkname=trunk,
                    memberstatus="BYE",
                    channelid=call.channel(trunk),
                ),
            ),
        ),
        NewCdr(
            callid=call.callid,
            timestart=call.timestart,
            callfrom=extension,
            callto=number,
            callduraction="3",
            talkduraction="0",
            status="BUSY",
            type="Outbound",
            dsttrunkname=trunk,
        ),
    ]


def extension_status(
    call: Call, *, extension: str = "1001", status: str = "Busy"
) -> list[Report]:
    """Play one extension changing state (``call`` is unused: no call is involved)."""
    return [ExtensionStatus(extension, status)]


CALL_FLOWS: dict[Scenario, Callable[..., list[Report]]] = {
    Scenario.INBOUND_ANSWERED: inbound_answered,
    Scenario.MISSED_CALL: missed_call,
    Scenario.INTERNAL_CALL: internal_call,
    Scenario.FAILED_CALL: failed_call,
    Scenario.EXTENSION_STATUS: extension_status,
}
