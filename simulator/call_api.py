"""The call endpoints of each API version: bodies, answers and errnos as documented.

v2.0.0 acts on a leg by its channel (``PJSIP/1020-0000003b``) and answers the call's
id; v1.x acts on an extension by ``extid``, on a trunk leg by its call-id-like
``inboundid``/``outboundid``. A blank required field answers 10004; a channel or
call id the PBX does not have, 10005 (v2) or 10007 (v1).
"""

from collections.abc import Callable, Iterable
from typing import Any, cast

from .calls import CONNECTED, LiveCall
from .reports import ExtMember, Member, TrunkMember
from .switchboard import ERRNO_BLANK, Operate, Refused, Switchboard

type Json = dict[str, Any]
type Handler = Callable[[Json], Json]
type _Act = Callable[[LiveCall, Member], str]

ERRNO_NO_CHANNEL = "10005"
ERRNO_NO_CALL = "10007"
_OPERATES = frozenset({"abort", "complete", "threeway", "swap"})


def _text(body: Json, key: str) -> str:
    """Return a required field, or refuse with 10004 when it is missing or blank."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Refused(ERRNO_BLANK)
    text = str(value).strip()
    if not text:
        raise Refused(ERRNO_BLANK)
    return text


def _optional(body: Json, key: str) -> str | None:
    """Return an optional field, None when missing or blank."""
    value = body.get(key)
    return str(value).strip() or None if isinstance(value, str | int) else None


def _yes(body: Json, key: str) -> bool:
    """Read a yes/no flag; the documents' default is no."""
    return str(body.get(key, "no")).strip().lower() == "yes"


def _success(callid: str | None = None) -> Json:
    """Build a success answer, with the call's id where the API gives one."""
    return (
        {"status": "Success"}
        if callid is None
        else {"status": "Success", "callid": callid}
    )


