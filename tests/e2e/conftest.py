"""A real Home Assistant and the PBX simulator, each in its own process, for end-to-end tests.

The tests here reach both only over HTTP, as a user, a browser or the PBX would, and
never use the Home Assistant test harness's ``hass`` fixture. Fixtures (module scope:
each test module gets its own processes and configuration folder):

- ``simulator`` -> `SimulatorProcess`: ``.url``, ``.port``, ``.username``,
  ``.password``, ``.control`` (``.state()``, ``.play(scenario, **params)``).
- ``hass_process`` -> `HassProcess`, started on a free loopback port with a fresh
  configuration folder: ``.url``, ``.port``, ``.config_dir``, ``.log_path``,
  ``.api`` (a `devtools.clients.HassClient`), ``.start()``, ``.stop()``,
  ``.restart()``, ``.log()``; after onboarding also ``.owner``, ``.tokens``, ``.token``.
- ``onboarded`` -> the same `HassProcess`, onboarded through the REST API.
- ``configured`` -> `PbxEntry`: the simulator added through the config flow, reports
  pointed at Home Assistant, its Connection sensor ``connected``.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
import os
from pathlib import Path
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from typing import Any

import pytest
import pytest_socket

from devtools.clients import (
    HassClient,
    Owner,
    PbxSettings,
    Tokens,
    is_connection_sensor,
    wait_for,
)
from devtools.config_dir import CONFIGURATION_YAML, REPO, prepare_config_dir
from simulator import ControlClient

# Home Assistant starts in seconds here, but far slower on a cold, busy machine.
START_TIMEOUT = 180
STOP_TIMEOUT = 60


def free_port() -> int:
    """Return a loopback port nobody listens on (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Ask a process to stop with ``sig``, then kill it if it does not."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(slots=True)
class SimulatorProcess:
    """``python -m simulator serve --https`` on a loopback port."""

    port: int
    password: str
    username: str = "api"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the PBX's base URL (its control API lives under it too)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def control(self) -> ControlClient:
        """Return a client of the control API."""
        return ControlClient(self.url)

    def start(self) -> None:
        """Start the simulator and wait until its control API answers."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulator",
                "serve",
                "--https",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                f"--username={self.username}",
                f"--password={self.password}",
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=60, what="the simulator to answer")

    def _answers(self) -> bool | None:
        """Return True once the control API answers; fail at once if the process died."""
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"the simulator exited with status {self.process.returncode}")
        try:
            self.control.state()
        except OSError:
            return None
        return True

    def stop(self) -> None:
        """Stop the simulator (Ctrl-C: it closes its sessions cleanly)."""
        if self.process is not None:
            _stop(self.process, signal.SIGINT)


@dataclass(slots=True)
class HassProcess:
    """``hass -c <config_dir>`` listening on 127.0.0.1:``port``."""

    config_dir: Path
    port: int
    api: HassClient = field(init=False)
    owner: Owner | None = None
    tokens: Tokens | None = None
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        """Write the configuration: the repository's, on this port, with the integration."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(CONFIGURATION_YAML, self.config_dir / "configuration.yaml")
        prepare_config_dir(self.config_dir, host="127.0.0.1", port=self.port)
        self.api = HassClient(self.url)

    @property
    def url(self) -> str:
        """Return Home Assistant's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str | None:
        """Return the owner's access token (None before onboarding)."""
        return self.api.token

    @property
    def log_path(self) -> Path:
        """Return the file with Home Assistant's output of every start.

        Not home-assistant.log: Home Assistant moves that one aside at each start.
        """
        return self.config_dir / "output.log"

    def log(self) -> str:
        """Return Home Assistant's output so far."""
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def start(self) -> None:
        """Start Home Assistant; wait until HTTP answers, and once onboarded until it runs."""
        with self.log_path.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "homeassistant",
                    "--config",
                    str(self.config_dir),
                    "--skip-pip",
                    "--log-no-color",
                ],
                cwd=self.config_dir,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            wait_for(self._answers, timeout=START_TIMEOUT, what="Home Assistant")
            if self.token is not None:
                self.wait_until_running()
        except BaseException:
            sys.stderr.write(self.log())
            self.stop()
            raise

    def _answers(self) -> bool | None:
        """Return True once HTTP answers; fail at once if Home Assistant exited."""
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"Home Assistant exited with status {self.process.returncode}")
        return self.api.is_up() or None

    def wait_until_running(self) -> None:
        """Wait until Home Assistant has finished starting (HTTP answers long before)."""
        wait_for(
            lambda: self.api.is_running() or None,
            timeout=START_TIMEOUT,
            what="Home Assistant to finish starting",
        )

    def stop(self) -> None:
        """Stop Home Assistant the way a service manager does (SIGTERM)."""
        if self.process is not None:
            _stop(self.process, signal.SIGTERM)

    def restart(self) -> None:
        """Stop Home Assistant and start it again on the same configuration folder."""
        self.stop()
        self.start()


