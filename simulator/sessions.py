"""Who may use the PBX's API: logins, tokens, the lockout, and where reports go."""

from collections import Counter
from dataclasses import dataclass, field
import secrets
from typing import Any

from .clock import SimClock
from .reports import ReportFormat

type Json = dict[str, Any]

TOKEN_LIFETIME = 1800.0
LOCKOUT_FAILURES = 5
LOCKOUT_SECONDS = 600.0
_REPORT_FORMATS = ("1.0.2", "2.0.0")


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
            url = self.target_url
            return url if url.startswith(("http://", "https://")) else f"http://{url}"
        return (
            f"http://{self.target_ip}:{self.target_port}/{self.target_url.lstrip('/')}"
        )

    def retarget(self, body: Json) -> bool:
        """Apply a login's or heartbeat's report target fields; False when ``port`` is bad."""
        if "port" in body:
            port = parse_port(body["port"])
            if port is None:
                return False
            self.target_port = port
        if "url" in body:
            self.target_url = str(body["url"])
        if self.api_version != "v1.0.0":  # urltag and report versions came with v1.1.0
            if "urltag" in body:
                self.urltag = str(body["urltag"])
            if body.get("version") in _REPORT_FORMATS:
                self.report_format = body["version"]
        return True


@dataclass(slots=True)
class SimStats:
    """Counters tests assert on (``requests`` counts every API request by endpoint).

    Logins are the HTTP API's; ``failed_logins`` and ``locked_refusals`` count the
    event port's refused logins too, as they count towards the same lockout.
    """

    login_attempts: int = 0
    failed_logins: int = 0
    successful_logins: int = 0
    locked_refusals: int = 0
    heartbeats: int = 0
    logouts: int = 0
    requests: Counter[str] = field(default_factory=Counter)


class Sessions:
    """The PBX's sessions by token, and the addresses locked out of login."""

    def __init__(self, clock: SimClock, stats: SimStats) -> None:
        """Start with no session; count refusals in ``stats``."""
        self._clock = clock
        self._stats = stats
        self._sessions: dict[str, SimSession] = {}
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}

    @property
    def valid(self) -> list[SimSession]:
        """Return the sessions whose token is still valid."""
        now = self._clock.now()
        return [s for s in self._sessions.values() if now < s.expires_at]

    @property
    def locked_ips(self) -> list[str]:
        """Return the source addresses currently locked out of login."""
        return [ip for ip in self._locked_until if self.is_locked(ip)]

    def is_locked(self, ip: str) -> bool:
        """Return whether logins from ``ip`` are refused with 20002."""
        return self._clock.now() < self._locked_until.get(ip, 0.0)

    def check(self, source_ip: str, right: bool) -> str | None:
        """Apply the lockout to a login; None when accepted, else the refusing errno.

        Five wrong passwords in a row from one address lock it out for 600 s. The
        documents do not say whether event-port logins count: they do here.
        """
        if self.is_locked(source_ip):
            self._stats.locked_refusals += 1
            return "20002"
        if not right:
            self._stats.failed_logins += 1
            failures = self._failures[source_ip] = self._failures.get(source_ip, 0) + 1
            if failures >= LOCKOUT_FAILURES:
                del self._failures[source_ip]
                self._locked_until[source_ip] = self._clock.now() + LOCKOUT_SECONDS
            return "20003"
        self._failures.pop(source_ip, None)
        return None

    def open(
        self, api_version: str, source_ip: str, port: int, body: Json
    ) -> SimSession:
        """Open a session reporting to the caller's address (its login's target fields)."""
        session = SimSession(
            token=secrets.token_hex(16),
            api_version=api_version,
            report_format=None,
            target_ip=source_ip,
            target_port=port,
            target_url="",
            urltag="0",
            expires_at=self._clock.now() + TOKEN_LIFETIME,
            source_ip=source_ip,
        )
        session.retarget(body)
        self._sessions[session.token] = session
        return session

    def authorise(self, token: str) -> SimSession | str:
        """Return the token's session, extended by 1800 s, or the errno refusing it."""
        if not token.strip():
            return "20005"
        session = self._sessions.get(token)
        if session is None:
            return "20004"
        now = self._clock.now()
        if now >= session.expires_at:
            del self._sessions[token]
            return "20006"
        session.expires_at = now + TOKEN_LIFETIME
        return session

    def is_current(self, session: SimSession) -> bool:
        """Return whether reports may still go to this session."""
        return (
            self._sessions.get(session.token) is session
            and self._clock.now() < session.expires_at
        )

    def close(self, session: SimSession) -> None:
        """End a session (logout)."""
        del self._sessions[session.token]

    def clear(self) -> None:
        """Forget every session."""
        self._sessions.clear()


def parse_port(value: object) -> int | None:
    """Parse a report port (string or int, 1..65535)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        port = int(value)
    except ValueError:
        return None
    return port if 0 < port < 65536 else None
