"""The automation blueprints: valid for Home Assistant's loader, and working on calls.

Each blueprint loads with the loader Home Assistant imports blueprints with
(`!input` tags, the automation schema, every input used and defined). Each
then runs as an automation on the simulator's calls: the missed-call one makes
a persistent notification, the ringing-light one lights a template light, and
the door-station one takes a (mocked) snapshot and tells a (mocked) phone.
"""

import asyncio
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any
from unittest.mock import patch

from homeassistant.components import persistent_notification
from homeassistant.components.automation.config import (
    AUTOMATION_BLUEPRINT_SCHEMA,
    async_validate_config_item,
)
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util, yaml as yaml_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.yeastar_s_series.const import (
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    CONF_DOOR_STATIONS,
    DOMAIN,
)
from simulator import Scenario, SimulatedPBX
from simulator.scenarios import DEFAULT_CALLER
from tests.common import SERIAL, entry_data, setup_entry

from .common import INTEGRATION_DIR, REPO_ROOT, load

BLUEPRINT_DIR = REPO_ROOT / "blueprints" / "automation" / "yeastar_s_series"
BLUEPRINTS = sorted(path.name for path in BLUEPRINT_DIR.glob("*.yaml"))
EXPECTED = {
    "door_station_snapshot.yaml",
    "missed_call_notification.yaml",
    "ringing_light.yaml",
}
FRONT_DESK_CALLS = "event.front_desk_1001_calls"
FRONT_DESK_CALL = "sensor.front_desk_1001_call"
LIGHT = "light.desk_lamp"
MOBILE_APP_ACTION = "homeassistant.components.mobile_app.device_action"


