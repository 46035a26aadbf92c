"""Repair flow for a PBX certificate that changed since it was pinned.

When the CA is not verified the integration pins the PBX certificate's SHA-256
fingerprint at setup (trust on first use). A different certificate stops the
connection before anything is sent; only the user can say whether the PBX got a
new certificate or something sits between Home Assistant and the PBX.
"""

from typing import Any

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
import probatio

from .api import YeastarError, fetch_certificate_fingerprint
from .const import CONF_FINGERPRINT, format_fingerprint


class CertificateChangedRepairFlow(RepairsFlow):
    """Show the PBX's new certificate fingerprint and pin it if the user accepts."""

    def __init__(self, entry_id: str) -> None:
        """Fix the certificate of one config entry."""
        self._entry_id = entry_id
        self._new_fingerprint: str | None = None

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Read the certificate the PBX shows now."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        try:
            self._new_fingerprint = await fetch_certificate_fingerprint(
                entry.data[CONF_HOST], entry.data[CONF_PORT]
            )
        except YeastarError:
            return self.async_abort(reason="cannot_connect")
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> RepairsFlowResult:
        """Ask the user to compare the fingerprints; pin the new one on confirmation."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        assert self._new_fingerprint is not None
        if user_input is not None:
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, CONF_FINGERPRINT: self._new_fingerprint}
            )
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            data_schema=probatio.Schema({}),
            description_placeholders={
                "title": entry.title,
                "host": entry.data[CONF_HOST],
                "old": format_fingerprint(entry.data.get(CONF_FINGERPRINT, "")),
                "new": format_fingerprint(self._new_fingerprint),
            },
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Create the fix flow of a certificate_changed issue."""
    assert data is not None
    return CertificateChangedRepairFlow(str(data["entry_id"]))
