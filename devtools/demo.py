"""``scripts/develop --demo``: onboard Home Assistant, add the simulated PBX, play calls.

Everything goes through Home Assistant's public APIs, the way the onboarding pages
and the integrations page do it, so a demo also shows that those paths work.
"""

from dataclasses import dataclass
import itertools
import time
from typing import Any

from simulator import ControlClient

from .clients import HassClient, Owner, PbxSettings, is_connection_sensor, wait_for

# Entry states while Home Assistant has not yet tried to set an entry up.
SETTING_UP = frozenset({"not_loaded", "setup_in_progress"})

# The Garage extension stands for an intercom at the garage door.
DOOR_STATION = "1003"
# What the demo plays, in turn: (scenario, parameters).
SCENARIOS: tuple[tuple[str, dict[str, str]], ...] = (
    ("inbound_answered", {}),
    ("extension_status", {"extension": DOOR_STATION, "status": "Registered"}),
    ("missed_call", {"extension": "1002"}),
    ("door_station", {"door": DOOR_STATION}),
    ("internal_call", {}),
    ("ring_group", {}),
    ("transfer", {}),
    ("failed_call", {}),
    ("extension_status", {"extension": DOOR_STATION, "status": "Unavailable"}),
)


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """Where Home Assistant and the simulator are, and who logs in."""

    hass_url: str
    owner: Owner
    pbx: PbxSettings


def set_up(settings: DemoSettings, simulator: ControlClient) -> None:
    """Onboard (or log in), then add the simulated PBX unless it is there already."""
    hass = HassClient(settings.hass_url)
    wait_for(
        lambda: hass.is_up() or None,
        timeout=180,
        what="Home Assistant to answer",
    )
    if hass.is_onboarded():
        hass.login(settings.owner)
    else:
        hass.onboard(settings.owner)
    wait_for(
        lambda: hass.is_running() or None, timeout=180, what="Home Assistant to start"
    )
    entry_id = _loaded_entry_id(hass)
    if entry_id is None:
        result = hass.add_pbx(settings.pbx)
        if result.get("type") != "create_entry":
            raise RuntimeError(f"adding the simulated PBX failed: {result}")
        entry_id = result["result"]["entry_id"]
    # The PBX records answered calls, and its GSM trunk has a SIM card (the
    # documents' example trunk has none), so that Media and send_sms have something.
    simulator.settings(recording=True)
    simulator.trunk("GSM2-7", "Idle")
    # Garage's extension is the demo's door station: it gets a Doorbell entity.
    options = hass.set_options(
        entry_id, {"door_stations": [DOOR_STATION], "recordings": True}
    )
    if options.get("type") != "create_entry":
        raise RuntimeError(f"setting the demo's options failed: {options}")
    if settings.pbx.tcp_port is None:
        # The entry reloads with the new options: wait for the new session.
        wait_for(
            lambda: simulator.reports_go_to(f"{settings.hass_url}/") or None,
            timeout=60,
            what="the PBX to report to Home Assistant",
        )
    hass.wait_for_state(is_connection_sensor, "connected", timeout=60)


def _loaded_entry_id(hass: HassClient) -> str | None:
    """Return the PBX's entry from an earlier run; remove it if it does not load.

    It fails to load when the simulator's password, port or certificate changed
    since: adding the PBX afresh is quicker than repairing it.
    """
    if not (entries := hass.entries()):
        return None
    entry_id: str = entries[0]["entry_id"]

    def settled() -> dict[str, Any] | None:
        entry = next(e for e in hass.entries() if e["entry_id"] == entry_id)
        return None if entry["state"] in SETTING_UP else entry

    entry = wait_for(settled, timeout=60, what="the PBX's entry to be set up")
    if entry["state"] == "loaded":
        return entry_id
    print(
        f"demo: the PBX added before does not load ({entry['reason']}): adding it again"
    )
    hass.request("DELETE", f"/api/config/config_entries/entry/{entry_id}")
    return None


def play_forever(simulator: ControlClient, interval: float) -> None:
    """Play the demo's calls one after the other until stopped."""
    for scenario, params in itertools.cycle(SCENARIOS):
        reports = simulator.play(scenario, **params)
        details = "".join(f"{key}={value} " for key, value in params.items())
        print(f"demo: played {scenario} {details}({len(reports)} reports)", flush=True)
        time.sleep(interval)


def run(
    *,
    hass_port: int,
    owner: Owner,
    pbx_port: int,
    pbx_password: str,
    interval: float,
    tcp_port: int | None,
) -> None:
    """Set up the demo, say how to log in, then play calls until stopped."""
    hass_url = f"http://127.0.0.1:{hass_port}"
    simulator = ControlClient(f"https://127.0.0.1:{pbx_port}")
    set_up(
        DemoSettings(
            hass_url=hass_url,
            owner=owner,
            pbx=PbxSettings(
                host="127.0.0.1",
                port=pbx_port,
                password=pbx_password,
                tcp_port=tcp_port,
            ),
        ),
        simulator,
    )
    print(
        f"\ndemo: Home Assistant is ready at {hass_url}"
        f"  (user {owner.username!r}, password {owner.password!r})\n"
        f"demo: the simulated PBX is added and connected; a call every"
        f" {interval:g} s. Ctrl-C stops everything.\n",
        flush=True,
    )
    play_forever(simulator, interval)
