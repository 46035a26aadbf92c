"""Call history: the call records the PBX reported, kept, filtered and named."""

from collections.abc import Callable
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest

from custom_components.yeastar_s_series.api import ApiVersion
from custom_components.yeastar_s_series.call_history import storage_key
from custom_components.yeastar_s_series.const import DOMAIN
from simulator import NewCdr, Scenario, SimulatedPBX
from simulator.scenarios import DEFAULT_CALLER
from tests.common import ENTRY_ID, SERIAL, load_entry

CALLS = (
    Scenario.INBOUND_ANSWERED,
    Scenario.MISSED_CALL,
    Scenario.RING_GROUP,
    Scenario.INTERNAL_CALL,
    Scenario.FAILED_CALL,
)


async def _calls(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    tick: Callable[[float], object] | None = None,
) -> None:
    """Play one call of each kind, a minute apart, and let the records arrive.

    `tick` moves Home Assistant's clock with the PBX's (else only the PBX's moves).
    """
    for scenario in CALLS:
        await pbx.play(scenario)
        await pbx.wait_delivered()
        (tick or pbx.clock.advance)(60)
    await hass.async_block_till_done()


def _device(hass: HomeAssistant, number: str | None = None) -> str:
    """Return the device id of an extension, or of the PBX."""
    key = SERIAL if number is None else f"{SERIAL}_{number}"
    found = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, key), ENTRY_ID)
    assert found is not None
    return found.id


async def history(hass: HomeAssistant, **data: Any) -> list[dict[str, Any]]:
    """Run get_call_history and return its records."""
    data.setdefault("device_id", _device(hass))
    response = await hass.services.async_call(
        DOMAIN, "get_call_history", data, blocking=True, return_response=True
    )
    assert response is not None
    records: list[dict[str, Any]] = response["records"]  # type: ignore[assignment]
    return records


@pytest.mark.parametrize("version", [ApiVersion.V2_0_0, ApiVersion.V1_1_0], ids=str)
async def test_records_in_plain_words(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int, version: ApiVersion
) -> None:
    """Newest first, the PBX's spellings normalised once, the parties named."""
    await load_entry(hass, pbx, ha_port, version)
    await _calls(hass, pbx)

    records = await history(hass)

    summary = [
        (r["from"], r["to"], r["answered_by"], r["direction"], r["status"])
        for r in records
    ]
    assert summary == [
        ("1002", "41000", None, "outbound", "busy"),
        ("1000", "1001", None, "internal", "answered"),
        # v1 "NO ANSWER" and v2 "NO ANSWERED" alike; 6200(1001): the ring group, then who took it.
        (DEFAULT_CALLER, "6200", "1001", "inbound", "answered"),
        (DEFAULT_CALLER, "1001", None, "inbound", "missed"),
        (DEFAULT_CALLER, "1001", None, "inbound", "answered"),
    ]
    internal, group = records[1], records[2]
    assert (internal["from_name"], internal["to_name"]) == ("Jayson", "Front Desk")
    assert group["answered_by_name"] == "Front Desk"
    assert group["trunk"] == "SIP-142"
    assert group["duration"] >= group["talk_time"] >= 0
    starts = [dt_util.parse_datetime(r["start"]) for r in records]
    assert starts == sorted(starts, reverse=True)  # type: ignore[type-var]
    assert all(start is not None and start.tzinfo is not None for start in starts)


async def test_filters(hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int) -> None:
    """By extension, direction, status, time and number of records."""
    await load_entry(hass, pbx, ha_port, ApiVersion.V2_0_0)
    await _calls(hass, pbx)
    everything = await history(hass)

    kitchen = await history(hass, device_id=_device(hass, "1002"))
    # The ring group rang Kitchen too; its record names the group and who answered.
    assert [(r["from"], r["to"]) for r in kitchen] == [("1002", "41000")]
    assert [r["status"] for r in await history(hass, status="missed")] == ["missed"]
    assert {r["direction"] for r in await history(hass, direction="inbound")} == {
        "inbound"
    }
    assert await history(hass, limit=2) == everything[:2]
    since = everything[1]["start"]
    assert await history(hass, since=since) == everything[:2]


