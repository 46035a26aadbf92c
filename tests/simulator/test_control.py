"""The control API under /__simulator__/: state without secrets, scenarios, faults."""

import asyncio
from typing import Any

import aiohttp
import pytest

from simulator import ControlAPI, ControlClient, ControlError, SimulatedPBX

from .conftest import Receiver, call, login


@pytest.fixture
def simulated_pbx(simulated_pbx: SimulatedPBX) -> SimulatedPBX:
    """Attach the control API to the PBX before it starts."""
    simulated_pbx.extend_app(ControlAPI(simulated_pbx).install)
    return simulated_pbx


async def _control(
    http: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    path: str,
    body: object = None,
    *,
    status: int = 200,
) -> Any:
    method = "GET" if path == "state" else "POST"
    async with http.request(
        method, f"{pbx.base_url}/__simulator__/{path}", json=body
    ) as response:
        assert response.status == status
        return await response.json() if status == 200 else await response.text()


async def test_state_never_shows_tokens(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """State lists counters, sessions, extensions and faults, but no token."""
    token = await login(http, pbx, url="/events")
    state = await _control(http, pbx, "state")
    assert token not in str(state)
    assert state["stats"]["successful_logins"] == 1
    assert state["stats"]["requests"] == {"login": 1}
    [session] = state["sessions"]
    assert "token" not in session
    assert session["report_url"] == "http://127.0.0.1:8260/events"
    assert [e["number"] for e in state["extensions"]] == [
        "1000",
        "1001",
        "1002",
        "1003",
    ]
    assert state["faults"] == {
        "down": False,
        "slow": 0.0,
        "garbage": False,
        "errnos": [],
    }
    assert state["locked_ips"] == []
    assert state["base_url"] == pbx.base_url


async def test_play_and_extension(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """Scenarios and status changes play through the control API."""
    await login(http, pbx, port=receiver.port, version="2.0.0")
    answer = await _control(http, pbx, "play/missed_call", {"extension": 1002})
    assert [r["report"] for r in answer["reports"]][-1] == "NewCdr"
    assert answer["reports"][-1]["callto"] == "1002"
    assert await _control(
        http, pbx, "extension", {"number": "1000", "status": "Busy"}
    ) == {
        "number": "1000",
        "status": "Busy",
    }
    await pbx.wait_delivered()
    assert len(receiver.bodies) == 6
    state = await _control(http, pbx, "state")
    assert len(state["deliveries"]) == 6
    assert state["extensions"][0]["status"] == "Busy"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("play/dance", {}, 404),
        ("play/missed_call", {"colour": "red"}, 400),
        ("play/missed_call", {"stay": "talking"}, 400),
        ("play/door_station", {"door": "9"}, 400),
        ("play/door_station", {"colour": "red"}, 400),
        ("play/missed_call", [1], 400),
        ("extension", {"number": "9", "status": "Busy"}, 404),
        ("extension", {"number": "1000", "status": "Bussy"}, 400),
        ("play/extension_status", {"status": "Unknown"}, 400),
        ("trunk", {"name": "nope", "status": "Fault"}, 404),
        ("contact", {"colour": "red"}, 400),
        ("phone", {"number": "1001", "action": "pick_up"}, 404),
        ("phone", {"number": "1001", "action": "dance"}, 400),
        ("settings", {"report_method": "smtp"}, 400),
        ("settings", {"invite_window": 0}, 400),
        ("settings", {"forwarding_form": "short"}, 400),
        ("settings", {"apply_gap": -1}, 400),
        ("extension_settings", {"number": "1009", "dnd": "on"}, 404),
        ("extension_settings", {"number": "1000", "dnd": "maybe"}, 400),
        ("trunk/add", {"name": "SIP-142", "type": "SIP"}, 409),
        ("trunk/add", {"name": "SIP-200"}, 400),
        ("trunk/delete", {"name": "SIP-200"}, 404),
        ("fault", {"name": "flood", "value": 1}, 400),
        ("fault", {"name": "down", "value": 0}, 400),
        ("fault", {"name": "slow", "value": "soon"}, 400),
        ("fault", {"name": "slow", "value": None}, 400),
        ("fault", {"name": "errno", "value": {"endpoint": "call/dial"}}, 400),
    ],
)
async def test_bad_requests(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, path: str, body: object, status: int
) -> None:
    """Unknown names and bad values are refused with HTTP errors."""
    await _control(http, pbx, path, body, status=status)


