"""The simulated Yeastar S-Series PBX: its HTTP API, sessions, lockout and event reports."""

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
import datetime as dt
import functools
import hashlib
import json
import secrets
import socket
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .certificate import SimCertificate
from .clock import SimClock
from .delivery import ReportDelivery, ReportSender
from .faults import Faults
from .reports import BootUp, ExtensionStatus, Report, ReportFormat, render
from .scenarios import CALL_FLOWS, Call, Scenario

type Json = dict[str, Any]
type _Handler = Callable[[SimSession, Json], Json]
type AppSetup = Callable[[web.Application], None]

TOKEN_LIFETIME = 1800.0
LOCKOUT_FAILURES = 5
LOCKOUT_SECONDS = 600.0
DEFAULT_API_VERSIONS = ("v1.0.0", "v1.1.0", "v2.0.0")
TRUNKS = ({"trunkname": "SIP-142", "status": "Registered", "type": "SIP"},)
_DEFAULT_EXTENSIONS = (
    ("1000", "Jayson", "Registered"),
    ("1001", "Front Desk", "Registered"),
    ("1002", "Kitchen", "Registered"),
    ("1003", "Garage", "Unavailable"),
)
_REPORT_FORMATS = ("1.0.2", "2.0.0")
_IN_CALL = frozenset({"Ringing", "Busy", "Hold"})
# Extension states that count as registered in deviceinfo's "<registered>/<total>".
_ONLINE = frozenset({"Registered", "Ringing", "Busy", "Hold", "Idle"})
_SUCCESS: Json = {"status": "Success"}
_GARBAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass(slots=True)
class SimExtension:
    """One extension as the PBX lists it."""

    number: str
    name: str
    status: str = "Registered"
    type: str = "SIP"


@dataclass(slots=True, kw_only=True)
class SimSession:
    """A logged-in application: its token and where its event reports go."""

    token: str = field(repr=False)
    api_version: str
    report_format: ReportFormat | None
    target_ip: str
    target_port: int
    target_url: str
    urltag: str
    expires_at: float
    source_ip: str

    @property
    def report_url(self) -> str:
        """Return where reports go: always plain HTTP, ``url`` absolute when urltag is 1."""
        if self.urltag == "1":
            return f"http://{self.target_url}"
        return (
            f"http://{self.target_ip}:{self.target_port}/{self.target_url.lstrip('/')}"
        )