async def test_history_survives_a_restart(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    hass_storage: dict[str, Any],
) -> None:
    """Records are saved when the entry unloads, and read back when it loads again.

    What is saved holds no PIN code (the code a caller dialled to be let out).
    """
    entry = await load_entry(hass, pbx, ha_port, ApiVersion.V2_0_0)
    await _calls(hass, pbx)
    before = await history(hass)

    assert await hass.config_entries.async_unload(entry.entry_id)
    saved = hass_storage[storage_key(ENTRY_ID)]["data"]
    assert len(saved) == len(CALLS)
    assert "pincode" not in str(saved)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert await history(hass) == before


@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
@pytest.mark.parametrize("version", [ApiVersion.V2_0_0, ApiVersion.V1_1_0], ids=str)
async def test_pbx_download_reads_as_the_reports(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    pbx: SimulatedPBX,
    ha_port: int,
    version: ApiVersion,
    header: bool,
) -> None:
    """The PBX's CSV, with or without a header row, gives the records its reports gave."""
    # The PBX's wall clock (UTC in the simulator) is taken to be Home Assistant's.
    await hass.config.async_set_time_zone("UTC")
    await load_entry(hass, pbx, ha_port, version)
    await _calls(hass, pbx, freezer.tick)
    pbx.records.csv_header = header

    downloaded = await history(hass, source="pbx")

    assert len(downloaded) == len(CALLS)
    assert downloaded == await history(hass)


async def test_pbx_download_of_one_extension(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, pbx: SimulatedPBX, ha_port: int
) -> None:
    """An extension's device asks the PBX for that extension's records only."""
    await hass.config.async_set_time_zone("UTC")
    await load_entry(hass, pbx, ha_port, ApiVersion.V2_0_0)
    await _calls(hass, pbx, freezer.tick)

    records = await history(hass, source="pbx", device_id=_device(hass, "1000"))

    assert [(r["from"], r["to"]) for r in records] == [("1000", "1001")]
    [asked] = [r for r in pbx.received if r.endpoint == "cdr/get_random"]
    assert asked.body is not None and asked.body["number"] == "1000"


async def test_empty_download(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """No call and no header row: an empty file is no records, not an error."""
    await load_entry(hass, pbx, ha_port, ApiVersion.V2_0_0)
    pbx.records.csv_header = False

    assert await history(hass, source="pbx") == []


async def test_download_larger_than_allowed(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A download past the size limit is refused, not read to the end."""
    monkeypatch.setattr(
        "custom_components.yeastar_s_series.api.client.MAX_CALL_RECORDS_SIZE", 10
    )
    await load_entry(hass, pbx, ha_port, ApiVersion.V2_0_0)

    with pytest.raises(HomeAssistantError):
        await history(hass, source="pbx")


async def test_unreadable_fields_are_unknown(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """A record's time or duration the PBX wrote badly reads as unknown, the rest as is."""
    await load_entry(hass, pbx, ha_port, ApiVersion.V2_0_0)
    for start in ("", "yesterday"):
        await pbx.send_report(
            NewCdr(
                callid="1.1", timestart=start, callfrom="1000", callto="1001",
                callduraction="n/a", talkduraction="0", status="ANSWERED",
                type="Internal",
            )
        )  # fmt: skip
    await pbx.wait_delivered()
    await hass.async_block_till_done()

    records = await history(hass)

    assert [(r["start"], r["duration"], r["from"]) for r in records] == [
        (None, None, "1000"),
        (None, None, "1000"),
    ]


async def test_unreadable_stored_record_is_skipped(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    hass_storage: dict[str, Any],
) -> None:
    """A saved record that cannot be read back is left out; the others load."""
    good = {"callid": "1.1", "start": "2026-11-28T12:00:00", "caller": "1000"}
    hass_storage[storage_key(ENTRY_ID)] = {
        "version": 1,
        "key": storage_key(ENTRY_ID),
        "data": [{"start": "not a time"}, good],
    }
    await load_entry(hass, pbx, ha_port, ApiVersion.V2_0_0)

    assert [r["callid"] for r in await history(hass)] == ["1.1"]


async def test_no_download_on_the_oldest_api(
    hass: HomeAssistant, pbx: SimulatedPBX, ha_port: int
) -> None:
    """API v1.0.0 has no call record download: the PBX source says so in words."""
    await load_entry(hass, pbx, ha_port, ApiVersion.V1_0_0)

    with pytest.raises(ServiceValidationError) as caught:
        await history(hass, source="pbx")

    assert caught.value.translation_key == "not_supported"
    assert not [r for r in pbx.received if r.endpoint.startswith("cdr/")]
