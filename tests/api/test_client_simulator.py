"""The client against the PBX simulator over real loopback HTTP and HTTPS."""

from collections.abc import AsyncIterator
import time
from typing import Any

import aiohttp
import pytest

from custom_components.yeastar_s_series.api import (
    TOKEN_LIFETIME,
    ApiVersion,
    ExtensionStatus,
    ReportTarget,
    YeastarApiUnavailableError,
    YeastarClient,
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
from simulator import SimulatedPBX
from simulator.pbx import LOCKOUT_SECONDS

from .common import PASSWORD, PASSWORD_HASH, TARGET


def client_for(
    session: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    version: ApiVersion = ApiVersion.V2_0_0,
    **options: Any,
) -> YeastarClient:
    """Return a plain-HTTP client for the simulator."""
    return YeastarClient(
        session, "127.0.0.1", port=pbx.port, https=False, api_version=version, **options
    )


@pytest.fixture
async def pbx() -> AsyncIterator[SimulatedPBX]:
    """Run a plain-HTTP simulator serving every API version."""
    async with SimulatedPBX(username="api", password=PASSWORD, port=0) as simulator:
        yield simulator


async def logged_in(
    session: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    version: ApiVersion = ApiVersion.V2_0_0,
    **options: Any,
) -> YeastarClient:
    """Return a client with a session at the simulator."""
    client = client_for(session, pbx, version, **options)
    await client.login("api", PASSWORD_HASH, TARGET)
    return client


# --- session ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "report_format"),
    [
        (ApiVersion.V2_0_0, "2.0.0"),
        (ApiVersion.V1_1_0, "1.0.2"),
        (ApiVersion.V1_0_0, None),
    ],
)
async def test_login_selects_report_format(
    session: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    version: ApiVersion,
    report_format: str | None,
) -> None:
    """The PBX accepts the MD5 hash and reports in the format the API version asked for."""
    client = await logged_in(session, pbx, version)

    assert client.logged_in
    (sim_session,) = pbx.sessions
    assert sim_session.report_format == report_format
    assert sim_session.api_version == version.value
    assert (sim_session.target_ip, sim_session.target_port) == ("127.0.0.1", 8260)
    assert sim_session.target_url.lstrip("/") == "yeastar/report"
    assert pbx.stats.successful_logins == 1
    assert pbx.stats.failed_logins == 0


