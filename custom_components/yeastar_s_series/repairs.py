"""Repair issues: a lockout, a changed certificate, reports that cannot arrive.

When the CA is not verified the integration pins the PBX certificate's SHA-256
fingerprint at setup (trust on first use). A different certificate stops the
connection before anything is sent; only the user can say whether the PBX got a
new certificate or something sits between Home Assistant and the PBX, so that
issue comes with a fix flow.
"""

from typing import Any, Final

from homeassistant.components.repairs import RepairsFlow, RepairsFlowResult
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
import probatio

from .api import YeastarError, fetch_certificate_fingerprint
from .const import CONF_FINGERPRINT, DOMAIN, format_fingerprint

# Translation keys of the issues (strings.json `issues`).
LOCKED_OUT: Final = "locked_out"
CERTIFICATE_CHANGED: Final = "certificate_changed"
HTTPS_WEBHOOK: Final = "https_webhook"
ISSUES: Final = (LOCKED_OUT, CERTIFICATE_CHANGED, HTTPS_WEBHOOK)


def issue_id(translation_key: str, entry_id: str) -> str:
    """Return the id of one entry's issue (the HTTPS issue is Home Assistant's own)."""
    return f"{translation_key}_{entry_id}"


@callback
def async_create_lockout_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Tell the user the PBX locked Home Assistant out, and how to lift the lock."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(LOCKED_OUT, entry.entry_id),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=LOCKED_OUT,
        translation_placeholders={"title": entry.title, "host": entry.data[CONF_HOST]},
    )


@callback
def async_create_certificate_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Ask the user about the PBX's new certificate (the fix flow pins it)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(CERTIFICATE_CHANGED, entry.entry_id),
        is_fixable=True,
        severity=ir.IssueSeverity.ERROR,
        translation_key=CERTIFICATE_CHANGED,
        translation_placeholders={"title": entry.title, "host": entry.data[CONF_HOST]},
        data={"entry_id": entry.entry_id},
    )


@callback
def async_delete_entry_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Remove an entry's issues: the session works again."""
    for translation_key in (LOCKED_OUT, CERTIFICATE_CHANGED):
        ir.async_delete_issue(hass, DOMAIN, issue_id(translation_key, entry_id))


@callback
def async_check_https(hass: HomeAssistant) -> None:
    """Raise an issue when Home Assistant serves only HTTPS: the PBX posts plain HTTP."""
    if hass.config.api is not None and hass.config.api.use_ssl:
        ir.async_create_issue(
            hass,
            DOMAIN,
            HTTPS_WEBHOOK,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=HTTPS_WEBHOOK,
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, HTTPS_WEBHOOK)


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
