"""Fixtures of the fault suite.

Home Assistant's HTTP server, the config entry and the autouse socket/custom
integration switch are the shared fixtures of tests/conftest.py. The PBX is the
same simulator with the same settings, counting requests in flight. On top: a probe of the event loop's responsiveness and a log of every API request
the integration's clients make.
"""

from collections.abc import AsyncGenerator, Iterator, Mapping
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

import custom_components.yeastar_s_series as integration
from custom_components.yeastar_s_series.api import YeastarClient
from tests.common import PASSWORD, SERIAL, setup_entry

from .common import InstrumentedPBX, LoopLagProbe, RequestLog


@pytest.fixture
async def pbx() -> AsyncGenerator[InstrumentedPBX]:
    """Run the integration tests' PBX (same settings), counting requests in flight."""
    async with InstrumentedPBX(
        password=PASSWORD, serial=SERIAL, report_retries=2, report_retry_delay=0.05
    ) as simulated:
        yield simulated


LATENESS_PROPERTY = "worst_loop_lateness_ms"


@pytest.fixture
def loop_lag(
    hass: HomeAssistant, request: pytest.FixtureRequest
) -> Iterator[LoopLagProbe]:
    """Beat on Home Assistant's event loop every 10 ms and record the worst lateness.

    Request it after the set-up fixtures: it measures from then on. The worst
    lateness goes to the test's user properties, listed at the end of the run.
    """
    probe = LoopLagProbe(hass.loop)
    probe.start()
    yield probe
    probe.stop()
    request.node.user_properties.append(
        (LATENESS_PROPERTY, round(probe.worst * 1000, 1))
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the worst event loop lateness each fault scenario saw."""
    rows = [
        (report.nodeid, value)
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "teardown"
        for name, value in report.user_properties
        if name == LATENESS_PROPERTY
    ]
    if not rows:
        return
    terminalreporter.section("worst event loop lateness (ms)")
    for nodeid, value in rows:
        terminalreporter.write_line(f"{value:7.1f}  {nodeid}")


@pytest.fixture
def client_requests(monkeypatch: pytest.MonkeyPatch) -> RequestLog:
    """Log the API requests of every client the integration builds (setups, reloads)."""
    log = RequestLog()
    create_client = integration.async_create_client

    def _create_and_watch(
        hass: HomeAssistant, data: Mapping[str, Any]
    ) -> YeastarClient:
        client = create_client(hass, data)
        log.watch(client, monkeypatch)
        return client

    monkeypatch.setattr(integration, "async_create_client", _create_and_watch)
    return log


@pytest.fixture
async def loaded(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: InstrumentedPBX,
    config_entry: MockConfigEntry,
    client_requests: RequestLog,
) -> MockConfigEntry:
    """Set the entry up with time frozen (`freezer` first: the heartbeat timer follows it)."""
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert pbx.stats.login_attempts == 1
    return config_entry
