"""Where the PBX is told to send reports: Home Assistant's address as the PBX sees it."""

import socket
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_SSL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.yeastar_s_series.api import ReportTarget
from custom_components.yeastar_s_series.const import (
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    DOMAIN,
)
from custom_components.yeastar_s_series.report_target import (
    ReportAddressUnknownError,
    async_report_target,
    async_resolve_host,
)
from simulator import SimulatedPBX
from tests.common import ENTRY_ID, PASSWORD, SERIAL, WEBHOOK_ID, entry_data, setup_entry

NO_SOURCE_IP = patch(
    "homeassistant.components.network.async_get_source_ip",
    side_effect=HomeAssistantError("no address"),
)
UNKNOWN = ReportAddressUnknownError(
    translation_domain=DOMAIN, translation_key="report_address_unknown"
)


def detected_entry(pbx: SimulatedPBX, **data: object) -> MockConfigEntry:
    """Return an entry without the report address override."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="Yeastar S100",
        unique_id=SERIAL,
        data=entry_data(pbx, **data),
    )


async def test_pbx_on_this_host(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """A PBX on loopback (the simulator) is told to post to loopback, at HA's port."""
    await setup_entry(hass, detected_entry(pbx))

    (session,) = pbx.sessions
    assert session.target_ip == "127.0.0.1"
    assert hass.config.api is not None
    assert session.target_port == hass.config.api.port
    assert session.target_url == f"api/webhook/{WEBHOOK_ID}"


async def test_detected_address(hass: HomeAssistant, ha_port: int) -> None:
    """A PBX on the LAN gets the network integration's source address towards it."""
    target = await async_report_target(hass, {"192.0.2.7"}, "192.0.2.7", WEBHOOK_ID, {})

    # The test harness answers 10.10.10.10 for the source address.
    assert target == ReportTarget(
        ipaddr="10.10.10.10", port=8123, url=f"api/webhook/{WEBHOOK_ID}"
    )
    with NO_SOURCE_IP, pytest.raises(ReportAddressUnknownError):
        await async_report_target(hass, {"192.0.2.7"}, "192.0.2.7", WEBHOOK_ID, {})
    override = {CONF_CALLBACK_HOST: "203.0.113.5", CONF_CALLBACK_PORT: 18123}
    with NO_SOURCE_IP:
        assert await async_report_target(
            hass, {"192.0.2.7"}, "192.0.2.7", WEBHOOK_ID, override
        ) == (
            ReportTarget(
                ipaddr="203.0.113.5", port=18123, url=f"api/webhook/{WEBHOOK_ID}"
            )
        )


async def test_pbx_by_host_name(hass: HomeAssistant) -> None:
    """A PBX named by host name: every address it resolves to may post reports."""
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::7", 0, 0, 0)),
    ]
    with patch.object(hass.loop, "getaddrinfo", return_value=answers):
        assert await async_resolve_host(hass, "pbx.example") == {
            "192.0.2.7",
            "2001:db8::7",
        }
    with patch.object(hass.loop, "getaddrinfo", side_effect=OSError("no such host")):
        assert await async_resolve_host(hass, "pbx.invalid") == set()
    # An address needs no lookup.
    assert await async_resolve_host(hass, "::1") == {"::1"}


async def test_unknown_own_address_at_setup(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """HA cannot tell its address: setup retries, says why, and nothing logs in."""
    entry = detected_entry(pbx)
    with patch(
        "custom_components.yeastar_s_series.coordinator.async_report_target",
        side_effect=UNKNOWN,
    ):
        await setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "report address" in str(entry.reason)
    assert pbx.stats.login_attempts == 0


async def test_unknown_own_address_in_the_flow(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """The form says HA's address is unknown instead of failing with an unknown error."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    with patch(
        "custom_components.yeastar_s_series.config_flow.async_report_target",
        side_effect=UNKNOWN,
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_HOST: pbx.host,
                CONF_PORT: pbx.port,
                CONF_SSL: False,
                CONF_VERIFY_SSL: False,
                CONF_USERNAME: "api",
                CONF_PASSWORD: PASSWORD,
            },
        )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "report_address_unknown"}
    assert pbx.stats.login_attempts == 0