@dataclass(slots=True)
class SimStats:
    """Counters tests assert on (``requests`` counts every API request by endpoint)."""

    login_attempts: int = 0
    failed_logins: int = 0
    successful_logins: int = 0
    locked_refusals: int = 0
    heartbeats: int = 0
    logouts: int = 0
    requests: Counter[str] = field(default_factory=Counter)


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
    ) -> None:
        """Configure the PBX; nothing listens until ``start``."""
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
        self.faults = Faults(self._switch_listener)
        if extensions is None:
            extensions = (SimExtension(*fields) for fields in _DEFAULT_EXTENSIONS)
        self._extensions = {ext.number: ext for ext in extensions}
        self._sessions: dict[str, SimSession] = {}
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._sender = ReportSender(report_retries, report_retry_delay)
        self._app_setups: list[AppSetup] = []
        self._ssl_context = certificate.server_ssl_context() if certificate else None
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self._pending_sock: socket.socket | None = None
        self._listen_tasks: set[asyncio.Task[None]] = set()
        self._booted_at = self.clock.now()
        self._call_counter = 0

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

    def extend_app(self, setup: AppSetup) -> None:
        """Have ``setup`` add routes or signal handlers to the application ``start`` builds.

        The PBX itself serves only its API; whoever wants more (the control API) adds
        it here, before ``start``.
        """
        self._app_setups.append(setup)

    async def start(self) -> None:
        """Listen (picking a free port when ``port`` is 0) and count uptime from now."""
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
        sock = socket.create_server((self.host, self.port))
        self.port = sock.getsockname()[1]
        if self.faults.down:
            sock.close()
            return
        self._pending_sock = sock
        await self._serve()

    async def stop(self) -> None:
        """Stop listening, cancel queued reports and close every connection."""
        # Without a runner, faults.down no longer reopens the listener.
        runner, self._runner = self._runner, None
        await self._sender.close()
        await asyncio.gather(*self._listen_tasks)
        self._close_listener()
        if runner is not None:
            await runner.cleanup()  # runs the application's shutdown handlers

    async def go_down(self) -> None:
        """Refuse new connections (awaitable form of ``faults.down = True``)."""
        self.faults.down = True

    async def come_up(self) -> None:
        """Listen again on the same port and return once requests are served."""
        self.faults.down = False
        await asyncio.gather(*self._listen_tasks)

    def _switch_listener(self, down: bool) -> None:
        """Close or reopen the listening socket at once (``faults.down``)."""
        if self._runner is None:
            return  # not started (start() honours the switch) or stopping
        if down:
            self._close_listener()
            if self._runner.server is not None:  # a dead PBX drops every connection too
                for connection in self._runner.server.connections:
                    connection.force_close()
            return
        # Listening starts now; the kernel queues connections until _serve accepts them.
        self._pending_sock = socket.create_server((self.host, self.port))
        task = asyncio.get_running_loop().create_task(self._serve())
        self._listen_tasks.add(task)
        task.add_done_callback(self._listen_tasks.discard)

    async def _serve(self) -> None:
        """Hand the pending listening socket to aiohttp."""
        sock, self._pending_sock = self._pending_sock, None
        if sock is None:
            return  # went down again before this ran
        handler = self._runner.server if self._runner is not None else None
        if handler is None:
            sock.close()  # stopped before this ran
            return
        self._server = await asyncio.get_running_loop().create_server(
            handler, sock=sock, ssl=self._ssl_context, start_serving=False
        )
        await self._server.start_serving()

    def _close_listener(self) -> None:
        """Stop listening, whether aiohttp already serves the socket or not."""
        if self._pending_sock is not None:
            self._pending_sock.close()
            self._pending_sock = None
        if self._server is not None:
            self._server.close()
            self._server = None

    # State tests read and change

    @property
    def sessions(self) -> list[SimSession]:
        """Return the sessions whose token is still valid."""
        now = self.clock.now()
        return [s for s in self._sessions.values() if now < s.expires_at]

    @property
    def extensions(self) -> dict[str, SimExtension]:
        """Return the extensions by number (a copy of the table)."""
        return dict(self._extensions)

    @property
    def deliveries(self) -> list[ReportDelivery]:
        """Return every report delivery attempt so far."""
        return self._sender.deliveries

    @property
    def locked_ips(self) -> list[str]:
        """Return the source addresses currently locked out of login."""
        return [ip for ip in self._locked_until if self.is_locked(ip)]

    def is_locked(self, ip: str = "127.0.0.1") -> bool:
        """Return whether logins from ``ip`` are refused with 20002."""
        return self.clock.now() < self._locked_until.get(ip, 0.0)

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

    # Event reports

    async def set_extension_status(self, number: str, status: str) -> None:
        """Change an extension's state and report it; KeyError for an unknown extension."""
        if number not in self._extensions:
            raise KeyError(number)
        await self.send_report(ExtensionStatus(number, status))

    async def play(self, scenario: Scenario | str, **params: str) -> list[Report]:
        """Act out a scenario and return the reports it sent (delivery runs on its own)."""
        scenario = Scenario(scenario)
        if scenario is Scenario.REBOOT:
            await self.reboot()
            return [BootUp()]
        now = self.clock.now()
        self._call_counter += 1
        call = Call(f"{int(now)}.{self._call_counter}", _format_time(now))
        reports = CALL_FLOWS[scenario](call, **params)
        for report in reports:
            await self.send_report(report)
        return reports

    async def send_report(self, report: Report) -> None:
        """Send one report to every session with a valid token, each in its own format."""
        if isinstance(report, ExtensionStatus) and (
            extension := self._extensions.get(report.extension)
        ):
            extension.status = report.status
        for session in self.sessions:
            self._queue(
                session.report_url,
                session.report_format,
                report,
                functools.partial(self._is_valid, session),
            )

    async def reboot(self) -> None:
        """Forget every session, then announce BootUp where those applications listened."""
        targets = dict.fromkeys((s.report_url, s.report_format) for s in self.sessions)
        self._sessions.clear()
        self._booted_at = self.clock.now()
        # Calls do not survive a reboot: phones that rang or talked are free again.
        for extension in self._extensions.values():
            if extension.status in _IN_CALL:
                extension.status = "Registered"
        for url, report_format in targets:
            self._queue(url, report_format, BootUp(), lambda: True)

    async def wait_delivered(self) -> None:
        """Return once every queued report, re-sends included, is finished."""
        await self._sender.wait()

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

    def _is_valid(self, session: SimSession) -> bool:
        """Return whether reports may still go to this session."""
        return (
            self._sessions.get(session.token) is session
            and self.clock.now() < session.expires_at
        )

    # The PBX API

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Answer ``/api/{version}/{endpoint}`` like the PBX: HTTP 200 and a JSON status."""
        if self.faults.slow:
            await asyncio.sleep(self.faults.slow)
        version = request.match_info["version"]
        if version not in self.api_versions:
            raise web.HTTPNotFound
        endpoint = request.match_info["endpoint"]
        self.stats.requests[endpoint] += 1
        if self.faults.garbage:
            return web.Response(text=_GARBAGE, content_type="text/html")
        return web.json_response(await self._answer(request, version, endpoint))

    async def _answer(self, request: web.Request, version: str, endpoint: str) -> Json:
        """Validate the request, the body and the token, then run the endpoint."""
        if request.method != "POST":
            return _failed("20001")
        raw = await request.read()
        if not raw.strip():
            return _failed("20009")
        try:
            body = json.loads(raw)
        except ValueError:
            return _failed("20000")
        if not isinstance(body, dict):
            return _failed("20000")
        if endpoint == "login":
            return self._login(request.remote or "", version, body)
        handler = self._handlers(version).get(endpoint)
        if handler is None:
            return _failed("10003")
        session = self._authorise(request.query.get("token", ""))
        if isinstance(session, str):
            return _failed(session)
        return handler(session, body)

    def _handlers(self, version: str) -> dict[str, _Handler]:
        """Return the token-protected endpoints this API version has."""
        handlers: dict[str, _Handler] = {
            "heartbeat": self._heartbeat,
            "logout": self._logout,
            "deviceinfo/query": self._deviceinfo,
            "trunklist/query": _trunklist,
        }
        if version == "v2.0.0":
            handlers["extension/list"] = functools.partial(self._extlist, "number")
        else:
            handlers["extensionlist/query"] = functools.partial(
                self._extlist, "extnumber"
            )
        return handlers

    def _login(self, source_ip: str, version: str, body: Json) -> Json:
        """Check credentials and the lockout, then open a session reporting to the caller."""
        self.stats.login_attempts += 1
        if self.is_locked(source_ip):
            self.stats.locked_refusals += 1
            return _failed("20002")
        now = self.clock.now()
        password = hashlib.md5(self.password.encode()).hexdigest()
        if body.get("username") != self.username or body.get("password") != password:
            self.stats.failed_logins += 1
            failures = self._failures[source_ip] = self._failures.get(source_ip, 0) + 1
            if failures >= LOCKOUT_FAILURES:
                del self._failures[source_ip]
                self._locked_until[source_ip] = now + LOCKOUT_SECONDS
            return _failed("20003")
        port = _port(body.get("port"))
        if port is None:
            return _failed("20008")
        self._failures.pop(source_ip, None)
        self.stats.successful_logins += 1
        session = SimSession(
            token=secrets.token_hex(16),
            api_version=version,
            report_format=None,
            target_ip=source_ip,
            target_port=port,
            target_url="",
            urltag="0",
            expires_at=now + TOKEN_LIFETIME,
            source_ip=source_ip,
        )
        _retarget(session, body)
        self._sessions[session.token] = session
        return {"status": "Success", "token": session.token}

    def _authorise(self, token: str) -> SimSession | str:
        """Return the token's session, extended by 1800 s, or the errno refusing it."""
        if not token.strip():
            return "20005"
        session = self._sessions.get(token)
        if session is None:
            return "20004"
        now = self.clock.now()
        if now >= session.expires_at:
            del self._sessions[token]
            return "20006"
        session.expires_at = now + TOKEN_LIFETIME
        return session

    def _heartbeat(self, session: SimSession, body: Json) -> Json:
        """Keep the token alive and re-target reports (ipaddr, port, url, version)."""
        if not _retarget(session, body):
            return _failed("20008")
        if body.get("ipaddr"):
            session.target_ip = str(body["ipaddr"])
        self.stats.heartbeats += 1
        return _SUCCESS

    def _logout(self, session: SimSession, body: Json) -> Json:
        """End the session: its reports stop."""
        del self._sessions[session.token]
        self.stats.logouts += 1
        return _SUCCESS

    def _deviceinfo(self, session: SimSession, body: Json) -> Json:
        """Describe the PBX: model, serial, versions, time, uptime and extension counts."""
        now = self.clock.now()
        online = sum(ext.status in _ONLINE for ext in self._extensions.values())
        uptime = int(now - self._booted_at)
        hours, rest = divmod(uptime, 3600)
        return {
            "status": "Success",
            "deviceinfo": {
                "devicename": self.model,
                "sn": self.serial,
                "hardwarever": self.hardware,
                "firmwarever": self.firmware,
                "systemtime": f"{_format_time(now)} UTC+0",
                "uptime": f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}",
                "extensionstatus": f"{online}/{len(self._extensions)}",
            },
        }

    def _extlist(self, number_key: str, session: SimSession, body: Json) -> Json:
        """List extensions; v1 names the number ``extnumber``, v2 ``number``."""
        return {
            "status": "Success",
            "extlist": [
                {
                    number_key: ext.number,
                    "status": ext.status,
                    "type": ext.type,
                    "username": ext.name,
                    "agentid": "",
                }
                for ext in self._extensions.values()
            ],
        }


def _trunklist(session: SimSession, body: Json) -> Json:
    """List the PBX's trunks."""
    return {"status": "Success", "trunklist": list(TRUNKS)}


def _retarget(session: SimSession, body: Json) -> bool:
    """Apply a login's or heartbeat's report target fields; False when ``port`` is bad."""
    if "port" in body:
        port = _port(body["port"])
        if port is None:
            return False
        session.target_port = port
    if "url" in body:
        session.target_url = str(body["url"])
    if session.api_version != "v1.0.0":  # urltag and report versions came with v1.1.0
        if "urltag" in body:
            session.urltag = str(body["urltag"])
        if body.get("version") in _REPORT_FORMATS:
            session.report_format = body["version"]
    return True


def _port(value: object) -> int | None:
    """Parse a report port (string or int, 1..65535)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        port = int(value)
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


def _failed(errno: str) -> Json:
    """Build the PBX's failure answer (errno is a string)."""
    return {"status": "Failed", "errno": errno}


def _format_time(timestamp: float) -> str:
    """Format a clock reading as the PBX writes times (UTC here)."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
