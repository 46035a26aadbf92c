"""Canned call flows: the report sequences a real PBX sends for common calls.

Each flow is written out before any report leaves; the PBX then sends the reports,
and its board follows them, so the call shows in queries while it lasts. ``stay``
(``ringing`` or ``talking``) stops a flow there: the call stays on until a phone
or an API request ends it.
"""

from collections.abc import Callable
from enum import StrEnum

from .flows import Call, Flow
from .inventory import check_extension_status
from .reports import ExtensionStatus, Member, NewCdr, Report

# Call is here too: canned calls are written for the identifiers it holds.
__all__ = [
    "CALL_FLOWS",
    "STAYS",
    "DEFAULT_CALLER",
    "DEFAULT_TRUNK",
    "Call",
    "Scenario",
    "extension_status",
    "failed_call",
    "inbound_answered",
    "internal_call",
    "missed_call",
    "ring_group",
    "transfer",
]

DEFAULT_CALLER = "13800000000"
DEFAULT_TRUNK = "SIP-142"
# How long canned calls ring and talk (their records show it).
RING_SECONDS = 5.0
TALK_SECONDS = 30.0
GIVE_UP_SECONDS = 20.0


class Scenario(StrEnum):
    """What ``SimulatedPBX.play`` can act out."""

    INBOUND_ANSWERED = "inbound_answered"
    MISSED_CALL = "missed_call"
    INTERNAL_CALL = "internal_call"
    FAILED_CALL = "failed_call"
    EXTENSION_STATUS = "extension_status"
    REBOOT = "reboot"
    RING_GROUP = "ring_group"
    TRANSFER = "transfer"
    REBOOT_MID_CALL = "reboot_mid_call"
    DOOR_STATION = "door_station"


# Where a flow can stop (``stay``): the call then stays ringing or talking.
STAYS: dict[Scenario, tuple[str, ...]] = {
    Scenario.INBOUND_ANSWERED: ("ringing", "talking"),
    Scenario.MISSED_CALL: ("ringing",),
    Scenario.INTERNAL_CALL: ("ringing", "talking"),
    Scenario.RING_GROUP: ("ringing", "talking"),
    Scenario.TRANSFER: ("ringing", "talking"),
}


def _check_stay(stay: str, *allowed: str) -> None:
    """Refuse a stop the flow does not have."""
    if stay not in ("", *allowed):
        raise ValueError(f"stay must be one of {', '.join(allowed)}")


def inbound_answered(
    call: Call,
    *,
    caller: str = DEFAULT_CALLER,
    extension: str = "1001",
    trunk: str = DEFAULT_TRUNK,
    stay: str = "",
) -> list[Report]:
    """Play an outside caller who reaches an extension, talks and hangs up."""
    _check_stay(stay, *STAYS[Scenario.INBOUND_ANSWERED])
    flow = Flow(call)
    outside = flow.outside("inbound", caller, extension, trunk)
    phone = flow.phone(extension)
    flow.ring(outside, [phone])
    if stay == "ringing":
        return flow.reports
    flow.wait(RING_SECONDS)
    flow.answer(phone)
    if stay != "talking":
        flow.wait(TALK_SECONDS)
        flow.hang_up(outside)
    return flow.reports


def missed_call(
    call: Call,
    *,
    caller: str = DEFAULT_CALLER,
    extension: str = "1001",
    trunk: str = DEFAULT_TRUNK,
    stay: str = "",
) -> list[Report]:
    """Play an outside caller ringing an extension that never answers."""
    _check_stay(stay, *STAYS[Scenario.MISSED_CALL])
    flow = Flow(call)
    outside = flow.outside("inbound", caller, extension, trunk)
    flow.ring(outside, [flow.phone(extension)])
    if stay != "ringing":
        flow.wait(GIVE_UP_SECONDS)
        flow.hang_up(outside)
    return flow.reports


