"""Fault switches: a PBX that is down, slow or answering garbage."""

import time

import aiohttp
import pytest

from simulator import SimulatedPBX

from .conftest import call, login


async def test_down_refuses_and_comes_back_on_the_same_port(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Down closes the listener and kept-alive connections; up listens again at once."""
    token = await login(http, pbx)
    port = pbx.port
    pbx.faults.down = True
    assert pbx.faults.down
    with pytest.raises(aiohttp.ClientConnectionError):
        await call(http, pbx, "heartbeat", token=token)
    async with aiohttp.ClientSession() as fresh:
        with pytest.raises(aiohttp.ClientConnectorError):
            await call(fresh, pbx, "heartbeat", token=token)
    pbx.faults.down = False
    assert pbx.port == port
    assert (await call(http, pbx, "heartbeat", token=token))["status"] == "Success"


async def test_awaitable_switches(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """go_down and come_up are the awaitable forms of the switch."""
    await pbx.go_down()
    with pytest.raises(aiohttp.ClientConnectorError):
        await login(http, pbx)
    await pbx.come_up()
    await login(http, pbx)


async def test_quick_toggles(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """Switching faster than the event loop turns still ends in the last state."""
    pbx.faults.down = True
    pbx.faults.down = False
    pbx.faults.down = True
    pbx.faults.down = False
    await login(http, pbx)


async def test_down_before_start(http: aiohttp.ClientSession) -> None:
    """A PBX started while down picks its port but does not listen until up."""
    pbx = SimulatedPBX()
    pbx.faults.down = True
    async with pbx:
        assert pbx.port != 0
        with pytest.raises(aiohttp.ClientConnectorError):
            await call(http, pbx, "login")
        await pbx.come_up()
        assert (await call(http, pbx, "login"))["errno"] == "20003"


async def test_slow(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """Slow delays every API answer; a client with a short timeout gives up."""
    pbx.faults.slow = 0.15
    started = time.monotonic()
    await login(http, pbx)
    assert time.monotonic() - started >= 0.15
    with pytest.raises(TimeoutError):
        await http.post(
            f"{pbx.base_url}/api/v2.0.0/login",
            json={},
            timeout=aiohttp.ClientTimeout(total=0.05),
        )


async def test_garbage(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """Garbage answers HTTP 200 with a body that is not JSON."""
    pbx.faults.garbage = True
    async with http.post(f"{pbx.base_url}/api/v2.0.0/login", json={}) as response:
        assert response.status == 200
        with pytest.raises(aiohttp.ContentTypeError):
            await response.json()
    assert pbx.stats.requests["login"] == 1


async def test_errno_on_command(pbx: SimulatedPBX, http: aiohttp.ClientSession) -> None:
    """The next matching request answers the chosen errno, once; then the PBX is itself."""
    token = await login(http, pbx)
    pbx.faults.refuse_next("10008", "call/dial")
    pbx.faults.refuse_next("20010")
    body = {"caller": "1000", "callee": "1001"}
    assert (await call(http, pbx, "heartbeat", token=token))["errno"] == "20010"
    assert (await call(http, pbx, "call/dial", body, token=token))["errno"] == "10008"
    assert (await call(http, pbx, "call/dial", body, token=token))[
        "status"
    ] == "Success"
    assert pbx.faults.errnos == []
