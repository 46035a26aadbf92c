"""The requests that act on calls, as each API version spells them.

v2.0.0 acts on one leg of a call by its channel id (`PJSIP/1001-0000001a`);
v1.x acts on an extension by its number (`extid`), or on a trunk leg by the
call-like id of the inbound or outbound call (`inboundid`, `outboundid`).
"""

from dataclasses import dataclass
import re

from .calls import Leg
from .exceptions import YeastarUnsupportedError
from .models import ApiVersion

# What a number may hold before it reaches the PBX (digits, +, *, #) and its length.
_NUMBER = re.compile(r"^\+?[0-9*#]{1,31}$")


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One API call: the endpoint and its body."""

    endpoint: str
    body: dict[str, str]


def valid_number(number: str) -> bool:
    """Say whether a number is one the PBX could dial: digits, `+` first, `*`, `#`."""
    return bool(_NUMBER.fullmatch(number))


def _yes(value: bool) -> str:
    """Write a flag as the API spells it."""
    return "yes" if value else "no"


def dial(
    version: ApiVersion,
    caller: str,
    callee: str,
    *,
    auto_answer: bool,
    callee_is_extension: bool,
) -> ApiRequest:
    """Make `caller` (an extension) call `callee`."""
    if version is ApiVersion.V2_0_0:
        return ApiRequest(
            "call/dial",
            {"caller": caller, "callee": callee, "autoanswer": _yes(auto_answer)},
        )
    if callee_is_extension:
        return ApiRequest(
            "extension/dial_extension",
            {"caller": caller, "callee": callee, "autoanswer": _yes(auto_answer)},
        )
    return ApiRequest(
        "extension/dial_outbound",
        {"extid": caller, "outto": callee, "autoanswer": _yes(auto_answer)},
    )


def _by_leg(
    version: ApiVersion, v2_endpoint: str, v1_name: str, leg: Leg
) -> ApiRequest:
    """Act on a leg: its channel (v2), the extension or the trunk leg's id (v1)."""
    if version is ApiVersion.V2_0_0:
        return ApiRequest(v2_endpoint, {"channelid": _channel(leg)})
    if leg.kind == "ext" and leg.number is not None:
        return ApiRequest(f"extension/{v1_name}", {"extid": leg.number})
    if leg.kind in ("inbound", "outbound") and leg.channel_id is not None:
        if v1_name != "hangup":
            raise YeastarUnsupportedError("v1 acts on a trunk leg only to hang it up")
        return ApiRequest(f"{leg.kind}/hangup", {f"{leg.kind}id": leg.channel_id})
    raise YeastarUnsupportedError("The call's leg is not known")


def hang_up(version: ApiVersion, leg: Leg) -> ApiRequest:
    """End a leg of a call."""
    return _by_leg(version, "call/hangup", "hangup", leg)


def hold(version: ApiVersion, leg: Leg, *, on: bool) -> ApiRequest:
    """Put a leg on hold, or take it off."""
    return _by_leg(
        version, "call/hold" if on else "call/unhold", "hold" if on else "unhold", leg
    )


def mute(version: ApiVersion, leg: Leg, *, on: bool) -> ApiRequest:
    """Mute a leg, or unmute it."""
    return _by_leg(
        version, "call/mute" if on else "call/unmute", "mute" if on else "unmute", leg
    )


def transfer(
    version: ApiVersion,
    party: Leg,
    number: str,
    *,
    transferor: str | None,
    to_extension: bool,
) -> ApiRequest:
    """Send `party` on to `number` at once (blind); the one who transfers leaves.

    The request names the party that is sent on (Yeastar's transfer pages: "A and
    B are in a call, A is redirected to C: enter A's channel"), with the
    transferor's outbound permission for an outside number. v1 transfers a trunk
    leg only: v1.1.0 to any number (`transfer_number`), v1.0.0 to an extension.
    """
    if version is ApiVersion.V2_0_0:
        body = {"channelid": _channel(party), "number": number}
        if transferor is not None and not to_extension:
            body["dialpermission"] = transferor
        return ApiRequest("call/transfer", body)
    if party.kind == "ext" or party.channel_id is None:
        raise YeastarUnsupportedError("v1 transfers only calls on a trunk")
    kind, call_id = party.kind, party.channel_id
    if version is ApiVersion.V1_1_0:
        body = {f"{kind}id": call_id, "number": number}
        if transferor is not None:
            body["fromext"] = transferor
        return ApiRequest(f"{kind}/transfer_number", body)
    if not to_extension:
        raise YeastarUnsupportedError("v1.0.0 transfers to an extension only")
    return ApiRequest(
        f"{kind}/transfer_extension", {f"{kind}id": call_id, "extid": number}
    )


def attended_transfer(version: ApiVersion, leg: Leg, number: str) -> ApiRequest:
    """Start an attended transfer (v2): the extension (`leg`, the transferor) talks to `number` first."""
    _v2_only(version)
    return ApiRequest(
        "call/attended_transfer", {"channelid": _channel(leg), "tonumber": number}
    )


def finish_attended_transfer(
    version: ApiVersion, leg: Leg, *, complete: bool
) -> ApiRequest:
    """Complete an attended transfer, or abort it (v2)."""
    _v2_only(version)
    return ApiRequest(
        "call/attended_transfer_operate",
        {"channelid": _channel(leg), "operate": "complete" if complete else "abort"},
    )


def answer_invite(version: ApiVersion, trunk_leg: Leg, *, accept: bool) -> ApiRequest:
    """Accept or refuse an inbound call the PBX asked about (`Invite`)."""
    if trunk_leg.channel_id is None:
        raise YeastarUnsupportedError("The inbound call's channel is not known")
    if version is ApiVersion.V2_0_0:
        endpoint = "call/accept_inbound" if accept else "call/refuse_inbound"
        return ApiRequest(endpoint, {"channelid": trunk_leg.channel_id})
    endpoint = "inbound/accept" if accept else "inbound/refuse"
    return ApiRequest(endpoint, {"inboundid": trunk_leg.channel_id})


def play_prompt(
    version: ApiVersion,
    number: str,
    prompts: list[str],
    *,
    count: int | None,
    volume: int | None,
    auto_answer: bool,
    to_extension: bool,
) -> ApiRequest:
    """Call `number` and play custom prompts (`a+b`) to whoever answers."""
    prompt = "+".join(prompts)
    if version is ApiVersion.V2_0_0:
        body = {"number": number, "prompt": prompt, "autoanswer": _yes(auto_answer)}
        if count is not None:
            body["count"] = str(count)
        if volume is not None:
            body["volume"] = str(volume)
        return ApiRequest("call/playprompt", body)
    if not to_extension:
        raise YeastarUnsupportedError("v1 plays prompts to extensions only")
    return ApiRequest(
        "extension/playprompt",
        {"extid": number, "prompt": prompt, "autoanswer": _yes(auto_answer)},
    )


def _channel(leg: Leg) -> str:
    """Return a leg's channel, which every v2 call action needs."""
    if leg.channel_id is None:
        raise YeastarUnsupportedError("The call's channel is not known")
    return leg.channel_id


def _v2_only(version: ApiVersion) -> None:
    """Refuse what only API v2.0.0 offers."""
    if version is not ApiVersion.V2_0_0:
        raise YeastarUnsupportedError("Only API v2.0.0 has attended transfers")
