"""The API client: its session against the simulator, every other answer from a canned server.

The simulator shows what a PBX does with what the client sends (sessions, report
formats, tokens, the lockout); the canned server answers what the simulator never
would (odd errnos, broken bodies) and records exactly what the client sends.
"""

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
    TOKEN_LIFETIME,
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
    hash_password,
)
from simulator import SimulatedPBX
from simulator.pbx import LOCKOUT_SECONDS

from .canned import CannedPBX
from .common import PASSWORD_HASH, TARGET, make_client

TOKEN = "48a7d7481a5355aa4fb5dc285edeb40e"
WRONG_HASH = hash_password("wrong")


async def canned_login(
    session: aiohttp.ClientSession,
    canned: CannedPBX,
    version: ApiVersion = ApiVersion.V2_0_0,
) -> YeastarClient:
    """Return a client the canned server has let in."""
    canned.answer("login", {"status": "Success", "token": TOKEN})
    client = make_client(session, canned.port, version)
    await client.login(TARGET)
    return client


def test_hash_password() -> None:
    """The PBX wants the MD5 of the password as 32 lowercase hex digits."""
    assert hash_password("password") == "5f4dcc3b5aa765d61d8327deb882cf99"
    assert hash_password("pässwörd") == hashlib.md5("pässwörd".encode()).hexdigest()


def test_base_url() -> None:
    """HTTPS by default on port 8088; IPv6 hosts get brackets."""
    session: Any = None  # never used: building a client sends nothing
    credentials: dict[str, Any] = {"username": "api", "password_hash": PASSWORD_HASH}
    assert (
        YeastarClient(session, "192.168.5.150", **credentials).base_url
        == "https://192.168.5.150:8088"
    )
    assert (
        YeastarClient(session, "fd00::5", port=80, https=False, **credentials).base_url
        == "http://[fd00::5]:80"
    )


# The session, against the simulator


@pytest.mark.parametrize(
    ("version", "report_format"),
    [
        (ApiVersion.V2_0_0, "2.0.0"),
        (ApiVersion.V1_1_0, "1.0.2"),
        (ApiVersion.V1_0_0, None),
    ],
)
async def test_keep_alive_opens_a_session_in_the_versions_report_format(
    session: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    version: ApiVersion,
    report_format: str | None,
) -> None:
    """The first keep-alive logs in with the hash, then points reports at the target."""
    client = make_client(session, pbx.port, version)

    await client.keep_alive(ReportTarget("127.0.0.2", 8261, "report/here"))

    (sim_session,) = pbx.sessions
    assert sim_session.report_format == report_format
    assert sim_session.api_version == version.value
    assert (sim_session.target_ip, sim_session.target_port) == ("127.0.0.2", 8261)
    assert sim_session.target_url.lstrip("/") == "report/here"
    assert (pbx.stats.successful_logins, pbx.stats.heartbeats) == (1, 1)
    assert client.logged_in