@dataclass(frozen=True, slots=True)
class PbxEntry:
    """The simulated PBX as a config entry of the running Home Assistant."""

    entry_id: str
    flow_result: dict[str, Any]
    hass: HassProcess
    simulator: SimulatorProcess


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup() -> None:
    """Allow real sockets in this folder's fixtures.

    The Home Assistant test plugin blocks sockets at the start of every test's
    set-up, before module-scoped fixtures run: ``socket_enabled`` comes too late
    for them.
    """
    pytest_socket.enable_socket()


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Allow real sockets in the tests themselves."""


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorProcess]:
    """Run the PBX simulator (HTTPS, self-signed) for the whole module."""
    pbx = SimulatorProcess(port=free_port(), password=secrets.token_urlsafe(12))
    pbx.start()
    yield pbx
    pbx.stop()


@pytest.fixture(scope="module")
def hass_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HassProcess]:
    """Run a real Home Assistant with this integration for the whole module."""
    hass = HassProcess(tmp_path_factory.mktemp("hass-config"), free_port())
    hass.start()
    yield hass
    hass.stop()


@pytest.fixture(scope="module")
def onboarded(hass_process: HassProcess) -> HassProcess:
    """Onboard Home Assistant as its owner would, through the REST API."""
    owner = Owner("Owner", "owner", secrets.token_urlsafe(12))
    hass_process.tokens = hass_process.api.onboard(owner)
    hass_process.owner = owner
    hass_process.wait_until_running()
    return hass_process


@pytest.fixture(scope="module")
def configured(onboarded: HassProcess, simulator: SimulatorProcess) -> PbxEntry:
    """Add the simulated PBX through the config flow and wait until it is connected.

    The simulator listens on loopback, which Home Assistant never picks as its own
    address for reports, so the report address is set in the options (as a user
    behind NAT would).
    """
    result = onboarded.api.add_pbx(
        PbxSettings(host="127.0.0.1", port=simulator.port, password=simulator.password)
    )
    assert result["type"] == "create_entry", result
    entry_id = result["result"]["entry_id"]
    logouts = simulator.control.state()["stats"]["logouts"]
    options = onboarded.api.set_options(
        entry_id,
        {
            "heartbeat_interval": 60,
            "callback_host": "127.0.0.1",
            "callback_port": onboarded.port,
        },
    )
    assert options["type"] == "create_entry", options
    # The entry reloads with the new options (a logout, then a login that reports here).
    wait_for(
        lambda: (
            (
                simulator.control.state()["stats"]["logouts"] > logouts
                and simulator.control.reports_go_to(f"{onboarded.url}/")
            )
            or None
        ),
        timeout=60,
        what="the PBX to report to Home Assistant",
    )
    onboarded.api.wait_for_state(is_connection_sensor, "connected")
    return PbxEntry(entry_id, result, onboarded, simulator)
