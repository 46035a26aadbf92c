"""Call recordings in Home Assistant's Media panel: per PBX, extension and day.

Only the recordings of the call records kept here are listed, and only for
the PBXs whose option allows it; playing one goes through the recording view.
Identifiers: `<entry>`, `<entry>/<extension>`, `<entry>/<extension>/<day>`, and
`<entry>/<extension>/<day>/<file>` for a recording.
"""

from collections import defaultdict
from datetime import date
from typing import override

from homeassistant.components.media_player import MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant

from .api.cdr import CallRecord
from .api.names import NameLookup
from .call_history import local
from .const import DOMAIN
from .coordinator import YeastarConfigEntry
from .recording_view import recording_url, recordings_enabled


async def async_get_media_source(hass: HomeAssistant) -> YeastarRecordings:
    """Offer the PBXs' call recordings."""
    return YeastarRecordings(hass)


class YeastarRecordings(MediaSource):
    """The call recordings of the PBXs set up."""

    name = "Yeastar S-Series"

    def __init__(self, hass: HomeAssistant) -> None:
        """Read from the loaded entries."""
        super().__init__(DOMAIN)
        self.hass = hass

    @override
    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return the view's URL for a recording (Home Assistant signs it)."""
        parts = (item.identifier or "").split("/", 3)
        if len(parts) != 4:
            raise Unresolvable(
                translation_domain=DOMAIN, translation_key="no_such_recording"
            )
        entry = self._entry(parts[0])
        record = entry.runtime_data.history.recording(parts[3])
        if record is None or record.recording is None:
            raise Unresolvable(
                translation_domain=DOMAIN, translation_key="no_such_recording"
            )
        name = record.recording
        return PlayMedia(
            recording_url(entry.entry_id, name),
            "audio/wav" if name.lower().endswith(".wav") else "audio/*",
        )

    @override
    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """List PBXs, then extensions, days and recordings."""
        if not item.identifier:
            return _folder(
                "",
                self.name,
                [
                    _folder(entry.entry_id, entry.title)
                    for entry in self.hass.config_entries.async_loaded_entries(DOMAIN)
                    if recordings_enabled(entry)
                ],
            )
        parts = item.identifier.split("/", 3)
        entry = self._entry(parts[0])
        names = entry.runtime_data.coordinator.names.name
        recorded = _by_extension(
            entry.runtime_data.history.records,
            set(entry.runtime_data.coordinator.data.extensions),
        )
        match parts:
            case [entry_id]:
                return _folder(
                    entry_id,
                    entry.title,
                    [
                        _folder(f"{entry_id}/{number}", _named(number, names))
                        for number in sorted(recorded)
                    ],
                )
            case [entry_id, number]:
                days = sorted({_day(record) for record in recorded[number]})
                return _folder(
                    item.identifier,
                    _named(number, names),
                    [
                        _folder(f"{entry_id}/{number}/{day}", day.isoformat())
                        for day in reversed(days)
                    ],
                )
            case [_, number, day]:
                return _folder(
                    item.identifier,
                    day,
                    [
                        _recording(item.identifier, record, names)
                        for record in reversed(recorded[number])
                        if _day(record).isoformat() == day
                    ],
                )
        raise Unresolvable(
            translation_domain=DOMAIN, translation_key="no_such_recording"
        )

    def _entry(self, entry_id: str) -> YeastarConfigEntry:
        """Return a loaded entry whose recordings may be played."""
        entry: YeastarConfigEntry | None = self.hass.config_entries.async_get_entry(
            entry_id
        )
        if entry is None or entry.domain != DOMAIN or not recordings_enabled(entry):
            raise Unresolvable(
                translation_domain=DOMAIN, translation_key="recordings_off"
            )
        return entry


def _by_extension(
    records: list[CallRecord], extensions: set[str]
) -> defaultdict[str, list[CallRecord]]:
    """Group the recorded calls by the PBX's extensions in them, oldest first."""
    grouped: defaultdict[str, list[CallRecord]] = defaultdict(list)
    for record in records:
        if record.recording is None or record.start is None:
            continue
        for number in {record.caller, record.called, record.answered_by}:
            if number in extensions:
                grouped[number].append(record)
    return grouped


def _day(record: CallRecord) -> date:
    """Return the day a recorded call started."""
    assert record.start is not None
    return local(record.start).date()


def _named(number: str | None, names: NameLookup) -> str:
    """Write a number with its name, when it has one."""
    if number is None:
        return "?"
    return f"{name} ({number})" if (name := names(number)) else number


def _folder(
    identifier: str, title: str, children: list[BrowseMediaSource] | None = None
) -> BrowseMediaSource:
    """Build a level of the tree."""
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.MUSIC,
        title=title,
        can_play=False,
        can_expand=True,
        children=children,
        children_media_class=MediaClass.MUSIC,
    )


def _recording(
    day_identifier: str, record: CallRecord, names: NameLookup
) -> BrowseMediaSource:
    """Build a recording, titled with its time, its parties and its length."""
    assert record.start is not None and record.recording is not None
    talk = record.talk_time or 0
    title = (
        f"{local(record.start):%H:%M} {_named(record.caller, names)} → "
        f"{_named(record.answered_by or record.called, names)} "
        f"({talk // 60}:{talk % 60:02d})"
    )
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=f"{day_identifier}/{record.recording}",
        media_class=MediaClass.MUSIC,
        media_content_type=MediaType.MUSIC,
        title=title,
        can_play=True,
        can_expand=False,
    )
