"""The PBX's reports in the logbook, in words: who called whom, and what happened.

"Call from 0123456 (Alice Example) to Front Desk (1001): answered". The words
come from the `common` translations, in the language Home Assistant speaks.
"""

from collections.abc import Callable, Collection, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations

from .api.names import NameLookup
from .const import DOMAIN, EVENT_YEASTAR
from .event import CALL_EVENT_TYPES, MEMBER_STATUS_PRIORITY, UACSTA_EVENT_TYPES

# v1 reports that name the callee first (RING: the phone that rings).
_CALLEE_FIRST = frozenset({"RING", "ANSWER"})
# v2 member statuses of the caller's leg.
_CALLER_STATUSES = frozenset({"ALERT", "ANSWERED"})


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the integration's bus event."""

    @callback
    def async_describe(event: Event) -> dict[str, str]:
        """Say in words what one report told."""
        words = Words(hass)
        entry = hass.config_entries.async_get_entry(
            str(event.data.get("config_entry_id"))
        )
        if entry is not None and entry.state is ConfigEntryState.LOADED:
            coordinator = entry.runtime_data.coordinator
            words.names = coordinator.names.name
            words.extensions = coordinator.data.extensions.keys()
            name = entry.title
        else:
            name = words("logbook_name")
        return {
            LOGBOOK_ENTRY_NAME: name,
            LOGBOOK_ENTRY_MESSAGE: describe(event.data, words),
        }

    async_describe_event(DOMAIN, EVENT_YEASTAR, async_describe)


class Words:
    """The integration's phrases in Home Assistant's language (English as a fallback)."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Read the phrases loaded for the language; no names yet."""
        self.names: NameLookup = lambda number: None
        self.extensions: Collection[str] = ()
        self._phrases = {
            **async_get_cached_translations(hass, "en", "common", DOMAIN),
            **async_get_cached_translations(
                hass, hass.config.language, "common", DOMAIN
            ),
        }
        self._states = {
            **async_get_cached_translations(hass, "en", "entity", DOMAIN),
            **async_get_cached_translations(
                hass, hass.config.language, "entity", DOMAIN
            ),
        }

    def __call__(self, key: str, **placeholders: str) -> str:
        """Return one phrase with its placeholders filled in."""
        phrase = self._phrases.get(f"component.{DOMAIN}.common.{key}", key)
        try:
            return phrase.format(**placeholders)
        except KeyError, IndexError, ValueError:
            return phrase

    def label(self, number: object, name: object, *, extension: bool) -> str:
        """Name one party: "Front Desk (1001)" for an extension, "0123 (Alice)" outside."""
        number = str(number or "")
        name = name or self.names(number)
        if not name:
            return number
        return f"{name} ({number})" if extension else f"{number} ({name})"

    def status(self, status: str) -> str:
        """Return an extension status as the Status sensor names it."""
        key = f"component.{DOMAIN}.entity.sensor.extension_status.state.{status}"
        return self._states.get(key, status)


def describe(data: Mapping[str, Any], words: Words) -> str:
    """Put one report's event data into words."""
    name = data.get("event")
    if name == "ExtensionStatus":
        status = str(data.get("status", "")).strip().lower()
        if status == "unavailable":
            status = "unregistered"
        return words(
            "logbook_extension_status",
            extension=words.label(data.get("extension"), None, extension=True),
            status=words.status(status),
        )
    if name == "BootUp":
        return words("logbook_boot")
    if name == "ConfigChange":
        return words("logbook_config_change")
    if name == "NewCdr":
        caller, callee = str(data.get("callfrom", "")), str(data.get("callto", ""))
        return words(
            "logbook_call_record",
            caller=words.label(caller, None, extension=caller in words.extensions),
            callee=words.label(callee, None, extension=callee in words.extensions),
            status=str(data.get("status", "")),
            duration=str(data.get("talkduraction", "0")),
        )
    if (step := _step(data)) is None:
        return words("logbook_report", event=str(name))
    caller, callee = _ends(data, words)
    return words(
        f"logbook_{step}",
        caller=caller,
        callee=callee,
        reason=str(data.get("reason", "")),
        digits=str(data.get("info", "")),
    )


def _step(data: Mapping[str, Any]) -> str | None:
    """Name the call's step a report tells (the Calls entity's event type)."""
    name = data.get("event")
    if name == "CallStatus":
        statuses = {party.get("status") for party in data.get("parties", [])}
        return next(
            (
                event_type
                for status, event_type in MEMBER_STATUS_PRIORITY
                if status in statuses
            ),
            None,
        )
    if name == "uacstacall":
        return UACSTA_EVENT_TYPES.get(str(data.get("operation")))
    return CALL_EVENT_TYPES.get(str(name))


def _ends(data: Mapping[str, Any], words: Words) -> tuple[str, str]:
    """Name the caller and the callee of the call a report is about."""
    parties: list[Mapping[str, Any]] = list(data.get("parties", []))
    extensions = [party for party in parties if party.get("type") == "ext"]
    unknown = words("logbook_unknown")
    for party in parties:
        if party.get("type") == "inbound":
            caller = words.label(party.get("from"), party.get("name"), extension=False)
            callee = _join(extensions, words) or words.label(
                party.get("to"), None, extension=False
            )
            return caller, callee or unknown
        if party.get("type") == "outbound":
            callee = words.label(party.get("to"), party.get("name"), extension=False)
            return _join(extensions, words) or unknown, callee
    if data.get("event") == "CallStatus":
        callers = [
            party for party in extensions if party.get("status") in _CALLER_STATUSES
        ]
        if not callers and len(extensions) > 1:
            callers = extensions[:1]  # both hang up: the PBX names the caller first
        callees = [party for party in extensions if party not in callers]
    elif data.get("event") in _CALLEE_FIRST:
        callees, callers = extensions[:1], extensions[1:]
    else:
        callers, callees = extensions[:1], extensions[1:]
    return _join(callers, words) or unknown, _join(callees, words) or unknown


def _join(parties: list[Mapping[str, Any]], words: Words) -> str:
    """Name extension parties, "Front Desk (1001), Kitchen (1002)"."""
    return ", ".join(
        words.label(party.get("number"), party.get("name"), extension=True)
        for party in parties
    )
