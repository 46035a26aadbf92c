"""Actions on calls (dial, hang up, transfer, hold, mute, answer, announce) and forwarding.

Each targets a device: an extension's (act for that extension, on its current
call) or the PBX's (with the numbers or the call id given). What the PBX refuses
becomes an error in the user's terms; a session the PBX forgot is renewed once
by the client; a refused password never leads to a login. Actions that can
place a call to an outside number, or forward calls to one, cost money: they
are for administrators (automations and scripts run them as usual).
"""

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv, service
from homeassistant.util import dt as dt_util
import probatio

from .api import ApiVersion, YeastarError, YeastarRequestError, call_control
from .api.call_control import ApiRequest
from .api.calls import Call, Leg
from .api.cdr import CallStatus
from .api.settings import ForwardDestination, Forwarding, ForwardMode, forwarding_update
from .api.sms import SmsProblem, message_problem
from .call_history import MAX_RECORDS, HistoryQuery, describe
from .const import DOMAIN, ConnectionState
from .coordinator import YeastarConfigEntry, YeastarCoordinator
from .devices import extension_number, trunk_name
from .errors import invalid, refusal, unavailable
from .permissions import async_require_admin

SERVICE_DIAL: Final = "dial"
SERVICE_HANG_UP: Final = "hang_up"
SERVICE_TRANSFER: Final = "transfer"
SERVICE_COMPLETE_TRANSFER: Final = "complete_transfer"
SERVICE_CANCEL_TRANSFER: Final = "cancel_transfer"
SERVICE_HOLD: Final = "hold"
SERVICE_RESUME: Final = "resume"
SERVICE_MUTE: Final = "mute"
SERVICE_UNMUTE: Final = "unmute"
SERVICE_ACCEPT_CALL: Final = "accept_call"
SERVICE_REFUSE_CALL: Final = "refuse_call"
SERVICE_PLAY_PROMPT: Final = "play_prompt"
SERVICE_SET_FORWARDING: Final = "set_forwarding"
SERVICE_GET_CALL_HISTORY: Final = "get_call_history"
SERVICE_SEND_SMS: Final = "send_sms"

ATTR_CALLER: Final = "caller"
ATTR_CALLEE: Final = "callee"
ATTR_AUTO_ANSWER: Final = "auto_answer"
ATTR_CALLID: Final = "callid"
ATTR_NUMBER: Final = "number"
ATTR_ATTENDED: Final = "attended"
ATTR_PROMPT: Final = "prompt"
ATTR_COUNT: Final = "count"
ATTR_VOLUME: Final = "volume"
ATTR_MODE: Final = "mode"
ATTR_ENABLED: Final = "enabled"
ATTR_DESTINATION: Final = "destination"
ATTR_DIRECTION: Final = "direction"
ATTR_STATUS: Final = "status"
ATTR_SINCE: Final = "since"
ATTR_LIMIT: Final = "limit"
ATTR_SOURCE: Final = "source"
ATTR_TRUNK: Final = "trunk"
ATTR_MESSAGE: Final = "message"
ATTR_WAIT_FOR_RESULT: Final = "wait_for_result"
ATTR_TIMEOUT: Final = "timeout"
# Where get_call_history reads: the records kept here, or the PBX's download.
SOURCE_KEPT: Final = "kept"
SOURCE_PBX: Final = "pbx"
# How far back the PBX's call records are read when `since` is not given.
DEFAULT_PBX_HISTORY: Final = timedelta(days=7)
# Trunk types that carry text messages.
SMS_TRUNK_TYPES: Final = frozenset({"gsm", "3g", "4g", "lte", "wcdma", "cdma"})

# The call is gone at the PBX: forget it.
_CALL_GONE: Final = frozenset({"10005", "10007"})


def _number(value: Any) -> str:
    """Check a number the PBX will dial: digits, `+` first, `*`, `#`; given as text."""
    number = str(value).strip()
    if not call_control.valid_number(number):
        raise probatio.Invalid("not a phone number")
    return number


def _forward_number(value: Any) -> str:
    """Check a forwarding number: digits only, at most 15 (the PBX's limit)."""
    number = str(value).strip()
    if not (number.isdigit() and number.isascii() and len(number) <= 15):
        raise probatio.Invalid("not a forwarding number")
    return number


type Fields = dict[probatio.Marker, Any]

