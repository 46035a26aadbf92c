"""An in-process Home Assistant serving real HTTP on loopback, and simulated PBXs for it.

Home Assistant is built the way its bootstrap does (registries on a temporary config
folder, core config, then http, network and webhook) but without configuration.yaml,
the frontend or the recorder. Its HTTP server listens on a free loopback port.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
import logging
from pathlib import Path
import socket
import time
from types import MappingProxyType
from typing import Any, override

from aiohttp import web
from homeassistant import bootstrap, config_entries, core_config, loader
from homeassistant.components import webhook
from homeassistant.components.event import (
    DATA_COMPONENT as EVENT_COMPONENT,
    DOMAIN as EVENT_DOMAIN,
    EventEntity,
)
from homeassistant.components.http.config import async_get_and_load_store
from homeassistant.const import (
    CONF_HOST,
    CONF_PASSWORD,
    CONF_PORT,
    CONF_SSL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    CONF_WEBHOOK_ID,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util.json import json_loads

# Imported before Home Assistant looks for custom integrations, so that it finds ours.
import custom_components.yeastar_s_series  # noqa: F401
from custom_components.yeastar_s_series.api import ApiVersion, hash_password
from custom_components.yeastar_s_series.const import (
    CONF_API_VERSION,
    CONF_CALLBACK_HOST,
    CONF_CALLBACK_PORT,
    CONF_HEARTBEAT_INTERVAL,
    CONF_PASSWORD_HASH,
    CONF_TCP_PORT,
    DOMAIN,
)
from custom_components.yeastar_s_series.coordinator import YeastarConfigEntry
from simulator import SimulatedPBX
from simulator.pbx import Json, ReportMethod, SimSession

PASSWORD = "bench-Pa55word"
BASELINE_WEBHOOK_ID = "bench0baseline0webhook0000000000"
FLOOR_WEBHOOK_ID = "bench0floor0webhook0000000000000"
FLOOR_EVENT = "bench_floor_event"
FLOOR_ENTITY_ID = "event.bench_floor"
LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def quiet_logging() -> None:
    """Keep warnings, but not the custom-integration and zlib notices of every start."""
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for name in ("homeassistant.loader", "aiohttp_fast_zlib"):
        logging.getLogger(name).setLevel(logging.ERROR)


async def start_home_assistant(config_dir: Path) -> tuple[HomeAssistant, int]:
    """Start Home Assistant with http, network and webhook; return it and its HTTP port."""
    hass = HomeAssistant(str(config_dir))
    loader.async_setup(hass)
    hass.config.skip_pip = True
    hass.config_entries = config_entries.ConfigEntries(hass, {})
    await loader.async_get_custom_components(hass)
    if not await bootstrap.async_load_base_functionality(hass):
        raise RuntimeError("Home Assistant's registries did not load")
    await core_config.async_process_ha_core_config(hass, {})
    port = free_port()
    http_config = {"http": {"server_host": [LOOPBACK], "server_port": port}}
    if not await async_setup_component(hass, "http", http_config):
        raise RuntimeError("http did not set up")
    # Settings from YAML are a trial that reverts, restarting Home Assistant, five
    # minutes later by its clock, which the idle phase moves by hours: confirm them.
    await (await async_get_and_load_store(hass)).async_promote_pending()
    for domain in ("network", "webhook"):
        if not await async_setup_component(hass, domain, {}):
            raise RuntimeError(f"{domain} did not set up")
    await hass.async_start()
    return hass, port


def register_baseline(hass: HomeAssistant) -> None:
    """Register the baseline: a webhook whose handler does nothing but answer 200."""

    async def _handle(
        hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        return web.Response(status=200)

    # Same options as the integration's webhook, so the webhook view checks the same.
    webhook.async_register(
        hass,
        "bench",
        "Baseline",
        BASELINE_WEBHOOK_ID,
        _handle,
        local_only=True,
        allowed_methods=["POST"],
    )


class FloorEvent(EventEntity):
    """The floor's event entity: no device, no registry entry, one event type."""

    _attr_event_types = ["report"]
    _attr_name = "Bench floor"
    _attr_should_poll = False

    @callback
    def async_report(self, data: dict[str, Any]) -> None:
        """Trigger the event with the report as its attributes."""
        self._trigger_event("report", data)
        self.async_write_ha_state()


