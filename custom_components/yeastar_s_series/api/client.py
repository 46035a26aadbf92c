"""Async client for the HTTP API of Yeastar S-Series IP-PBXs.

No Home Assistant imports: the client takes an `aiohttp.ClientSession` and could
be published on its own. It keeps only the MD5 hash of the password, never the
password, and keeps the token out of every message and repr.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
import contextlib
from datetime import datetime
import hashlib
import json
import logging
import ssl
from typing import Any, override

import aiohttp

from .call_control import ApiRequest
from .cdr import CallRecord, download_body, parse_csv
from .download import CHUNK_SIZE, Download, is_api_answer
from .exceptions import (
    ReportParseError,
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
    YeastarUnsupportedError,
)
from .models import (
    DETECTION_ORDER,
    ApiVersion,
    DeviceInfo,
    Extension,
    ReportMethod,
    ReportTarget,
)
from .names import Contact
from .reports import Party, parse_members
from .settings import ExtensionSettings, query_all
from .sms import send_body
from .tls import aiohttp_ssl
from .trunks import Trunk

_LOGGER = logging.getLogger(__name__)

DEFAULT_PORT = 8088
DEFAULT_TIMEOUT = 10.0
TOKEN_LIFETIME = 1800  # seconds a token lives after the last request that used it

ERRNO_LOCKED_OUT = "20002"
ERRNO_INVALID_AUTH = "20003"
ERRNOS_TOKEN = frozenset({"20004", "20005", "20006"})
ERRNO_API_NOT_RUNNING = "30003"
ERRNO_UNSUPPORTED_REQUEST = "10003"
# A year of a busy PBX's call records is a few megabytes.
MAX_CALL_RECORDS_SIZE = 32 * 1024 * 1024


def hash_password(password: str) -> str:
    """MD5 of the password as 32 lowercase hex digits: the only form the PBX accepts."""
    return hashlib.md5(password.encode()).hexdigest()  # noqa: S324 - the PBX's own scheme


class YeastarClient:
    """One API session with one PBX: login, keep-alive, queries, logout.

    The session lives here: a request whose token the PBX no longer knows logs in
    again once and is sent again once. A refused password is never sent twice.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        host: str,
        *,
        username: str,
        password_hash: str,
        port: int = DEFAULT_PORT,
        https: bool = True,
        verify_tls: bool = False,
        fingerprint: str | None = None,
        api_version: ApiVersion = ApiVersion.V2_0_0,
        request_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Describe the PBX and the API user; nothing is sent until asked."""
        self._session = session
        self.host = host
        self.port = port
        self.https = https
        self.api_version = api_version
        self.request_timeout = request_timeout
        self._username = username
        self._password_hash = password_hash
        self._ssl: bool | aiohttp.Fingerprint = (
            aiohttp_ssl(verify=verify_tls, fingerprint=fingerprint) if https else False
        )
        self._token: str | None = None
        # What the last login said; HTTP until then (and always before v2.0.0).
        self.report_method = ReportMethod.HTTP
        self.logins = 0  # sessions opened: a caller sees that a request logged in
        self._target: ReportTarget | None = None
        self._refused: YeastarInvalidAuthError | None = None

    @override
    def __repr__(self) -> str:
        """Show where the client points, never its credentials or token."""
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

    async def detect_api_version(self) -> ApiVersion:
        """Find the newest API version the PBX serves, without sending credentials.

        A request without a token to a version the PBX has answers a token error;
        a version it lacks answers HTTP 404 or errno 10003. No login is tried, so
        detection costs no password whatever the PBX answers.
        """
        for version in DETECTION_ORDER:
            self.api_version = version
            try:
                await self._request("heartbeat", {}, with_token=False)
            except YeastarApiUnavailableError:
                continue
            except YeastarRequestError as err:
                if err.errno == ERRNO_UNSUPPORTED_REQUEST:
                    continue
            # A token error, or any other answer of the API: it has this version.
            return version
        raise YeastarApiUnavailableError(
            "The PBX serves none of the known API versions"
        )

    async def login(self, target: ReportTarget) -> None:
        """Open a session; the PBX will post event reports to `target` while it lives.

        Raises YeastarInvalidAuthError or YeastarLockedOutError when refused. After
        a refused password this client sends no login again (five refusals lock its
        IP out for 10 minutes): make a new client once the user gave new ones.
        """
        if self._refused is not None:
            raise self._refused
        self._target = target
        body: dict[str, Any] = {
            "username": self._username,
            "password": self._password_hash,
            "port": str(target.port),
        }
        if target.url:
            body["url"] = target.url
        if (version := self.api_version.login_version) is not None:
            body["version"] = version
        try:
            answer = await self._request("login", body, with_token=False)
        except YeastarInvalidAuthError as err:
            self._refused = err
            raise
        token = answer.get("token")
        if not isinstance(token, str) or not token:
            raise YeastarResponseError("The PBX accepted the login but sent no token")
        self._token = token
        self.logins += 1
        self.report_method = ReportMethod.from_login(answer)

    async def keep_alive(self, target: ReportTarget) -> None:
        """Extend the token by 30 minutes and (re)point event reports at `target`.

        Logs in first when there is no token, and again (once) when the PBX no
        longer knows the token; the heartbeat after a login tells the PBX the
        report address, which the login cannot carry.
        """
        self._target = target
        just_logged_in = self._token is None
        if just_logged_in:
            await self.login(target)
        body: dict[str, Any] = {
            "ipaddr": target.ipaddr,
            "port": str(target.port),
            "url": target.url,
        }
        if self.api_version is ApiVersion.V2_0_0:
            body["version"] = "2.0.0"
        await self._call("heartbeat", body, may_log_in=not just_logged_in)

    async def logout(self) -> None:
        """End the session; the client forgets it whatever the answer, and logs in no more.

        Until `login` or `keep_alive` opens a new one, requests fail without being sent.
        """
        self._target = None
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
        return DeviceInfo.from_api(await self._call("deviceinfo/query", {}))

    async def extensions(self) -> list[Extension]:
        """Return the PBX's extensions with their current status."""
        answer = await self._call(self.api_version.extension_list_endpoint, {})
        items = answer.get("extlist")
        if not isinstance(items, list):
            raise YeastarResponseError(
                "The PBX sent an extension list without extensions"
            )
        return [ext for item in items if (ext := Extension.from_api(item)) is not None]

    async def contacts(self) -> list[Contact]:
        """Return the PBX's company phonebook (API v2.0.0; none before it)."""
        if self.api_version is not ApiVersion.V2_0_0:
            return []
        answer = await self._call("companycontacts/query", {"id": "all"})
        items = answer.get("companycontacts", [])
        if not isinstance(items, list):
            raise YeastarResponseError("The PBX sent contacts that are no list")
        return [contact for item in items if (contact := Contact.from_api(item))]

    async def extension_calls(self) -> dict[str, tuple[Party, ...]]:
        """Return the calls in progress (API v2.0.0), call id -> members."""
        answer = await self._call("extension/query_call", {"number": "all"})
        calls: dict[str, tuple[Party, ...]] = {}
        try:
            for extension in answer.get("calllist") or []:
                for call in extension.get("numbercalls") or []:
                    if isinstance(callid := call.get("callid"), str):
                        calls[callid] = parse_members(call.get("members", []))
        except (AttributeError, ReportParseError) as err:
            raise YeastarResponseError(
                "The PBX described its calls in an unknown way"
            ) from err
        return calls

    async def extension_settings(self) -> dict[str, ExtensionSettings]:
        """Return every extension's do-not-disturb and forwarding (nothing else is kept)."""
        answer = await self._call("extension/query", query_all(self.api_version))
        items = answer.get("extinfos")
        if not isinstance(items, list):
            raise YeastarResponseError(
                "The PBX sent extension settings that are no list"
            )
        found = (ExtensionSettings.from_api(item) for item in items)
        return {item.number: item for item in found if item is not None}

    async def update_extension(self, body: Mapping[str, str]) -> None:
        """Change an extension's settings (`settings` builds the body)."""
        await self._call("extension/update", body)

    async def trunks(self) -> list[Trunk]:
        """Return the PBX's trunks with their current state."""
        endpoint = (
            "trunk/list" if self.api_version is ApiVersion.V2_0_0 else "trunklist/query"
        )
        items = (await self._call(endpoint, {})).get("trunklist")
        if not isinstance(items, list):
            raise YeastarResponseError("The PBX sent a trunk list without trunks")
        return [trunk for item in items if (trunk := Trunk.from_api(item)) is not None]

    async def send(self, request: ApiRequest) -> dict[str, Any]:
        """Send one request built by `call_control` (or another); return the answer."""
        return await self._call(request.endpoint, request.body)

    async def _call(
        self, endpoint: str, body: Mapping[str, Any], *, may_log_in: bool = True
    ) -> dict[str, Any]:
        """Send a request with the token; if the PBX forgot it, log in once and resend once."""
        try:
            return await self._request(endpoint, body)
        except YeastarTokenError:
            if not may_log_in or self._target is None:
                raise
        _LOGGER.info("The PBX no longer knows the session, logging in again")
        self._token = None
        await self.login(self._target)
        return await self._request(endpoint, body)

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
        with _library_errors():
            async with (
                asyncio.timeout(self.request_timeout),
                self._session.post(
                    url, params=params, json=body, ssl=self._ssl
                ) as response,
            ):
                status = response.status
                text = await response.text(errors="replace")
        return self._decode(endpoint, status, text)

    @contextlib.asynccontextmanager
    async def _download(
        self, endpoint: str, params: Mapping[str, str]
    ) -> AsyncIterator[Download]:
        """GET a file the PBX serves for a random string; a refusal raises its error."""
        if self._token is None:
            raise YeastarTokenError("20005", "Not logged in to the PBX")
        url = f"{self.base_url}/api/{self.api_version.value}/{endpoint}"
        query = {**params, "token": self._token}
        with _library_errors():
            async with asyncio.timeout(self.request_timeout):
                response = await self._session.get(
                    url,
                    params=query,
                    ssl=self._ssl,
                    timeout=aiohttp.ClientTimeout(sock_read=self.request_timeout),
                )
        try:
            with _library_errors():
                first = await response.content.read(CHUNK_SIZE)
            if response.status != 200 or is_api_answer(first):
                self._decode(endpoint, response.status, first.decode(errors="replace"))
                raise YeastarResponseError(f"The PBX answered {endpoint} with no file")
            yield Download(
                content_type=response.content_type,
                size=response.content_length,
                chunks=_chunks(first, response),
            )
        finally:
            response.release()

    async def call_records(
        self, numbers: str, start: datetime, end: datetime
    ) -> list[CallRecord]:
        """Download the call records of extensions ("1000,1001" or "all") in a span."""
        if self.api_version is ApiVersion.V1_0_0:
            raise YeastarUnsupportedError("API v1.0.0 has no call record download")
        key = "number" if self.api_version is ApiVersion.V2_0_0 else "extid"
        body = download_body(key, numbers, start, end)
        random = _random(await self._call("cdr/get_random", body))
        async with self._download("cdr/download", {**body, "random": random}) as file:
            content = await file.read(MAX_CALL_RECORDS_SIZE)
        return parse_csv(content.decode("utf-8", errors="replace"))

    @contextlib.asynccontextmanager
    async def recording(self, name: str) -> AsyncIterator[Download]:
        """Open a call recording by the file name its call record gives."""
        random = _random(await self._call("recording/get_random", {"recording": name}))
        async with self._download(
            "recording/download", {"recording": name, "random": random}
        ) as file:
            yield file

    async def send_sms(self, trunk: str, number: str, message: str) -> str:
        """Hand a text message to a GSM trunk; return its `smsid` (the result follows)."""
        answer = await self._call("sms/send", send_body(trunk, number, message))
        if not isinstance(smsid := answer.get("smsid"), str) or not smsid:
            raise YeastarResponseError("The PBX accepted the message but sent no smsid")
        return smsid

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
        raise error_for(errno)


