"""The PBX API over real loopback HTTP and HTTPS: login, lockout, tokens and endpoints."""

import re
from typing import Any

import aiohttp
import pytest

from simulator import ReceivedRequest, SimClock, SimulatedPBX, generate_certificate
from simulator.pbx import ReportMethod

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


@pytest.mark.parametrize("method", ["http", "tcp"])
async def test_v2_login_names_the_report_method(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, method: ReportMethod
) -> None:
    """The v2 login answer carries ``transport``; v1 answers know only the token."""
    pbx.report_method = method
    body = {"username": "api", "password": PASSWORD_MD5, "port": "8260"}
    v2 = await call(http, pbx, "login", body)
    assert list(v2) == ["status", "token", "transport"]
    assert v2["transport"] == method.upper()
    v1 = await call(http, pbx, "login", body, api_version="v1.1.0")
    assert list(v1) == ["status", "token"]


async def test_v2_login_without_port(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """v2 makes the port optional (reports go to 8260); v1 requires it."""
    body = {"username": "api", "password": PASSWORD_MD5}
    assert (await call(http, pbx, "login", body))["status"] == "Success"
    assert [s.target_port for s in pbx.sessions] == [8260]
    v1 = await call(http, pbx, "login", body, api_version="v1.1.0")
    assert v1 == {"status": "Failed", "errno": "20008"}


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
    await login(http, pbx, url="http://10.0.0.9:9000/pbx", urltag="1")
    assert [(s.report_format, s.report_url) for s in pbx.sessions] == [
        ("2.0.0", "http://10.0.0.9:9000/pbx"),
        ("1.0.2", "http://127.0.0.1:8260/"),
        (None, "http://127.0.0.1:8260/"),  # v1.0.0 knows neither option
        (None, "http://10.0.0.9:9000/pbx"),  # a scheme given is kept, not doubled
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
        answer = await call(http, pbx, "trunk/list", token=token)
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
    assert info["extensionstatus"] == "3/4"  # the Idle FXS counts, unavailable not
    clock.advance(3 * 86400 + 32 * 60 + 38)
    token = await login(http, pbx)
    later = await call(http, pbx, "deviceinfo/query", token=token)
    assert later["deviceinfo"]["uptime"] in {"3days 03:57:42", "3days 03:57:43"}


async def test_extension_lists(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """v1 lists ``extnumber`` and ``agentid``, v2 ``number``; FXS items name their port."""
    token = await login(http, pbx)
    v1 = await call(http, pbx, "extensionlist/query", token=token, api_version="v1.0.0")
    assert v1["extlist"][2:] == [
        {
            "extnumber": "1002",
            "status": "Idle",
            "type": "FXS",
            "port": "Span1_Port3",
            "username": "Kitchen",
            "agentid": "",
        },
        {
            "extnumber": "1003",
            "status": "unavailable",
            "type": "SIP",
            "username": "Garage",
            "agentid": "",
        },
    ]
    pbx.add_extension("1004", "Dana")
    pbx.remove_extension("1003")
    v2 = await call(http, pbx, "extension/list", token=token)
    assert v2["extlist"][0] == {
        "number": "1000",
        "status": "Registered",
        "type": "SIP",
        "username": "Jayson",
    }
    assert [e["number"] for e in v2["extlist"]] == ["1000", "1001", "1002", "1004"]
    v2_at_v1 = await call(
        http, pbx, "extension/list", token=token, api_version="v1.1.0"
    )
    assert v2_at_v1 == {"status": "Failed", "errno": "10003"}
    v1_at_v2 = await call(http, pbx, "extensionlist/query", token=token)
    assert v1_at_v2["errno"] == "10003"


async def test_trunk_lists(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """v1 ``trunklist/query`` and v2 ``trunk/list`` (with ``id``), statuses as spelt."""
    token = await login(http, pbx)
    pbx.set_trunk_status("SIP-142", "registered")
    v1 = await call(http, pbx, "trunklist/query", token=token, api_version="v1.1.0")
    assert v1["trunklist"] == [
        {"trunkname": "SIP-142", "status": "registered", "type": "SIP"},
        {"trunkname": "sip-143", "status": "failure", "type": "SIP"},
        {"trunkname": "FXO2-3", "status": "Idle", "type": "FXO", "port": "Span2-Port3"},
        {"trunkname": "DIGIT1", "status": "Down", "type": "E1", "port": "Span1-Port1"},
        {
            "trunkname": "GSM2-7",
            "status": "No SIM",
            "type": "GSM",
            "port": "Span2-Port7",
        },
    ]
    v2 = await call(http, pbx, "trunk/list", token=token)
    assert v2["trunklist"][0] == {
        "id": "1",
        "trunkname": "SIP-142",
        "status": "registered",
        "type": "SIP",
    }
    assert (await call(http, pbx, "trunklist/query", token=token))["errno"] == "10003"
    with pytest.raises(KeyError):
        pbx.set_trunk_status("nope", "Fault")


async def test_company_contacts(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """``companycontacts/query``: one id, several or all; unknown ids are left out."""
    ada = pbx.add_contact(firstname="Ada", lastname="Baker", mobile="13800000000")
    pbx.add_contact(company="Taxi Central", businessnum="0123456789")
    pbx.add_contact(id="9", company="Gone")
    pbx.remove_contact("9")
    token = await login(http, pbx)

    async def query(wanted: str) -> dict[str, Any]:
        return await call(
            http, pbx, "companycontacts/query", {"id": wanted}, token=token
        )

    [item] = (await query("1"))["companycontacts"]
    assert item == ada.as_item()
    assert list(item)[:5] == ["id", "lastname", "firstname", "company", "email"]
    assert item["mobile"] == "13800000000"
    assert [c["id"] for c in (await query("all"))["companycontacts"]] == ["1", "2"]
    assert [c["id"] for c in (await query("2,7"))["companycontacts"]] == ["2"]
    assert (await query(" "))["errno"] == "10004"


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


async def test_no_parameter_endpoints_take_no_body(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Lists, deviceinfo and logout may come without a body; others answer 20009."""
    token = await login(http, pbx)
    for endpoint in ("deviceinfo/query", "extension/list", "trunk/list", "logout"):
        url = f"{pbx.base_url}/api/v2.0.0/{endpoint}"
        async with http.post(url, params={"token": token}) as response:
            assert (await response.json())["status"] == "Success"
    token = await login(http, pbx)
    url = f"{pbx.base_url}/api/v2.0.0/heartbeat"
    async with http.post(url, params={"token": token}) as response:
        assert await response.json() == {"status": "Failed", "errno": "20009"}


async def test_cors(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """A preflight gets the CORS headers (firmware 30.11.0.7+); so does every answer."""
    url = f"{pbx.base_url}/api/v2.0.0/login"
    headers = {"Origin": "http://ha.local", "Access-Control-Request-Method": "POST"}
    async with http.options(url, headers=headers) as response:
        assert response.status == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"
    async with http.post(url, json={}) as response:
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert pbx.stats.requests["login"] == 1  # the preflight is no request


async def test_requests_are_recorded(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Each request's endpoint and body is kept, without tokens or the password hash."""
    token = await login(http, pbx, url="/events")
    await call(http, pbx, "heartbeat", {"ipaddr": "10.0.0.2"}, token=token)
    url = f"{pbx.base_url}/api/v1.1.0/deviceinfo/query"
    async with http.post(url, data=b"{not json", params={"token": token}):
        pass
    assert pbx.received == [
        ReceivedRequest(
            "v2.0.0",
            "login",
            {"username": "api", "password": "***", "port": 8260, "url": "/events"},
        ),
        ReceivedRequest("v2.0.0", "heartbeat", {"ipaddr": "10.0.0.2"}),
        ReceivedRequest("v1.1.0", "deviceinfo/query", None),
    ]
    assert token not in repr(pbx.received)


async def test_unserved_version_is_404(http: aiohttp.ClientSession) -> None:
    """A version the PBX does not serve is not found at all."""
    async with SimulatedPBX(api_versions=("v1.0.0",)) as pbx:
        async with http.post(f"{pbx.base_url}/api/v2.0.0/login", json={}) as response:
            assert response.status == 404
        assert pbx.stats.requests["login"] == 0


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
