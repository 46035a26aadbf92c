"""The client against a canned loopback server: request shapes and every kind of answer."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import hashlib
import socket
import time
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
import pytest

from custom_components.yeastar_s_series.api import (
    ApiVersion,
    ExtensionStatus,
    ReportTarget,
    YeastarApiUnavailableError,
    YeastarAuthenticationError,
    YeastarClient,
    YeastarConnectionError,
    YeastarConnectionRefusedError,
    YeastarInvalidAuthError,
    YeastarLockedOutError,
    YeastarRequestError,
    YeastarResponseError,
    YeastarTimeoutError,
    YeastarTokenError,
    detect_api_version,
    hash_password,
)

from .canned import CannedPBX

TOKEN = "48a7d7481a5355aa4fb5dc285edeb40e"
PASSWORD_HASH = hash_password("secret")
TARGET = ReportTarget("192.168.5.20", 8260, "yeastar/report")


def make_client(
    session: aiohttp.ClientSession,
    port: int,
    version: ApiVersion = ApiVersion.V2_0_0,
    **options: Any,
) -> YeastarClient:
    """Return a plain-HTTP client for a loopback server."""
    return YeastarClient(
        session, "127.0.0.1", port=port, https=False, api_version=version, **options
    )


async def logged_in_client(
    session: aiohttp.ClientSession,
    canned: CannedPBX,
    version: ApiVersion = ApiVersion.V2_0_0,
) -> YeastarClient:
    """Return a client the canned server has let in."""
    canned.answer("login", {"status": "Success", "token": TOKEN})
    client = make_client(session, canned.port, version)
    await client.login("api", PASSWORD_HASH, TARGET)
    return client


def test_hash_password() -> None:
    """The PBX wants the MD5 of the password as 32 lowercase hex digits."""
    assert hash_password("password") == "5f4dcc3b5aa765d61d8327deb882cf99"
    assert hash_password("") == "d41d8cd98f00b204e9800998ecf8427e"
    assert hash_password("pässwörd") == hashlib.md5("pässwörd".encode()).hexdigest()


def test_base_url() -> None:
    """HTTPS by default on port 8088; IPv6 hosts get brackets."""
    session: Any = None  # never used: building a client sends nothing
    assert (
        YeastarClient(session, "192.168.5.150").base_url == "https://192.168.5.150:8088"
    )
    assert (
        YeastarClient(session, "fd00::5", port=80, https=False).base_url
        == "http://[fd00::5]:80"
    )


@pytest.mark.parametrize(
    ("version", "report_format"),
    [
        (ApiVersion.V2_0_0, "2.0.0"),
        (ApiVersion.V1_1_0, "1.0.2"),
        (ApiVersion.V1_0_0, None),
    ],
)
async def test_login_body(
    session: aiohttp.ClientSession,
    canned: CannedPBX,
    version: ApiVersion,
    report_format: str | None,
) -> None:
    """Login posts the hash, the report port and url, and the report format of the version."""
    client = await logged_in_client(session, canned, version)

    (request,) = canned.requests_to("login")
    expected: dict[str, str] = {
        "username": "api",
        "password": PASSWORD_HASH,
        "port": "8260",
        "url": "yeastar/report",
    }
    if report_format is not None:
        expected["version"] = report_format
    assert request.version == version.value
    assert request.query == {}
    assert request.body == expected
    assert client.logged_in


async def test_login_without_url(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """No url: the PBX posts reports to the root of the port."""
    canned.answer("login", {"status": "Success", "token": TOKEN})
    client = make_client(session, canned.port)

    await client.login("api", PASSWORD_HASH, ReportTarget("192.168.5.20", 8260))

    assert "url" not in canned.requests_to("login")[0].body


@pytest.mark.parametrize(
    ("version", "extra"),
    [(ApiVersion.V2_0_0, {"version": "2.0.0"}), (ApiVersion.V1_1_0, {})],
)
async def test_heartbeat_body(
    session: aiohttp.ClientSession,
    canned: CannedPBX,
    version: ApiVersion,
    extra: dict[str, str],
) -> None:
    """Heartbeat carries the token in the query and the whole report target in the body."""
    client = await logged_in_client(session, canned, version)
    canned.answer("heartbeat", {"status": "Success"})

    await client.heartbeat(ReportTarget("10.0.0.7", 8261, "new/path"))

    (request,) = canned.requests_to("heartbeat")
    assert request.query == {"token": TOKEN}
    assert request.body == {
        "ipaddr": "10.0.0.7",
        "port": "8261",
        "url": "new/path",
        **extra,
    }


async def test_not_logged_in_sends_nothing(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """Calls needing a token fail locally with a token error; logout is a no-op."""
    client = make_client(session, canned.port)

    with pytest.raises(YeastarTokenError) as caught:
        await client.device_info()
    await client.logout()

    assert caught.value.errno == "20005"
    assert canned.requests == []


async def test_logout_forgets_token_even_when_refused(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """A failed logout still leaves the client logged out."""
    client = await logged_in_client(session, canned)
    canned.answer("logout", {"status": "Failed", "errno": "20004"})

    with pytest.raises(YeastarTokenError):
        await client.logout()

    assert not client.logged_in
    assert canned.requests_to("logout")[0].query == {"token": TOKEN}


async def test_forget_token(session: aiohttp.ClientSession, canned: CannedPBX) -> None:
    """After forget_token the client needs a new login."""
    client = await logged_in_client(session, canned)

    client.forget_token()

    assert not client.logged_in
    with pytest.raises(YeastarTokenError):
        await client.device_info()


ERROR_ANSWERS: list[tuple[dict[str, Any], type[Exception], str | None]] = [
    ({"status": "Failed", "errno": "20002"}, YeastarLockedOutError, "20002"),
    ({"status": "Failed", "errno": "20003"}, YeastarInvalidAuthError, "20003"),
    ({"status": "Failure", "errno": "20003"}, YeastarInvalidAuthError, "20003"),
    ({"status": "Failed", "errno": "20004"}, YeastarTokenError, "20004"),
    ({"status": "Failed", "errno": 20005}, YeastarTokenError, "20005"),
    ({"status": "Failed", "errno": " 20006 "}, YeastarTokenError, "20006"),
    ({"status": "Failed", "errno": "30003"}, YeastarApiUnavailableError, None),
    ({"status": "Failed", "errno": "20000"}, YeastarRequestError, "20000"),
    ({"status": "Failed", "errno": "20001"}, YeastarRequestError, "20001"),
    ({"status": "Failed", "errno": "20007"}, YeastarRequestError, "20007"),
    ({"status": "Failed", "errno": "20008"}, YeastarRequestError, "20008"),
    ({"status": "Failed", "errno": "20009"}, YeastarRequestError, "20009"),
    ({"status": "Failed", "errno": "20010"}, YeastarRequestError, "20010"),
    ({"status": "Failed", "errno": "20011"}, YeastarRequestError, "20011"),
    ({"status": "Failed", "errno": "10002"}, YeastarRequestError, "10002"),
    ({"status": "Failed", "errno": "10003"}, YeastarRequestError, "10003"),
    ({"status": "Failed", "errno": "10007"}, YeastarRequestError, "10007"),
    ({"status": "Failed"}, YeastarResponseError, None),
    ({"status": "Failed", "errno": ""}, YeastarResponseError, None),
    ({"errno": "20004"}, YeastarTokenError, "20004"),
    ({"status": "success", "token": TOKEN}, YeastarResponseError, None),
]


@pytest.mark.parametrize(
    ("answer", "error", "errno"),
    ERROR_ANSWERS,
    ids=[f"{a.get('status')}-{a.get('errno')}" for a, _, _ in ERROR_ANSWERS],
)
async def test_error_answers(
    session: aiohttp.ClientSession,
    canned: CannedPBX,
    answer: dict[str, Any],
    error: type[Exception],
    errno: str | None,
) -> None:
    """Every documented errno maps to its exception; anything but Success is a failure."""
    client = await logged_in_client(session, canned)
    canned.answer("deviceinfo/query", answer)

    with pytest.raises(error) as caught:
        await client.device_info()

    if errno is None:
        assert not isinstance(caught.value, YeastarRequestError)
    else:
        assert isinstance(caught.value, YeastarRequestError)
        assert caught.value.errno == errno
    if error is YeastarRequestError:
        # Only the documented errnos mean "log in again" or "ask the user"; the
        # message names the errno for the log.
        assert not isinstance(
            caught.value, (YeastarTokenError, YeastarAuthenticationError)
        )
        assert errno is not None and errno in str(caught.value)
    assert client.logged_in, "an error answer alone does not drop the token"


async def test_api_not_running_is_not_connection_refused(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """Errno 30003: the PBX is up but its API service is not (no retry of the connection)."""
    canned.answer("login", {"status": "Failed", "errno": "30003"})

    with pytest.raises(YeastarApiUnavailableError) as caught:
        await make_client(session, canned.port).login("api", PASSWORD_HASH, TARGET)

    assert not isinstance(caught.value, YeastarConnectionError)


@pytest.mark.parametrize(
    ("status", "text", "error"),
    [
        (404, "404: Not Found", YeastarApiUnavailableError),
        (500, '{"status":"Success"}', YeastarResponseError),
        (302, "", YeastarResponseError),
        (200, "<html>API</html>", YeastarResponseError),
        (200, "", YeastarResponseError),
        (200, '["Success"]', YeastarResponseError),
        (200, '"Success"', YeastarResponseError),
    ],
)
async def test_http_and_body_errors(
    session: aiohttp.ClientSession,
    canned: CannedPBX,
    status: int,
    text: str,
    error: type[Exception],
) -> None:
    """HTTP 404 means "API version not served"; other oddities are response errors."""
    client = await logged_in_client(session, canned)
    canned.answer("deviceinfo/query", status=status, text=text)

    with pytest.raises(error):
        await client.device_info()


async def test_body_not_in_utf8(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """Bytes that are not UTF-8 inside a JSON answer do not break the client."""
    client = await logged_in_client(session, canned)
    canned.answer(
        "deviceinfo/query",
        text=b'{"status":"Success","deviceinfo":{"sn":"369364835218","devicename":"S\xff100"}}',
    )

    info = await client.device_info()

    assert info.serial == "369364835218"
    assert info.model.startswith("S")


async def test_login_success_without_token(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """A Success without a usable token is a response error, and the client stays logged out."""
    client = make_client(session, canned.port)
    for answer in (
        {"status": "Success"},
        {"status": "Success", "token": ""},
        {"status": "Success", "token": 5},
    ):
        canned.answer("login", answer)
        with pytest.raises(YeastarResponseError):
            await client.login("api", PASSWORD_HASH, TARGET)
        assert not client.logged_in


async def test_device_info_fields(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """The document's deviceinfo example becomes a DeviceInfo."""
    client = await logged_in_client(session, canned)
    canned.answer(
        "deviceinfo/query",
        {
            "status": "Success",
            "deviceinfo": {
                "devicename": "Yeastar S100",
                "sn": "369364835218",
                "hardwarever": "V1.30 0000-0000",
                "firmwarever": "30.5.0.19",
                "systemtime": "2017-05-24 23:25:20 UTC-8",
                "uptime": "03:25:04",
                "extensionstatus": "7/100",
            },
        },
    )

    info = await client.device_info()

    assert (info.model, info.serial, info.firmware_version, info.hardware_version) == (
        "Yeastar S100",
        "369364835218",
        "30.5.0.19",
        "V1.30 0000-0000",
    )
    assert (info.uptime, info.extension_status) == ("03:25:04", "7/100")


