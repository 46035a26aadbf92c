"""The command line: serve in a subprocess, then drive it with the other subcommands."""

from collections.abc import Iterator
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys

import pytest

ROOT = Path(__file__).parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(params=[False, True], ids=["http", "https"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str]]]:
    """Run ``serve`` in a subprocess; yield its base URL and the lines it printed."""
    https = ["--https"] if request.param else []
    tcp_port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "simulator", "serve", "--port", str(_free_port()),
            "--serial", "111", "--api-version", "v1.1.0", "--api-version", "v2.0.0",
            "--report-method", "tcp", "--tcp-port", str(tcp_port), "--tcp-answer", "json",
            *https,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines = [process.stdout.readline().strip() for _ in range(2 + len(https))]
    assert lines[-1] == f"event port: {tcp_port}"
    yield lines[0], lines
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_serve_state_play_fault_reboot(served: tuple[str, list[str]]) -> None:
    """The control subcommands talk to the running simulator and print its answers."""
    url, lines = served
    if url.startswith("https://"):
        assert lines[1].startswith("sha256 fingerprint: ")
    state = json.loads(_run("state", "--url", url).stdout)
    assert state["serial"] == "111"
    assert state["api_versions"] == ["v1.1.0", "v2.0.0"]
    played = _run("play", "extension_status", "--url", url, "--param", "status=Idle")
    assert json.loads(played.stdout)["reports"][0]["status"] == "Idle"
    assert _run("fault", "slow", "0.01", "--url", url).returncode == 0
    assert _run("fault", "errno", "10008", "--url", url).returncode == 0
    assert _run("trunk", "SIP-142", "Failure", "--url", url).returncode == 0
    rang = _run("play", "missed_call", "--url", url, "--param", "stay=ringing")
    assert rang.returncode == 0
    assert _run("phone", "1001", "hang_up", "--url", url).returncode == 0
    sms = json.loads(_run("sms", "--next", "silent", "--url", url).stdout)
    assert sms == {"messages": [], "next": ["silent"]}
    assert json.loads(_run("sms", "--url", url).stdout)["next"] == ["silent"]
    settings = _run("settings", "--url", url, "--param", "inbound_call_control=true")
    assert json.loads(settings.stdout)["inbound_call_control"] is True
    state = json.loads(_run("state", "--url", url).stdout)
    assert state["faults"]["slow"] == 0.01
    assert state["faults"]["errnos"] == [{"errno": "10008", "endpoint": None}]
    assert state["trunks"][0]["status"] == "Failure"
    assert state["settings"]["report_method"] == "tcp"
    assert state["calls"] == []
    assert json.loads(_run("reboot", "--url", url).stdout) == {"rebooted": True}


def test_records_and_recordings(served: tuple[str, list[str]]) -> None:
    """With recording on, a call leaves a record and a recording the CLI can delete."""
    url = served[0]
    _run("settings", "--url", url, "--param", "recording=true")
    _run("play", "internal_call", "--url", url)
    [name] = json.loads(_run("records", "--url", url).stdout)["recordings"]

    deleted = _run("delete-recording", name, "--url", url)
    again = _run("delete-recording", name, "--url", url)

    assert json.loads(deleted.stdout) == {"deleted": name}
    assert again.returncode == 1
    assert again.stderr.startswith("404")


def test_errors_exit_non_zero() -> None:
    """HTTP errors and unreachable simulators fail the command."""
    unreachable = _run("state", "--url", f"http://127.0.0.1:{_free_port()}")
    assert unreachable.returncode == 1
    assert "cannot reach" in unreachable.stderr


def test_help_lists_scenarios_and_faults() -> None:
    """``play --help`` names each scenario's parameters, ``fault --help`` each value."""
    play = _run("play", "--help").stdout
    assert "missed_call      caller=13800000000 extension=1001" in play
    assert "stay=ringing\n" in play  # a missed call cannot stay talking
    assert "door_station     door=1000" in play
    fault = _run("fault", "--help").stdout
    for name in ("down", "slow", "garbage", "errno"):
        assert f"\n  {name} " in fault


def test_finds_the_simulator_without_url(served: tuple[str, list[str]]) -> None:
    """No ``--url``: $YEASTAR_SIMULATOR_URL (scripts/develop's simulator by default)."""
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "state"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
        env={**os.environ, "YEASTAR_SIMULATOR_URL": served[0]},
    )
    assert json.loads(result.stdout)["serial"] == "111"


def test_http_error_exits_non_zero(served: tuple[str, list[str]]) -> None:
    """A refused control request prints the simulator's answer on stderr."""
    result = _run("fault", "slow", "soon", "--url", served[0])
    assert result.returncode == 1
    assert result.stderr.startswith("400")


def test_certificate_file_keeps_the_certificate(tmp_path: Path) -> None:
    """``--certificate`` makes the certificate once, then serves the same one again."""
    pem = tmp_path / "simulator.pem"

    def fingerprint() -> str:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "simulator", "serve", "--port", str(_free_port()),
                "--https", "--certificate", str(pem), "--tcp-port", str(_free_port()),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(3)]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        return lines[1]

    first = fingerprint()
    assert first.startswith("sha256 fingerprint: ")
    assert pem.stat().st_mode & 0o777 == 0o600
    assert fingerprint() == first


def test_extension_settings_and_trunks(served: tuple[str, list[str]]) -> None:
    """The administrator's changes: an extension's settings, a trunk added and deleted."""
    url = served[0]
    changed = _run("extension-settings", "1000", "--url", url, "--param", "dnd=on")
    assert json.loads(changed.stdout)["dnd"] == "on"
    refused = _run("extension-settings", "1000", "--url", url, "--param", "dnd=x")
    assert refused.returncode == 1
    added = _run("add-trunk", "GSM3-1", "GSM", "--port", "Span3-Port1", "--url", url)
    assert json.loads(added.stdout)["port"] == "Span3-Port1"
    assert _run("delete-trunk", "GSM3-1", "--url", url).returncode == 0
    state = json.loads(_run("state", "--url", url).stdout)
    assert "GSM3-1" not in [trunk["name"] for trunk in state["trunks"]]
