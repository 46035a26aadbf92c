"""Async client for the HTTP API of Yeastar S-Series IP-PBXs.

No Home Assistant imports: the client takes an `aiohttp.ClientSession` and could
be published on its own. It keeps only the MD5 hash of the password, never the
password, and keeps the token out of every message and repr.
"""

import asyncio
from collections.abc import Mapping
import hashlib
import json
import logging
import ssl
from typing import Any

import aiohttp

from .exceptions import (
    YeastarApiUnavailableError,
    YeastarCertificateChangedError,
    YeastarConnectionError,
    YeastarConnectionRefusedError,
    YeastarError,
    YeastarInvalidAuthError,
    YeastarLockedOutError,
    YeastarRequestError,
    YeastarResponseError,
    YeastarTimeoutError,
    YeastarTlsError,
    YeastarTokenError,
)
from .models import DETECTION_ORDER, ApiVersion, DeviceInfo, Extension, ReportTarget
from .tls import aiohttp_ssl

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 8088
DEFAULT_TIMEOUT = 10.0
TOKEN_LIFETIME = 1800  # seconds a token lives after the last request that used it

ERRNO_LOCKED_OUT = "20002"
ERRNO_INVALID_AUTH = "20003"
ERRNOS_TOKEN = frozenset({"20004", "20005", "20006"})
ERRNO_API_NOT_RUNNING = "30003"
ERRNO_UNSUPPORTED_REQUEST = "10003"


def hash_password(password: str) -> str:
    """MD5 of the password as 32 lowercase hex digits: the only form the PBX accepts."""
    return hashlib.md5(password.encode()).hexdigest()  # noqa: S324 - the PBX's own scheme


class YeastarClient:
    """One API session with one PBX: login, heartbeat, queries, logout."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        port: int = DEFAULT_PORT,
        https: bool = True,
        verify_tls: bool = False,
        fingerprint: str | None = None,
        api_version: ApiVersion = ApiVersion.V2_0_0,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Describe the PBX; nothing is sent until `login`."""
        self._session = session
        self.host = host
        self.port = port
        self.https = https
        self.api_version = api_version
        self.request_timeout = request_timeout
        self._ssl: bool | aiohttp.Fingerprint = (
            aiohttp_ssl(verify=verify_tls, fingerprint=fingerprint) if https else False
        )
        self._token: str | None = None

    def __repr__(self) -> str:
        """Show where the client points, never its token."""
        return (
            f"{type(self).__name__}(host={self.host!r}, port={self.port}, "
            f"https={self.https}, api_version={self.api_version.value!r}, "
            f"logged_in={self.logged_in})"
        )

    @property
    def base_url(self) -> str:
        """Scheme, host and port of the PBX's web server."""
        scheme = "https" if self.https else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def logged_in(self) -> bool:
        """Whether the client holds a token (the PBX may still have dropped it)."""
        return self._token is not None

    async def login(
        self, username: str, password_hash: str, target: ReportTarget
    ) -> None:
        """Open a session; the PBX will post event reports to `target` while it lives.

        Raises YeastarInvalidAuthError or YeastarLockedOutError when refused: the
        caller must not retry on its own, five failures lock its IP for 10 minutes.
        """
        body: dict[str, Any] = {
            "username": username,
            "password": password_hash,
            "port": str(target.port),
        }
        if target.url:
            body["url"] = target.url
        if (report_format := self.api_version.report_format) is not None:
            body["version"] = report_format
        answer = await self._request("login", body, with_token=False)
        token = answer.get("token")
        if not isinstance(token, str) or not token:
            raise YeastarResponseError("The PBX accepted the login but sent no token")
        self._token = token

    async def heartbeat(self, target: ReportTarget) -> None:
        """Extend the token by 30 minutes and (re)point event reports at `target`."""
        body: dict[str, Any] = {
            "ipaddr": target.ipaddr,
            "port": str(target.port),
            "url": target.url,
        }
        if self.api_version is ApiVersion.V2_0_0:
            body["version"] = "2.0.0"
        await self._request("heartbeat", body)

    async def logout(self) -> None:
        """Release the token at the PBX; the client forgets it whatever the answer."""
        if self._token is None:
            return
        try:
            await self._request("logout", {})
        finally:
            self._token = None

    def forget_token(self) -> None:
        """Drop a token the PBX no longer knows (after a reboot or a token error)."""
        self._token = None

    async def device_info(self) -> DeviceInfo:
        """Model, serial and versions of the PBX."""
        return DeviceInfo.from_api(await self._request("deviceinfo/query", {}))

    async def extensions(self) -> list[Extension]:
        """Return the PBX's extensions with their current status."""
        answer = await self._request(self.api_version.extension_list_endpoint, {})
        items = answer.get("extlist")
        if not isinstance(items, list):
            raise YeastarResponseError(
                "The PBX sent an extension list without extensions"
            )
        return [ext for item in items if (ext := Extension.from_api(item)) is not None]

    async def _request(
        self, endpoint: str, body: Mapping[str, Any], *, with_token: bool = True
    ) -> dict[str, Any]:
        """POST one API call and return the answer of a successful one.

        Every library error is replaced (`from None`): their texts can hold the URL,
        and the URL holds the token.
        """
        params: dict[str, str] = {}
        if with_token:
            if self._token is None:
                raise YeastarTokenError("20005", "Not logged in to the PBX")
            params["token"] = self._token
        url = f"{self.base_url}/api/{self.api_version.value}/{endpoint}"
        try:
            async with (
                asyncio.timeout(self.request_timeout),
                self._session.post(
                    url, params=params, json=body, ssl=self._ssl
                ) as response,
            ):
                status = response.status
                text = await response.text(errors="replace")
        except TimeoutError:
            raise YeastarTimeoutError("The PBX did not answer in time") from None
        except aiohttp.ServerFingerprintMismatch:
            raise YeastarCertificateChangedError(
                "The PBX showed a certificate other than the trusted one"
            ) from None
        except aiohttp.ClientSSLError, ssl.SSLError:
            raise YeastarTlsError(
                "The PBX's certificate could not be verified"
            ) from None
        except aiohttp.ClientConnectorError as err:
            if isinstance(err.os_error, ConnectionRefusedError):
                raise YeastarConnectionRefusedError(
                    "The PBX refused the connection"
                ) from None
            raise YeastarConnectionError("Could not connect to the PBX") from None
        except aiohttp.ClientError, OSError:
            raise YeastarConnectionError("The connection to the PBX failed") from None
        return self._decode(endpoint, status, text)

    @staticmethod
    def _decode(endpoint: str, status: int, text: str) -> dict[str, Any]:
        """Turn an HTTP answer into the API's JSON object or the matching error."""
        if status == 404:
            raise YeastarApiUnavailableError("The PBX does not serve this API version")
        if status != 200:
            raise YeastarResponseError(f"The PBX answered HTTP {status}")
        try:
            answer = json.loads(text)
        except ValueError:
            raise YeastarResponseError(
                "The PBX answered something that is not JSON"
            ) from None
        if not isinstance(answer, dict):
            raise YeastarResponseError("The PBX answered JSON that is not an object")
        if answer.get("status") == "Success":
            return answer
        errno = str(answer.get("errno", "")).strip()
        _LOGGER.debug("The PBX refused %s with errno %s", endpoint, errno or "(none)")
        raise _error_for(errno)