@pytest.mark.parametrize(
    "deviceinfo",
    [None, "S100", {}, {"sn": ""}, {"sn": None}, {"sn": True}, {"devicename": "S100"}],
)
async def test_device_info_without_serial(
    session: aiohttp.ClientSession, canned: CannedPBX, deviceinfo: Any
) -> None:
    """Without a serial the PBX cannot be told apart from another: refuse the answer."""
    client = await logged_in_client(session, canned)
    canned.answer("deviceinfo/query", {"status": "Success", "deviceinfo": deviceinfo})

    with pytest.raises(YeastarResponseError):
        await client.device_info()


async def test_device_info_minimal(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """A numeric serial is kept as text; missing fields become None, the model a default."""
    client = await logged_in_client(session, canned)
    canned.answer(
        "deviceinfo/query",
        {"status": "Success", "deviceinfo": {"sn": 369364835218, "firmwarever": ""}},
    )

    info = await client.device_info()

    assert info.serial == "369364835218"
    assert info.model == "S-Series"
    assert info.firmware_version is None
    assert info.uptime is None


async def test_extension_list_items(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """v1 and v2 items, odd statuses and numbers; items without a number are skipped."""
    client = await logged_in_client(session, canned, ApiVersion.V1_1_0)
    canned.answer(
        "extensionlist/query",
        {
            "status": "Success",
            "extlist": [
                {
                    "extnumber": "1000",
                    "status": "Registered",
                    "type": "SIP",
                    "username": "Jayson",
                    "agentid": "",
                },
                {
                    "number": "1001",
                    "status": "Fxsnoport",
                    "type": "FXS",
                    "username": "",
                },
                {"extnumber": 1002, "status": "On Fire"},
                {"extnumber": "1007", "status": 3},
                {"extnumber": "", "status": "Idle"},
                {"extnumber": True},
                {"status": "Idle"},
                "1003",
                None,
            ],
        },
    )

    extensions = await client.extensions()

    assert [(e.number, e.name, e.status, e.type) for e in extensions] == [
        ("1000", "Jayson", ExtensionStatus.REGISTERED, "SIP"),
        ("1001", None, ExtensionStatus.FXS_NO_PORT, "FXS"),
        ("1002", None, None, None),
        ("1007", None, None, None),
    ]
    assert canned.requests_to("extensionlist/query")[0].query == {"token": TOKEN}


@pytest.mark.parametrize("extlist", [None, {}, "1000", 0])
async def test_extension_list_missing(
    session: aiohttp.ClientSession, canned: CannedPBX, extlist: Any
) -> None:
    """A Success without a list is a response error, not an empty PBX."""
    client = await logged_in_client(session, canned)
    answer: dict[str, Any] = {"status": "Success"}
    if extlist is not None:
        answer["extlist"] = extlist
    canned.answer("extension/list", answer)

    with pytest.raises(YeastarResponseError):
        await client.extensions()


# --- transport failures without the simulator -------------------------------------------


@contextlib.asynccontextmanager
async def raw_server(
    on_connect: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    """Run a bare TCP server on loopback and yield its port."""
    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        server.close_clients()
        await server.wait_closed()


async def _hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


def free_port() -> int:
    """Return a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_closed_without_answer(session: aiohttp.ClientSession) -> None:
    """A server that hangs up is a connection error (not a refusal, not a timeout)."""
    async with raw_server(_hang_up) as port:
        with pytest.raises(YeastarConnectionError) as caught:
            await make_client(session, port).login("api", PASSWORD_HASH, TARGET)

    assert type(caught.value) is YeastarConnectionError


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    """Nothing listening: YeastarConnectionRefusedError, which is also "API unavailable"."""
    with pytest.raises(YeastarConnectionRefusedError) as caught:
        await make_client(session, free_port()).login("api", PASSWORD_HASH, TARGET)

    assert isinstance(caught.value, YeastarApiUnavailableError)
    assert isinstance(caught.value, YeastarConnectionError)


class _FailingResolver(AbstractResolver):
    """A resolver for a host name that does not exist."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        raise OSError(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        """Nothing to release."""


async def test_unknown_host_is_a_connection_error() -> None:
    """A name that does not resolve is a connection error, not a refusal."""
    connector = aiohttp.TCPConnector(resolver=_FailingResolver())
    async with aiohttp.ClientSession(connector=connector) as session:
        client = YeastarClient(session, "pbx.invalid", https=False)
        with pytest.raises(YeastarConnectionError) as caught:
            await client.login("api", PASSWORD_HASH, TARGET)

    assert not isinstance(caught.value, YeastarConnectionRefusedError)


async def test_timeout_on_silent_server(session: aiohttp.ClientSession) -> None:
    """A server that accepts and never answers times out after request_timeout."""

    async def _silent(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.read()  # until the client gives up
        writer.close()

    async with raw_server(_silent) as port:
        client = make_client(session, port, request_timeout=0.2)
        started = time.monotonic()
        with pytest.raises(YeastarTimeoutError):
            await client.login("api", PASSWORD_HASH, TARGET)

    assert time.monotonic() - started < 2


# --- API version detection -------------------------------------------------------------


async def test_detect_skips_versions_answering_unsupported(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """404, 30003 and 10003 mean "not this version": try the next one."""
    canned.answer("login", {"status": "Failed", "errno": "10003"}, version="v2.0.0")
    canned.answer("login", {"status": "Failed", "errno": "30003"}, version="v1.1.0")
    canned.answer("login", {"status": "Success", "token": TOKEN}, version="v1.0.0")

    client = await detect_api_version(
        session,
        "127.0.0.1",
        "api",
        PASSWORD_HASH,
        TARGET,
        port=canned.port,
        https=False,
    )

    assert client.api_version is ApiVersion.V1_0_0
    assert client.logged_in
    assert [r.version for r in canned.requests_to("login")] == [
        "v2.0.0",
        "v1.1.0",
        "v1.0.0",
    ]
    assert "version" not in canned.requests_to("login")[-1].body


@pytest.mark.parametrize(
    ("errno", "error"),
    [
        ("20003", YeastarInvalidAuthError),
        ("20002", YeastarLockedOutError),
        ("20008", YeastarRequestError),
    ],
)
async def test_detect_stops_at_refusals(
    session: aiohttp.ClientSession,
    canned: CannedPBX,
    errno: str,
    error: type[Exception],
) -> None:
    """A refused login ends detection at once: one request, never a retry on older versions."""
    canned.answer("login", {"status": "Failed", "errno": errno})

    with pytest.raises(error):
        await detect_api_version(
            session,
            "127.0.0.1",
            "api",
            PASSWORD_HASH,
            TARGET,
            port=canned.port,
            https=False,
        )

    assert len(canned.requests) == 1


async def test_detect_stops_at_garbage(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """An answer that is not the API's is not "version missing" either."""
    canned.answer("login", status=200, text="<html>Login</html>")

    with pytest.raises(YeastarResponseError):
        await detect_api_version(
            session,
            "127.0.0.1",
            "api",
            PASSWORD_HASH,
            TARGET,
            port=canned.port,
            https=False,
        )

    assert len(canned.requests) == 1


async def test_detect_connection_refused(session: aiohttp.ClientSession) -> None:
    """Nothing listening: refused at once, not "no version served"."""
    with pytest.raises(YeastarConnectionRefusedError):
        await detect_api_version(
            session,
            "127.0.0.1",
            "api",
            PASSWORD_HASH,
            TARGET,
            port=free_port(),
            https=False,
        )
