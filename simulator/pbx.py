"""The simulated Yeastar S-Series PBX: its HTTP API, sessions, lockout and event reports."""

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
import functools
import hashlib
import json
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

from .call_api import CallApi, Handler
from .calls import LiveCall
from .certificate import SimCertificate
from .clock import SimClock, pbx_time
from .delivery import ReportDelivery, ReportSender
from .faults import Faults
from .inventory import (
    SimContact,
    SimExtension,
    SimTrunk,
    check_extension_status,
    default_extensions,
    default_trunks,
    extension_list,
    trunk_list,
)
from .listener import Listener
from .records import Records
from .reports import BootUp, ExtensionStatus, Member, Report, ReportFormat, render
from .scenarios import CALL_FLOWS, Scenario, inbound_answered
from .sessions import (
    LOCKOUT_SECONDS,
    TOKEN_LIFETIME,
    Sessions,
    SimSession,
    SimStats,
    parse_port,
)
from .settings import Configuration
from .sms import SmsCentre
from .switchboard import Refused, Switchboard
from .tcp_events import LoginAnswer, TcpEventServer

# What callers import from here (the session's parts live in sessions.py).
__all__ = [
    "DEFAULT_API_VERSIONS",
    "LOCKOUT_SECONDS",
    "REPORT_METHODS",
    "TOKEN_LIFETIME",
    "Json",
    "ReceivedRequest",
    "ReportMethod",
    "SimSession",
    "SimStats",
    "SimulatedPBX",
]

type Json = dict[str, Any]
type ReportMethod = Literal["http", "tcp"]
type _Handler = Callable[[SimSession, Json], Json]
type AppSetup = Callable[[web.Application], None]

