"""Shared test set-up: sockets, custom integrations, the simulated PBX, Home Assistant's HTTP.

pytest-homeassistant-custom-component ships a `custom_components` package of its
own; importing ours here, before any test runs, makes Home Assistant find it.
The simulator posts its event reports over real HTTP to Home Assistant's test
server, so the webhook path is the one a real PBX uses.
"""

import asyncio
from collections.abc import AsyncGenerator, Generator, Iterator
import ssl
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

import custom_components.yeastar_s_series  # noqa: F401
from custom_components.yeastar_s_series.const import (
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    DOMAIN,
)
from simulator import SimulatedPBX

from .common import ENTRY_ID, PASSWORD, SERIAL, entry_data


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Allow real sockets: the simulator and Home Assistant's server listen on loopback."""


@pytest.fixture(autouse=True)
def _custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let every test that runs a Home Assistant load this integration.

    A test with the recorder gets it first: it must be prepared before `hass`.
    """
    if "recorder_mock" in request.fixturenames:
        request.getfixturevalue("recorder_mock")
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities a user would have to enable by hand (as core's fixture does)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def pbx_handshake_log(hass: HomeAssistant) -> Iterator[None]:
    """Let the simulator's server log the TLS handshakes that fail.

    Home Assistant's client aborts some (it reads the certificate only), and plain
    HTTP sent to the HTTPS port fails others.

    The HTTPS simulator runs in Home Assistant's event loop, whose test handler fails
    the test on anything reported there; a real PBX would log the aborted handshake
    in its own log, which Home Assistant never sees.
    """
    loop = hass.loop
    handler = loop.get_exception_handler()
    assert handler is not None

    def ignore_aborted_handshake(
        loop: asyncio.AbstractEventLoop, context: dict[str, Any]
    ) -> None:
        if context.get("message") == (
            "Error on transport creation for incoming connection"
        ) and isinstance(context.get("exception"), ConnectionResetError | ssl.SSLError):
            return
        handler(loop, context)

    loop.set_exception_handler(ignore_aborted_handshake)
    yield
    loop.set_exception_handler(handler)


@pytest.fixture
async def pbx() -> AsyncGenerator[SimulatedPBX]:
    """Run a PBX with the default extensions, serving every API version over HTTP."""
    async with SimulatedPBX(
        password=PASSWORD, serial=SERIAL, report_retries=2, report_retry_delay=0.05
    ) as simulated:
        yield simulated


@pytest.fixture
async def ha_port(hass: HomeAssistant, hass_client_no_auth: Any) -> int:
    """Serve Home Assistant's HTTP app on a free loopback port; return the port."""
    for component in (
        "http",
        "api",
        "network",
        "webhook",
        "websocket_api",
        "diagnostics",
        "config",
        "repairs",
    ):
        assert await async_setup_component(hass, component, {})
    # Home Assistant's own server keeps the router open for integrations set up
    # later (their views); the test server would freeze it.
    hass.http.app._router.freeze = lambda: None  # type: ignore[method-assign]  # noqa: SLF001
    client = await hass_client_no_auth()
    return int(client.server.port)


@pytest.fixture
def config_entry(pbx: SimulatedPBX, ha_port: int) -> MockConfigEntry:
    """Return an entry for the simulator whose reports go to the test HTTP server."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title=f"Yeastar S100 ({pbx.host})",
        unique_id=SERIAL,
        data=entry_data(pbx),
        options={CONF_CALLBACK_HOST: "127.0.0.1", CONF_CALLBACK_PORT: ha_port},
    )


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots in Home Assistant's format (random ids and times masked)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)