DEVICE: Fields = {probatio.Required(ATTR_DEVICE_ID): cv.string}
CALLID: Fields = {probatio.Optional(ATTR_CALLID): cv.string}
SCHEMAS: Final[dict[str, Fields]] = {
    SERVICE_DIAL: {
        **DEVICE,
        probatio.Optional(ATTR_CALLER): _number,
        probatio.Required(ATTR_CALLEE): _number,
        probatio.Optional(ATTR_AUTO_ANSWER, default=False): cv.boolean,
    },
    SERVICE_HANG_UP: {**DEVICE, **CALLID},
    SERVICE_TRANSFER: {
        **DEVICE,
        **CALLID,
        probatio.Required(ATTR_NUMBER): _number,
        probatio.Optional(ATTR_ATTENDED, default=False): cv.boolean,
    },
    SERVICE_COMPLETE_TRANSFER: {**DEVICE, **CALLID},
    SERVICE_CANCEL_TRANSFER: {**DEVICE, **CALLID},
    SERVICE_HOLD: {**DEVICE, **CALLID},
    SERVICE_RESUME: {**DEVICE, **CALLID},
    SERVICE_MUTE: {**DEVICE, **CALLID},
    SERVICE_UNMUTE: {**DEVICE, **CALLID},
    SERVICE_ACCEPT_CALL: {**DEVICE, probatio.Required(ATTR_CALLID): cv.string},
    SERVICE_REFUSE_CALL: {**DEVICE, probatio.Required(ATTR_CALLID): cv.string},
    SERVICE_PLAY_PROMPT: {
        **DEVICE,
        probatio.Required(ATTR_NUMBER): _number,
        probatio.Required(ATTR_PROMPT): probatio.All(
            cv.ensure_list, [cv.string], probatio.Length(min=1)
        ),
        probatio.Optional(ATTR_COUNT): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=100)
        ),
        probatio.Optional(ATTR_VOLUME): probatio.All(
            probatio.Coerce(int), probatio.Range(min=0, max=20)
        ),
        probatio.Optional(ATTR_AUTO_ANSWER, default=False): cv.boolean,
    },
    SERVICE_SET_FORWARDING: {
        **DEVICE,
        probatio.Required(ATTR_MODE): probatio.Coerce(ForwardMode),
        probatio.Required(ATTR_ENABLED): cv.boolean,
        probatio.Optional(ATTR_DESTINATION): probatio.Coerce(ForwardDestination),
        probatio.Optional(ATTR_NUMBER): _forward_number,
    },
    SERVICE_GET_CALL_HISTORY: {
        **DEVICE,
        probatio.Optional(ATTR_DIRECTION): probatio.In(
            ["inbound", "outbound", "internal"]
        ),
        probatio.Optional(ATTR_STATUS): probatio.Coerce(CallStatus),
        probatio.Optional(ATTR_SINCE): cv.datetime,
        probatio.Optional(ATTR_LIMIT, default=50): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=MAX_RECORDS)
        ),
        probatio.Optional(ATTR_SOURCE, default=SOURCE_KEPT): probatio.In(
            [SOURCE_KEPT, SOURCE_PBX]
        ),
    },
    SERVICE_SEND_SMS: {
        **DEVICE,
        probatio.Optional(ATTR_TRUNK): cv.string,
        probatio.Required(ATTR_NUMBER): _number,
        probatio.Required(ATTR_MESSAGE): str,
        probatio.Optional(ATTR_WAIT_FOR_RESULT, default=False): cv.boolean,
        probatio.Optional(ATTR_TIMEOUT, default=60): probatio.All(
            probatio.Coerce(float), probatio.Range(min=1, max=600)
        ),
    },
}