@contextlib.contextmanager
def _library_errors() -> Iterator[None]:
    """Replace every library error by ours (`from None`).

    Their texts can hold the URL, and the URL holds the token.
    """
    try:
        yield
    except TimeoutError:
        raise YeastarTimeoutError("The PBX did not answer in time") from None
    except aiohttp.ServerFingerprintMismatch:
        raise YeastarCertificateChangedError(
            "The PBX showed a certificate other than the trusted one"
        ) from None
    except aiohttp.ClientSSLError, ssl.SSLError:
        raise YeastarTlsError("The PBX's certificate could not be verified") from None
    except aiohttp.ClientConnectorError as err:
        if isinstance(err.os_error, ConnectionRefusedError):
            raise YeastarConnectionRefusedError(
                "The PBX refused the connection"
            ) from None
        raise YeastarConnectionError("Could not connect to the PBX") from None
    except aiohttp.ClientError, OSError:
        raise YeastarConnectionError("The connection to the PBX failed") from None


async def _chunks(
    first: bytes, response: aiohttp.ClientResponse
) -> AsyncIterator[bytes]:
    """Yield a download's bytes: those already read, then the rest as they come."""
    if first:
        yield first
    while True:
        with _library_errors():
            chunk = await response.content.read(CHUNK_SIZE)
        if not chunk:
            return
        yield chunk


def _random(answer: Mapping[str, Any]) -> str:
    """Return the random string of a `…/get_random` answer."""
    if not isinstance(random := answer.get("random"), str) or not random:
        raise YeastarResponseError("The PBX sent no random string for the download")
    return random


def error_for(errno: str) -> YeastarError:
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
