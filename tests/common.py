"""What the Home Assistant tests share: the test PBX's identity and entry set-up."""

from typing import Any

from homeassistant.const import (
    CONF_HOST,
    CONF_PORT,
    CONF_SSL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    CONF_WEBHOOK_ID,
)
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.yeastar_s_series.api import ApiVersion, hash_password
from custom_components.yeastar_s_series.const import (
    CONF_API_VERSION,
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    CONF_PASSWORD_HASH,
    DOMAIN,
)
from simulator import SimulatedPBX

PASSWORD = "s3cret-Pa55"
SERIAL = "369364835218"
WEBHOOK_ID = "0123456789abcdef0123456789abcdef"
ENTRY_ID = "01JYEASTAR0TEST0ENTRY00000"


def entry_data(pbx: SimulatedPBX, **overrides: Any) -> dict[str, Any]:
    """Config entry data for the simulator, as the config flow stores it."""
    return {
        CONF_HOST: pbx.host,
        CONF_PORT: pbx.port,
        CONF_SSL: pbx.certificate is not None,
        CONF_VERIFY_SSL: False,
        CONF_API_VERSION: ApiVersion.V2_0_0.value,
        CONF_USERNAME: "api",
        CONF_PASSWORD_HASH: hash_password(PASSWORD),
        CONF_WEBHOOK_ID: WEBHOOK_ID,
        **overrides,
    }


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add the entry and set it up."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def load_entry(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    version: ApiVersion = ApiVersion.V2_0_0,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """Set up the simulator's entry, reporting to this Home Assistant over loopback.

    Loopback is no address Home Assistant picks for itself: the options name it, as a
    user behind NAT would.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        entry_id=ENTRY_ID,
        title="Yeastar S100",
        unique_id=SERIAL,
        data=entry_data(pbx, **{CONF_API_VERSION: version.value}),
        options={
            CONF_CALLBACK_HOST: "127.0.0.1",
            CONF_CALLBACK_PORT: ha_port,
            **(options or {}),
        },
    )
    await setup_entry(hass, entry)
    return entry