DEFAULT_API_VERSIONS = ("v1.0.0", "v1.1.0", "v2.0.0")
DEFAULT_REPORT_PORT = 8260  # where v2 reports go when the login names no port
REPORT_METHODS = ("http", "tcp")
_IN_CALL = frozenset({"Ringing", "Busy", "Hold"})
# Extension states that count as registered in deviceinfo's "<registered>/<total>".
_ONLINE = frozenset({"Registered", "Ringing", "Busy", "Hold", "Idle"})
# Endpoints the documents describe as taking no parameter: a request may have no body.
_NO_PARAMETER = frozenset(
    {
        "logout",
        "deviceinfo/query",
        "extensionlist/query",
        "extension/list",
        "trunklist/query",
        "trunk/list",
        "inbound/query",
        "outbound/query",
    }
)
# Every answer carries these (the documents' examples; CORS since firmware 30.11.0.7).
_CORS = {
    "Access-control-allow-origin": "*",
    "Access-control-allow-methods": "GET, POST, OPTIONS, PUT, DELETE",
}
# A browser's preflight asks for the request's headers too (the documents show none).
_PREFLIGHT = {**_CORS, "Access-control-allow-headers": "Content-Type"}
_SUCCESS: Json = {"status": "Success"}
_GARBAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One API request as the PBX received it (a login's password masked)."""

    api_version: str
    endpoint: str
    body: Json | None


class SimulatedPBX:
    """A stand-in for a Yeastar S-Series PBX on loopback, faithful to its HTTP API."""

    def __init__(
        self,
        *,
        username: str = "api",
        password: str = "secret",
        serial: str = "369364835218",
        model: str = "Yeastar S100",
        firmware: str = "30.13.0.30",
        hardware: str = "V1.30 0000-0000",
        api_versions: Iterable[str] = DEFAULT_API_VERSIONS,
        host: str = "127.0.0.1",
        port: int = 0,
        certificate: SimCertificate | None = None,
        clock: SimClock | None = None,
        report_retries: int = 3,
        report_retry_delay: float = 1.0,
        extensions: Iterable[SimExtension] | None = None,
        trunks: Iterable[SimTrunk] | None = None,
        report_method: ReportMethod = "http",
        tcp_port: int = 0,
        tcp_answer: LoginAnswer = LoginAnswer.AMI,
    ) -> None:
        """Configure the PBX; nothing listens until ``start``.

        ``report_method`` is the PBX-wide Report Method: ``http`` posts reports to each
        session, ``tcp`` writes them (v2.0.0 format) to the event port's clients, on
        ``tcp_port`` (0: a free one), answering their logins in ``tcp_answer``'s style.
        """
        self.username = username
        self.password = password
        self.serial = serial
        self.model = model
        self.firmware = firmware
        self.hardware = hardware
        self.api_versions = tuple(api_versions)
        self.host = host
        self.port = port
        self.certificate = certificate
        self.clock = clock or SimClock()
        self.stats = SimStats()
        self._listener = Listener(
            certificate.server_ssl_context() if certificate else None
        )
        self.faults = Faults(self._listener.switch)
        self.report_method: ReportMethod = report_method
        self.received: list[ReceivedRequest] = []
        # Call handling settings (the PBX's web pages).
        self.inbound_call_control = (
            False  # the trunk's "Control Inbound Call Accepting"
        )
        self.invite_window = (
            10.0  # seconds the application has to decide (fixed on a PBX)
        )
        self.inbound_number = "5503301"  # the PBX's DID
        self.inbound_destination = "1001"  # where its inbound route rings
        self.outbound_trunk = "SIP-142"  # the outbound route's trunk
        self.blocked_numbers: set[str] = set()  # numbers the outbound rules refuse
        self._extensions = {
            ext.number: ext
            for ext in (default_extensions() if extensions is None else extensions)
        }
        self._trunks = {
            trunk.name: trunk
            for trunk in (default_trunks() if trunks is None else trunks)
        }
        self._contacts: dict[str, SimContact] = {}
        # Extension settings and trunks added or deleted (extension/query, /update).
        self.configuration = Configuration(
            self._extensions, self._trunks, self.clock, self._emit
        )
        self._sessions = Sessions(self.clock, self.stats)
        self.records = Records(self.clock)
        self._sender = ReportSender(report_retries, report_retry_delay)
        self._switchboard = Switchboard(self, self._emit)
        self._call_api = CallApi(self._switchboard)
        self.sms = SmsCentre(self, self._emit)
        self._tcp = TcpEventServer(
            self._check_event_login, host=host, port=tcp_port, answer=tcp_answer
        )
        self._app_setups: list[AppSetup] = []
        self._runner: web.AppRunner | None = None
        self._booted_at = self.clock.now()

    # Lifecycle and the listening socket

    async def __aenter__(self) -> Self:
        """Start on entering ``async with``."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop on leaving ``async with``."""
        await self.stop()

    @property
    def base_url(self) -> str:
        """Return the URL clients reach the PBX at, e.g. ``https://127.0.0.1:PORT``."""
        scheme = "https" if self.certificate else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def tcp_port(self) -> int:
        """Return the event port of the TCP report method."""
        return self._tcp.port

    @property
    def tcp_answer(self) -> LoginAnswer:
        """Return how the event port answers a login."""
        return self._tcp.answer

    @tcp_answer.setter
    def tcp_answer(self, answer: LoginAnswer) -> None:
        self._tcp.answer = answer

    @property
    def event_clients(self) -> int:
        """Return how many applications are logged in at the event port."""
        return self._tcp.clients

    def extend_app(self, setup: AppSetup) -> None:
        """Have ``setup`` add routes or signal handlers to the application ``start`` builds.

        The PBX itself serves only its API; whoever wants more (the control API) adds
        it here, before ``start``.
        """
        self._app_setups.append(setup)

    async def start(self) -> None:
        """Listen (picking free ports when 0), the event port too; count uptime from now."""
        app = web.Application()
        app.router.add_route("*", "/api/{version}/{endpoint:.+}", self._handle_api)
        for setup in self._app_setups:
            setup(app)
        # No access log: request lines carry tokens in their query strings.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        self._runner = runner
        self._booted_at = self.clock.now()
        await self._tcp.start()
        self.port = await self._listener.start(
            runner, self.host, self.port, down=self.faults.down
        )

    async def stop(self) -> None:
        """Stop listening, cancel queued reports and close every connection."""
        runner, self._runner = self._runner, None
        self._switchboard.cancel_timers()
        self.sms.cancel_timers()
        await self._sender.close()
        await self._tcp.stop()
        await self._listener.stop()
        if runner is not None:
            await runner.cleanup()  # runs the application's shutdown handlers

    async def go_down(self) -> None:
        """Refuse new connections (awaitable form of ``faults.down = True``)."""
        self.faults.down = True

    async def come_up(self) -> None:
        """Listen again on the same port and return once requests are served."""
        self.faults.down = False
        await self._listener.settled()

    # State tests read and change

    @property
    def sessions(self) -> list[SimSession]:
        """Return the sessions whose token is still valid."""
        return self._sessions.valid

    @property
    def extensions(self) -> dict[str, SimExtension]:
        """Return the extensions by number (a copy of the table)."""
        return dict(self._extensions)

    @property
    def trunks(self) -> dict[str, SimTrunk]:
        """Return the trunks by name (a copy of the table)."""
        return dict(self._trunks)

    @property
    def contacts(self) -> list[SimContact]:
        """Return the company phonebook."""
        return list(self._contacts.values())

    @property
    def calls(self) -> list[LiveCall]:
        """Return the calls in progress, oldest first."""
        return list(self._switchboard.board)

    @property
    def deliveries(self) -> list[ReportDelivery]:
        """Return every report delivery attempt so far."""
        return self._sender.deliveries

    @property
    def locked_ips(self) -> list[str]:
        """Return the source addresses currently locked out of login."""
        return self._sessions.locked_ips

    def is_locked(self, ip: str = "127.0.0.1") -> bool:
        """Return whether logins from ``ip`` are refused with 20002."""
        return self._sessions.is_locked(ip)

    def forget_tokens(self) -> None:
        """Drop every session silently, as a PBX restart of its API service would."""
        self._sessions.clear()

    def add_extension(
        self, number: str, name: str, status: str = "Registered", type: str = "SIP"
    ) -> SimExtension:
        """Create an extension (as the admin would on the PBX)."""
        extension = self._extensions[number] = SimExtension(number, name, status, type)
        return extension

    def remove_extension(self, number: str) -> None:
        """Delete an extension; KeyError when there is none."""
        del self._extensions[number]

    def set_trunk_status(self, name: str, status: str) -> None:
        """Change a trunk's state (no report: the PBX has no trunk-status report).

        KeyError for an unknown trunk.
        """
        self._trunks[name].status = status

    def add_contact(self, **fields: str) -> SimContact:
        """Add a company contact (the next free id unless ``id`` is given)."""
        fields.setdefault("id", str(max(map(int, self._contacts), default=0) + 1))
        contact = SimContact(**fields)
        self._contacts[contact.id] = contact
        return contact

    def remove_contact(self, contact_id: str) -> None:
        """Delete a company contact; KeyError when there is none."""
        del self._contacts[contact_id]

    # Phones

    async def pick_up(self, number: str) -> None:
        """Answer the ringing phone of ``number`` (an extension, or an outside party).

        LookupError when nothing rings there.
        """
        call, leg = self._phone(number, ringing=True)
        self._switchboard.pick_up(call, leg)

    async def hang_up(self, number: str) -> None:
        """Put down the phone of ``number``; LookupError when it is in no call."""
        self._switchboard.hang_up(*self._phone(number, ringing=False))

    def _phone(self, number: str, *, ringing: bool) -> tuple[LiveCall, Member]:
        """Return the newest call a number is in (ringing there, if asked)."""
        found = self._switchboard.board.of_number(number, ringing=ringing)
        if found is None:
            raise LookupError(
                f"{number} is {'not ringing' if ringing else 'in no call'}"
            )
        return found

    # Event reports

    async def set_extension_status(self, number: str, status: str) -> None:
        """Change an extension's state and report it.

        KeyError for an unknown extension, ValueError for a state no PBX reports.
        """
        if number not in self._extensions:
            raise KeyError(number)
        check_extension_status(status)
        await self.send_report(ExtensionStatus(number, status))

    async def play(self, scenario: Scenario | str, **params: str) -> list[Report]:
        """Act out a scenario and return the reports it sent (delivery runs on its own).

        ValueError for an unknown scenario, TypeError or ValueError for parameters it
        does not take.
        """
        scenario = Scenario(scenario)
        if scenario is Scenario.REBOOT:
            await self.reboot()
            return [BootUp()]
        if scenario is Scenario.REBOOT_MID_CALL:
            reports = self._send_flow(inbound_answered, stay="talking", **params)
            await self.wait_delivered()  # the call was on for a while
            await self.reboot()
            return [*reports, BootUp()]
        if scenario is Scenario.DOOR_STATION:
            door = params.pop("door", "1000")
            number = params.pop("number", self.inbound_number)
            if params:
                raise TypeError(f"door_station takes no {', '.join(params)}")
            if door not in self._extensions:
                raise ValueError(f"no extension {door}")
            return self._switchboard.door_station(door, number)
        return self._send_flow(CALL_FLOWS[scenario], **params)

    def _send_flow(
        self, flow: Callable[..., list[Report]], **params: str
    ) -> list[Report]:
        """Write out a canned call with new identifiers and send its reports."""
        reports = flow(self._switchboard.new_call(), **params)
        for report in reports:
            self._emit(report)
        return reports

    async def send_report(self, report: Report) -> None:
        """Send one report now (awaitable for callers in async code)."""
        self._emit(report)

    def _emit(self, report: Report) -> None:
        """Send one report: over HTTP to every session in its format, or to the event port.

        The extension table and the call board follow the report first; a call
        record is kept (and the call's recording named in it).
        """
        report = self.records.keep(report)
        if isinstance(report, ExtensionStatus) and (
            extension := self._extensions.get(report.extension)
        ):
            extension.status = report.status
        self._switchboard.observe(report)
        if self.report_method == "tcp":
            # TCP clients get every report in the v2.0.0 format; HTTP sessions none.
            for body in render(report, "2.0.0", self.serial):
                self._tcp.publish(body)
            return
        for session in self.sessions:
            self._queue(
                session.report_url,
                session.report_format,
                report,
                functools.partial(self._sessions.is_current, session),
            )

    async def reboot(self) -> None:
        """Forget sessions, calls and event-port clients, then announce BootUp.

        The documents say nothing of the event port after a reboot: its connections
        drop (the applications log in again); BootUp goes, as the documents show it,
        where the forgotten HTTP sessions' reports went.
        """
        targets = dict.fromkeys((s.report_url, s.report_format) for s in self.sessions)
        self._sessions.clear()
        self._switchboard.reset()
        self._tcp.drop_clients()
        self._booted_at = self.clock.now()
        # Calls do not survive a reboot: phones that rang or talked are free again.
        for extension in self._extensions.values():
            if extension.status in _IN_CALL:
                extension.status = extension.idle_status
        for url, report_format in targets:
            self._queue(url, report_format, BootUp(), lambda: True)

    async def wait_delivered(self) -> None:
        """Return once every queued report, re-sends included, is finished."""
        await self._sender.wait()
        await self._tcp.wait_sent()

    def _queue(
        self,
        url: str,
        report_format: ReportFormat | None,
        report: Report,
        wanted: Callable[[], bool],
    ) -> None:
        """Hand the rendered bodies to the background sender."""
        for body in render(report, report_format, self.serial):
            self._sender.send(url, body, wanted)

    # The PBX API

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Answer ``/api/{version}/{endpoint}`` like the PBX: HTTP 200 and a JSON status."""
        if self.faults.slow:
            await asyncio.sleep(self.faults.slow)
        version = request.match_info["version"]
        if version not in self.api_versions:
            raise web.HTTPNotFound
        if request.method == "OPTIONS":  # a browser's CORS preflight
            return web.Response(headers=_PREFLIGHT)
        endpoint = request.match_info["endpoint"]
        self.stats.requests[endpoint] += 1
        if self.faults.garbage:
            return web.Response(text=_GARBAGE, content_type="text/html")
        if request.method == "GET" and self.records.serves(version, endpoint):
            download = self._download(request, version, endpoint)
            if isinstance(download, web.Response):
                download.headers.update(_CORS)
                return download
            return web.json_response(download, headers=_CORS)
        answer = await self._answer(request, version, endpoint)
        return web.json_response(answer, headers=_CORS)

    def _download(
        self, request: web.Request, version: str, endpoint: str
    ) -> web.Response | Json:
        """Serve a GET download (token and random string in the URL), or its refusal."""
        query = dict(request.query)
        kept = {key: value for key, value in query.items() if key != "token"}
        self.received.append(ReceivedRequest(version, endpoint, kept))
        if (errno := self.faults.take_errno(endpoint)) is not None:
            return _failed(errno)
        session = self._sessions.authorise(query.get("token", ""))
        if isinstance(session, str):
            return _failed(session)
        try:
            return self.records.download(version, endpoint, query.get("random", ""))
        except Refused as err:
            return _failed(err.errno)

    async def _answer(self, request: web.Request, version: str, endpoint: str) -> Json:
        """Validate the request, the body and the token, then run the endpoint."""
        if request.method != "POST":
            return _failed("20001")
        body = _parse(await request.read(), endpoint)
        self.received.append(ReceivedRequest(version, endpoint, _masked(body)))
        if isinstance(body, str):
            return _failed(body)
        if (errno := self.faults.take_errno(endpoint)) is not None:
            return _failed(errno)
        if endpoint == "login":
            return self._login(request.remote or "", version, body)
        handler = self._handlers(version).get(endpoint)
        if handler is None:
            return _failed("10003")
        session = self._sessions.authorise(request.query.get("token", ""))
        if isinstance(session, str):
            return _failed(session)
        try:
            return handler(session, body)
        except Refused as err:
            return _failed(err.errno)

    def _handlers(self, version: str) -> dict[str, _Handler]:
        """Return the token-protected endpoints this API version has."""
        handlers: dict[str, _Handler] = {
            "heartbeat": self._heartbeat,
            "logout": self._logout,
            "deviceinfo/query": self._deviceinfo,
        }
        v2 = version == "v2.0.0"
        lists = (
            ("extension/list", "trunk/list")
            if v2
            else ("extensionlist/query", "trunklist/query")
        )
        handlers[lists[0]] = functools.partial(self._extlist, version)
        handlers[lists[1]] = functools.partial(self._trunklist, version)
        if v2:
            handlers["companycontacts/query"] = self._companycontacts
        for endpoint, handler in (
            *self._call_api.handlers(version).items(),
            *self.configuration.handlers(version).items(),
            *self.records.handlers(version).items(),
        ):
            handlers[endpoint] = _body_only(handler)
        handlers["sms/send"] = _body_only(self.sms.send)
        return handlers

    def _login(self, source_ip: str, version: str, body: Json) -> Json:
        """Check credentials and the lockout, then open a session reporting to the caller."""
        self.stats.login_attempts += 1
        password = hashlib.md5(self.password.encode()).hexdigest()
        errno = self._sessions.check(
            source_ip,
            body.get("username") == self.username and body.get("password") == password,
        )
        if errno is not None:
            return _failed(errno)
        # v2 makes the port optional (reports then go to 8260); v1 requires it.
        default = DEFAULT_REPORT_PORT if version == "v2.0.0" else None
        port = parse_port(body.get("port", default))
        if port is None:
            return _failed("20008")
        self.stats.successful_logins += 1
        session = self._sessions.open(version, source_ip, port, body)
        answer: Json = {"status": "Success", "token": session.token}
        if version == "v2.0.0":
            answer["transport"] = self.report_method.upper()
        return answer

    def _check_event_login(
        self, source_ip: str, username: str, secret: str
    ) -> str | None:
        """Check an event-port login: the plaintext password, the same lockout."""
        return self._sessions.check(
            source_ip, username == self.username and secret == self.password
        )

    def _heartbeat(self, session: SimSession, body: Json) -> Json:
        """Keep the token alive and re-target reports (ipaddr, port, url, version)."""
        if not session.retarget(body):
            return _failed("20008")
        if body.get("ipaddr"):
            session.target_ip = str(body["ipaddr"])
        self.stats.heartbeats += 1
        return _SUCCESS

    def _logout(self, session: SimSession, body: Json) -> Json:
        """End the session: its reports stop."""
        self._sessions.close(session)
        self.stats.logouts += 1
        return _SUCCESS

    def _deviceinfo(self, session: SimSession, body: Json) -> Json:
        """Describe the PBX: model, serial, versions, time, uptime and extension counts."""
        now = self.clock.now()
        online = sum(ext.status in _ONLINE for ext in self._extensions.values())
        return {
            "status": "Success",
            "deviceinfo": {
                "devicename": self.model,
                "sn": self.serial,
                "hardwarever": self.hardware,
                "firmwarever": self.firmware,
                "systemtime": f"{pbx_time(now)} UTC+0",
                "uptime": _uptime(int(now - self._booted_at)),
                "extensionstatus": f"{online}/{len(self._extensions)}",
            },
        }

    def _extlist(self, version: str, session: SimSession, body: Json) -> Json:
        """List the extensions as this API version does."""
        items = extension_list(self._extensions.values(), version)
        return {"status": "Success", "extlist": items}

    def _trunklist(self, version: str, session: SimSession, body: Json) -> Json:
        """List the trunks as this API version does."""
        return {
            "status": "Success",
            "trunklist": trunk_list(self._trunks.values(), version),
        }

    def _companycontacts(self, session: SimSession, body: Json) -> Json:
        """Query company contacts by ``id``: one, several (``11,12``) or ``all``.

        The documents do not say what an unknown id answers: it is left out.
        """
        wanted = str(body.get("id", "")).strip()
        if not wanted:
            return _failed("10004")
        ids = (
            None if wanted.lower() == "all" else {i.strip() for i in wanted.split(",")}
        )
        return {
            "status": "Success",
            "companycontacts": [
                contact.as_item()
                for contact in self._contacts.values()
                if ids is None or contact.id in ids
            ],
        }


def _body_only(handler: Handler) -> _Handler:
    """Adapt a call endpoint, which needs no session, to the dispatcher."""
    return lambda session, body: handler(body)


def _parse(raw: bytes, endpoint: str) -> Json | str:
    """Return a request's JSON object, or the errno its body earns."""
    if not raw.strip():
        return {} if endpoint in _NO_PARAMETER else "20009"
    try:
        body = json.loads(raw)
    except ValueError:
        return "20000"
    return body if isinstance(body, dict) else "20000"


def _masked(body: Json | str) -> Json | None:
    """Return a body fit to keep: the login's password hash masked, errors as None."""
    if isinstance(body, str):
        return None
    return {**body, "password": "***"} if "password" in body else dict(body)


def _uptime(seconds: int) -> str:
    """Write an uptime as the PBX does: ``03:25:04``, past a day ``3days 03:57:42``."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    clock = f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return f"{days}days {clock}" if days else clock


def _failed(errno: str) -> Json:
    """Build the PBX's failure answer (errno is a string)."""
    return {"status": "Failed", "errno": errno}