class Target:
    """What an action acts on: a PBX, and perhaps one of its extensions."""

    def __init__(self, hass: HomeAssistant, call: ServiceCall) -> None:
        """Resolve the call's device to a loaded entry (an error when it is none).

        A trunk's device stands for the PBX in every action but send_sms.
        """
        device, entry = service.async_get_device_and_config_entry(
            hass, DOMAIN, call.data[ATTR_DEVICE_ID]
        )
        self.hass = hass
        self.call = call
        self.entry: YeastarConfigEntry = entry
        self.coordinator: YeastarCoordinator = entry.runtime_data.coordinator
        self.extension = extension_number(device, self.coordinator.serial)
        self.trunk = trunk_name(device, self.coordinator.serial)

    def require_session(self) -> None:
        """Refuse at once an action the PBX cannot take now."""
        if self.coordinator.connection_state is not ConnectionState.CONNECTED:
            raise unavailable(self.entry)

    @property
    def version(self) -> ApiVersion:
        """The PBX's API version."""
        return self.coordinator.client.api_version

    def is_extension(self, number: str) -> bool:
        """Say whether a number is one of the PBX's extensions."""
        return number in self.coordinator.data.extensions

    def required(self, value: str | None, field: str) -> str:
        """Return a value the action needs, or say it is missing."""
        if value is None:
            raise invalid("field_needed", field=field)
        return value

    async def async_require_admin(self, number: str | None) -> None:
        """Refuse a non-administrator an outside number (None: the extension's mobile).

        A call to it can cost money.
        """
        if number is None or not self.is_extension(number):
            await async_require_admin(self.hass, self.call.context)

    async def async_call(self) -> Call:
        """Return the call acted on: the one given, else the extension's latest."""
        callid = self.call.data.get(ATTR_CALLID)
        if (found := self._find(callid)) is None:
            # Not learnt from the reports (a restart): ask the PBX.
            if self.version is ApiVersion.V2_0_0:
                observed = await self.async_send_raw(
                    self.coordinator.client.extension_calls
                )
                self.coordinator.async_reconcile_calls(observed)
                found = self._find(callid)
        if found is None:
            raise invalid("no_call" if callid is None else "unknown_call")
        return found

    def _find(self, callid: str | None) -> Call | None:
        """Find the call in what the reports told."""
        tracker = self.coordinator.calls
        if callid is not None:
            return tracker.call(callid) or tracker.call_like(callid)
        if self.extension is None:
            raise invalid("field_needed", field=ATTR_CALLID)
        calls = tracker.calls_of(self.extension)
        return calls[-1] if calls else None

    async def async_leg(self) -> tuple[Call | None, Leg]:
        """Return the extension's leg of the call acted on (or the call's main leg).

        v1 acts on an extension by its number, so no call needs to be known then.
        """
        if (
            self.version is not ApiVersion.V2_0_0
            and self.extension is not None
            and ATTR_CALLID not in self.call.data
        ):
            return None, Leg(kind="ext", number=self.extension)
        call = await self.async_call()
        if self.extension is not None and (
            leg := call.legs.get(f"ext:{self.extension}")
        ):
            return call, leg
        leg = call.trunk_leg() or next(iter(call.extension_legs()), None)
        if leg is None:
            raise invalid("unknown_call")
        return call, leg

    async def async_send(self, request: ApiRequest) -> dict[str, Any]:
        """Send a request; the PBX's refusal becomes an error that says why."""
        return await self.async_send_raw(lambda: self.coordinator.client.send(request))

    async def async_send_raw[T](self, send: Callable[[], Awaitable[T]]) -> T:
        """Run a client call; its failure becomes an error that says why."""
        try:
            return await send()
        except YeastarError as err:
            if (
                isinstance(err, YeastarRequestError)
                and err.errno in _CALL_GONE
                and (callid := self.call.data.get(ATTR_CALLID))
            ):
                self.coordinator.async_calls_gone([callid])
            raise refusal(err, self.entry, self.version) from err


async def _async_dial(target: Target) -> ServiceResponse:
    """Make an extension call a number; return the call's id."""
    data = target.call.data
    caller = target.required(data.get(ATTR_CALLER) or target.extension, ATTR_CALLER)
    if not target.is_extension(caller):
        raise invalid("not_an_extension", number=caller)
    callee = data[ATTR_CALLEE]
    answer = await target.async_send(
        call_control.dial(
            target.version,
            caller,
            callee,
            auto_answer=data[ATTR_AUTO_ANSWER],
            callee_is_extension=target.is_extension(callee),
        )
    )
    return {"callid": answer.get("callid")}


async def _async_hang_up(target: Target) -> None:
    """End the extension's call, or the call given."""
    _, leg = await target.async_leg()
    await target.async_send(call_control.hang_up(target.version, leg))


async def _async_transfer(target: Target) -> None:
    """Transfer the call to a number: at once, or attended (talk first)."""
    data = target.call.data
    number = data[ATTR_NUMBER]
    await target.async_require_admin(number)
    call, leg = await target.async_leg()
    if data[ATTR_ATTENDED]:
        request = call_control.attended_transfer(target.version, leg, number)
    else:
        if call is None:  # v1 acts by extension number: find the call
            call = await target.async_call()
        if (party := call.other_party(leg)) is None:
            raise invalid("unknown_call")
        request = call_control.transfer(
            target.version,
            party,
            number,
            transferor=leg.number if leg.kind == "ext" else None,
            to_extension=target.is_extension(number),
        )
    await target.async_send(request)