async def test_heartbeat_retargets_reports_and_extends_token(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """Heartbeat moves the report target and keeps the token alive past 30 minutes."""
    client = await logged_in(session, pbx)
    pbx.clock.advance(TOKEN_LIFETIME - 60)

    await client.heartbeat(ReportTarget("127.0.0.2", 8261, "moved"))

    (sim_session,) = pbx.sessions
    assert (sim_session.target_ip, sim_session.target_port) == ("127.0.0.2", 8261)
    assert sim_session.target_url.lstrip("/") == "moved"
    assert pbx.stats.heartbeats == 1
    pbx.clock.advance(TOKEN_LIFETIME - 60)  # 58 minutes after login
    assert (await client.device_info()).serial == pbx.serial


async def test_logout(session: aiohttp.ClientSession, pbx: SimulatedPBX) -> None:
    """Logout ends the PBX session and the client forgets its token."""
    client = await logged_in(session, pbx)

    await client.logout()

    assert pbx.sessions == []
    assert pbx.stats.logouts == 1
    assert not client.logged_in
    with pytest.raises(YeastarTokenError):
        await client.device_info()
    assert pbx.stats.requests["deviceinfo/query"] == 0


async def test_device_info(session: aiohttp.ClientSession) -> None:
    """Model, serial and versions come from the PBX."""
    async with SimulatedPBX(
        username="api",
        password=PASSWORD,
        serial="369364835218",
        model="Yeastar S300",
        firmware="30.13.0.30",
        hardware="V1.30 0000-0000",
        port=0,
    ) as pbx:
        client = await logged_in(session, pbx)
        info = await client.device_info()

    assert info.model == "Yeastar S300"
    assert info.serial == "369364835218"
    assert info.firmware_version == "30.13.0.30"
    assert info.hardware_version == "V1.30 0000-0000"
    assert info.extension_status is not None and "/" in info.extension_status


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
    client = await logged_in(session, pbx, version)

    extensions = {ext.number: ext for ext in await client.extensions()}

    assert pbx.stats.requests[endpoint] == 1
    assert set(extensions) == {"1000", "1001", "1002", "1003", "1004"}
    assert extensions["1000"].name == "Jayson"
    assert extensions["1000"].status is ExtensionStatus.REGISTERED
    # The list's "Unavailable" is the reports' "Unregistered": no phone registered.
    assert extensions["1003"].status is ExtensionStatus.UNREGISTERED
    assert extensions["1004"].name == "Dana"


# --- errors -----------------------------------------------------------------------------


async def test_lockout_after_five_wrong_passwords(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """Five wrong passwords lock the IP for 10 minutes, even for the right password."""
    client = client_for(session, pbx)
    for _ in range(5):
        with pytest.raises(YeastarInvalidAuthError) as wrong:
            await client.login("api", hash_password("wrong"), TARGET)
        assert wrong.value.errno == "20003"
    assert pbx.stats.login_attempts == 5
    assert pbx.is_locked("127.0.0.1")

    with pytest.raises(YeastarLockedOutError) as locked:
        await client.login("api", PASSWORD_HASH, TARGET)
    assert locked.value.errno == "20002"
    pbx.clock.advance(LOCKOUT_SECONDS - 5)
    with pytest.raises(YeastarLockedOutError):
        await client.login("api", PASSWORD_HASH, TARGET)
    assert pbx.sessions == []

    pbx.clock.advance(10)
    await client.login("api", PASSWORD_HASH, TARGET)

    assert client.logged_in
    assert pbx.stats.failed_logins == 5
    assert pbx.stats.locked_refusals == 2


async def test_wrong_username(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """A wrong username is refused like a wrong password."""
    with pytest.raises(YeastarInvalidAuthError):
        await client_for(session, pbx).login("admin", PASSWORD_HASH, TARGET)


async def test_changed_password(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """After the admin changes the password, the old hash is refused."""
    pbx.password = "changed"

    with pytest.raises(YeastarInvalidAuthError):
        await client_for(session, pbx).login("api", PASSWORD_HASH, TARGET)


async def test_unknown_token(session: aiohttp.ClientSession, pbx: SimulatedPBX) -> None:
    """A token the PBX dropped (reboot, forget) is errno 20004."""
    client = await logged_in(session, pbx)
    pbx.forget_tokens()

    with pytest.raises(YeastarTokenError) as caught:
        await client.heartbeat(TARGET)

    assert caught.value.errno == "20004"


async def test_blank_token(session: aiohttp.ClientSession, pbx: SimulatedPBX) -> None:
    """A blank token is errno 20005."""
    client = await logged_in(session, pbx)
    client._token = ""

    with pytest.raises(YeastarTokenError) as caught:
        await client.device_info()

    assert caught.value.errno == "20005"


async def test_expired_token(session: aiohttp.ClientSession, pbx: SimulatedPBX) -> None:
    """Thirty idle minutes expire the token: errno 20006, and the session is gone."""
    client = await logged_in(session, pbx)
    pbx.clock.advance(TOKEN_LIFETIME - 5)
    await client.device_info()  # extends the token
    pbx.clock.advance(TOKEN_LIFETIME - 5)
    await client.extensions()
    pbx.clock.advance(TOKEN_LIFETIME + 1)

    with pytest.raises(YeastarTokenError) as caught:
        await client.heartbeat(TARGET)

    assert caught.value.errno == "20006"
    assert pbx.sessions == []


async def test_unserved_version_is_unavailable(session: aiohttp.ClientSession) -> None:
    """A PBX without the API version answers HTTP 404: API unavailable, not refused."""
    async with SimulatedPBX(
        username="api", password=PASSWORD, api_versions=("v1.1.0",), port=0
    ) as pbx:
        with pytest.raises(YeastarApiUnavailableError) as caught:
            await client_for(session, pbx).login("api", PASSWORD_HASH, TARGET)

    assert not isinstance(caught.value, YeastarConnectionRefusedError)
    assert pbx.stats.login_attempts == 0


async def test_connection_refused_when_down(pbx: SimulatedPBX) -> None:
    """A PBX that stops listening refuses; when it is back the same client works again."""
    # One connection per request: the simulator's `down` refuses new connections only.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = await logged_in(session, pbx, request_timeout=2)
        pbx.faults.down = True

        with pytest.raises(YeastarConnectionRefusedError):
            await client.device_info()

        await pbx.come_up()
        assert (await client.device_info()).serial == pbx.serial


async def test_slow_pbx_times_out(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """A PBX slower than request_timeout raises YeastarTimeoutError, without waiting it out."""
    client = await logged_in(session, pbx, request_timeout=0.2)
    pbx.faults.slow = 5.0
    started = time.monotonic()

    with pytest.raises(YeastarTimeoutError):
        await client.device_info()

    assert time.monotonic() - started < 2


async def test_garbage_answer(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """A non-JSON answer is a response error."""
    client = await logged_in(session, pbx)
    pbx.faults.garbage = True

    with pytest.raises(YeastarResponseError):
        await client.device_info()


async def test_other_errno(session: aiohttp.ClientSession, pbx: SimulatedPBX) -> None:
    """A bad report port is refused with errno 20008, kept on the error."""
    with pytest.raises(YeastarRequestError) as caught:
        await client_for(session, pbx).login(
            "api", PASSWORD_HASH, ReportTarget("127.0.0.1", 0)
        )

    assert type(caught.value) is YeastarRequestError
    assert caught.value.errno == "20008"


# --- API version detection --------------------------------------------------------------


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        (("v1.0.0", "v1.1.0", "v2.0.0"), ApiVersion.V2_0_0),
        (("v1.0.0", "v1.1.0"), ApiVersion.V1_1_0),
        (("v1.0.0",), ApiVersion.V1_0_0),
    ],
)
async def test_detect_api_version(
    session: aiohttp.ClientSession, served: tuple[str, ...], expected: ApiVersion
) -> None:
    """Detection logs in with the newest version the PBX serves."""
    async with SimulatedPBX(
        username="api", password=PASSWORD, api_versions=served, port=0
    ) as pbx:
        client = await detect_api_version(
            session,
            "127.0.0.1",
            "api",
            PASSWORD_HASH,
            TARGET,
            port=pbx.port,
            https=False,
        )

        assert client.api_version is expected
        assert client.logged_in
        (sim_session,) = pbx.sessions
        assert sim_session.report_format == expected.report_format
        assert pbx.stats.login_attempts == 1


async def test_detect_wrong_password_costs_one_login(
    session: aiohttp.ClientSession,
) -> None:
    """A wrong password stops detection: exactly one failed login, not one per version."""
    async with SimulatedPBX(username="api", password=PASSWORD, port=0) as pbx:
        with pytest.raises(YeastarInvalidAuthError):
            await detect_api_version(
                session,
                "127.0.0.1",
                "api",
                hash_password("wrong"),
                TARGET,
                port=pbx.port,
                https=False,
            )

        assert pbx.stats.failed_logins == 1
        assert pbx.stats.login_attempts == 1


async def test_detect_locked_stops_at_once(
    session: aiohttp.ClientSession, pbx: SimulatedPBX
) -> None:
    """A locked IP stops detection at its first login."""
    client = client_for(session, pbx)
    for _ in range(5):
        with pytest.raises(YeastarInvalidAuthError):
            await client.login("api", hash_password("wrong"), TARGET)
    refusals = pbx.stats.locked_refusals

    with pytest.raises(YeastarLockedOutError):
        await detect_api_version(
            session,
            "127.0.0.1",
            "api",
            PASSWORD_HASH,
            TARGET,
            port=pbx.port,
            https=False,
        )

    assert pbx.stats.locked_refusals == refusals + 1
    assert pbx.stats.failed_logins == 5


async def test_detect_none_served(session: aiohttp.ClientSession) -> None:
    """A PBX serving no API version at all: API unavailable after trying each, no login."""
    async with SimulatedPBX(
        username="api", password=PASSWORD, api_versions=(), port=0
    ) as pbx:
        with pytest.raises(YeastarApiUnavailableError) as caught:
            await detect_api_version(
                session,
                "127.0.0.1",
                "api",
                PASSWORD_HASH,
                TARGET,
                port=pbx.port,
                https=False,
            )

    assert not isinstance(caught.value, YeastarConnectionRefusedError)
    assert pbx.stats.login_attempts == 0