async def register_floor(hass: HomeAssistant) -> None:
    """Register the floor: the least an integration must do for a report to be usable.

    The baseline does nothing, so a target relative to it also charges the integration
    for the bus event and the entity state that any useful webhook makes (Home
    Assistant's rules let an integration write states only through entities). The
    floor reads the body, parses it with Home Assistant's ``json_loads``, fires one bus
    event with the data (``FLOOR_EVENT``) and triggers one event entity
    (``FLOOR_ENTITY_ID``, the barest there is), then answers 200. The integration's
    cost over the floor is what its checks, de-duplication and parsing add.
    """
    if not await async_setup_component(hass, EVENT_DOMAIN, {}):
        raise RuntimeError("event did not set up")
    entity = FloorEvent()
    await hass.data[EVENT_COMPONENT].async_add_entities([entity])
    if entity.entity_id != FLOOR_ENTITY_ID:
        raise RuntimeError(f"the floor's entity is {entity.entity_id}")

    async def _handle(
        hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        data = json_loads(await request.read())
        if not isinstance(data, dict):
            return web.Response(status=400)
        hass.bus.async_fire(FLOOR_EVENT, data)
        entity.async_report(data)
        return web.Response(status=200)

    # Same options as the integration's webhook and the baseline's.
    webhook.async_register(
        hass,
        "bench",
        "Floor",
        FLOOR_WEBHOOK_ID,
        _handle,
        local_only=True,
        allowed_methods=["POST"],
    )


def webhook_url(port: int, webhook_id: str) -> str:
    """Return the URL a PBX posts its reports to."""
    return f"http://{LOOPBACK}:{port}/api/webhook/{webhook_id}"


class BenchPBX(SimulatedPBX):
    """A simulated PBX that also notes when each heartbeat arrives (monotonic clock)."""

    def __init__(self, **kwargs: Any) -> None:
        """Configure the PBX like SimulatedPBX."""
        super().__init__(**kwargs)
        self.heartbeat_times: list[float] = []

    @override
    def _heartbeat(self, session: SimSession, body: Json) -> Json:
        self.heartbeat_times.append(time.monotonic())
        return super()._heartbeat(session, body)

    async def write_event(self, body: bytes) -> float:
        """Write one report to the event port's clients now; return when the write began.

        The PBX's own queue is bypassed, so the time is the write's, not the queueing's.
        """
        written = time.monotonic()
        await self._tcp.send(body)
        return written


def bench_serial(index: int) -> str:
    """Return a distinct serial number for the index-th PBX."""
    return f"3693648{index:05d}"


def make_pbx(index: int, report_method: ReportMethod = "http") -> BenchPBX:
    """Make a PBX with the default extensions, for free loopback ports."""
    return BenchPBX(
        password=PASSWORD,
        serial=bench_serial(index),
        host=LOOPBACK,
        report_method=report_method,
    )


@dataclass(slots=True)
class Entry:
    """A config entry of the integration and the PBX it talks to."""

    entry: YeastarConfigEntry
    pbx: BenchPBX
    webhook_id: str = field(init=False)

    def __post_init__(self) -> None:
        """Remember the webhook id."""
        self.webhook_id = self.entry.data[CONF_WEBHOOK_ID]


def make_entry(
    pbx: SimulatedPBX, ha_port: int, *, heartbeat_interval: int | None = None
) -> YeastarConfigEntry:
    """Make a config entry as the config flow stores it; reports go to loopback.

    A PBX that reports over TCP gets the plaintext password and its event port, as
    the config flow keeps them for the event link.
    """
    options: dict[str, Any] = {
        CONF_CALLBACK_HOST: LOOPBACK,
        CONF_CALLBACK_PORT: ha_port,
    }
    if heartbeat_interval is not None:
        options[CONF_HEARTBEAT_INTERVAL] = heartbeat_interval
    data: dict[str, Any] = {
        CONF_HOST: pbx.host,
        CONF_PORT: pbx.port,
        CONF_SSL: False,
        CONF_VERIFY_SSL: False,
        CONF_API_VERSION: ApiVersion.V2_0_0.value,
        CONF_USERNAME: "api",
        CONF_PASSWORD_HASH: hash_password(PASSWORD),
        CONF_WEBHOOK_ID: webhook.async_generate_id(),
    }
    if pbx.report_method == "tcp":
        data[CONF_PASSWORD] = PASSWORD
        options[CONF_TCP_PORT] = pbx.tcp_port
    entry: YeastarConfigEntry = config_entries.ConfigEntry(
        data=data,
        discovery_keys=MappingProxyType({}),
        domain=DOMAIN,
        minor_version=1,
        options=options,
        source=config_entries.SOURCE_USER,
        subentries_data=None,
        title=f"{pbx.model} ({pbx.serial})",
        unique_id=pbx.serial,
        version=1,
    )
    return entry


def call_entity_id(hass: HomeAssistant, entry: YeastarConfigEntry) -> str:
    """Return the entity id of the PBX's call event entity (not an extension's)."""
    registry = er.async_get(hass)
    for item in er.async_entries_for_config_entry(registry, entry.entry_id):
        if item.domain == "event" and item.translation_key == "call":
            return item.entity_id
    raise LookupError(f"no call event entity for {entry.title}")


def connection_entity_id(hass: HomeAssistant, entry: YeastarConfigEntry) -> str:
    """Return the entity id of the entry's Connection sensor."""
    registry = er.async_get(hass)
    for item in er.async_entries_for_config_entry(registry, entry.entry_id):
        if item.domain == "sensor" and item.translation_key == "connection_state":
            return item.entity_id
    raise LookupError(f"no Connection sensor for {entry.title}")


def time_it() -> Callable[[], float]:
    """Start a stopwatch; calling the result returns the seconds since."""
    start = time.perf_counter()
    return lambda: time.perf_counter() - start