def _finish_transfer(complete: bool) -> Callable[[Target], Awaitable[None]]:
    """Complete or cancel an attended transfer the extension started."""

    async def _async_finish(target: Target) -> None:
        _, leg = await target.async_leg()
        await target.async_send(
            call_control.finish_attended_transfer(
                target.version, leg, complete=complete
            )
        )

    return _async_finish


def _on_leg(
    build: Callable[[ApiVersion, Leg], ApiRequest],
) -> Callable[[Target], Awaitable[None]]:
    """Act on the extension's leg of its call (hold, resume, mute, unmute)."""

    async def _async_act(target: Target) -> None:
        _, leg = await target.async_leg()
        await target.async_send(build(target.version, leg))

    return _async_act


def _answer_invite(accept: bool) -> Callable[[Target], Awaitable[None]]:
    """Accept or refuse an inbound call the PBX asked about (within about 10 s)."""

    async def _async_answer(target: Target) -> None:
        call = await target.async_call()
        if (trunk := call.trunk_leg()) is None or trunk.kind != "inbound":
            raise invalid("not_an_inbound_call")
        await target.async_send(
            call_control.answer_invite(target.version, trunk, accept=accept)
        )

    return _async_answer


async def _async_play_prompt(target: Target) -> ServiceResponse:
    """Call a number and play prompts to it; return the call's id."""
    data = target.call.data
    number = data[ATTR_NUMBER]
    await target.async_require_admin(number)
    answer = await target.async_send(
        call_control.play_prompt(
            target.version,
            number,
            data[ATTR_PROMPT],
            count=data.get(ATTR_COUNT),
            volume=data.get(ATTR_VOLUME),
            auto_answer=data[ATTR_AUTO_ANSWER],
            to_extension=target.is_extension(number),
        )
    )
    return {"callid": answer.get("callid")}


async def _async_set_forwarding(target: Target) -> None:
    """Switch one mode of an extension's forwarding, and perhaps set where calls go."""
    data = target.call.data
    if (number := target.extension) is None:
        raise invalid("extension_device_needed")
    mode: ForwardMode = data[ATTR_MODE]
    enabled: bool = data[ATTR_ENABLED]
    destination: ForwardDestination | None = data.get(ATTR_DESTINATION)
    to: str | None = data.get(ATTR_NUMBER)
    settings = target.coordinator.data.settings.get(number)
    current = None if settings is None else settings.forwarding.get(mode)
    if destination is None:
        if to is not None:
            raise invalid("destination_needed")
        if enabled and current is not None and not current.has_destination:
            raise invalid("no_forwarding_destination", number=number)
        new = None if current is None else replace(current, enabled=enabled)
    else:
        await _async_check_destination(target, destination, to)
        new = Forwarding(enabled=enabled, destination=destination, number=to)
    expected = (
        None
        if settings is None or new is None
        else replace(settings, forwarding={**settings.forwarding, mode: new})
    )
    body = forwarding_update(
        target.version,
        number,
        mode,
        enabled=enabled,
        destination=destination,
        target=to,
    )
    await target.async_send_raw(
        lambda: target.coordinator.async_change_settings(number, expected, body)
    )


async def _async_check_destination(
    target: Target, destination: ForwardDestination, to: str | None
) -> None:
    """Check the number a destination needs; outside numbers are for administrators."""
    match destination:
        case ForwardDestination.VOICEMAIL:
            if to is not None:
                raise invalid("number_not_needed")
        case ForwardDestination.EXTENSION:
            if to is None:
                raise invalid("forward_number_needed")
            if not target.is_extension(to):
                raise invalid("not_an_extension", number=to)
        case ForwardDestination.NUMBER:
            if to is None:
                raise invalid("forward_number_needed")
            await target.async_require_admin(to)
        case ForwardDestination.MOBILE:
            # Without a number, the PBX forwards to the extension's own mobile.
            await target.async_require_admin(to)


async def _async_get_call_history(target: Target) -> ServiceResponse:
    """Return call records: the ones kept here, or the PBX's own download."""
    data = target.call.data
    since: datetime | None = data.get(ATTR_SINCE)
    if since is not None:
        since = dt_util.as_local(since)
    query = HistoryQuery(
        extension=target.extension,
        direction=data.get(ATTR_DIRECTION),
        status=data.get(ATTR_STATUS),
        since=since,
        limit=data[ATTR_LIMIT],
    )
    if data[ATTR_SOURCE] == SOURCE_KEPT:
        records = target.entry.runtime_data.history.records
    else:
        target.require_session()
        start = since or dt_util.now() - DEFAULT_PBX_HISTORY
        records = await target.async_send_raw(
            lambda: target.coordinator.client.call_records(
                target.extension or "all",
                # The PBX's wall clock, taken to be Home Assistant's.
                start.replace(tzinfo=None),
                dt_util.now().replace(tzinfo=None),
            )
        )
    names = target.coordinator.names.name
    return {"records": [describe(record, names) for record in query.select(records)]}