def _blueprint(name: str) -> Blueprint:
    """Load a blueprint as Home Assistant does when it imports or reads one."""
    data = yaml_util.load_yaml(BLUEPRINT_DIR / name)
    assert isinstance(data, dict)
    return Blueprint(
        data,
        path=name,
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


def test_the_blueprints_are_there() -> None:
    """The folder holds the three blueprints, and nothing else."""
    assert set(BLUEPRINTS) == EXPECTED
    assert {path.name for path in BLUEPRINT_DIR.iterdir()} == EXPECTED


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprint_loads(name: str) -> None:
    """Valid for the loader, runnable on the tested Home Assistant, every input used."""
    blueprint = _blueprint(name)

    assert blueprint.domain == "automation"
    assert blueprint.validate() is None
    assert yaml_util.extract_inputs(blueprint.data) == set(blueprint.inputs)
    metadata = blueprint.metadata
    assert metadata["name"].startswith("Yeastar - ")
    assert metadata["description"].strip()
    # Where the project lives (the manifest's documentation), on the main branch.
    project = load(INTEGRATION_DIR / "manifest.json")["documentation"]
    assert metadata["source_url"] == (
        f"{project}/blob/main/blueprints/automation/yeastar_s_series/{name}"
    )
    # The Home Assistant the integration needs (HACS) runs the blueprint.
    minimum = load(REPO_ROOT / "hacs.json")["homeassistant"]
    assert metadata["homeassistant"]["min_version"] == minimum
    for key, spec in blueprint.inputs.items():
        assert spec["name"], key
        assert "selector" in spec, key


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give Home Assistant a configuration folder of its own, for the blueprints."""
    return hass_tmp_config_dir


def _install(hass: HomeAssistant, name: str) -> str:
    """Copy a blueprint where Home Assistant looks for it; return its path there."""
    folder = Path(hass.config.path("blueprints", "automation", "yeastar_s_series"))
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT_DIR / name, folder / name)
    return f"yeastar_s_series/{name}"


async def _automation(
    hass: HomeAssistant, name: str, inputs: dict[str, Any]
) -> dict[str, Any]:
    """Set up one automation from a blueprint; return its validated configuration."""
    config = {
        "id": name.removesuffix(".yaml"),
        "alias": name.removesuffix(".yaml"),
        "use_blueprint": {"path": _install(hass, name), "input": inputs},
    }
    assert await async_setup_component(hass, "automation", {"automation": [config]})
    await hass.async_block_till_done()
    validated = await async_validate_config_item(hass, name, config)
    assert validated is not None
    assert validated.validation_status == "ok", validated.validation_error
    return dict(validated)


async def _settle(hass: HomeAssistant, pbx: SimulatedPBX) -> None:
    """Let every report arrive and the automations run."""
    await pbx.wait_delivered()
    await hass.async_block_till_done()


@pytest.fixture
async def notifications(
    hass: HomeAssistant,
) -> list[persistent_notification.Notification]:
    """Set up persistent notifications; collect those created."""
    assert await async_setup_component(hass, persistent_notification.DOMAIN, {})
    created: list[persistent_notification.Notification] = []

    @callback
    def collect(
        update: persistent_notification.UpdateType,
        changed: dict[str, persistent_notification.Notification],
    ) -> None:
        if update is persistent_notification.UpdateType.ADDED:
            created.extend(changed.values())

    persistent_notification.async_register_callback(hass, collect)
    return created


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        (
            {"firstname": "Alice", "lastname": "Example"},
            f"Missed call from Alice Example ({DEFAULT_CALLER}) on Front Desk (1001).",
        ),
        (None, f"Missed call from {DEFAULT_CALLER} on Front Desk (1001)."),
    ],
    ids=["phonebook", "number"],
)
async def test_missed_call_notification(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    config_entry: MockConfigEntry,
    notifications: list[persistent_notification.Notification],
    contact: dict[str, str] | None,
    message: str,
) -> None:
    """A missed call makes one notification naming the caller and the extension."""
    if contact is not None:
        pbx.add_contact(**contact, mobile=DEFAULT_CALLER)
    await setup_entry(hass, config_entry)
    await _automation(
        hass, "missed_call_notification.yaml", {"calls_entity": [FRONT_DESK_CALLS]}
    )

    await pbx.play(Scenario.INBOUND_ANSWERED)  # answered: no notification
    await _settle(hass, pbx)
    assert notifications == []
    await pbx.play(Scenario.MISSED_CALL, extension="1001")
    await _settle(hass, pbx)

    assert [(n["title"], n["message"]) for n in notifications] == [
        ("Missed call", message)
    ]


async def test_missed_call_runs_the_chosen_action(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry
) -> None:
    """Another action replaces the notification, with the message's parts to use."""
    await setup_entry(hass, config_entry)
    calls = async_mock_service(hass, "test", "missed")
    await _automation(
        hass,
        "missed_call_notification.yaml",
        {
            "calls_entity": [FRONT_DESK_CALLS, "event.kitchen_1002_calls"],
            "missed_action": [
                {
                    "action": "test.missed",
                    "data": {
                        "caller": "{{ caller }}",
                        "number": "{{ caller_number }}",
                        "extension": "{{ extension }}",
                    },
                }
            ],
        },
    )

    await pbx.play(Scenario.MISSED_CALL, extension="1002")
    await _settle(hass, pbx)

    # Templates turn a string of digits into a number.
    assert [
        {key: str(value) for key, value in call.data.items()} for call in calls
    ] == [
        {
            "caller": DEFAULT_CALLER,
            "number": DEFAULT_CALLER,
            "extension": "Kitchen (1002)",
        }
    ]


@pytest.fixture
async def lamp(hass: HomeAssistant) -> str:
    """Set up an optimistic template light that takes a brightness and a color."""
    assert await async_setup_component(hass, "scene", {})
    assert await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "light": [
                        {
                            "name": "Desk lamp",
                            "turn_on": [],
                            "turn_off": [],
                            "set_level": [],
                            "set_rgb": [],
                        }
                    ]
                }
            ]
        },
    )
    await hass.async_block_till_done()
    # Optimistic: the lamp reads unknown until it is first switched.
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": LIGHT}, blocking=True
    )
    state = hass.states.get(LIGHT)
    assert state is not None
    assert state.state == STATE_OFF
    return LIGHT


def _lamp(hass: HomeAssistant) -> tuple[str, Any]:
    """Return the lamp's state and color."""
    state = hass.states.get(LIGHT)
    assert state is not None
    return state.state, state.attributes.get("rgb_color")


async def _until(hass: HomeAssistant, pbx: SimulatedPBX, want: tuple[str, Any]) -> None:
    """Wait for the lamp to read `want` (state, color).

    The automation is still running (it waits for the ring to end), and Home
    Assistant's `async_block_till_done` would wait for it: poll instead.
    """
    await pbx.wait_delivered()
    async with asyncio.timeout(5):
        while _lamp(hass) != want:
            await asyncio.sleep(0.01)