def internal_call(
    call: Call,
    *,
    caller_ext: str = "1000",
    extension: str = "1001",
    stay: str = "",
) -> list[Report]:
    """Play one extension calling another, which answers; the caller hangs up."""
    _check_stay(stay, *STAYS[Scenario.INTERNAL_CALL])
    flow = Flow(call)
    caller, callee = flow.phone(caller_ext), flow.phone(extension)
    flow.ring(caller, [callee])
    if stay == "ringing":
        return flow.reports
    flow.wait(RING_SECONDS)
    flow.answer(callee)
    if stay != "talking":
        flow.wait(TALK_SECONDS / 3)
        flow.hang_up(caller)
    return flow.reports


def failed_call(
    call: Call,
    *,
    extension: str = "1002",
    number: str = "41000",
    trunk: str = DEFAULT_TRUNK,
    reason: str = "486 Busy Here",
) -> list[Report]:
    """Play an extension dialling out to a busy far end."""
    flow = Flow(call)
    members: list[Member] = [
        flow.outside("outbound", extension, number, trunk),
        flow.phone(extension),
    ]
    record = NewCdr(
        callid=call.callid,
        timestart=call.timestart,
        callfrom=extension,
        callto=number,
        callduraction="3",
        talkduraction="0",
        status="BUSY",
        type="Outbound",
        dsttrunkname=trunk,
    )
    flow.fail(members, reason, record)
    return flow.reports


def ring_group(
    call: Call,
    *,
    caller: str = DEFAULT_CALLER,
    group: str = "6200",
    extensions: str = "1000,1001,1002",
    answered_by: str = "1001",
    trunk: str = DEFAULT_TRUNK,
    stay: str = "",
) -> list[Report]:
    """Play an outside call to a ring group: all its phones ring, one answers or none.

    ``answered_by`` empty: nobody answers and the caller gives up.
    """
    _check_stay(stay, *STAYS[Scenario.RING_GROUP])
    flow = Flow(call)
    outside = flow.outside("inbound", caller, group, trunk)
    phones = {number: flow.phone(number, group) for number in extensions.split(",")}
    if answered_by and answered_by not in phones:
        raise ValueError(f"{answered_by} is not in the ring group")
    flow.ring(outside, list(phones.values()))
    if stay == "ringing":
        return flow.reports
    if not answered_by:
        flow.wait(GIVE_UP_SECONDS)
        flow.hang_up(outside)
        return flow.reports
    flow.wait(RING_SECONDS)
    flow.answer(phones[answered_by])
    if stay != "talking":
        flow.wait(TALK_SECONDS)
        flow.hang_up(outside)
    return flow.reports


def transfer(
    call: Call,
    *,
    caller: str = DEFAULT_CALLER,
    extension: str = "1001",
    to: str = "1000",
    trunk: str = DEFAULT_TRUNK,
    stay: str = "",
) -> list[Report]:
    """Play an answered outside call that the extension transfers on its phone (``*03``)."""
    _check_stay(stay, *STAYS[Scenario.TRANSFER])
    flow = Flow(call)
    outside = flow.outside("inbound", caller, extension, trunk)
    first, second = flow.phone(extension), flow.phone(to)
    flow.ring(outside, [first])
    flow.wait(RING_SECONDS)
    flow.answer(first)
    flow.wait(TALK_SECONDS / 3)
    flow.transfer(first)
    flow.leave(first)
    flow.ring(flow.current(outside), [second])
    if stay == "ringing":
        return flow.reports
    flow.wait(RING_SECONDS)
    flow.answer(second)
    if stay != "talking":
        flow.wait(TALK_SECONDS)
        flow.hang_up(outside)
    return flow.reports


def extension_status(
    call: Call, *, extension: str = "1001", status: str = "Busy"
) -> list[Report]:
    """Play one extension changing state (``call`` is unused: no call is involved)."""
    check_extension_status(status)
    return [ExtensionStatus(extension, status)]


# The flows that need nothing but a call's identifiers (the others act on the PBX).
CALL_FLOWS: dict[Scenario, Callable[..., list[Report]]] = {
    Scenario.INBOUND_ANSWERED: inbound_answered,
    Scenario.MISSED_CALL: missed_call,
    Scenario.INTERNAL_CALL: internal_call,
    Scenario.FAILED_CALL: failed_call,
    Scenario.EXTENSION_STATUS: extension_status,
    Scenario.RING_GROUP: ring_group,
    Scenario.TRANSFER: transfer,
}