class CallApi:
    """Answer the call endpoints by acting on the switchboard."""

    def __init__(self, switchboard: Switchboard) -> None:
        """Act on ``switchboard``."""
        self._calls = switchboard

    def handlers(self, version: str) -> dict[str, Handler]:
        """Return the call endpoints one API version has."""
        if version == "v2.0.0":
            return {
                "call/dial": self._dial,
                "call/hangup": self._on_channel(self._calls.hang_up),
                "call/transfer": self._transfer,
                "call/attended_transfer": self._attended_transfer,
                "call/attended_transfer_operate": self._attended_operate,
                "call/hold": self._on_channel(self._hold(on=True)),
                "call/unhold": self._on_channel(self._hold(on=False)),
                "call/mute": self._on_channel(self._mute(on=True)),
                "call/unmute": self._on_channel(self._mute(on=False)),
                "call/accept_inbound": self._decide(accept=True),
                "call/refuse_inbound": self._decide(accept=False),
                "call/playprompt": self._play_prompt,
                "call/query": self._query,
                "extension/query_call": self._query_extensions,
            }
        handlers: dict[str, Handler] = {
            "extension/dial_extension": self._dial_extension,
            "extension/dial_outbound": self._dial_outbound,
            "extension/hangup": self._on_extension(self._calls.hang_up),
            "inbound/hangup": self._on_trunk("inbound", self._calls.hang_up),
            "outbound/hangup": self._on_trunk("outbound", self._calls.hang_up),
            "inbound/accept": self._v1_decide(accept=True),
            "inbound/refuse": self._v1_decide(accept=False),
            "extension/hold": self._on_extension(self._hold(on=True)),
            "extension/unhold": self._on_extension(self._hold(on=False)),
            "extension/mute": self._on_extension(self._mute(on=True)),
            "extension/unmute": self._on_extension(self._mute(on=False)),
            "inbound/query": self._v1_query("inbound"),
            "outbound/query": self._v1_query("outbound"),
            "extension/playprompt": self._v1_play_prompt,
        }
        for direction in ("inbound", "outbound"):
            if version == "v1.1.0":
                handlers[f"{direction}/transfer_number"] = self._v1_transfer(
                    direction, "number", extensions_only=False
                )
            else:
                handlers[f"{direction}/transfer_extension"] = self._v1_transfer(
                    direction, "extid", extensions_only=True
                )
        return handlers

    # Finding the leg a request acts on

    def _channel(self, body: Json) -> tuple[LiveCall, Member]:
        """Return the call and leg of the request's ``channelid`` (v2)."""
        found = self._calls.board.by_channel(_text(body, "channelid"))
        if found is None:
            raise Refused(ERRNO_NO_CHANNEL)
        return found

    def _extension_leg(self, body: Json) -> tuple[LiveCall, Member]:
        """Return the newest call and leg of the request's ``extid`` (v1)."""
        number = _text(body, "extid")
        self._calls.extension(number)
        calls = self._calls.board.of_extension(number)
        if not calls:
            raise Refused(ERRNO_NO_CALL)
        return calls[-1]

    def _trunk_leg(self, body: Json, direction: str) -> tuple[LiveCall, Member]:
        """Return the call and trunk leg of the request's ``inboundid``/``outboundid`` (v1)."""
        found = self._calls.board.by_leg_id(direction, _text(body, f"{direction}id"))
        if found is None:
            raise Refused(ERRNO_NO_CALL)
        return found

    def _on_channel(self, act: _Act) -> Handler:
        """Act on a v2 channel; answer the call's id."""
        return lambda body: _success(act(*self._channel(body)))

    def _on_extension(self, act: _Act) -> Handler:
        """Act on a v1 extension's call; answer the status alone."""

        def handle(body: Json) -> Json:
            act(*self._extension_leg(body))
            return _success()

        return handle

    def _on_trunk(self, direction: str, act: _Act) -> Handler:
        """Act on a v1 trunk leg; answer the status alone."""

        def handle(body: Json) -> Json:
            act(*self._trunk_leg(body, direction))
            return _success()

        return handle

    def _hold(self, *, on: bool) -> _Act:
        """Hold or resume a leg."""
        return lambda call, leg: self._calls.hold(call, leg, on=on)

    def _mute(self, *, on: bool) -> _Act:
        """Mute or unmute a leg."""
        return lambda call, leg: self._calls.mute(call, leg, on=on)

    # v2.0.0

    def _dial(self, body: Json) -> Json:
        """``call/dial``: caller, callee, [dialpermission], [autoanswer]."""
        return _success(
            self._calls.dial(
                _text(body, "caller"),
                _text(body, "callee"),
                autoanswer=_yes(body, "autoanswer"),
                permission=_optional(body, "dialpermission"),
            )
        )

    def _transfer(self, body: Json) -> Json:
        """``call/transfer``: the channel's party goes on to ``number``."""
        number = _text(body, "number")
        call, leg = self._channel(body)
        return _success(
            self._calls.transfer(call, leg, number, _optional(body, "dialpermission"))
        )

    def _attended_transfer(self, body: Json) -> Json:
        """``call/attended_transfer``: the channel's extension consults ``tonumber``."""
        number = _text(body, "tonumber")
        call, leg = self._channel(body)
        return _success(
            self._calls.attended_transfer(
                call, leg, number, _optional(body, "dialpermission")
            )
        )

    def _attended_operate(self, body: Json) -> Json:
        """``call/attended_transfer_operate``: abort, complete, threeway or swap."""
        operate = _text(body, "operate")
        if operate not in _OPERATES:
            raise Refused(ERRNO_BLANK)
        call, leg = self._channel(body)
        return _success(
            self._calls.attended_operate(call, leg, cast("Operate", operate))
        )

    def _decide(self, *, accept: bool) -> Handler:
        """``call/accept_inbound`` / ``call/refuse_inbound`` on the trunk leg's channel."""

        def handle(body: Json) -> Json:
            call, leg = self._channel(body)
            if not isinstance(leg, TrunkMember) or leg.direction != "inbound":
                raise Refused(ERRNO_NO_CHANNEL)
            (self._calls.accept if accept else self._calls.refuse)(call)
            return _success(call.callid)

        return handle

    def _play_prompt(self, body: Json) -> Json:
        """``call/playprompt``: number, prompt, [count], [dialpermission], [autoanswer], [volume]."""
        return _success(
            self._calls.play_prompt(
                _text(body, "number"),
                _text(body, "prompt"),
                autoanswer=_yes(body, "autoanswer"),
                permission=_optional(body, "dialpermission"),
            )
        )

    def _query(self, body: Json) -> Json:
        """``call/query``: one call by ``callid``, or the calls of a ``type``."""
        board = self._calls.board
        if (callid := _optional(body, "callid")) is not None:
            call = board.get(callid)
            if call is None:
                raise Refused(ERRNO_NO_CHANNEL)
            calls = [call]
        else:
            # The documents name inbound and outbound; anything else is no query.
            kind = _text(body, "type").lower()
            if kind not in ("inbound", "outbound"):
                raise Refused(ERRNO_BLANK)
            calls = [c for c in board if c.trunk_leg(kind) is not None]
        return {
            "status": "Success",
            "calls": [{"members": _members(c.legs), "callid": c.callid} for c in calls],
        }

    def _query_extensions(self, body: Json) -> Json:
        """``extension/query_call``: one extension, several (``1000,1001``) or ``all``."""
        wanted = _text(body, "number")
        board = self._calls.board
        numbers = (
            self._calls.extension_numbers()
            if wanted.lower() == "all"
            else [number.strip() for number in wanted.split(",") if number.strip()]
        )
        for number in numbers:
            self._calls.extension(number)
        return {
            "status": "Success",
            "calllist": [
                {
                    "number": number,
                    "numbercalls": [
                        {"callid": call.callid, "members": _members(call.legs)}
                        for call, _ in board.of_extension(number)
                    ],
                }
                for number in numbers
            ],
        }

    # v1.x

    def _dial_extension(self, body: Json) -> Json:
        """``extension/dial_extension``: caller, callee (an extension), [autoanswer]."""
        return _success(
            self._calls.dial(
                _text(body, "caller"),
                _text(body, "callee"),
                autoanswer=_yes(body, "autoanswer"),
                extensions_only=True,
            )
        )

    def _dial_outbound(self, body: Json) -> Json:
        """``extension/dial_outbound``: extid, outto (an outside number), [autoanswer]."""
        return _success(
            self._calls.dial(
                _text(body, "extid"),
                _text(body, "outto"),
                autoanswer=_yes(body, "autoanswer"),
            )
        )

    def _v1_decide(self, *, accept: bool) -> Handler:
        """``inbound/accept`` / ``inbound/refuse``: by ``inboundid``."""

        def handle(body: Json) -> Json:
            call, _ = self._trunk_leg(body, "inbound")
            (self._calls.accept if accept else self._calls.refuse)(call)
            return _success()

        return handle

    def _v1_transfer(
        self, direction: str, target: str, *, extensions_only: bool
    ) -> Handler:
        """v1.1.0 ``…/transfer_number`` (number, fromext); v1.0.x ``…/transfer_extension`` (extid)."""

        def handle(body: Json) -> Json:
            number = _text(body, target)
            if extensions_only:
                self._calls.extension(number)
            call, leg = self._trunk_leg(body, direction)
            return _success(
                self._calls.transfer(call, leg, number, _optional(body, "fromext"))
            )

        return handle

    def _v1_query(self, direction: str) -> Handler:
        """``inbound/query`` / ``outbound/query``: all calls, or the ids given (``a,b``)."""

        def handle(body: Json) -> Json:
            wanted = _optional(body, f"{direction}id")
            ids = None if wanted is None else {i.strip() for i in wanted.split(",")}
            items = []
            for call in self._calls.board:
                leg = call.trunk_leg(direction)
                if leg is None or (ids is not None and leg.leg_id not in ids):
                    continue
                items.append(self._v1_item(call, leg))
            return {"status": "Success", direction: items}

        return handle

    @staticmethod
    def _v1_item(call: LiveCall, leg: TrunkMember) -> Json:
        """Describe a trunk call as v1 queries do (status Talking, Progress or Wait)."""
        if call.decision_due is not None:
            status = "Wait"
        elif leg.memberstatus in CONNECTED:
            status = "Talking"
        else:
            status = "Progress"
        item: Json = {
            f"{leg.direction}id": leg.leg_id,
            "from": leg.from_number,
            "to": leg.to_number,
            "trunk": leg.trunkname,
            "status": status,
        }
        if leg.direction == "inbound":
            item["callee"] = [
                {"extid": m.number} for m in call.legs if isinstance(m, ExtMember)
            ]
        return item

    def _v1_play_prompt(self, body: Json) -> Json:
        """``extension/playprompt``: extid, prompt, [autoanswer]."""
        number = _text(body, "extid")
        self._calls.extension(number)
        return _success(
            self._calls.play_prompt(
                number,
                _text(body, "prompt"),
                autoanswer=_yes(body, "autoanswer"),
                permission=None,
            )
        )


def _members(members: Iterable[Member]) -> list[Json]:
    """Return v2 members as queries list them."""
    return [member.v2() for member in members]
