"""Call records and recordings: kept from the calls played, downloaded once with a random string."""

import asyncio
import csv
import io
from typing import Any
import wave

import aiohttp
import pytest

from simulator import ControlAPI, ControlClient, ControlError, SimClock, SimulatedPBX
from simulator.records import CSV_COLUMNS, RANDOM_LIFETIME

from .conftest import Receiver, call, login

SPAN = {"starttime": "2000-01-01 00:00:00", "endtime": "2100-01-01 00:00:00"}


@pytest.fixture
def simulated_pbx(simulated_pbx: SimulatedPBX) -> SimulatedPBX:
    """Attach the control API to the PBX before it starts."""
    simulated_pbx.extend_app(ControlAPI(simulated_pbx).install)
    return simulated_pbx


async def _random(
    http: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    token: str,
    endpoint: str,
    body: dict[str, Any],
    api_version: str = "v2.0.0",
) -> str:
    """Ask for a random string and return it."""
    answer = await call(http, pbx, endpoint, body, token=token, api_version=api_version)
    assert answer["status"] == "Success", answer
    random: str = answer["random"]
    return random


async def _get(
    http: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    endpoint: str,
    api_version: str = "v2.0.0",
    **query: str,
) -> tuple[str, bytes]:
    """GET a download; return its content type and bytes (asserting HTTP 200)."""
    async with http.get(
        f"{pbx.base_url}/api/{api_version}/{endpoint}", params=query
    ) as response:
        assert response.status == 200
        return response.content_type, await response.read()


async def _csv(
    http: aiohttp.ClientSession,
    pbx: SimulatedPBX,
    token: str,
    api_version: str = "v2.0.0",
    **body: str,
) -> list[list[str]]:
    """Download call records; return the CSV's rows."""
    body = {**SPAN, **body}
    random = await _random(http, pbx, token, "cdr/get_random", body, api_version)
    kind, content = await _get(
        http, pbx, "cdr/download", api_version, **body, random=random, token=token
    )
    assert kind == "text/csv"
    return list(csv.reader(io.StringIO(content.decode())))


async def _recorded_call(pbx: SimulatedPBX) -> str:
    """Play an answered call with recording on; return its recording's name."""
    pbx.records.recording = True
    await pbx.play("inbound_answered")
    name = pbx.records.records[-1].recording
    assert name
    return name


async def test_answered_calls_are_recorded_when_recording_is_on(
    pbx: SimulatedPBX,
) -> None:
    """The record names a WAV file named as the PBX names them; a missed call has none."""
    name = await _recorded_call(pbx)
    await pbx.play("missed_call")

    answered, missed = pbx.records.records
    assert name == (
        f"{answered.timestart.replace('-', '').replace(' ', '').replace(':', '')}"
        f"-{answered.callid}-{answered.callfrom}-1001-Inbound.wav"
    )
    assert missed.recording == ""
    assert list(pbx.records.recordings) == [name]
    with wave.open(io.BytesIO(pbx.records.recordings[name])) as file:
        assert file.getframerate() == 8000
        assert file.getnframes() > 0


async def test_recording_is_off_by_default(pbx: SimulatedPBX) -> None:
    """Calls leave records, but no recording."""
    await pbx.play("inbound_answered")

    [record] = pbx.records.records
    assert record.recording == ""
    assert pbx.records.recordings == {}


async def test_the_call_record_report_names_the_recording(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, receiver: Receiver
) -> None:
    """The NewCdr report carries the file name the PBX keeps."""
    await login(http, pbx, port=receiver.port, version="2.0.0")
    name = await _recorded_call(pbx)
    await pbx.wait_delivered()

    [record] = [r for r in receiver.calls() if r["event"] == "NewCdr"]
    assert record["recording"] == name


