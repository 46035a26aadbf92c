"""Trust on first use: the PBX certificate pinned at setup, and what happens when it changes."""

from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.yeastar_s_series.const import CONF_FINGERPRINT, DOMAIN
from simulator import SimCertificate, SimulatedPBX, generate_certificate
from tests.common import ENTRY_ID, PASSWORD, SERIAL, entry_data, setup_entry

CONNECTION = "sensor.yeastar_s100_connection"
ISSUE_ID = f"certificate_changed_{ENTRY_ID}"

pytestmark = pytest.mark.usefixtures("pbx_handshake_log")


@pytest.fixture
def original() -> SimCertificate:
    """Return the certificate the PBX had when it was added."""
    return generate_certificate()


@pytest.fixture
async def https_pbx(original: SimCertificate) -> AsyncGenerator[SimulatedPBX]:
    """Run the PBX over HTTPS with its original certificate."""
    async with SimulatedPBX(
        password=PASSWORD, serial=SERIAL, certificate=original
    ) as simulated:
        yield simulated


@pytest.fixture
def pinned_entry(
    https_pbx: SimulatedPBX, original: SimCertificate, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Return an entry that pinned the original certificate at setup."""
    return MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title=config_entry.title,
        unique_id=SERIAL,
        data=entry_data(https_pbx, **{CONF_FINGERPRINT: original.fingerprint}),
        options=config_entry.options,
    )


async def replace_certificate(pbx: SimulatedPBX) -> SimulatedPBX:
    """Stop the PBX and start one with a new certificate on the same port."""
    port = pbx.port
    await pbx.stop()
    impostor = SimulatedPBX(
        password=PASSWORD, serial=SERIAL, port=port, certificate=generate_certificate()
    )
    await impostor.start()
    return impostor


async def fix_issue(hass_client: Any, issue_id: str) -> dict[str, Any]:
    """Open the repair's fix flow the way the frontend does; return its first step."""
    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == 200
    return dict(await response.json())


async def confirm(hass_client: Any, flow_id: str) -> dict[str, Any]:
    """Submit the fix flow's confirmation step."""
    client = await hass_client()
    response = await client.post(f"/api/repairs/issues/fix/{flow_id}", json={})
    assert response.status == 200
    return dict(await response.json())


async def test_pinned_certificate_is_used(
    hass: HomeAssistant, https_pbx: SimulatedPBX, pinned_entry: MockConfigEntry
) -> None:
    """With the pinned certificate unchanged the session works over HTTPS."""
    await setup_entry(hass, pinned_entry)

    assert pinned_entry.state is ConfigEntryState.LOADED
    state = hass.states.get(CONNECTION)
    assert state is not None
    assert state.state == "connected"
    assert https_pbx.stats.successful_logins == 1


async def test_changed_certificate_stops_and_is_accepted_by_the_user(
    hass: HomeAssistant,
    https_pbx: SimulatedPBX,
    pinned_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    hass_client: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new certificate: nothing is sent, a fixable issue shows it, the user accepts it."""
    await setup_entry(hass, pinned_entry)
    impostor = await replace_certificate(https_pbx)
    try:
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)

        state = hass.states.get(CONNECTION)
        assert state is not None
        assert state.state == "certificate_changed"
        # The handshake failed before any request: no password hash, no token left.
        assert sum(impostor.stats.requests.values()) == 0
        issue = issue_registry.async_get_issue(DOMAIN, ISSUE_ID)
        assert issue is not None
        assert issue.is_fixable

        step = await fix_issue(hass_client, ISSUE_ID)
        assert step["step_id"] == "confirm"
        placeholders = step["description_placeholders"]
        assert impostor.certificate is not None
        new = impostor.certificate.fingerprint
        assert placeholders["new"].replace(":", "").lower() == new
        assert (
            placeholders["old"].replace(":", "").lower()
            == pinned_entry.data[CONF_FINGERPRINT]
        )
        assert placeholders["old"] != placeholders["new"]

        result = await confirm(hass_client, step["flow_id"])
        assert result["type"] == "create_entry"
        await hass.async_block_till_done(wait_background_tasks=True)

        assert pinned_entry.data[CONF_FINGERPRINT] == new
        assert pinned_entry.state is ConfigEntryState.LOADED
        state = hass.states.get(CONNECTION)
        assert state is not None
        assert state.state == "connected"
        assert impostor.stats.successful_logins == 1
        assert issue_registry.async_get_issue(DOMAIN, ISSUE_ID) is None
    finally:
        await impostor.stop()


async def test_changed_certificate_at_startup(
    hass: HomeAssistant,
    https_pbx: SimulatedPBX,
    pinned_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Home Assistant started while the PBX shows another certificate: retry, and ask."""
    impostor = await replace_certificate(https_pbx)
    try:
        await setup_entry(hass, pinned_entry)

        assert pinned_entry.state is ConfigEntryState.SETUP_RETRY
        assert issue_registry.async_get_issue(DOMAIN, ISSUE_ID) is not None
        assert sum(impostor.stats.requests.values()) == 0
    finally:
        await impostor.stop()


async def test_fix_flow_when_the_pbx_is_unreachable(
    hass: HomeAssistant,
    https_pbx: SimulatedPBX,
    pinned_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    hass_client: Any,
) -> None:
    """The new certificate cannot be read while the PBX is down: the flow says so."""
    impostor = await replace_certificate(https_pbx)
    await setup_entry(hass, pinned_entry)
    await impostor.stop()

    step = await fix_issue(hass_client, ISSUE_ID)

    assert step["type"] == "abort"
    assert step["reason"] == "cannot_connect"
    assert pinned_entry.data[CONF_FINGERPRINT] != ""