def _error_for(errno: str) -> YeastarError:
    """Return the exception an `errno` stands for (see the API documents' error table)."""
    if errno == ERRNO_INVALID_AUTH:
        return YeastarInvalidAuthError(
            errno, "The PBX refused the username or password"
        )
    if errno == ERRNO_LOCKED_OUT:
        return YeastarLockedOutError(
            errno, "The PBX has locked this IP address after repeated wrong passwords"
        )
    if errno in ERRNOS_TOKEN:
        return YeastarTokenError(errno, "The PBX no longer knows the session token")
    if errno == ERRNO_API_NOT_RUNNING:
        return YeastarApiUnavailableError("The PBX's API service is not running")
    if not errno:
        return YeastarResponseError(
            "The PBX refused the request without an error number"
        )
    return YeastarRequestError(errno)


async def detect_api_version(
    session: aiohttp.ClientSession,
    host: str,
    username: str,
    password_hash: str,
    target: ReportTarget,
    **client_options: Any,
) -> YeastarClient:
    """Find the newest API version the PBX serves, and return a client logged in with it.

    Tries v2.0.0, v1.1.0, then v1.0.0. Only "this version is not here" moves on
    (HTTP 404, errno 30003 or 10003); a refused password stops at once, so one
    detection never costs more than one failed login.
    """
    for version in DETECTION_ORDER:
        client = YeastarClient(session, host, api_version=version, **client_options)
        try:
            await client.login(username, password_hash, target)
        except YeastarConnectionRefusedError:
            raise
        except YeastarApiUnavailableError:
            continue
        except YeastarRequestError as err:
            if err.errno != ERRNO_UNSUPPORTED_REQUEST:
                raise
            continue
        return client
    raise YeastarApiUnavailableError("The PBX serves none of the known API versions")
