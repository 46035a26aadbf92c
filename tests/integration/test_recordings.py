"""Call recordings: played through Home Assistant's view, browsed in the Media panel."""

from collections.abc import Awaitable, Callable
from http import HTTPStatus
import logging
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from homeassistant.components import media_source
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.yeastar_s_series.const import CONF_RECORDINGS, DOMAIN
from custom_components.yeastar_s_series.recording_view import recording_url
from simulator import SimulatedPBX
from simulator.scenarios import DEFAULT_CALLER
from tests.common import ENTRY_ID, load_entry

type ClientFactory = Callable[[], Awaitable[TestClient[Any, Any]]]


async def _load(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int, *, recordings: bool = True
) -> MockConfigEntry:
    """Set up the entry, its recordings option on or off."""
    options = {CONF_RECORDINGS: True} if recordings else None
    return await load_entry(hass, pbx, ha_port, options=options)


async def _recorded_call(hass: HomeAssistant, pbx: SimulatedPBX) -> str:
    """Let the PBX record an answered inbound call; return the recording's name."""
    pbx.records.recording = True
    await pbx.play("inbound_answered")
    await pbx.wait_delivered()
    await hass.async_block_till_done()
    name = pbx.records.records[-1].recording
    assert name
    return name


@pytest.fixture
async def recording(hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int) -> str:
    """Load the entry with recordings on; return the name of a call's recording."""
    await _load(hass, pbx, ha_port)
    return await _recorded_call(hass, pbx)


async def test_plays_a_recording(
    hass_client: ClientFactory, pbx: SimulatedPBX, recording: str
) -> None:
    """A signed-in user gets the PBX's file, as a WAV, not to be cached."""
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, recording))

    assert response.status == HTTPStatus.OK
    assert response.content_type == "audio/wav"
    assert response.headers["Cache-Control"] == "no-store"
    assert await response.read() == pbx.records.recordings[recording]


async def test_type_from_the_name_when_the_pbx_gives_none(
    hass_client: ClientFactory, pbx: SimulatedPBX, recording: str
) -> None:
    """A PBX that sends a plain download: the `.wav` name tells the browser the type."""
    pbx.records.recording_type = "application/octet-stream"
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, recording))

    assert response.content_type == "audio/x-wav"


async def test_a_download_that_breaks_off_ends_early(
    hass_client: ClientFactory,
    pbx: SimulatedPBX,
    recording: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The PBX closes mid-file: the browser's file ends short, the log says why."""
    pbx.records.break_off = True
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, recording))

    assert response.status == HTTPStatus.OK
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()
    assert f"Recording {recording} broke off" in caplog.text


async def test_refuses_without_sign_in(
    hass_client_no_auth: ClientFactory, pbx: SimulatedPBX, recording: str
) -> None:
    """Unauthenticated, the view answers 401 and asks nothing of the PBX."""
    client = await hass_client_no_auth()

    response = await client.get(recording_url(ENTRY_ID, recording))

    assert response.status == HTTPStatus.UNAUTHORIZED
    assert not [r for r in pbx.received if r.endpoint.startswith("recording/")]


async def test_no_token_or_random_string_leaves_home_assistant(
    hass_client: ClientFactory,
    pbx: SimulatedPBX,
    recording: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Neither the response nor the log holds the PBX's token or random string."""
    caplog.set_level(logging.DEBUG)
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, recording))
    content = await response.read()

    [session] = pbx.sessions
    [download] = [r for r in pbx.received if r.endpoint == "recording/download"]
    assert download.body is not None
    secrets = (session.token, download.body["random"])
    seen = f"{content!r} {dict(response.headers)} {caplog.text}"
    assert not [secret for secret in secrets if secret in seen]


async def test_deleted_recording_is_not_found(
    hass_client: ClientFactory, pbx: SimulatedPBX, recording: str
) -> None:
    """A recording the PBX no longer has (20014) is a 404 with a plain reason."""
    pbx.records.delete_recording(recording)
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, recording))

    assert response.status == HTTPStatus.NOT_FOUND
    assert await response.text() == "The recording is no longer on the PBX"


async def test_refused_download_is_not_found(
    hass_client: ClientFactory, pbx: SimulatedPBX, recording: str
) -> None:
    """A random string the PBX refuses at the download (20012) is a 404 too."""
    pbx.faults.refuse_next("20012", "recording/download")
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, recording))

    assert response.status == HTTPStatus.NOT_FOUND


