"""A blocking client for Home Assistant's HTTP API (the simulator's is ``simulator.ControlClient``).

Plain urllib, so that ``scripts/develop`` and the end-to-end test fixtures can use it
without an event loop; tests open their own aiohttp websocket where they need events.
"""

from collections.abc import Callable
from dataclasses import dataclass
import json
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

DOMAIN = "yeastar_s_series"


class ApiError(Exception):
    """An HTTP API answered with an error status."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        """Keep the status and the answer for the caller and the message."""
        super().__init__(f"{method} {url}: HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


def _request(
    method: str,
    url: str,
    *,
    payload: object = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30,
) -> Any:
    """Send one request and return its decoded JSON answer (None for an empty body)."""
    headers: dict[str, str] = {}
    data: bytes | None = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif payload is not None:
        data = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read()
    except urllib.error.HTTPError as err:
        raise ApiError(
            method, url, err.code, err.read().decode(errors="replace")
        ) from None
    return json.loads(body) if body.strip() else None


def wait_for[T](
    probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.25
) -> T:
    """Call ``probe`` until it returns something other than None; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while (value := probe()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return value


@dataclass(frozen=True, slots=True)
class Owner:
    """The Home Assistant user that onboarding creates (an administrator)."""

    name: str
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Tokens:
    """What ``/auth/token`` hands out: a 30-minute access token and its refresh token."""

    access_token: str
    refresh_token: str


@dataclass(frozen=True, slots=True)
class PbxSettings:
    """The config flow's form for one PBX."""

    host: str
    port: int
    password: str
    username: str = "api"
    ssl: bool = True
    verify_ssl: bool = False
    api_version: str = "auto"
    tcp_port: int | None = None  # the event port, when the PBX reports over TCP


class HassClient:
    """Home Assistant's REST API as a user (or a browser during onboarding) sees it."""

    def __init__(self, url: str, token: str | None = None) -> None:
        """Talk to the Home Assistant at ``url`` (``http://host:port``)."""
        self.url = url.rstrip("/")
        self.token = token

    @property
    def client_id(self) -> str:
        """Return the OAuth client id: like the frontend, Home Assistant's own URL."""
        return f"{self.url}/"

    def request(self, method: str, path: str, payload: object = None) -> Any:
        """Call the API with the access token and return the JSON answer."""
        return _request(method, self.url + path, payload=payload, token=self.token)

    def is_up(self) -> bool:
        """Return whether the HTTP server answers (any HTTP status counts)."""
        try:
            _request("GET", f"{self.url}/api/onboarding", timeout=5)
        except ApiError:
            return True
        except OSError:
            return False
        return True

    def is_running(self) -> bool:
        """Return whether Home Assistant has finished starting (needs the token).

        HTTP answers well before that: while integrations still set up, the state is
        ``NOT_RUNNING`` or ``STARTING``.
        """
        state: str = self.request("GET", "/api/config")["state"]
        return state == "RUNNING"

    def is_onboarded(self) -> bool:
        """Return whether every onboarding step is done.

        Once it is, Home Assistant no longer serves the onboarding API at all (404).
        """
        try:
            steps = _request("GET", f"{self.url}/api/onboarding")
        except ApiError as err:
            if err.status == 404:
                return True
            raise
        return all(step["done"] for step in steps)

    def onboard(self, owner: Owner, language: str = "en") -> Tokens:
        """Do what the onboarding pages do: create the owner, then finish every step."""
        answer = _request(
            "POST",
            f"{self.url}/api/onboarding/users",
            payload={
                "client_id": self.client_id,
                "name": owner.name,
                "username": owner.username,
                "password": owner.password,
                "language": language,
            },
        )
        tokens = self._exchange_code(answer["auth_code"])
        done = {
            step["step"]
            for step in _request("GET", f"{self.url}/api/onboarding")
            if step["done"]
        }
        bodies: dict[str, dict[str, str]] = {
            "core_config": {},
            "analytics": {},
            "integration": {
                "client_id": self.client_id,
                "redirect_uri": self._redirect_uri,
            },
        }
        for step, body in bodies.items():
            if step not in done:
                self.request("POST", f"/api/onboarding/{step}", body)
        return tokens

    def login(self, owner: Owner) -> Tokens:
        """Log in with the login form's flow (for a Home Assistant onboarded before)."""
        flow = _request(
            "POST",
            f"{self.url}/auth/login_flow",
            payload={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self._redirect_uri,
            },
        )
        result = _request(
            "POST",
            f"{self.url}/auth/login_flow/{flow['flow_id']}",
            payload={
                "client_id": self.client_id,
                "username": owner.username,
                "password": owner.password,
            },
        )
        if result.get("type") != "create_entry":
            # Onboarded before with another user (in the browser, say).
            raise RuntimeError(
                f"Home Assistant refused the user {owner.username!r} and its password:"
                " set HA_USER and HA_PASSWORD to the user you created when you"
                " onboarded it"
            )
        return self._exchange_code(result["result"])

    @property
    def _redirect_uri(self) -> str:
        """Return where the frontend would be sent back after logging in."""
        return f"{self.url}/?auth_callback=1"

    def _exchange_code(self, code: str) -> Tokens:
        """Trade an authorization code for tokens and use the access token from now on."""
        answer = _request(
            "POST",
            f"{self.url}/auth/token",
            form={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        )
        self.token = answer["access_token"]
        return Tokens(answer["access_token"], answer["refresh_token"])

    def entries(self, domain: str = DOMAIN) -> list[dict[str, Any]]:
        """Return the config entries of ``domain`` as the integrations page lists them."""
        entries: list[dict[str, Any]] = self.request(
            "GET", f"/api/config/config_entries/entry?domain={domain}"
        )
        return entries

    def add_pbx(self, pbx: PbxSettings) -> dict[str, Any]:
        """Run the config flow's form with ``pbx`` and return the flow's last answer."""
        form = self.request(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": DOMAIN, "show_advanced_options": False},
        )
        result: dict[str, Any] = self.request(
            "POST",
            f"/api/config/config_entries/flow/{form['flow_id']}",
            {
                "host": pbx.host,
                "port": pbx.port,
                "ssl": pbx.ssl,
                "verify_ssl": pbx.verify_ssl,
                "api_version": pbx.api_version,
                "username": pbx.username,
                "password": pbx.password,
            },
        )
        if result.get("step_id") == "tcp" and pbx.tcp_port is not None:
            # The PBX reports over TCP: the flow asks for the event port.
            result = self.request(
                "POST",
                f"/api/config/config_entries/flow/{form['flow_id']}",
                {"password": pbx.password, "tcp_port": pbx.tcp_port},
            )
        return result

    def set_options(self, entry_id: str, options: dict[str, Any]) -> dict[str, Any]:
        """Submit the options form of an entry (the entry reloads with them)."""
        form = self.request(
            "POST", "/api/config/config_entries/options/flow", {"handler": entry_id}
        )
        result: dict[str, Any] = self.request(
            "POST",
            f"/api/config/config_entries/options/flow/{form['flow_id']}",
            options,
        )
        return result

    def states(self) -> list[dict[str, Any]]:
        """Return every entity's state."""
        states: list[dict[str, Any]] = self.request("GET", "/api/states")
        return states

    def find_state(self, predicate: Callable[[str], bool]) -> dict[str, Any] | None:
        """Return the first state whose entity id matches ``predicate``."""
        return next((s for s in self.states() if predicate(s["entity_id"])), None)

    def wait_for_state(
        self, predicate: Callable[[str], bool], state: str, *, timeout: float = 30
    ) -> dict[str, Any]:
        """Wait until an entity matching ``predicate`` exists and has ``state``."""

        def probe() -> dict[str, Any] | None:
            found = self.find_state(predicate)
            return found if found is not None and found["state"] == state else None

        return wait_for(probe, timeout=timeout, what=f"an entity in state {state!r}")


def is_connection_sensor(entity_id: str) -> bool:
    """Match the PBX's Connection sensor (``sensor.<pbx name>_connection``)."""
    return entity_id.startswith("sensor.") and entity_id.endswith("_connection")