async def test_keep_alive_extends_the_token(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """Each keep-alive gives the token another 30 minutes: one login for hours."""
    client = make_client(session, pbx.port)
    for _ in range(5):
        await client.keep_alive(TARGET)
        pbx.clock.advance(TOKEN_LIFETIME - 60)

    assert (await client.device_info()).serial == pbx.serial
    assert pbx.stats.login_attempts == 1


@pytest.mark.parametrize("forget", ["reboot", "expiry"])
async def test_a_forgotten_token_costs_one_login(
    session: aiohttp.ClientSession, pbx: SimulatedPBX, forget: str
) -> None:
    """Token unknown (20004) or timed out (20006): log in once, send the request again."""
    client = make_client(session, pbx.port)
    await client.keep_alive(TARGET)
    if forget == "reboot":
        pbx.forget_tokens()
    else:
        pbx.clock.advance(TOKEN_LIFETIME + 1)

    extensions = await client.extensions()
    await client.keep_alive(TARGET)

    assert len(extensions) == len(pbx.extensions)
    assert pbx.stats.login_attempts == 2
    assert len(pbx.sessions) == 1


async def test_a_refused_password_is_never_sent_again(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """After 20003 the client refuses to log in by itself: the PBX locks out after five."""
    client = make_client(session, pbx.port, password_hash=WRONG_HASH)

    for _ in range(3):
        with pytest.raises(YeastarInvalidAuthError) as refused:
            await client.keep_alive(TARGET)
        assert refused.value.errno == "20003"

    assert pbx.stats.login_attempts == 1


async def test_lockout_after_five_wrong_passwords(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """Five wrong passwords lock the IP for 10 minutes, even for the right password."""
    for _ in range(5):
        with pytest.raises(YeastarInvalidAuthError):
            await make_client(session, pbx.port, password_hash=WRONG_HASH).login(TARGET)
    client = make_client(session, pbx.port)

    with pytest.raises(YeastarLockedOutError) as locked:
        await client.login(TARGET)
    assert locked.value.errno == "20002"
    pbx.clock.advance(LOCKOUT_SECONDS - 5)
    with pytest.raises(YeastarLockedOutError):
        await client.login(TARGET)
    pbx.clock.advance(10)
    await client.login(TARGET)

    assert client.logged_in
    assert (pbx.stats.failed_logins, pbx.stats.locked_refusals) == (5, 2)


async def test_logout(session: aiohttp.ClientSession, pbx: SimulatedPBX) -> None:
    """Logout ends the PBX session; the client then sends nothing without a login."""
    client = make_client(session, pbx.port)
    await client.logout()  # not logged in: nothing to do
    await client.login(TARGET)

    await client.logout()

    assert pbx.sessions == []
    assert not client.logged_in
    with pytest.raises(YeastarTokenError):
        await client.device_info()
    assert pbx.stats.requests["deviceinfo/query"] == 0


@pytest.mark.parametrize(
    ("version", "endpoint"),
    [
        (ApiVersion.V2_0_0, "extension/list"),
        (ApiVersion.V1_1_0, "extensionlist/query"),
        (ApiVersion.V1_0_0, "extensionlist/query"),
    ],
)
async def test_extensions(
    session: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    version: ApiVersion,
    endpoint: str,
) -> None:
    """Both list endpoints give the same extensions with their status."""
    pbx.add_extension("1004", "Dana")
    client = make_client(session, pbx.port, version)
    await client.login(TARGET)

    extensions = {ext.number: ext for ext in await client.extensions()}

    assert pbx.stats.requests[endpoint] == 1
    assert set(extensions) == {"1000", "1001", "1002", "1003", "1004"}
    assert extensions["1000"].name == "Jayson"
    assert extensions["1000"].status is ExtensionStatus.REGISTERED
    # The list's "Unavailable" is the reports' "Unregistered": no phone registered.
    assert extensions["1003"].status is ExtensionStatus.UNREGISTERED


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        (("v1.0.0", "v1.1.0", "v2.0.0"), ApiVersion.V2_0_0),
        (("v1.0.0", "v1.1.0"), ApiVersion.V1_1_0),
        (("v1.0.0",), ApiVersion.V1_0_0),
    ],
)
async def test_detection_finds_the_newest_version_without_a_login(
    session: aiohttp.ClientSession, served: tuple[str, ...], expected: ApiVersion
) -> None:
    """Detection asks each version's API without credentials: no login, no password."""
    async with SimulatedPBX(username="api", api_versions=served) as pbx:
        client = make_client(session, pbx.port, password_hash=WRONG_HASH)

        assert await client.detect_api_version() is expected
        assert client.api_version is expected
        assert pbx.stats.login_attempts == 0


async def test_detection_with_no_version_served(session: aiohttp.ClientSession) -> None:
    """A PBX serving none of the versions: API unavailable, not a connection error."""
    async with SimulatedPBX(username="api", api_versions=()) as pbx:
        with pytest.raises(YeastarApiUnavailableError):
            await make_client(session, pbx.port).detect_api_version()


# Answers only a canned server gives


async def test_request_bodies(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """Login carries the hash and no token; the heartbeat the token and the whole target."""
    canned.answer("login", {"status": "Success", "token": TOKEN})
    canned.answer("heartbeat", {"status": "Success"})
    v2 = make_client(session, canned.port)
    await v2.keep_alive(ReportTarget("10.0.0.7", 8261, "new/path"))
    await make_client(session, canned.port, ApiVersion.V1_0_0).keep_alive(
        ReportTarget("10.0.0.7", 8261)
    )

    login_v2, login_v1 = canned.requests_to("login")
    assert (login_v2.query, login_v2.body) == (
        {},
        {
            "username": "api",
            "password": PASSWORD_HASH,
            "port": "8261",
            "url": "new/path",
            "version": "2.0.0",
        },
    )
    assert login_v1.body == {
        "username": "api",
        "password": PASSWORD_HASH,
        "port": "8261",
    }
    beat_v2, beat_v1 = canned.requests_to("heartbeat")
    assert beat_v2.query == {"token": TOKEN}
    assert beat_v2.body == {
        "ipaddr": "10.0.0.7",
        "port": "8261",
        "url": "new/path",
        "version": "2.0.0",
    }
    assert beat_v1.body == {"ipaddr": "10.0.0.7", "port": "8261", "url": ""}


ERROR_ANSWERS: list[tuple[dict[str, Any], type[Exception], str | None]] = [
    ({"status": "Failed", "errno": "20002"}, YeastarLockedOutError, "20002"),
    ({"status": "Failed", "errno": "20003"}, YeastarInvalidAuthError, "20003"),
    ({"status": "Failure", "errno": "20003"}, YeastarInvalidAuthError, "20003"),
    ({"status": "Failed", "errno": "20004"}, YeastarTokenError, "20004"),
    ({"status": "Failed", "errno": 20005}, YeastarTokenError, "20005"),
    ({"status": "Failed", "errno": " 20006 "}, YeastarTokenError, "20006"),
    ({"status": "Failed", "errno": "30003"}, YeastarApiUnavailableError, None),
    ({"status": "Failed", "errno": "20000"}, YeastarRequestError, "20000"),
    ({"status": "Failed", "errno": "20008"}, YeastarRequestError, "20008"),
    ({"status": "Failed", "errno": "20011"}, YeastarRequestError, "20011"),
    ({"status": "Failed", "errno": "10002"}, YeastarRequestError, "10002"),
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
    client = make_client(session, canned.port)
    canned.answer("login", answer)

    with pytest.raises(error) as caught:
        await client.login(TARGET)

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
        assert str(errno) in str(caught.value)


async def test_token_error_on_a_fresh_session_is_not_retried(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """A token error right after a login is the PBX's problem: no second login for it."""
    canned.answer("heartbeat", {"status": "Failed", "errno": "20004"})
    client = make_client(session, canned.port)
    canned.answer("login", {"status": "Success", "token": TOKEN})

    with pytest.raises(YeastarTokenError):
        await client.keep_alive(TARGET)

    assert len(canned.requests_to("login")) == 1


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
    client = await canned_login(session, canned)
    canned.answer("deviceinfo/query", status=status, text=text)

    with pytest.raises(error):
        await client.device_info()


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
            await client.login(TARGET)
        assert not client.logged_in


async def test_logout_forgets_the_token_even_when_refused(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """A failed logout still leaves the client logged out."""
    client = await canned_login(session, canned)
    canned.answer("logout", {"status": "Failed", "errno": "20004"})

    with pytest.raises(YeastarTokenError):
        await client.logout()

    assert not client.logged_in


async def test_device_info(session: aiohttp.ClientSession, canned: CannedPBX) -> None:
    """The document's example, bytes that are not UTF-8, and a numeric serial all read."""
    client = await canned_login(session, canned)
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

    canned.answer(
        "deviceinfo/query",
        text=b'{"status":"Success","deviceinfo":{"sn":369364835218,"devicename":"S\xff1"}}',
    )
    info = await client.device_info()
    assert info.serial == "369364835218"
    assert info.model.startswith("S")
    assert (info.firmware_version, info.uptime) == (None, None)


@pytest.mark.parametrize(
    "deviceinfo",
    [None, "S100", {}, {"sn": ""}, {"sn": None}, {"sn": True}, {"devicename": "S100"}],
)
async def test_device_info_without_serial(
    session: aiohttp.ClientSession, canned: CannedPBX, deviceinfo: Any
) -> None:
    """Without a serial the PBX cannot be told apart from another: refuse the answer."""
    client = await canned_login(session, canned)
    canned.answer("deviceinfo/query", {"status": "Success", "deviceinfo": deviceinfo})

    with pytest.raises(YeastarResponseError):
        await client.device_info()


async def test_extension_list_items(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """v1 and v2 items, odd statuses and numbers; items without a number are skipped."""
    client = await canned_login(session, canned, ApiVersion.V1_1_0)
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


@pytest.mark.parametrize("extlist", [None, {}, "1000", 0])
async def test_extension_list_missing(
    session: aiohttp.ClientSession, canned: CannedPBX, extlist: Any
) -> None:
    """A Success without a list is a response error, not an empty PBX."""
    client = await canned_login(session, canned)
    answer: dict[str, Any] = {"status": "Success"}
    if extlist is not None:
        answer["extlist"] = extlist
    canned.answer("extension/list", answer)

    with pytest.raises(YeastarResponseError):
        await client.extensions()


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        # A version the PBX lacks answers 404 (unanswered here), 10003 or 30003.
        ({"v1.1.0": {"status": "Failed", "errno": "20005"}}, ApiVersion.V1_1_0),
        (
            {
                "v2.0.0": {"status": "Failed", "errno": "10003"},
                "v1.1.0": {"status": "Failed", "errno": "30003"},
                "v1.0.0": {"status": "Failed", "errno": "20004"},
            },
            ApiVersion.V1_0_0,
        ),
        # Any other answer of the API: the version exists (the login will tell more).
        ({"v2.0.0": {"status": "Failed", "errno": "20008"}}, ApiVersion.V2_0_0),
    ],
)
async def test_detection_answers(
    session: aiohttp.ClientSession,
    canned: CannedPBX,
    answers: dict[str, dict[str, str]],
    expected: ApiVersion,
) -> None:
    """Detection moves on only where the version is missing, and never sends credentials."""
    for version, answer in answers.items():
        canned.answer("heartbeat", answer, version=version)

    assert await make_client(session, canned.port).detect_api_version() is expected
    assert canned.requests_to("login") == []
    assert all(request.query == {} for request in canned.requests)


async def test_detection_stops_at_garbage(
    session: aiohttp.ClientSession, canned: CannedPBX
) -> None:
    """An answer that is not the API's is not "version missing" either."""
    canned.answer("heartbeat", status=200, text="<html>Login</html>")

    with pytest.raises(YeastarResponseError):
        await make_client(session, canned.port).detect_api_version()

    assert len(canned.requests) == 1


# Transport failures


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
            await make_client(session, port).login(TARGET)

    assert type(caught.value) is YeastarConnectionError


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    """Nothing listening: a refused connection, also during detection."""
    client = make_client(session, free_port())
    with pytest.raises(YeastarConnectionRefusedError):
        await client.login(TARGET)
    with pytest.raises(YeastarConnectionRefusedError):
        await client.detect_api_version()


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
        client = YeastarClient(
            session, "pbx.invalid", username="api", password_hash="", https=False
        )
        with pytest.raises(YeastarConnectionError) as caught:
            await client.login(TARGET)

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
            await client.login(TARGET)

    assert time.monotonic() - started < 2