async def _flash(hass: HomeAssistant, pbx: SimulatedPBX, want: tuple[str, Any]) -> None:
    """Let one flash interval (a second) go by; the lamp must then read `want`."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1.1))
    await _until(hass, pbx, want)


async def test_ringing_light_stays_on_while_it_rings(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry, lamp: str
) -> None:
    """The lamp turns red while Front Desk rings, and off again once the caller gives up."""
    await setup_entry(hass, config_entry)
    await _automation(
        hass,
        "ringing_light.yaml",
        {
            "call_sensor": [FRONT_DESK_CALL],
            "light_target": {"entity_id": lamp},
            "style": "steady",
            "color": [255, 0, 0],
        },
    )

    await pbx.play(Scenario.MISSED_CALL, stay="ringing")
    await _until(hass, pbx, (STATE_ON, (255, 0, 0)))
    assert hass.states.get(FRONT_DESK_CALL).state == "ringing"  # type: ignore[union-attr]

    await pbx.hang_up(DEFAULT_CALLER)
    await _until(hass, pbx, (STATE_OFF, None))
    await hass.async_block_till_done()  # the automation has finished
    assert hass.states.get(FRONT_DESK_CALL).state == "idle"  # type: ignore[union-attr]
    assert hass.states.get("scene.yeastar_ringing_ringing_light") is None


async def test_ringing_light_flashes_and_comes_back(
    hass: HomeAssistant, pbx: SimulatedPBX, config_entry: MockConfigEntry, lamp: str
) -> None:
    """A lamp that was on flashes while it rings, then shows its own color again."""
    await setup_entry(hass, config_entry)
    blue = (STATE_ON, (0, 0, 255))
    await hass.services.async_call(
        "light", "turn_on", {"entity_id": lamp, "rgb_color": [0, 0, 255]}, blocking=True
    )
    await _automation(
        hass,
        "ringing_light.yaml",
        {
            "call_sensor": [FRONT_DESK_CALL, "sensor.kitchen_1002_call"],
            "light_target": {"entity_id": [lamp]},
            "color": [255, 255, 0],
        },
    )

    await pbx.play(Scenario.MISSED_CALL, stay="ringing")
    yellow = (STATE_ON, (255, 255, 0))
    await _until(hass, pbx, yellow)
    await _flash(hass, pbx, (STATE_OFF, None))
    await _flash(hass, pbx, yellow)
    await _flash(hass, pbx, (STATE_OFF, None))

    await pbx.hang_up(DEFAULT_CALLER)
    await pbx.wait_delivered()
    await _flash(hass, pbx, blue)  # the ring is over: no more flashes
    await hass.async_block_till_done()
    assert _lamp(hass) == blue


@pytest.mark.parametrize(
    ("folder", "file", "image"),
    [
        (None, f"/media/{DOMAIN}/doorbell_front_door.jpg", f"/media/local/{DOMAIN}/"),
        (
            "/config/www/door/",
            "/config/www/door/doorbell_front_door.jpg",
            "/local/door/",
        ),
        (
            "/srv/ha/media/door",
            "/srv/ha/media/door/doorbell_front_door.jpg",
            "/media/local/door/",
        ),
    ],
    ids=["media", "www", "media_elsewhere"],
)
async def test_door_station_snapshot(
    hass: HomeAssistant,
    pbx: SimulatedPBX,
    ha_port: int,
    device_registry: dr.DeviceRegistry,
    folder: str | None,
    file: str,
    image: str,
) -> None:
    """The door station's button: a snapshot, then the phone told, with the picture.

    The camera and the phone are stand-ins: the snapshot action is mocked, and the
    Home Assistant app's device action finds a mocked notify action for the phone.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=SERIAL,
        data=entry_data(pbx),
        options={
            CONF_CALLBACK_HOST: "127.0.0.1",
            CONF_CALLBACK_PORT: ha_port,
            CONF_DOOR_STATIONS: ["1000"],
        },
    )
    await setup_entry(hass, entry)
    phone_entry = MockConfigEntry(domain="mobile_app")
    phone_entry.add_to_hass(hass)
    phone = device_registry.async_get_or_create(
        config_entry_id=phone_entry.entry_id, identifiers={("mobile_app", "phone")}
    )
    snapshots = async_mock_service(hass, "camera", "snapshot")
    notified = async_mock_service(hass, "notify", "mobile_app_phone")
    await _automation(
        hass,
        "door_station_snapshot.yaml",
        {
            "doorbell_entity": "event.jayson_1000_doorbell",
            "camera_entity": "camera.front_door",
            "notify_device": phone.id,
            **({"snapshot_folder": folder} if folder else {}),
        },
    )

    with (
        patch(f"{MOBILE_APP_ACTION}.webhook_id_from_device_id", return_value="hook"),
        patch(
            f"{MOBILE_APP_ACTION}.get_notify_service", return_value="mobile_app_phone"
        ),
    ):
        await pbx.play(Scenario.DOOR_STATION, door="1000")
        await _settle(hass, pbx)

    assert [(call.data["entity_id"], call.data["filename"]) for call in snapshots] == [
        (["camera.front_door"], file)
    ]
    assert [call.data for call in notified] == [
        {
            "target": "hook",
            "title": "Doorbell",
            "message": "Someone is at Jayson (1000).",
            "data": {
                "image": f"{image}doorbell_front_door.jpg",
                "tag": "yeastar_doorbell_event.jayson_1000_doorbell",
            },
        }
    ]
