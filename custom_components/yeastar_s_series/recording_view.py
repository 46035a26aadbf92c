"""Call recordings, played in the browser through Home Assistant.

The browser asks Home Assistant (signed in, like any `/api` path); Home
Assistant asks the PBX for a single-use download and streams the file on,
over the entry's own TLS settings. The PBX's token and random string stay in
Home Assistant: the browser sees only this view's URL. Only recordings of the
call records kept here are served, and only when the entry's option allows.
"""

from http import HTTPStatus
import mimetypes
from typing import Final
from urllib.parse import quote

from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .api import YeastarError, YeastarRequestError
from .const import CONF_RECORDINGS, DOMAIN, LOGGER
from .coordinator import YeastarConfigEntry

URL: Final = "/api/yeastar_s_series/recordings/{entry_id}/{name}"
# The PBX's "random invalid" and "file gone": the recording cannot be had.
GONE: Final = frozenset({"20012", "20014"})


def recording_url(entry_id: str, name: str) -> str:
    """Return the view's path for one recording."""
    return URL.format(entry_id=entry_id, name=quote(name, safe=""))


def recordings_enabled(entry: YeastarConfigEntry) -> bool:
    """Whether the user let Home Assistant play this PBX's recordings."""
    return entry.state is ConfigEntryState.LOADED and bool(
        entry.options.get(CONF_RECORDINGS)
    )


class RecordingView(HomeAssistantView):
    """Stream one recording from the PBX to a signed-in user."""

    url = URL
    name = "api:yeastar_s_series:recording"
    requires_auth = True

    def __init__(self, hass: HomeAssistant) -> None:
        """Serve the recordings of every PBX set up."""
        self.hass = hass

    async def get(
        self, request: web.Request, entry_id: str, name: str
    ) -> web.StreamResponse:
        """Fetch the recording from the PBX and pass it on as it comes."""
        entry: YeastarConfigEntry | None = self.hass.config_entries.async_get_entry(
            entry_id
        )
        if (
            entry is None
            or entry.domain != DOMAIN
            or not recordings_enabled(entry)
            or entry.runtime_data.history.recording(name) is None
        ):
            return web.Response(status=HTTPStatus.NOT_FOUND, text="No such recording")
        client = entry.runtime_data.coordinator.client
        response: web.StreamResponse | None = None
        try:
            async with client.recording(name) as file:
                response = web.StreamResponse(
                    headers={
                        "Content-Type": _content_type(file.content_type, name),
                        "Content-Disposition": f"inline; filename*=UTF-8''{quote(name)}",
                        "Cache-Control": "no-store",
                    }
                )
                if file.size is not None:
                    response.content_length = file.size
                await response.prepare(request)
                async for chunk in file.chunks:
                    await response.write(chunk)
        except YeastarError as err:
            if response is not None:
                # The file broke off: closing the connection lets the browser see it
                # end short, rather than wait for the bytes promised.
                LOGGER.warning("Recording %s broke off: %s", name, err)
                response.force_close()
                return response
            return _refused(name, err)
        await response.write_eof()
        return response


def _content_type(reported: str, name: str) -> str:
    """Return the file's type: the PBX's, or the one its name tells."""
    if reported not in ("", "application/octet-stream"):
        return reported
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _refused(name: str, err: YeastarError) -> web.Response:
    """Tell the browser why there is no recording."""
    if isinstance(err, YeastarRequestError) and err.errno in GONE:
        return web.Response(
            status=HTTPStatus.NOT_FOUND, text="The recording is no longer on the PBX"
        )
    LOGGER.warning("Could not fetch recording %s from the PBX: %s", name, err)
    return web.Response(status=HTTPStatus.BAD_GATEWAY, text="The PBX did not send it")