async def test_pbx_failure_is_a_bad_gateway(
    hass_client: ClientFactory, pbx: SimulatedPBX, recording: str
) -> None:
    """A PBX that answers nonsense gives 502, not the nonsense."""
    pbx.faults.garbage = True
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, recording))

    assert response.status == HTTPStatus.BAD_GATEWAY
    assert await response.text() == "The PBX did not send it"


async def test_only_recordings_of_kept_records(
    hass_client: ClientFactory, pbx: SimulatedPBX, recording: str
) -> None:
    """A file name no kept record names is not asked of the PBX."""
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, f"x{recording}"))

    assert response.status == HTTPStatus.NOT_FOUND
    assert not [r for r in pbx.received if r.endpoint.startswith("recording/")]


async def test_not_served_unless_the_option_is_on(
    hass: HomeAssistant,
    hass_client: ClientFactory,
    pbx: SimulatedPBX,
    ha_port: int,
) -> None:
    """The recordings option is off by default: the view then serves none."""
    await _load(hass, pbx, ha_port, recordings=False)
    name = await _recorded_call(hass, pbx)
    client = await hass_client()

    response = await client.get(recording_url(ENTRY_ID, name))

    assert response.status == HTTPStatus.NOT_FOUND
    assert not [r for r in pbx.received if r.endpoint.startswith("recording/")]


async def _browse(hass: HomeAssistant, identifier: str = "") -> Any:
    """Browse the integration's media source at an identifier."""
    assert await async_setup_component(hass, "media_source", {})
    return await media_source.async_browse_media(
        hass, media_source.generate_media_source_id(DOMAIN, identifier)
    )


async def test_browse_entry_extension_day_recording(
    hass: HomeAssistant, pbx: SimulatedPBX, recording: str
) -> None:
    """PBX, then the extension in the call, then the day, then the recording.

    A call without a recording is not listed.
    """
    await pbx.play("missed_call")
    await pbx.wait_delivered()
    await hass.async_block_till_done()
    record = pbx.records.records[0]
    day = record.timestart[:10]  # the PBX's wall clock is Home Assistant's

    root = await _browse(hass)
    entry = await _browse(hass, ENTRY_ID)
    extension = await _browse(hass, f"{ENTRY_ID}/1001")
    days = await _browse(hass, f"{ENTRY_ID}/1001/{day}")

    assert [child.title for child in root.children] == ["Yeastar S100"]
    assert [child.title for child in entry.children] == ["Front Desk (1001)"]
    assert [child.title for child in extension.children] == [day]
    [item] = days.children
    assert item.can_play
    assert item.title.endswith(f"{DEFAULT_CALLER} → Front Desk (1001) (0:30)")


async def test_resolves_to_the_view(
    hass: HomeAssistant, pbx: SimulatedPBX, recording: str
) -> None:
    """Playing a recording plays the view's URL, as a WAV."""
    [record] = pbx.records.records
    day = record.timestart[:10]  # the PBX's wall clock is Home Assistant's
    assert await async_setup_component(hass, "media_source", {})

    resolved = await media_source.async_resolve_media(
        hass,
        media_source.generate_media_source_id(
            DOMAIN, f"{ENTRY_ID}/1001/{day}/{recording}"
        ),
        None,
    )

    assert resolved.url.startswith(recording_url(ENTRY_ID, recording))
    assert resolved.mime_type == "audio/wav"


@pytest.mark.parametrize(
    "identifier",
    [f"{ENTRY_ID}/1001/2026-01-01", f"{ENTRY_ID}/1001/2026-01-01/nope.wav"],
    ids=["a day", "unknown file"],
)
async def test_resolves_only_recordings(
    hass: HomeAssistant, recording: str, identifier: str
) -> None:
    """A folder or a file no kept record names cannot be played."""
    assert await async_setup_component(hass, "media_source", {})

    with pytest.raises(media_source.Unresolvable):
        await media_source.async_resolve_media(
            hass, media_source.generate_media_source_id(DOMAIN, identifier), None
        )


async def test_a_recording_is_no_folder(
    hass: HomeAssistant, pbx: SimulatedPBX, recording: str
) -> None:
    """Browsing into a recording is refused: it plays, it does not open."""
    day = pbx.records.records[0].timestart[:10]

    with pytest.raises(media_source.Unresolvable):
        await _browse(hass, f"{ENTRY_ID}/1001/{day}/{recording}")


async def test_browse_hides_pbxs_with_the_option_off(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """With recordings off, the PBX is not listed, and its folder cannot be opened."""
    await _load(hass, pbx, ha_port, recordings=False)
    await _recorded_call(hass, pbx)

    root = await _browse(hass)

    assert root.children == []
    with pytest.raises(media_source.Unresolvable):
        await _browse(hass, ENTRY_ID)