async def _async_send_sms(target: Target) -> ServiceResponse:
    """Send a text message through a GSM trunk; perhaps wait for its result."""
    data = target.call.data
    message: str = data[ATTR_MESSAGE]
    match message_problem(message):
        case SmsProblem.BLANK:
            raise invalid("sms_blank")
        case SmsProblem.TOO_LONG:
            raise invalid("sms_too_long")
        case SmsProblem.EMOJI:
            raise invalid("sms_emoji")
    trunk = _sms_trunk(target)
    smsid = await target.async_send_raw(
        lambda: target.coordinator.client.send_sms(trunk, data[ATTR_NUMBER], message)
    )
    if not data[ATTR_WAIT_FOR_RESULT]:
        return {"smsid": smsid, "status": None}
    result = await target.entry.runtime_data.sms_results.async_wait(
        smsid, data[ATTR_TIMEOUT]
    )
    return {"smsid": smsid, "status": "pending" if result is None else result.value}


def _sms_trunk(target: Target) -> str:
    """Return the GSM trunk to send through: the targeted one, the named one, the only one."""
    named = target.trunk or target.call.data.get(ATTR_TRUNK)
    trunks = target.coordinator.data.trunks
    if named is not None:
        if named not in trunks:
            raise invalid("no_such_trunk", trunk=named)
        return named
    mobile = [
        trunk.name
        for trunk in trunks.values()
        if (trunk.type or "").lower() in SMS_TRUNK_TYPES
    ]
    if len(mobile) != 1:
        raise invalid("trunk_needed")
    return mobile[0]


type Handler = Callable[[Target], Awaitable[ServiceResponse | None]]


@dataclass(frozen=True, slots=True)
class Action:
    """How an action is registered and run."""

    handler: Handler
    response: SupportsResponse = SupportsResponse.NONE
    # Actions that always cost money: administrators only, like core's admin services.
    admin: bool = False
    # Actions the PBX must take: refused at once while it is not connected.
    session: bool = True


ACTIONS: Final[dict[str, Action]] = {
    SERVICE_DIAL: Action(_async_dial, SupportsResponse.OPTIONAL, admin=True),
    SERVICE_HANG_UP: Action(_async_hang_up),
    SERVICE_TRANSFER: Action(_async_transfer),
    SERVICE_COMPLETE_TRANSFER: Action(_finish_transfer(complete=True)),
    SERVICE_CANCEL_TRANSFER: Action(_finish_transfer(complete=False)),
    SERVICE_HOLD: Action(
        _on_leg(lambda version, leg: call_control.hold(version, leg, on=True))
    ),
    SERVICE_RESUME: Action(
        _on_leg(lambda version, leg: call_control.hold(version, leg, on=False))
    ),
    SERVICE_MUTE: Action(
        _on_leg(lambda version, leg: call_control.mute(version, leg, on=True))
    ),
    SERVICE_UNMUTE: Action(
        _on_leg(lambda version, leg: call_control.mute(version, leg, on=False))
    ),
    SERVICE_ACCEPT_CALL: Action(_answer_invite(accept=True)),
    SERVICE_REFUSE_CALL: Action(_answer_invite(accept=False)),
    SERVICE_PLAY_PROMPT: Action(_async_play_prompt, SupportsResponse.OPTIONAL),
    SERVICE_SET_FORWARDING: Action(_async_set_forwarding),
    SERVICE_GET_CALL_HISTORY: Action(
        _async_get_call_history, SupportsResponse.ONLY, session=False
    ),
    SERVICE_SEND_SMS: Action(_async_send_sms, SupportsResponse.OPTIONAL, admin=True),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions (once, for every PBX)."""

    def _handler(
        action: Action,
    ) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
        async def _async_handle(call: ServiceCall) -> ServiceResponse:
            target = Target(hass, call)
            if action.session:
                target.require_session()
            response = await action.handler(target)
            return response if call.return_response else None

        return _async_handle

    for name, action in ACTIONS.items():
        schema = probatio.Schema(SCHEMAS[name])
        if action.admin:
            service.async_register_admin_service(
                hass, DOMAIN, name, _handler(action), schema, action.response
            )
        else:
            hass.services.async_register(
                DOMAIN, name, _handler(action), schema, action.response
            )
