"""The simulator's own HTTP control API under ``/__simulator__/``, for demos and the CLI.

It shares the PBX's server (once attached with ``SimulatedPBX.extend_app``) but not its
faults, and never shows tokens.
"""

import asyncio
from dataclasses import asdict, fields
import json
from typing import Any

from aiohttp import web

from .pbx import REPORT_METHODS, SimulatedPBX
from .records import cdr_fields
from .scenarios import Scenario
from .settings import FORWARDING_FORMS
from .sms import SmsOutcome
from .switchboard import Refused

PREFIX = "/__simulator__"
_SESSION_FIELDS = (
    "api_version",
    "report_format",
    "target_ip",
    "target_port",
    "target_url",
    "urltag",
    "expires_at",
    "source_ip",
    "report_url",
)


class ControlAPI:
    """Routes that drive a running simulator from outside the test process.

    Attach them before the PBX starts: ``pbx.extend_app(ControlAPI(pbx).install)``.
    """

    def __init__(self, pbx: SimulatedPBX) -> None:
        """Control ``pbx``."""
        self._pbx = pbx
        self._timers: set[asyncio.Task[None]] = set()

    def install(self, app: web.Application) -> None:
        """Add the control routes to the PBX's application; end come-back timers at its shutdown."""
        app.add_routes(
            [
                web.get(f"{PREFIX}/state", self._state),
                web.post(f"{PREFIX}/play/{{scenario}}", self._play),
                web.post(f"{PREFIX}/fault", self._fault),
                web.post(f"{PREFIX}/reboot", self._reboot),
                web.post(f"{PREFIX}/forget_tokens", self._forget_tokens),
                web.post(f"{PREFIX}/extension", self._extension),
                web.post(f"{PREFIX}/trunk", self._trunk),
                web.post(f"{PREFIX}/trunk/add", self._add_trunk),
                web.post(f"{PREFIX}/trunk/delete", self._delete_trunk),
                web.post(f"{PREFIX}/extension_settings", self._extension_settings),
                web.post(f"{PREFIX}/contact", self._contact),
                web.post(f"{PREFIX}/phone", self._phone),
                web.post(f"{PREFIX}/settings", self._settings),
                web.get(f"{PREFIX}/records", self._records),
                web.post(f"{PREFIX}/recording/delete", self._delete_recording),
                web.get(f"{PREFIX}/sms", self._sms),
                web.post(f"{PREFIX}/sms", self._sms),
            ]
        )
        app.on_shutdown.append(self._cancel_timers)

    async def _cancel_timers(self, app: web.Application) -> None:
        """Cancel pending come-back timers: they must not outlive the PBX."""
        for timer in self._timers:
            timer.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)

    async def _state(self, request: web.Request) -> web.Response:
        """Show counters, sessions (without tokens), inventory, calls, settings and faults."""
        pbx = self._pbx
        return web.json_response(
            {
                "base_url": pbx.base_url,
                "serial": pbx.serial,
                "model": pbx.model,
                "api_versions": list(pbx.api_versions),
                "stats": {
                    f.name: getattr(pbx.stats, f.name) for f in fields(pbx.stats)
                },
                "sessions": [
                    {name: getattr(session, name) for name in _SESSION_FIELDS}
                    for session in pbx.sessions
                ],
                "locked_ips": pbx.locked_ips,
                "extensions": [asdict(ext) for ext in pbx.extensions.values()],
                "trunks": [asdict(trunk) for trunk in pbx.trunks.values()],
                "contacts": [contact.as_item() for contact in pbx.contacts],
                "calls": [
                    {
                        "callid": call.callid,
                        "members": [m.v2() for m in call.legs],
                        "muted": sorted(call.muted),
                    }
                    for call in pbx.calls
                ],
                "settings": _settings(pbx),
                "sms": _sms(pbx),
                "faults": {
                    "down": pbx.faults.down,
                    "slow": pbx.faults.slow,
                    "garbage": pbx.faults.garbage,
                    "errnos": [asdict(fault) for fault in pbx.faults.errnos],
                },
                "received": [asdict(request) for request in pbx.received],
                "deliveries": [
                    {"url": d.url, "status": d.status, "attempt": d.attempt}
                    for d in pbx.deliveries
                ],
            }
        )

    async def _play(self, request: web.Request) -> web.Response:
        """Play a scenario with the JSON body's parameters."""
        params = await _json_body(request)
        try:
            scenario = Scenario(request.match_info["scenario"])
        except ValueError:
            raise web.HTTPNotFound(text="unknown scenario") from None
        try:
            reports = await self._pbx.play(
                scenario, **{key: str(value) for key, value in params.items()}
            )
        except (TypeError, ValueError) as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        return web.json_response(
            {"reports": [{"report": type(r).__name__, **asdict(r)} for r in reports]}
        )

    async def _fault(self, request: web.Request) -> web.Response:
        """Switch a fault: ``down`` takes seconds, after which the PBX listens again."""
        body = await _json_body(request)
        name, value = body.get("name"), body.get("value")
        faults = self._pbx.faults
        response = web.json_response({"name": name, "value": value})
        try:
            if name == "slow":
                faults.slow = _seconds(value, allow_zero=True)
            elif name == "garbage":
                faults.garbage = bool(value)
            elif name == "errno":
                # "10008" (the next request of any kind) or {"errno", "endpoint"}.
                fault = value if isinstance(value, dict) else {"errno": value}
                faults.refuse_next(str(fault["errno"]), fault.get("endpoint"))
            elif name == "down":
                seconds = _seconds(value, allow_zero=False)
                # Answer first: going down closes this connection too.
                await response.prepare(request)
                await response.write_eof()
                faults.down = True
                timer = asyncio.get_running_loop().create_task(self._come_up(seconds))
                self._timers.add(timer)
                timer.add_done_callback(self._timers.discard)
            else:
                raise web.HTTPBadRequest(
                    text="fault must be down, slow, garbage or errno"
                )
        except (KeyError, TypeError, ValueError) as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        return response

    async def _come_up(self, seconds: float) -> None:
        """Listen again once a control-API outage is over."""
        await asyncio.sleep(seconds)
        self._pbx.faults.down = False

    async def _reboot(self, request: web.Request) -> web.Response:
        """Reboot the PBX (sessions forgotten, BootUp reported)."""
        await self._pbx.reboot()
        return web.json_response({"rebooted": True})

    async def _forget_tokens(self, request: web.Request) -> web.Response:
        """Drop every session without a report."""
        self._pbx.forget_tokens()
        return web.json_response({"forgotten": True})

    async def _extension(self, request: web.Request) -> web.Response:
        """Change an extension's status and report it."""
        body = await _json_body(request)
        number, status = str(body.get("number")), str(body.get("status"))
        try:
            await self._pbx.set_extension_status(number, status)
        except KeyError:
            raise web.HTTPNotFound(text=f"no extension {number}") from None
        except ValueError as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        return web.json_response({"number": number, "status": status})

    async def _trunk(self, request: web.Request) -> web.Response:
        """Change a trunk's status (the PBX reports nothing: its list shows it)."""
        body = await _json_body(request)
        name, status = str(body.get("name")), str(body.get("status"))
        try:
            self._pbx.set_trunk_status(name, status)
        except KeyError:
            raise web.HTTPNotFound(text=f"no trunk {name}") from None
        return web.json_response({"name": name, "status": status})

    async def _add_trunk(self, request: web.Request) -> web.Response:
        """Create a trunk (``name``, ``type``, [``status``], [``port``]); ConfigChange follows."""
        body = {key: str(value) for key, value in (await _json_body(request)).items()}
        try:
            trunk = await self._pbx.configuration.add_trunk(**body)
        except TypeError as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        except ValueError as err:
            raise web.HTTPConflict(text=str(err)) from None
        return web.json_response(trunk.list_item())

    async def _delete_trunk(self, request: web.Request) -> web.Response:
        """Delete a trunk by ``name``; ConfigChange follows."""
        name = str((await _json_body(request)).get("name"))
        try:
            await self._pbx.configuration.delete_trunk(name)
        except KeyError:
            raise web.HTTPNotFound(text=f"no trunk {name}") from None
        return web.json_response({"name": name, "deleted": True})

    async def _extension_settings(self, request: web.Request) -> web.Response:
        """Change an extension's settings as the PBX's administrator (no report).

        The fields are named as ``extension/update`` names them, beside ``number``;
        the answer is the extension's ``extension/query`` item (v2).
        """
        body = await _json_body(request)
        number = str(body.pop("number", ""))
        configuration = self._pbx.configuration
        try:
            configuration.change(number, body)
        except KeyError:
            raise web.HTTPNotFound(text=f"no extension {number}") from None
        except Refused as err:
            raise web.HTTPBadRequest(text=f"refused: errno {err.errno}") from None
        return web.json_response(configuration.item(number))

    async def _contact(self, request: web.Request) -> web.Response:
        """Add a company contact; answer it as the PBX lists it."""
        body = await _json_body(request)
        try:
            contact = self._pbx.add_contact(
                **{key: str(value) for key, value in body.items()}
            )
        except TypeError as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        return web.json_response(contact.as_item())

    async def _phone(self, request: web.Request) -> web.Response:
        """Pick up or put down a phone: ``{"number": "1001", "action": "pick_up"}``."""
        body = await _json_body(request)
        number, action = str(body.get("number")), body.get("action")
        actions = {"pick_up": self._pbx.pick_up, "hang_up": self._pbx.hang_up}
        if action not in actions:
            raise web.HTTPBadRequest(text="action must be pick_up or hang_up")
        try:
            await actions[action](number)
        except LookupError as err:
            raise web.HTTPNotFound(text=str(err)) from None
        return web.json_response({"number": number, "action": action})

    async def _settings(self, request: web.Request) -> web.Response:
        """Change report method, call control, settings form, recording, CSV header."""
        body = await _json_body(request)
        pbx = self._pbx
        configuration = pbx.configuration
        method = body.get("report_method", pbx.report_method)
        if method not in REPORT_METHODS:
            raise web.HTTPBadRequest(text="report_method must be http or tcp")
        form = body.get("forwarding_form", configuration.forwarding_form)
        if form not in FORWARDING_FORMS:
            raise web.HTTPBadRequest(text="forwarding_form must be long or compact")
        try:
            window = _seconds(
                body.get("invite_window", pbx.invite_window), allow_zero=False
            )
            gap = _seconds(
                body.get("apply_gap", configuration.apply_gap), allow_zero=True
            )
        except (TypeError, ValueError) as err:
            raise web.HTTPBadRequest(text=str(err)) from None
        pbx.report_method = method
        pbx.invite_window = window
        configuration.forwarding_form = form
        configuration.apply_gap = gap
        pbx.inbound_call_control = bool(
            body.get("inbound_call_control", pbx.inbound_call_control)
        )
        pbx.records.recording = bool(body.get("recording", pbx.records.recording))
        pbx.records.csv_header = bool(body.get("csv_header", pbx.records.csv_header))
        return web.json_response(_settings(pbx))

    async def _records(self, request: web.Request) -> web.Response:
        """List the call records (v2 fields, oldest first) and the recordings on the PBX."""
        records = self._pbx.records
        return web.json_response(
            {
                "records": [cdr_fields(r, "v2.0.0") for r in records.records],
                "recordings": sorted(records.recordings),
            }
        )

    async def _delete_recording(self, request: web.Request) -> web.Response:
        """Delete a recording: ``{"name": "…wav"}``; its download then answers 20014."""
        name = str((await _json_body(request)).get("name"))
        try:
            self._pbx.records.delete_recording(name)
        except KeyError:
            raise web.HTTPNotFound(text=f"no recording {name}") from None
        return web.json_response({"deleted": name})

    async def _sms(self, request: web.Request) -> web.Response:
        """List the messages sent; a POST ``{"next": "failed"}`` sets the next one's outcome.

        ``silent``: the PBX accepts the next message and never reports its result.
        """
        if request.method == "POST":
            body = await _json_body(request)
            try:
                outcome = SmsOutcome(str(body.get("next")))
            except ValueError:
                raise web.HTTPBadRequest(
                    text="next must be sent, failed or silent"
                ) from None
            self._pbx.sms.next_outcomes.append(outcome)
        return web.json_response(_sms(self._pbx))


def _sms(pbx: SimulatedPBX) -> dict[str, Any]:
    """Return the messages the PBX accepted (decoded) and the outcomes set for the next."""
    return {
        "messages": [asdict(sms) for sms in pbx.sms.messages],
        "next": list(pbx.sms.next_outcomes),
    }


def _settings(pbx: SimulatedPBX) -> dict[str, Any]:
    """Return the settings the control API shows and changes."""
    return {
        "report_method": pbx.report_method,
        "tcp_port": pbx.tcp_port,
        "inbound_call_control": pbx.inbound_call_control,
        "invite_window": pbx.invite_window,
        "forwarding_form": pbx.configuration.forwarding_form,
        "apply_gap": pbx.configuration.apply_gap,
        "recording": pbx.records.recording,
        "csv_header": pbx.records.csv_header,
    }


async def _json_body(request: web.Request) -> dict[str, Any]:
    """Return the request's JSON object (an empty body counts as ``{}``)."""
    raw = await request.read()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def _seconds(value: Any, *, allow_zero: bool) -> float:
    """Parse a duration in seconds; TypeError or ValueError when it is not usable."""
    seconds = float(value)
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError("value must be a positive number of seconds")
    return seconds
