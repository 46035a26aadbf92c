"""The PBX API over real loopback HTTP and HTTPS: login, lockout, tokens and endpoints."""

import re

import aiohttp
import pytest

from simulator import SimClock, SimExtension, SimulatedPBX, generate_certificate

from .conftest import PASSWORD_MD5, call, login


async def test_login_answers_a_token_and_opens_a_session(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, clock: SimClock
) -> None:
    """A right md5 password gets a 32-hex token valid 1800 s, reporting to the caller."""
    token = await login(http, pbx, port="8260", url="/events", api_version="v1.1.0")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    [session] = pbx.sessions
    assert session.token == token
    assert session.api_version == "v1.1.0"
    assert session.report_format is None
    assert session.source_ip == session.target_ip == "127.0.0.1"
    assert session.report_url == "http://127.0.0.1:8260/events"
    assert session.expires_at == pytest.approx(clock.now() + 1800, abs=5)
    assert token not in repr(session)
    assert pbx.stats.successful_logins == pbx.stats.login_attempts == 1
    assert pbx.stats.requests["login"] == 1


async def test_login_report_options(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """``version`` picks the report format and ``urltag`` 1 makes ``url`` absolute (v1.1.0+)."""
    await login(
        http,
        pbx,
        api_version="v2.0.0",
        url="10.0.0.9:9000/pbx",
        urltag="1",
        version="2.0.0",
    )
    await login(http, pbx, api_version="v1.1.0", version="1.0.2")
    await login(http, pbx, api_version="v1.0.0", urltag="1", version="2.0.0")
    assert [(s.report_format, s.report_url) for s in pbx.sessions] == [
        ("2.0.0", "http://10.0.0.9:9000/pbx"),
        ("1.0.2", "http://127.0.0.1:8260/"),
        (None, "http://127.0.0.1:8260/"),  # v1.0.0 knows neither option
    ]


@pytest.mark.parametrize("port", [0, 65536, "x", "", None, True])
async def test_login_with_a_bad_port(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, port: object
) -> None:
    """The report port must be 1..65535."""
    body = {"username": "api", "password": PASSWORD_MD5, "port": port}
    assert await call(http, pbx, "login", body) == {
        "status": "Failed",
        "errno": "20008",
    }
    assert pbx.sessions == []


async def test_lockout_after_five_wrong_passwords(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, clock: SimClock
) -> None:
    """Five wrong logins lock the IP for 600 s, even for the right password."""
    wrong = {"username": "api", "password": "0" * 32, "port": "8260"}
    for _ in range(4):
        assert (await call(http, pbx, "login", wrong))["errno"] == "20003"
    await call(http, pbx, "login", {**wrong, "username": "admin"})
    assert pbx.is_locked("127.0.0.1")
    assert (await call(http, pbx, "login", wrong))["errno"] == "20002"
    right = {**wrong, "password": PASSWORD_MD5}
    assert (await call(http, pbx, "login", right))["errno"] == "20002"
    assert pbx.stats.failed_logins == 5
    assert pbx.stats.locked_refusals == 2
    assert pbx.locked_ips == ["127.0.0.1"]
    clock.advance(599)
    assert pbx.is_locked()
    clock.advance(1)
    assert not pbx.is_locked()
    assert pbx.locked_ips == []
    await login(http, pbx)


async def test_success_resets_the_failure_count(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Only consecutive failures lock; a password change takes effect at once."""
    wrong = {"username": "api", "password": "0" * 32, "port": "8260"}
    for _ in range(4):
        await call(http, pbx, "login", wrong)
    await login(http, pbx)
    for _ in range(4):
        await call(http, pbx, "login", wrong)
    assert not pbx.is_locked()
    pbx.password = "new"
    right_before = {**wrong, "password": PASSWORD_MD5}
    assert (await call(http, pbx, "login", right_before))["errno"] == "20003"
    assert pbx.is_locked()


async def test_token_checks(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, clock: SimClock
) -> None:
    """Blank, unknown and expired tokens answer 20005, 20004 and 20006."""
    assert (await call(http, pbx, "heartbeat"))["errno"] == "20005"
    assert (await call(http, pbx, "heartbeat", token=" "))["errno"] == "20005"
    assert (await call(http, pbx, "heartbeat", token="f" * 32))["errno"] == "20004"
    token = await login(http, pbx)
    clock.advance(1800)
    assert pbx.sessions == []
    assert (await call(http, pbx, "deviceinfo/query", token=token))["errno"] == "20006"
    assert (await call(http, pbx, "deviceinfo/query", token=token))["errno"] == "20004"


async def test_requests_extend_the_token(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, clock: SimClock
) -> None:
    """Any valid request moves expiry to now + 1800 s."""
    token = await login(http, pbx)
    for _ in range(3):
        clock.advance(1700)
        answer = await call(http, pbx, "trunklist/query", token=token)
        assert answer["status"] == "Success"
    assert pbx.sessions[0].expires_at == pytest.approx(clock.now() + 1800, abs=5)


async def test_forget_tokens(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """A forgotten token is unknown."""
    token = await login(http, pbx)
    pbx.forget_tokens()
    assert (await call(http, pbx, "heartbeat", token=token))["errno"] == "20004"


async def test_heartbeat_retargets_reports(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """A heartbeat changes where reports go and may switch the report format."""
    token = await login(http, pbx)
    body = {"ipaddr": "10.1.1.1", "port": 9000, "url": "/r", "version": "2.0.0"}
    assert await call(http, pbx, "heartbeat", body, token=token) == {
        "status": "Success"
    }
    [session] = pbx.sessions
    assert session.report_url == "http://10.1.1.1:9000/r"
    assert session.report_format == "2.0.0"
    bad = await call(http, pbx, "heartbeat", {"port": "99999"}, token=token)
    assert bad["errno"] == "20008"
    assert pbx.stats.heartbeats == 1


async def test_logout(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """Logout drops the session."""
    token = await login(http, pbx)
    assert await call(http, pbx, "logout", token=token) == {"status": "Success"}
    assert pbx.sessions == []
    assert pbx.stats.logouts == 1


async def test_deviceinfo(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, clock: SimClock
) -> None:
    """The deviceinfo query names the device and counts registered extensions."""
    clock.advance(3 * 3600 + 25 * 60 + 4)
    token = await login(http, pbx)
    answer = await call(
        http, pbx, "deviceinfo/query", token=token, api_version="v1.1.0"
    )
    info = answer["deviceinfo"]
    assert answer["status"] == "Success"
    assert info["devicename"] == "Yeastar S100"
    assert info["sn"] == "369364835218"
    assert info["hardwarever"] == "V1.30 0000-0000"
    assert info["firmwarever"] == "30.13.0.30"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+0", info["systemtime"])
    assert info["uptime"] in {"03:25:04", "03:25:05"}
    assert info["extensionstatus"] == "3/4"


async def test_extension_lists(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """v1 lists ``extnumber``, v2 ``number``; each version has only its own endpoint."""
    token = await login(http, pbx)
    v1 = await call(http, pbx, "extensionlist/query", token=token, api_version="v1.0.0")
    assert v1["extlist"][0] == {
        "extnumber": "1000",
        "status": "Registered",
        "type": "SIP",
        "username": "Jayson",
        "agentid": "",
    }
    assert [(e["extnumber"], e["status"]) for e in v1["extlist"]] == [
        ("1000", "Registered"),
        ("1001", "Registered"),
        ("1002", "Registered"),
        ("1003", "Unavailable"),
    ]
    pbx.add_extension("1004", "Dana")
    pbx.remove_extension("1003")
    v2 = await call(http, pbx, "extension/list", token=token)
    assert [e["number"] for e in v2["extlist"]] == ["1000", "1001", "1002", "1004"]
    assert (
        await call(http, pbx, "extension/list", token=token, api_version="v1.1.0")
    ) == {
        "status": "Failed",
        "errno": "10003",
    }
    assert (await call(http, pbx, "extensionlist/query", token=token))[
        "errno"
    ] == "10003"
    assert pbx.stats.requests["extension/list"] == 2


async def test_trunklist(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """The trunk list names the trunk."""
    token = await login(http, pbx)
    assert await call(http, pbx, "trunklist/query", token=token) == {
        "status": "Success",
        "trunklist": [{"trunkname": "SIP-142", "status": "Registered", "type": "SIP"}],
    }


async def test_malformed_requests(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Wrong method, bodies and endpoints answer the documented errnos with HTTP 200."""
    url = f"{pbx.base_url}/api/v2.0.0/login"
    cases = [
        ("GET", None, "20001"),
        ("POST", b"", "20009"),
        ("POST", b"{not json", "20000"),
        ("POST", b"[1, 2]", "20000"),
    ]
    for method, data, errno in cases:
        async with http.request(method, url, data=data) as response:
            assert response.status == 200
            assert await response.json() == {"status": "Failed", "errno": errno}
    assert (await call(http, pbx, "extension/dial_extension"))["errno"] == "10003"


async def test_unserved_version_is_404(http: aiohttp.ClientSession) -> None:
    """A version the PBX does not serve is not found at all."""
    async with SimulatedPBX(api_versions=("v1.0.0",)) as pbx:
        async with http.post(f"{pbx.base_url}/api/v2.0.0/login", json={}) as response:
            assert response.status == 404
        assert pbx.stats.requests["login"] == 0


async def test_custom_extensions(http: aiohttp.ClientSession) -> None:
    """The initial extensions can be given."""
    async with SimulatedPBX(
        extensions=[SimExtension("200", "Lab", "Idle", "FXS")]
    ) as pbx:
        token = await login(http, pbx, api_version="v1.0.0")
        answer = await call(
            http, pbx, "extensionlist/query", token=token, api_version="v1.0.0"
        )
        assert answer["extlist"] == [
            {
                "extnumber": "200",
                "status": "Idle",
                "type": "FXS",
                "username": "Lab",
                "agentid": "",
            }
        ]


async def test_https_with_a_pinned_certificate() -> None:
    """Over HTTPS the PBX presents its self-signed certificate, valid for 127.0.0.1."""
    certificate = generate_certificate()
    async with SimulatedPBX(password="secret", certificate=certificate) as pbx:
        assert pbx.base_url == f"https://127.0.0.1:{pbx.port}"
        assert pbx.certificate is certificate
        connector = aiohttp.TCPConnector(ssl=certificate.client_ssl_context())
        async with aiohttp.ClientSession(connector=connector) as http:
            await login(http, pbx)
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await login(http, pbx)