async def test_v2_download_with_a_header(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """A header of the CDR parameters, then one row per call in the v2 spelling."""
    await pbx.play("inbound_answered")
    await pbx.play("missed_call")
    token = await login(http, pbx)

    header, *rows = await _csv(http, pbx, token, number="all")

    assert tuple(header) == CSV_COLUMNS
    assert [dict(zip(header, row, strict=True))["status"] for row in rows] == [
        "ANSWERED",
        "NO ANSWERED",
    ]


async def test_v1_download_takes_extid(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """v1.1.0 names the extensions with `extid` and spells a missed call NO ANSWER."""
    await pbx.play("missed_call")
    token = await login(http, pbx, api_version="v1.1.0")

    _, row = await _csv(http, pbx, token, "v1.1.0", extid="1001")

    assert row[CSV_COLUMNS.index("status")] == "NO ANSWER"


async def test_download_without_a_header(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """With the header off, the first row is a call in the documents' column order."""
    await pbx.play("internal_call")
    pbx.records.csv_header = False
    token = await login(http, pbx)

    [row] = await _csv(http, pbx, token, number="all")

    fields = dict(zip(CSV_COLUMNS, row, strict=True))
    assert (fields["callfrom"], fields["callto"], fields["type"]) == (
        "1000",
        "1001",
        "Internal",
    )


async def test_download_keeps_the_extensions_and_span_asked_for(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, clock: SimClock
) -> None:
    """Only calls an extension is in (a ring group's answerer too), within the span."""
    await pbx.play("internal_call")
    await pbx.play("failed_call")
    clock.advance(3600)
    await pbx.play("ring_group")
    token = await login(http, pbx)
    late = pbx.records.records[-1].timestart

    rows = await _csv(http, pbx, token, number="1001,1003")
    recent = await _csv(http, pbx, token, number="all", starttime=late)

    callto = CSV_COLUMNS.index("callto")
    assert [row[callto] for row in rows[1:]] == ["1001", "6200(1001)"]
    assert [row[callto] for row in recent[1:]] == ["6200(1001)"]


@pytest.mark.parametrize(
    ("body", "api_version"),
    [
        ({"starttime": SPAN["starttime"], "endtime": SPAN["endtime"]}, "v2.0.0"),
        ({"number": "all", "starttime": "yesterday", "endtime": "now"}, "v2.0.0"),
        ({**SPAN, "number": "all"}, "v1.1.0"),  # v1.1.0 reads `extid`
    ],
    ids=["no number", "bad time", "v2 key on v1"],
)
async def test_cdr_random_needs_its_parameters(
    pbx: SimulatedPBX,
    http: aiohttp.ClientSession,
    body: dict[str, str],
    api_version: str,
) -> None:
    """A missing number or an unreadable time answers 10004 (required parameter blank)."""
    token = await login(http, pbx, api_version=api_version)

    answer = await call(
        http, pbx, "cdr/get_random", body, token=token, api_version=api_version
    )

    assert answer == {"status": "Failed", "errno": "10004"}


async def test_oldest_api_has_no_cdr_download(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """v1.0.0 does not know the endpoint (10003), nor a GET of the download (20001)."""
    token = await login(http, pbx, api_version="v1.0.0")

    answer = await call(
        http, pbx, "cdr/get_random", {**SPAN, "extid": "all"}, token=token,
        api_version="v1.0.0",
    )  # fmt: skip
    _, body = await _get(http, pbx, "cdr/download", "v1.0.0", token=token, random="x")

    assert answer["errno"] == "10003"
    assert b'"20001"' in body


async def test_random_works_once(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """A second download with the same random string answers 20012, as JSON."""
    name = await _recorded_call(pbx)
    token = await login(http, pbx)
    random = await _random(
        http, pbx, token, "recording/get_random", {"recording": name}
    )
    query = {"recording": name, "random": random, "token": token}
    await _get(http, pbx, "recording/download", **query)

    kind, body = await _get(http, pbx, "recording/download", **query)

    assert kind == "application/json"
    assert body == b'{"status": "Failed", "errno": "20012"}'


async def test_random_lives_thirty_seconds(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, clock: SimClock
) -> None:
    """A random string used after 30 s answers 20012."""
    token = await login(http, pbx)
    random = await _random(
        http, pbx, token, "cdr/get_random", {**SPAN, "number": "all"}
    )
    clock.advance(RANDOM_LIFETIME + 1)

    _, body = await _get(http, pbx, "cdr/download", random=random, token=token)

    assert b'"20012"' in body


async def test_random_is_for_its_own_download(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """A call-record random string does not fetch a recording."""
    name = await _recorded_call(pbx)
    token = await login(http, pbx)
    random = await _random(
        http, pbx, token, "cdr/get_random", {**SPAN, "number": "all"}
    )

    _, body = await _get(
        http, pbx, "recording/download", recording=name, random=random, token=token
    )

    assert b'"20012"' in body


async def test_download_needs_the_token(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Without the token the download answers 20005, and the random string stays good."""
    name = await _recorded_call(pbx)
    token = await login(http, pbx)
    random = await _random(
        http, pbx, token, "recording/get_random", {"recording": name}
    )

    _, refused = await _get(http, pbx, "recording/download", random=random)
    kind, content = await _get(
        http, pbx, "recording/download", recording=name, random=random, token=token
    )

    assert b'"20005"' in refused
    assert kind == "audio/wav"
    assert content == pbx.records.recordings[name]
    assert "token" not in str(pbx.received[-1].body)


async def test_recording_can_break_off(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """With break_off, the download promises the whole file, sends half and closes."""
    name = await _recorded_call(pbx)
    pbx.records.break_off = True
    token = await login(http, pbx)
    random = await _random(
        http, pbx, token, "recording/get_random", {"recording": name}
    )

    url = f"{pbx.base_url}/api/v2.0.0/recording/download"
    query = {"recording": name, "random": random, "token": token}
    async with http.get(url, params=query) as response:
        assert response.content_length == len(pbx.records.recordings[name])
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


async def test_download_obeys_an_errno_fault(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """An errno fault for the download answers it instead of the file."""
    token = await login(http, pbx)
    random = await _random(
        http, pbx, token, "cdr/get_random", {**SPAN, "number": "all"}
    )
    pbx.faults.refuse_next("20021", "cdr/download")

    _, body = await _get(http, pbx, "cdr/download", random=random, token=token)

    assert b'"20021"' in body


async def test_deleted_recording_is_gone(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Deleted after its random string was given, a recording's download answers 20014."""
    name = await _recorded_call(pbx)
    token = await login(http, pbx)
    random = await _random(
        http, pbx, token, "recording/get_random", {"recording": name}
    )
    pbx.records.delete_recording(name)

    _, body = await _get(
        http, pbx, "recording/download", recording=name, random=random, token=token
    )

    assert b'"20014"' in body


@pytest.mark.parametrize(("name", "errno"), [("nope.wav", "20014"), ("", "10004")])
async def test_recording_random_needs_a_recording(
    pbx: SimulatedPBX, http: aiohttp.ClientSession, name: str, errno: str
) -> None:
    """An unknown recording answers 20014, a blank name 10004."""
    token = await login(http, pbx)

    answer = await call(
        http, pbx, "recording/get_random", {"recording": name}, token=token
    )

    assert answer == {"status": "Failed", "errno": errno}


async def test_control_api_lists_records_and_deletes_recordings(
    pbx: SimulatedPBX, http: aiohttp.ClientSession
) -> None:
    """Records (v2 fields) and recordings are listed; a deleted one is gone, twice 404."""
    client = ControlClient(pbx.base_url)
    settings = await asyncio.to_thread(
        client.settings, recording=True, csv_header=False
    )
    await pbx.play("inbound_answered")

    listed = await asyncio.to_thread(client.records)
    [name] = listed["recordings"]
    await asyncio.to_thread(client.delete_recording, name)
    with pytest.raises(ControlError) as again:
        await asyncio.to_thread(client.delete_recording, name)

    assert (settings["recording"], settings["csv_header"]) == (True, False)
    assert [r["recording"] for r in listed["records"]] == [name]
    assert pbx.records.recordings == {}
    assert again.value.status == 404