async def test_calls_and_settings(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Phones, trunks, contacts, settings and errno faults through the control API."""
    await _control(http, pbx, "play/missed_call", {"stay": "ringing"})
    await _control(http, pbx, "phone", {"number": "1001", "action": "pick_up"})
    [ringing] = pbx.calls
    leg = ringing.ext_leg("1001")
    assert leg is not None
    ringing.muted.add(leg.channelid)
    [live] = (await _control(http, pbx, "state"))["calls"]
    assert [next(iter(m.values()))["memberstatus"] for m in live["members"]] == [
        "ANSWERED",
        "ANSWER",
    ]
    assert live["muted"] == [leg.channelid]
    await _control(http, pbx, "phone", {"number": "1001", "action": "hang_up"})
    await _control(http, pbx, "trunk", {"name": "SIP-142", "status": "Failure"})
    contact = await _control(http, pbx, "contact", {"company": "Acme", "mobile": 139})
    settings = await _control(
        http,
        pbx,
        "settings",
        {"report_method": "tcp", "inbound_call_control": True, "invite_window": 5},
    )
    await _control(http, pbx, "fault", {"name": "errno", "value": "30003"})
    errno = {"errno": "10008", "endpoint": "call/dial"}
    await _control(http, pbx, "fault", {"name": "errno", "value": errno})
    state = await _control(http, pbx, "state")
    assert state["calls"] == []
    assert state["trunks"][0] == {
        "name": "SIP-142",
        "type": "SIP",
        "status": "Failure",
        "port": "",
    }
    assert state["contacts"] == [contact]
    assert contact["mobile"] == "139"
    assert (
        state["settings"]
        == settings
        == {
            "report_method": "tcp",
            "tcp_port": pbx.tcp_port,
            "inbound_call_control": True,
            "invite_window": 5,
            "forwarding_form": "long",
            "apply_gap": 1.0,
            "recording": False,
            "csv_header": True,
        }
    )
    assert state["faults"]["errnos"] == [
        {"errno": "30003", "endpoint": None},
        {"errno": "10008", "endpoint": "call/dial"},
    ]
    assert (await call(http, pbx, "login"))["errno"] == "30003"
    assert [
        r["endpoint"] for r in (await _control(http, pbx, "state"))["received"]
    ] == ["login"]


async def test_bad_json(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """A body that is not JSON is refused."""
    async with http.post(f"{pbx.base_url}/__simulator__/fault", data=b"{") as response:
        assert response.status == 400


async def test_faults(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """The slow and garbage faults switch on and off; down comes back by itself."""
    await _control(http, pbx, "fault", {"name": "slow", "value": 0.5})
    await _control(http, pbx, "fault", {"name": "garbage", "value": True})
    assert (pbx.faults.slow, pbx.faults.garbage) == (0.5, True)
    await _control(http, pbx, "fault", {"name": "slow", "value": 0})
    await _control(http, pbx, "fault", {"name": "garbage", "value": False})
    answer = await _control(http, pbx, "fault", {"name": "down", "value": 0.1})
    assert answer == {"name": "down", "value": 0.1}
    assert pbx.faults.down
    with pytest.raises(aiohttp.ClientConnectionError):
        await _control(http, pbx, "state")
    await asyncio.sleep(0.15)
    assert (await _control(http, pbx, "state"))["faults"]["down"] is False
    assert (await call(http, pbx, "login"))["errno"] == "20003"


async def test_pbx_faults_spare_the_control_api(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """While the PBX's API answers garbage, slowly, the control API answers at once."""
    pbx.faults.garbage = True
    pbx.faults.slow = 30
    async with asyncio.timeout(5):
        state = await _control(http, pbx, "state")
    assert state["faults"]["slow"] == 30
    assert state["faults"]["garbage"] is True


async def test_stop_cancels_the_come_back_timer(
    simulated_pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """A pending come-back does not outlive the PBX."""
    async with simulated_pbx as pbx:
        await _control(http, pbx, "fault", {"name": "down", "value": 60})
    assert pbx.faults.down


async def test_reboot_and_forget_tokens(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Both drop every session."""
    await login(http, pbx)
    assert await _control(http, pbx, "forget_tokens") == {"forgotten": True}
    assert pbx.sessions == []
    await login(http, pbx)
    assert await _control(http, pbx, "reboot") == {"rebooted": True}
    assert pbx.sessions == []


async def test_client_tells_where_reports_go(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """``reports_go_to``: sessions exist and every one reports under the URL."""
    client = ControlClient(pbx.base_url)
    assert not await asyncio.to_thread(client.reports_go_to, "http://127.0.0.1:8260/")
    await login(http, pbx, url="/api/webhook/abc")
    assert await asyncio.to_thread(client.reports_go_to, "http://127.0.0.1:8260/")
    await login(http, pbx, port=8261)
    assert not await asyncio.to_thread(client.reports_go_to, "http://127.0.0.1:8260/")


async def test_client_drives_the_pbx(pbx: SimulatedPBX) -> None:
    """The blocking client (the CLI's and the e2e tests'): each call reaches the PBX."""
    client = ControlClient(pbx.base_url)

    def drive() -> None:
        [report] = client.play("extension_status", extension="1000", status="Busy")
        assert report["status"] == "Busy"
        assert client.state()["extensions"][0]["status"] == "Busy"
        client.fault("slow", 0)
        client.trunk("SIP-142", "Failure")
        client.add_trunk("GSM-9", "GSM", status="Idle", port="Span3-Port1")
        client.delete_trunk("sip-143")
        client.settings(inbound_call_control=True)
        assert client.reboot() == {"rebooted": True}
        with pytest.raises(ControlError) as refused:
            client.phone("1001", "pick_up")  # no call rings 1001
        assert refused.value.status == 404

    await asyncio.to_thread(drive)

    assert {name: trunk.status for name, trunk in pbx.trunks.items()} == {
        "SIP-142": "Failure",
        "FXO2-3": "Idle",
        "DIGIT1": "Down",
        "GSM2-7": "No SIM",
        "GSM-9": "Idle",
    }
    assert pbx.inbound_call_control is True
